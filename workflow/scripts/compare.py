#!/usr/bin/env python
"""Compare clustering methods on one dataset: a table (TSV, Markdown, HTML) and three plots.

One row per method (scores, #clusters, #singletons, wall time and peak memory from the Snakemake
benchmark files of its steps) plus a row for the shared kNN graph; see ltc/report/costs.py for which
benchmark files count toward a method (found by name, or named with --steps). By hand, e.g.:

  python workflow/scripts/compare.py --dataset demo --gt data/labels/demo_test.meta \\
      --methods knn_cc gcnv --metrics results/demo/{knn_cc,gcnv}/metrics.json \\
      --pred results/demo/{knn_cc,gcnv}/pred_labels.meta --benchmarks results/demo/benchmarks \\
      --sweep gcnv=results/demo/gcnv/threshold.json --tsv comparison.tsv --md comparison.md

  (add e.g. --steps lgcn=pivots_test,train_linkage to count exactly those benchmark files for lgcn)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import argparse  # noqa: E402
import logging  # noqa: E402

from ltc import cli, report  # noqa: E402

log = logging.getLogger("ltc.compare")


def main(args):
    needs, steps = cli.method_globs(args.needs, "--needs"), cli.method_globs(args.steps, "--steps")
    out = {k: getattr(args, k) for k in ("tsv", "md", "html", "scores", "sizes", "sweeps") if getattr(args, k)}
    rows = report.compare(args.dataset, args.methods, args.metrics, args.pred, args.gt, args.benchmarks,
                          args.all_methods or args.methods, needs=needs, steps=steps, shared=args.shared or (),
                          sweeps=cli.method_pairs(args.sweep, "--sweep"), out=out)
    for row in rows:
        log.info("%s: %s; time %s, peak memory %s MB; steps %s", row.method,
                 ", ".join(f"{k} {v:.4f}" for k, v in row.scores.items()) or "shared",
                 report.format_seconds(row.wall_time_s),
                 report.format_memory(row.peak_rss_mb), ", ".join(row.steps) or "none")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--dataset", required=True, help="dataset name, for the headings")
    p.add_argument("--gt", required=True, help="true labels of the test split (.meta)")
    p.add_argument("--methods", nargs="+", required=True, help="methods, in table order")
    p.add_argument("--metrics", nargs="+", required=True, help="each method's metrics.json, in the same order")
    p.add_argument("--pred", nargs="+", required=True, help="each method's pred_labels.meta, in the same order")
    cli.add_cost_options(p)
    p.add_argument("--needs", nargs="*", metavar="METHOD=GLOB[,GLOB]",
                   help="benchmark file stems (globs) of other stages a method needs, counted toward it")
    p.add_argument("--sweep", nargs="*", metavar="METHOD=threshold.json", help="threshold sweeps to plot")
    p.add_argument("--tsv", help="write the table as TSV here")
    p.add_argument("--md", help="write the table as Markdown here")
    p.add_argument("--html", help="write the table as a self-contained HTML page here")
    p.add_argument("--scores", help="write the bar chart of scores, time and memory here (PNG)")
    p.add_argument("--sizes", help="write the cluster-size distributions here (PNG)")
    p.add_argument("--sweeps", help="write F-score versus threshold here (PNG)")
    cli.run(main, p.parse_args())
