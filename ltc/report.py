"""Side-by-side comparison of clustering methods on one dataset: a table and three plots.

One row per method: its scores (``metrics.json``), the number of predicted clusters and singletons
(``pred_labels.meta``), and what it cost, from Snakemake's ``benchmark:`` files: the summed wall
time and the largest peak resident memory of the steps counted for it.

Which benchmark files count toward a method (:func:`method_steps`):

* its own steps: every benchmark file whose name carries the method's name as a ``_``-separated
  part (``cluster_knn_cc``, ``select_threshold_gcnv``, ``infer_gcnv_test``, ``links_gcne_train``,
  ...). A file whose name carries several method names belongs to the longest one, so a method
  ``cc`` would not claim ``cluster_knn_cc``. Scoring (``evaluate_*``) is left out: it is the same
  work for every method and not part of clustering;
* the steps of other stages it needs (``needs``, given by the workflow): GCN-E needs GCN-V's
  training and inference and the kNN of GCN-V's features, so these count toward GCN-E as well;
* the kNN graph of the input features is shared by every method and is reported once, as a row
  of its own (``shared``), never inside a method's figures.

Wall time is the sum over the steps (what running them one after another costs); peak memory is
the largest of the steps' peaks (each step is a process of its own).
"""
from __future__ import annotations

import csv
import glob
import html
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ltc.io import atomic_output, read_labels, write_text

EXCLUDED_STEPS = ("evaluate",)  # benchmark file stems starting with these are never counted
SHARED_NAME = "kNN graph (shared)"
SCORES = [  # (TSV column, table heading, where in metrics.json)
    ("pairwise_precision", "pairwise P", ("pairwise", "precision")),
    ("pairwise_recall", "pairwise R", ("pairwise", "recall")),
    ("pairwise_fscore", "pairwise F", ("pairwise", "fscore")),
    ("bcubed_precision", "BCubed P", ("bcubed", "precision")),
    ("bcubed_recall", "BCubed R", ("bcubed", "recall")),
    ("bcubed_fscore", "BCubed F", ("bcubed", "fscore")),
    ("nmi", "NMI", ("nmi",)),
]
COUNTS = [("n_clusters", "clusters"), ("n_singletons", "singletons")]
COSTS = [("wall_time_s", "time (s)"), ("peak_rss_mb", "peak memory (MB)")]
COLUMNS = ["method", *(c for c, _, _ in SCORES), *(c for c, _ in COUNTS), *(c for c, _ in COSTS), "steps"]


@dataclass
class Row:
    """One line of the comparison: a method (with scores) or the shared kNN graph (costs only)."""
    method: str
    scores: dict = field(default_factory=dict)  # TSV column -> value (empty for the shared row)
    n_clusters: int | None = None
    n_singletons: int | None = None
    wall_time_s: float | None = None
    peak_rss_mb: float | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        return not self.scores

    def values(self) -> dict:
        return {"method": self.method, **{c: self.scores.get(c) for c, _, _ in SCORES},
                "n_clusters": self.n_clusters, "n_singletons": self.n_singletons,
                "wall_time_s": self.wall_time_s, "peak_rss_mb": self.peak_rss_mb, "steps": ",".join(self.steps)}


# --- benchmarks -------------------------------------------------------------------------------------

def _number(text: str | None) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None  # "NA", "-" or missing: the platform could not measure it
    return value if math.isfinite(value) else None


def read_benchmark(path: str | os.PathLike) -> dict:
    """``{"s": wall seconds, "max_rss": MB}`` of a Snakemake benchmark file (mean time, largest memory
    over its rows when the rule was benchmarked repeatedly; ``None`` where not measured)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    seconds = [v for v in (_number(r.get("s")) for r in rows) if v is not None]
    rss = [v for v in (_number(r.get("max_rss")) for r in rows) if v is not None]
    return {"s": sum(seconds) / len(seconds) if seconds else None, "max_rss": max(rss) if rss else None}


def owner(stem: str, methods: Iterable[str]) -> str | None:
    """The method a benchmark file stem belongs to: the longest method name that is a run of its
    ``_``-separated parts (``select_threshold_knn_cc`` -> ``knn_cc``); ``None`` if none is."""
    parts = stem.split("_")

    def is_in(method):
        want = method.split("_")
        return any(parts[i:i + len(want)] == want for i in range(len(parts) - len(want) + 1))

    found = [m for m in methods if is_in(m)]
    return max(found, key=lambda m: (len(m.split("_")), len(m))) if found else None


def matching(bench_dir: str | os.PathLike, patterns: Iterable[str]) -> list[Path]:
    """Benchmark files ``<bench_dir>/<pattern>.tsv`` for glob patterns of file stems, sorted by name."""
    out = set()
    for pattern in patterns:
        out.update(Path(p) for p in glob.glob(os.path.join(glob.escape(str(bench_dir)), f"{pattern}.tsv")))
    return sorted(out, key=lambda p: p.name)


def method_steps(bench_dir: str | os.PathLike, method: str, methods: Iterable[str],
                 needs: Iterable[str] = (), shared: Iterable[str] = ()) -> list[Path]:
    """Benchmark files that count toward ``method`` (see the module docstring), sorted by name.

    ``methods`` are all configured method names (to settle which method a file belongs to),
    ``needs`` glob patterns of the file stems of other stages the method needs, ``shared`` those
    of the shared kNN graph (never counted for a method).
    """
    methods = list(methods)
    skip = set(matching(bench_dir, shared))
    own = [p for p in Path(bench_dir).glob("*.tsv")
           if not p.stem.startswith(EXCLUDED_STEPS) and owner(p.stem, methods) == method]
    return sorted((set(own) | set(matching(bench_dir, needs))) - skip, key=lambda p: p.name)


def summarize(paths: Sequence[str | os.PathLike]) -> dict:
    """Summed wall time (s) and largest peak RSS (MB) of benchmark files; ``None`` where unknown."""
    stats = [read_benchmark(p) for p in paths]
    seconds = [s["s"] for s in stats if s["s"] is not None]
    rss = [s["max_rss"] for s in stats if s["max_rss"] is not None]
    return {"wall_time_s": sum(seconds) if seconds else None, "peak_rss_mb": max(rss) if rss else None}


# --- rows -------------------------------------------------------------------------------------------

def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    """Size of every cluster of a labelling."""
    return np.unique(np.asarray(labels), return_counts=True)[1]


def method_row(method: str, metrics: dict, labels: np.ndarray, steps: Sequence[str | os.PathLike]) -> Row:
    """The comparison row of one method from its metrics, its predicted labels and its benchmark files."""
    scores = {}
    for column, _, keys in SCORES:
        value = metrics
        for key in keys:
            value = value[key]
        scores[column] = float(value)
    sizes = cluster_sizes(labels)
    return Row(method=method, scores=scores, n_clusters=int(len(sizes)), n_singletons=int((sizes == 1).sum()),
               steps=[Path(p).stem for p in steps], **summarize(steps))


def shared_row(bench_dir: str | os.PathLike, patterns: Iterable[str]) -> Row | None:
    """The row of the shared kNN graph (benchmark files matching ``patterns``), ``None`` if there are none."""
    paths = matching(bench_dir, patterns)
    if not paths:
        return None
    return Row(method=SHARED_NAME, steps=[p.stem for p in paths], **summarize(paths))


# --- table ------------------------------------------------------------------------------------------

def tsv_cell(value) -> str:
    """A value as a TSV cell: empty for ``None``, floats to 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3e}"
    return str(value)


def write_tsv(rows: Sequence[Row], path: str | os.PathLike) -> None:
    """One line per row, columns :data:`COLUMNS`; empty cells where a value does not apply."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(tsv_cell(row.values()[c]) for c in COLUMNS) for row in rows]
    write_text(path, "\n".join(lines) + "\n")


def read_tsv(path: str | os.PathLike) -> list[dict]:
    """The comparison table back as dicts (counts as ints, other numbers as floats, empty cells as ``None``)."""
    counts = {c for c, _ in COUNTS}

    def value(column, text):
        if column in ("method", "steps"):
            return text
        return None if not text else int(text) if column in counts else float(text)

    with open(path, newline="") as f:
        return [{k: value(k, v) for k, v in r.items()} for r in csv.DictReader(f, delimiter="\t")]


HIGHLIGHTED = ("pairwise_fscore", "bcubed_fscore", "nmi")  # precision or recall alone is no ranking


def _best(rows: Sequence[Row]) -> dict:
    """The best (highest) value over the methods of each highlighted score column."""
    methods = [r for r in rows if not r.shared]
    return {c: max(r.scores[c] for r in methods) for c in HIGHLIGHTED} if methods else {}


def format_time(seconds: float | None) -> str:
    """Seconds for the table: ``12.3``, ``205 (3m 25s)``, ``7300 (2h 01m)``; ``n/a`` if unknown."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f}"
    m, s = divmod(round(seconds), 60)
    return f"{seconds:.0f} ({m}m {s:02d}s)" if m < 60 else f"{seconds:.0f} ({m // 60}h {m % 60:02d}m)"


def format_seconds(seconds: float | None) -> str:
    """Seconds with their unit: ``12.3 s``, ``205 s (3m 25s)``; ``n/a`` if unknown."""
    if seconds is None:
        return "n/a"
    text = format_time(seconds)
    return text.replace(" (", " s (", 1) if "(" in text else f"{text} s"


def format_memory(mb: float | None) -> str:
    """Megabytes for the table: ``1,234``; ``n/a`` if unknown."""
    return "n/a" if mb is None else f"{mb:,.0f}"


def _cells(row: Row, best: dict) -> list[tuple[str, bool]]:
    """(text, is best) of a row's table cells, in table order."""
    out = [(row.method, False)]
    for column, _, _ in SCORES:
        value = row.scores.get(column)
        out.append(("" if value is None else f"{value:.4f}", value is not None and value == best.get(column)))
    out += [("" if row.n_clusters is None else f"{row.n_clusters:,}", False),
            ("" if row.n_singletons is None else f"{row.n_singletons:,}", False),
            (format_time(row.wall_time_s), False), (format_memory(row.peak_rss_mb), False)]
    return out


HEADINGS = ["method", *(h for _, h, _ in SCORES), *(h for _, h in COUNTS), *(h for _, h in COSTS)]


def describe_truth(gt: np.ndarray) -> str:
    sizes = cluster_sizes(gt)
    return (f"{len(gt):,} items in {len(sizes):,} true clusters ({int((sizes == 1).sum()):,} singletons, "
            f"largest {int(sizes.max()) if len(sizes) else 0:,})")


def notes() -> list[str]:
    """The table's footnotes: how to read the columns and which steps each row's costs add up."""
    out = ["Scores are on the labelled test split; thresholds set to `auto` were chosen on the train split. "
           "The best F-scores and NMI are in bold. Methods given a number of clusters (k-means, mini-batch "
           "k-means, spectral) with `n_clusters: auto`, the default, are told the test split's true number of "
           "identities: an oracle the other methods do not get.",
           "Time is the summed wall time of the steps counted for the method, peak memory the largest peak "
           "resident memory of those steps (Snakemake benchmark files). Scoring is not counted; the kNN graph "
           "of the features, which every method uses, is its own row and is not included in the methods' figures."]
    out.append("Steps counted (benchmark files under the dataset's `benchmarks/`):")
    return out


def steps_text(row: Row) -> str:
    return ", ".join(row.steps) if row.steps else "none found"


def format_markdown(rows: Sequence[Row], dataset: str, truth: str) -> str:
    """The comparison as a Markdown document: heading, context line, table, notes."""
    best = _best(rows)
    lines = [f"# Clustering methods compared on `{dataset}`", "", f"Test split: {truth}.", "",
             "| " + " | ".join(HEADINGS) + " |",
             "|---|" + "---:|" * (len(HEADINGS) - 1)]
    for row in rows:
        cells = [f"**{t}**" if b else t for t, b in _cells(row, best)]
        if row.shared:
            cells[0] = f"*{cells[0]}*"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{n}\n" for n in notes()]
    lines += [f"* {r.method}: {steps_text(r)}" for r in rows]
    return "\n".join(lines) + "\n"


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2937;
       margin: 24px; font-size: 14px; }
h1 { font-size: 20px; margin: 0 0 6px 0; }
p.context { color: #4b5563; margin: 0 0 16px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; text-align: right; border-bottom: 2px solid #d1d5db; }
th.group { text-align: center; border-bottom: 1px solid #d1d5db; }
td { text-align: right; }
td:first-child, th:first-child { text-align: left; }
td.best { font-weight: 700; background: #dcfce7; }
tr.shared td { color: #6b7280; font-style: italic; background: #fafafa; }
tr:hover td { background: #f9fafb; }
td.sep, th.sep { border-left: 1px solid #d1d5db; }
ul.notes { color: #4b5563; max-width: 1100px; padding-left: 18px; }
ul.notes li { margin-bottom: 4px; }
code { background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
"""


def format_html(rows: Sequence[Row], dataset: str, truth: str) -> str:
    """The comparison as a self-contained HTML page (inline CSS, no scripts), for the Snakemake report."""
    best = _best(rows)
    e = html.escape
    # grouped header: method | pairwise (3) | BCubed (3) | NMI | clusters, singletons | time, memory
    groups = [("", 1), ("pairwise", 3), ("BCubed", 3), ("", 1), ("predicted", 2), ("cost", 2)]
    sub = ["method", "P", "R", "F", "P", "R", "F", "NMI", "clusters", "singletons", "time (s)", "peak memory (MB)"]
    seps = {1, 4, 7, 8, 10}  # columns that start a group
    head1 = "".join(f'<th class="group{" sep" if i else ""}" colspan="{n}">{e(g)}</th>'
                    for i, (g, n) in enumerate(groups))
    head2 = "".join(f'<th class="{"sep" if i in seps else ""}">{e(h)}</th>' for i, h in enumerate(sub))
    body = []
    for row in rows:
        tds = []
        for i, (text, is_best) in enumerate(_cells(row, best)):
            cls = " ".join(c for c in ("best" if is_best else "", "sep" if i in seps else "") if c)
            tds.append(f'<td class="{cls}">{e(text)}</td>' if cls else f"<td>{e(text)}</td>")
        body.append(f'<tr class="shared">{"".join(tds)}</tr>' if row.shared else f"<tr>{''.join(tds)}</tr>")
    *general, steps_heading = notes()
    steps = "".join(f"<li><b>{e(r.method)}</b>: {e(steps_text(r))}</li>" for r in rows)
    items = "".join(f"<li>{_md_code(e(n))}</li>" for n in general)
    items += f"<li>{_md_code(e(steps_heading))}<ul>{steps}</ul></li>"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Clustering methods compared on {e(dataset)}</title><style>{CSS}</style></head><body>"
            f"<h1>Clustering methods compared on <code>{e(dataset)}</code></h1>"
            f'<p class="context">Test split: {e(truth)}.</p>'
            f"<table><thead><tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f'<ul class="notes">{items}</ul></body></html>\n')


def _md_code(text: str) -> str:
    """`x` -> <code>x</code> in already escaped text."""
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


# --- plots ------------------------------------------------------------------------------------------

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


# --- everything -------------------------------------------------------------------------------------

def compare(dataset: str, methods: Sequence[str], metrics: Sequence[str | os.PathLike],
            preds: Sequence[str | os.PathLike], gt: str | os.PathLike, bench_dir: str | os.PathLike,
            all_methods: Sequence[str], needs: dict | None = None, shared: Sequence[str] = (),
            sweeps: dict | None = None, out: dict | None = None) -> list[Row]:
    """Build the rows and write the outputs named in ``out`` (keys ``tsv``, ``md``, ``html``, ``scores``,
    ``sizes``, ``sweeps``); return the rows (methods in the given order, then the shared kNN row)."""
    if not (len(methods) == len(metrics) == len(preds)):
        raise ValueError("give one metrics file and one predicted-labels file per method")
    needs = needs or {}
    out = out or {}
    gt_labels = read_labels(gt)
    labels = {m: read_labels(p) for m, p in zip(methods, preds)}
    rows = []
    for method, metrics_path in zip(methods, metrics):
        steps = method_steps(bench_dir, method, all_methods, needs.get(method, ()), shared)
        rows.append(method_row(method, json.loads(Path(metrics_path).read_text()), labels[method], steps))
    knn = shared_row(bench_dir, shared)
    if knn is not None:
        rows.append(knn)
    truth = describe_truth(gt_labels)
    if "tsv" in out:
        write_tsv(rows, out["tsv"])
    if "md" in out:
        write_text(out["md"], format_markdown(rows, dataset, truth))
    if "html" in out:
        write_text(out["html"], format_html(rows, dataset, truth))
    if "scores" in out:
        plot_scores(rows, out["scores"])
    if "sizes" in out:
        plot_cluster_sizes(gt_labels, labels, out["sizes"])
    if "sweeps" in out:
        curves = {m: read_sweep(p) for m, p in (sweeps or {}).items()}
        plot_sweeps(curves, methods, out["sweeps"])
    return rows
