"""The comparison's figures (matplotlib, written as PNG): scores, time and memory per method; the
distribution of cluster sizes; F-score versus threshold where a threshold was chosen on the train
split."""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ltc.io import atomic_output
from ltc.report.rows import Row, cluster_sizes
from ltc.report.tables import format_memory, format_seconds, format_time


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported on first use: it is slow to import)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def colors(methods: Sequence[str]) -> dict:
    """One strong colour per method, the same in every plot (tab10, repeating beyond ten methods)."""
    plt = pyplot()
    cmap = plt.get_cmap("tab10")
    return {m: cmap(i % 10) for i, m in enumerate(methods)}


def save_png(fig, path) -> None:
    """Write a figure as PNG atomically and free it."""
    plt = pyplot()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def plot_scores(rows: Sequence[Row], path: str | os.PathLike) -> None:
    """Three panels sharing the method axis: pairwise F / BCubed F / NMI bars, wall time, peak memory."""
    plt = pyplot()
    methods = [r for r in rows if not r.shared]
    shared = next((r for r in rows if r.shared), None)
    names = [r.method for r in methods]
    n = len(methods)
    fig, axes = plt.subplots(1, 3, figsize=(13, 1.9 + 0.75 * max(n, 1)), sharey=True,
                             gridspec_kw={"width_ratios": [2.2, 1, 1]})
    y = np.arange(n)
    metrics = [("pairwise_fscore", "pairwise F", "#4c72b0"), ("bcubed_fscore", "BCubed F", "#dd8452"),
               ("nmi", "NMI", "#55a868")]
    h = 0.8 / len(metrics)
    ax = axes[0]
    for k, (column, label, c) in enumerate(metrics):
        values = [r.scores[column] for r in methods]
        offsets = y - 0.4 + h * (k + 0.5)
        ax.barh(offsets, values, height=h * 0.92, color=c, label=label)
        for yy, v in zip(offsets, values):
            ax.text(v + 0.01, yy, f"{v:.3f}", va="center", fontsize=9)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("score on the test split (higher is better)")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, fontsize=9, frameon=False)
    ax.set_yticks(y, names, fontsize=10)
    ax.set_ylim(n - 0.5, -0.5)
    for ax, column, title, unit, fmt, fmt_unit in (
            (axes[1], "wall_time_s", "Wall time", "s", format_time, format_seconds),
            (axes[2], "peak_rss_mb", "Peak memory", "MB", format_memory, lambda v: f"{format_memory(v)} MB")):
        values = [getattr(r, column) or 0.0 for r in methods]
        ax.barh(y, values, height=0.6, color="#64748b")
        for yy, v, r in zip(y, values, methods):
            ax.text(v, yy, " " + fmt(getattr(r, column)), va="center", fontsize=9)
        extra = shared is not None and getattr(shared, column) is not None
        if extra:
            ax.axvline(getattr(shared, column), color="#b45309", linestyle=":", linewidth=1.5)
        known = [v for v in [*values, getattr(shared, column) if extra else 0.0] if v > 0]
        top = max(known, default=1.0)
        if known and top / min(known) > 50:  # spans orders of magnitude: a log axis shows them all
            ax.set_xscale("log")
            ax.set_xlim(min(known) / 2, top * 6)
            unit_note = ", log scale"
        else:
            ax.set_xlim(0, top * 1.35)
            unit_note = ""
        ax.set_xlabel(f"{unit}, the method's own steps{unit_note}" +
                      (f"\n(dotted: shared kNN graph, {fmt_unit(getattr(shared, column))})" if extra else ""))
        ax.set_title(title, fontsize=11, loc="left")
    for ax in axes:
        ax.grid(axis="x", color="0.9")
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    save_png(fig, path)


def _size_bins(max_size: int) -> np.ndarray:
    """Bin edges 1, 2, 4, 8, ... (a bin holds sizes in [edge, next edge)) up to past ``max_size``."""
    top = int(np.ceil(np.log2(max(max_size, 1) + 1)))
    return 2.0 ** np.arange(max(top, 1) + 1)


def plot_cluster_sizes(gt: np.ndarray, preds: dict, path: str | os.PathLike, ncols: int = 3) -> None:
    """Small multiples, one per method: the number of predicted clusters per size bin (log-log, step)
    over the true clusters' (grey, filled); singletons are the first bin."""
    plt = pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    names = list(preds)
    color = colors(names)
    true_sizes = cluster_sizes(gt)
    pred_sizes = {name: cluster_sizes(p) for name, p in preds.items()}
    all_sizes = [true_sizes, *pred_sizes.values()]
    edges = _size_bins(max(int(s.max()) if len(s) else 1 for s in all_sizes))
    true_counts = np.histogram(true_sizes, bins=edges)[0]
    ymax = max(int(np.histogram(s, bins=edges)[0].max()) for s in all_sizes)
    ncols = max(1, min(ncols, len(names)))
    nrows = max(1, math.ceil(len(names) / ncols))
    height = 0.6 + 3.1 * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, height), sharex=True, sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    ticks = edges[::max(1, math.ceil(len(edges) / 7))]
    for ax, name in zip(axes.flat, names):
        sizes = pred_sizes[name]
        counts = np.histogram(sizes, bins=edges)[0]
        ax.stairs(true_counts, edges, fill=True, color="0.82")
        ax.stairs(counts, edges, color=color[name], linewidth=2)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_yscale("log")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0.7, ymax * 1.6)
        ax.set_title(f"{name}: {len(sizes):,} clusters, {int((sizes == 1).sum()):,} singletons", fontsize=10)
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
    for i, ax in enumerate(axes.flat[:len(names)]):
        if i + ncols >= len(names):  # the lowest panel of its column
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel("cluster size (bins 1, 2-3, 4-7, ...)")
    for ax in axes[:, 0]:
        ax.set_ylabel("number of clusters")
    handles = [Patch(color="0.82", label=f"true: {len(true_sizes):,} clusters, "
                                          f"{int((true_sizes == 1).sum()):,} singletons"),
               Line2D([], [], color="0.3", linewidth=2, label="predicted by the method")]
    fig.suptitle("Cluster sizes on the test split", fontsize=12, x=0.01, ha="left")
    fig.legend(handles=handles, loc="upper right", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / height))
    save_png(fig, path)


def read_sweep(path: str | os.PathLike) -> dict | None:
    """A ``threshold.json`` of :func:`ltc.thresholds.choose` as ``{"name", "chosen", "fscore", "sweep"}``
    (``None`` if it has no sweep)."""
    data = json.loads(Path(path).read_text())
    if not data.get("sweep"):
        return None
    name = data["name"]
    return {"name": name, "chosen": float(data[name]), "fscore": float(data["fscore"]), "sweep": data["sweep"],
            "warning": data.get("warning")}


def plot_sweeps(sweeps: dict, methods: Sequence[str], path: str | os.PathLike, ncols: int = 3) -> None:
    """Small multiples, one per method whose threshold was chosen on the train split (``sweeps``:
    method -> :func:`read_sweep`): pairwise F on the train split versus the threshold, the chosen one
    marked. Panels share the F axis, not the threshold axis: methods threshold different quantities
    (a cosine similarity, a distance, a rank-order score)."""
    plt = pyplot()
    color = colors(list(methods))
    shown = [m for m in methods if sweeps.get(m)]
    ncols = max(1, min(ncols, len(shown)))
    nrows = max(1, math.ceil(len(shown) / ncols))
    height = 0.6 + 3.0 * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols if shown else 8, height), sharey=True, squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    if not shown:
        ax = axes.flat[0]
        ax.set_visible(True)
        ax.text(0.5, 0.5, "No compared method chose its threshold on the train split\n(none is set to 'auto').",
                ha="center", va="center", transform=ax.transAxes, color="0.4")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax, method in zip(axes.flat, shown):
        s = sweeps[method]
        t = [r["threshold"] for r in s["sweep"]]
        f = [r["fscore"] for r in s["sweep"]]
        ax.plot(t, f, color=color[method], linewidth=1.8)
        ax.axvline(s["chosen"], color=color[method], linestyle="--", linewidth=1, alpha=0.7)
        ax.plot([s["chosen"]], [s["fscore"]], "o", color=color[method], markersize=7, markeredgecolor="k")
        ax.set_title(f"{method}: {s['name']} = {s['chosen']:.3f} (F {s['fscore']:.3f})", fontsize=10)
        ax.set_xlabel(s["name"])
        ax.set_ylim(0, 1.02)
        ax.grid(color="0.92")
        ax.set_axisbelow(True)
    for ax in axes[:, 0]:
        if shown:
            ax.set_ylabel("pairwise F on the train split")
    fig.suptitle("Threshold selection on the train split: F-score versus threshold (dot: chosen)",
                 fontsize=12, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / height))
    save_png(fig, path)
