#!/usr/bin/env python
"""The clusters of each method on a test split without labels, and what each method cost.

What results/<ds>/all writes instead of the comparison when the test split has no labels: per method the
number of clusters, the largest and median cluster size, the singletons, and time and peak memory from the
Snakemake benchmark files of its steps (counted as in the comparison: ltc/report/costs.py). By hand, e.g.:

  python workflow/scripts/summary.py --dataset mine --methods knn_cc infomap \\
      --pred results/mine/{knn_cc,infomap}/pred_labels.meta --benchmarks results/mine/benchmarks \\
      --tsv summary.tsv --md summary.md
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import argparse  # noqa: E402
import logging  # noqa: E402

from ltc import cli  # noqa: E402
from ltc.clusters import stale_scores, summary_rows, write_summary  # noqa: E402
from ltc.report.tables import format_memory, format_seconds  # noqa: E402

log = logging.getLogger("ltc.summary")


def main(args):
    rows = summary_rows(args.methods, args.pred, args.benchmarks, args.all_methods or args.methods,
                        steps=cli.method_globs(args.steps, "--steps"), shared=args.shared or ())
    stale = stale_scores(args.pred)
    if stale:
        log.warning("%s: from an earlier run with test labels, they do not score these clusters: delete them",
                    ", ".join(map(str, stale)))
    write_summary(rows, args.dataset, tsv=args.tsv, md=args.md, stale=stale)
    for row in rows:
        clusters = (f"{row.n_clusters} clusters, largest {row.largest}, {row.n_singletons} singletons; "
                    if row.n_clusters is not None else "")  # the shared kNN graph's row has costs only
        log.info("%s: %stime %s, peak memory %s MB", row.method, clusters, format_seconds(row.wall_time_s),
                 format_memory(row.peak_rss_mb))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--dataset", required=True, help="dataset name, for the heading")
    p.add_argument("--methods", nargs="+", required=True, help="methods, in table order")
    p.add_argument("--pred", nargs="+", required=True, help="each method's pred_labels.meta, in the same order")
    cli.add_cost_options(p)
    p.add_argument("--tsv", help="write the summary as TSV here")
    p.add_argument("--md", help="write the summary as Markdown here")
    cli.run(main, p.parse_args())
