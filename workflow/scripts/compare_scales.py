#!/usr/bin/env python
"""One table of the compared methods over a dataset's test scales (see ltc/scales.py).

Reads each scale's comparison table and its test split's validation summary; writes a long TSV,
a Markdown page and a plot. By hand, e.g.:

  python workflow/scripts/compare_scales.py --dataset ms1m_bench --scales 1 3 \\
      --comparisons results/ms1m_bench/{1,3}/comparison.tsv \\
      --validations results/ms1m_bench/{1,3}/validate/test.json \\
      --tsv scales.tsv --md scales.md --plot scales.png
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import argparse  # noqa: E402
import logging  # noqa: E402

from ltc import DataError, cli, scales  # noqa: E402

log = logging.getLogger("ltc.compare_scales")


def main(args):
    if not (len(args.scales) == len(args.comparisons) == len(args.validations)):
        raise DataError("give one comparison table and one validation summary per scale, in the order of --scales.")
    found = [scales.read_scale(*files) for files in zip(args.scales, args.comparisons, args.validations)]
    scales.write_long_tsv(found, args.tsv)
    scales.write_markdown(found, args.dataset, args.md)
    scales.plot(found, args.plot)
    for s in found:
        scored = [r for r in s.rows if r["pairwise_fscore"] is not None]
        best = max(scored, key=lambda r: r["pairwise_fscore"])
        log.info("scale %s: %d test points, %d methods; best pairwise F %.4f (%s)",
                 s.name, s.points, len(scored), best["pairwise_fscore"], best["method"])


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--dataset", required=True, help="the base dataset, for the heading")
    p.add_argument("--scales", nargs="+", required=True, help="scale names, in table order")
    p.add_argument("--comparisons", nargs="+", required=True, help="each scale's comparison.tsv")
    p.add_argument("--validations", nargs="+", required=True, help="each scale's validate/test.json")
    p.add_argument("--tsv", required=True, help="write the long table (one line per scale and method) here")
    p.add_argument("--md", required=True, help="write the Markdown tables here")
    p.add_argument("--plot", required=True, help="write F-score and time against test size here (PNG)")
    cli.run(main, p.parse_args())
