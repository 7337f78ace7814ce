"""Side-by-side comparison of clustering methods on one dataset: a table and three plots.

One row per method: its scores (``metrics.json``), the number of predicted clusters and singletons
(``pred_labels.meta``), and what it cost, from Snakemake's ``benchmark:`` files: the summed wall
time and the largest peak resident memory of the steps counted for it; plus a row for the kNN graph
that every method shares. :func:`compare` does it all; the parts, one job each:

* :mod:`ltc.report.costs`: reading benchmark files, which of them count toward a method, summing;
* :mod:`ltc.report.rows`: :class:`Row`, the per-method and shared rows, the table's columns;
* :mod:`ltc.report.tables`: the TSV (and reading it back), Markdown and HTML formats;
* :mod:`ltc.report.plots`: the matplotlib figures.

The names used elsewhere (scripts, :mod:`ltc.scales`, tests) are re-exported here.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ltc import DataError
from ltc.io import read_labels, write_text
from ltc.report.costs import (EXCLUDED_STEPS, check_methods_named, check_steps, matching, method_steps, owner,
                              read_benchmark, summarize)
from ltc.report.plots import (colors, plot_cluster_sizes, plot_scores, plot_sweeps, pyplot, read_sweep,
                              save_png)
from ltc.report.rows import COLUMNS, SHARED_NAME, Row, cluster_sizes, method_row, shared_row
from ltc.report.tables import (describe_truth, format_html, format_markdown, format_memory, format_seconds,
                               format_time, read_tsv, tsv_cell, write_tsv)

__all__ = ["COLUMNS", "EXCLUDED_STEPS", "SHARED_NAME", "Row", "check_steps", "cluster_sizes", "colors", "compare",
           "format_html", "format_markdown", "format_memory", "format_seconds", "format_time", "matching",
           "method_row", "method_steps", "owner", "plot_cluster_sizes", "plot_scores", "plot_sweeps", "pyplot",
           "read_benchmark", "read_sweep", "read_tsv", "save_png", "shared_row", "summarize", "tsv_cell",
           "write_tsv"]


def compare(dataset: str, methods: Sequence[str], metrics: Sequence[str | os.PathLike],
            preds: Sequence[str | os.PathLike], gt: str | os.PathLike, bench_dir: str | os.PathLike,
            all_methods: Sequence[str], needs: Mapping[str, Sequence[str]] | None = None,
            steps: Mapping[str, Sequence[str]] | None = None, shared: Sequence[str] = (),
            sweeps: Mapping[str, str | os.PathLike] | None = None, out: dict | None = None) -> list[Row]:
    """Build the rows and write the outputs named in ``out`` (keys ``tsv``, ``md``, ``html``, ``scores``,
    ``sizes``, ``sweeps``); return the rows (methods in the given order, then the shared kNN row).

    ``metrics`` and ``preds`` hold one ``metrics.json`` and one ``pred_labels.meta`` per method of
    ``methods``; ``all_methods`` are every configured method (to find steps by name). Which benchmark
    files under ``bench_dir`` count toward a method (:mod:`ltc.report.costs`): for a method in ``steps``
    (method -> glob patterns of benchmark file stems), exactly those; for the others those found by
    name plus ``needs`` (same form); never those of ``shared`` (globs of the shared kNN graph's stems),
    which make a row of their own. ``sweeps``: method -> ``threshold.json`` to plot.

    Raises :class:`ltc.DataError`, before writing anything, if the lists differ in length, ``needs``,
    ``steps`` or ``sweeps`` name a method not compared, or ``steps`` is invalid (:func:`check_steps`).
    """
    if not (len(methods) == len(metrics) == len(preds)):
        raise DataError(f"Give one metrics file (--metrics, {len(metrics)} given) and one predicted-labels file "
                        f"(--pred, {len(preds)} given) per method (--methods, {len(methods)} given), in that order.")
    needs, steps, sweeps, out = needs or {}, steps or {}, sweeps or {}, out or {}
    for option, given in (("--needs", needs), ("--steps", steps), ("--sweep", sweeps)):
        check_methods_named(option, given, methods)
    check_steps(bench_dir, steps, needs)
    gt_labels = read_labels(gt)
    labels = {m: read_labels(p) for m, p in zip(methods, preds)}
    rows = []
    for method, metrics_path in zip(methods, metrics):
        counted = method_steps(bench_dir, method, all_methods, needs.get(method, ()), shared, steps.get(method))
        rows.append(method_row(method, json.loads(Path(metrics_path).read_text()), labels[method], counted))
    knn = shared_row(bench_dir, shared)
    if knn is not None:
        rows.append(knn)
    truth = describe_truth(gt_labels)
    if "tsv" in out:
        write_tsv(rows, out["tsv"])
    if "md" in out:
        write_text(out["md"], format_markdown(rows, dataset, truth))
    if "html" in out:
        here = Path(out["html"]).parent
        plots = [os.path.relpath(out[key], here) for key in ("scores", "sizes", "sweeps") if key in out]
        write_text(out["html"], format_html(rows, dataset, truth, plots))
    if "scores" in out:
        plot_scores(rows, out["scores"])
    if "sizes" in out:
        plot_cluster_sizes(gt_labels, labels, out["sizes"])
    if "sweeps" in out:
        curves = {m: read_sweep(p) for m, p in sweeps.items()}
        plot_sweeps(curves, methods, out["sweeps"])
    return rows
