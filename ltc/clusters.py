"""Clusters people can use: a table of every test item's cluster, folders of image links, and a summary
of each method's clusters for a test split without labels.

* :func:`cluster_table` / :func:`write_table` / :func:`write_json`: ``results/<ds>/<method>/clusters.tsv``
  and ``clusters.json``. Clusters are numbered by size, **largest first** (cluster 0 is the largest; equal
  sizes in the order of their first item), so the head of the file is the biggest identities and the
  singletons come last; rows are sorted by cluster, then by item index. These numbers are not the labels
  of ``pred_labels.meta`` (numbered by first item), which stay as they are.
* :func:`read_ids`: the optional per-split id list (``datasets.<ds>.test.ids``: one id or image path per
  line, one line per feature row, like the original project's image lists).
* :func:`link_images`: one folder per cluster of symbolic links to the images (never copies, never
  overwrites: refuses a folder that is not empty).
* :func:`summary_rows` / :func:`write_summary`: per method the number of clusters, their size
  distribution and the method's cost (the comparison's benchmark-file logic, :mod:`ltc.report.costs`):
  ``results/<ds>/summary.{tsv,md}``, what ``results/<ds>/all`` makes when the test split has no labels.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.io import atomic_output, load_array, write_text

log = logging.getLogger(__name__)

TABLE_COLUMNS = ["index", "id", "cluster", "cluster_size", "confidence"]
UNCLUSTERED = "unclustered"  # link_images' folder for the items of clusters below min_size


def read_ids(path: str | os.PathLike, n: int, setting: str = "the split's ids") -> np.ndarray:
    """The ids of a split: ``(n,)`` object array of str, line i = feature row i.

    The file is UTF-8 text (a byte-order mark and Windows line ends accepted), one id per line, a final
    newline optional; an id is the whole line (spaces kept: image paths may have them). Raises
    :class:`DataError` (one sentence naming the file and ``setting``, the config key that names it) for a
    missing or binary file, a blank line, a tab in an id (it would break the TSV) or a count of lines
    other than ``n``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Id file {path} ({setting}) does not exist: write one id or image path per feature "
                        f"row there, or drop the setting.")
    data = path.read_bytes()
    if b"\0" in data[:4096]:
        raise DataError(f"Id file {path} ({setting}) holds binary data, not text: write one id or image path "
                        f"per line, one line per feature row.")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise DataError(f"Id file {path} ({setting}) is not UTF-8 text (byte {err.start}): save it as "
                        f"UTF-8.") from None
    text = text.replace("\r\n", "\n")
    if "\n" not in text:
        text = text.replace("\r", "\n")
    text = text.removesuffix("\n")
    lines = text.split("\n") if text else []

    def line_of(pos):
        return text.count("\n", 0, pos) + 1

    for bad, what in (("\t", "a tab, which would split its column in clusters.tsv"), ("\r", "a carriage return")):
        pos = text.find(bad)
        if pos >= 0:
            raise DataError(f"Id file {path} ({setting}) line {line_of(pos)} holds {what}: remove it from the id.")
    if len(lines) != n:
        raise DataError(f"Id file {path} ({setting}) has {len(lines)} lines but its split has {n} items: write "
                        f"exactly one id or image path per feature row, in the same order.")
    if n and min(map(len, lines)) == 0:
        raise DataError(f"Id file {path} ({setting}) line {lines.index('') + 1} is blank: give every feature row "
                        f"an id (one per line, no blank lines).")
    return np.array(lines, dtype=object)


def load_item_confidence(path: str | os.PathLike, n: int) -> np.ndarray:
    """A method's per-item confidence (``(n,)`` float ``.npy``, e.g. GCN-V's ``test/confidence.npy``) as
    float64, checked by :func:`ltc.io.load_array` (one :class:`DataError` sentence if wrong)."""
    return np.asarray(load_array(path, "Confidence file", (n,)), dtype=np.float64)


@dataclass
class ClusterTable:
    """Every item's cluster, rows in file order (by cluster, largest first, then by item index).

    ``index``, ``cluster``, ``cluster_size``: ``(n,)`` int64; ``id``: ``(n,)`` object (str) or None;
    ``confidence``: ``(n,)`` float64 or None.
    """
    index: np.ndarray
    cluster: np.ndarray
    cluster_size: np.ndarray
    id: np.ndarray | None = None
    confidence: np.ndarray | None = None

    @property
    def n_clusters(self) -> int:
        return int(self.cluster[-1]) + 1 if len(self.cluster) else 0


def cluster_table(labels: np.ndarray, ids: np.ndarray | None = None,
                  confidence: np.ndarray | None = None) -> ClusterTable:
    """The table of ``(n,)`` integer ``labels`` (any numbering), with the items' ``ids`` and ``confidence``
    (each ``(n,)`` or None). Clusters are renumbered 0.. by decreasing size, equal sizes by their first
    item; rows are sorted by cluster, then item index. Raises ``ValueError`` for mismatched lengths."""
    labels = np.asarray(labels)
    n = len(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    for name, values in (("ids", ids), ("confidence", confidence)):
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} labels")
    _, first, inverse, sizes = np.unique(labels, return_index=True, return_inverse=True, return_counts=True)
    order = np.lexsort((first, -sizes))  # clusters: largest first, then by first item
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    cluster = rank[inverse.ravel()]
    rows = np.argsort(cluster, kind="stable")  # stable: item index order inside a cluster
    return ClusterTable(index=rows.astype(np.int64), cluster=cluster[rows], cluster_size=sizes[inverse.ravel()][rows],
                        id=None if ids is None else np.asarray(ids, dtype=object)[rows],
                        confidence=None if confidence is None else np.asarray(confidence, np.float64)[rows])


def write_table(table: ClusterTable, path: str | os.PathLike, chunk_rows: int = 1 << 18) -> None:
    """``clusters.tsv``: a header line, then one line per item, columns :data:`TABLE_COLUMNS`; ``id`` and
    ``confidence`` cells are empty where there are none (confidence to 6 significant digits). Written
    ``chunk_rows`` lines at a time, atomically."""
    n = len(table.index)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(TABLE_COLUMNS) + "\n")
        for a in range(0, n, chunk_rows):
            b = min(a + chunk_rows, n)
            empty = [""] * (b - a)
            ids = table.id[a:b].tolist() if table.id is not None else empty
            conf = [f"{x:.6g}" for x in table.confidence[a:b].tolist()] if table.confidence is not None else empty
            columns = (table.index[a:b].astype(str), ids, table.cluster[a:b].astype(str),
                       table.cluster_size[a:b].astype(str), conf)
            f.write("\n".join(map("\t".join, zip(*columns))) + "\n")


def write_json(table: ClusterTable, path: str | os.PathLike, meta: Mapping | None = None) -> None:
    """``clusters.json``: ``meta`` (e.g. dataset and method), the counts and the clusters in table order,
    each ``{"cluster", "size", "members": [item indices], "ids": [...], "confidence": [...]}`` (``ids`` and
    ``confidence`` only where there are some)."""
    starts = np.flatnonzero(np.r_[True, table.cluster[1:] != table.cluster[:-1]]) if len(table.cluster) else []
    cuts = np.asarray(starts[1:], dtype=np.int64)
    columns = {"members": table.index}
    if table.id is not None:
        columns["ids"] = table.id
    if table.confidence is not None:
        columns["confidence"] = np.round(table.confidence, 6)
    bounds = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(table.index)])) if len(table.index) else []
    lists = {k: v.tolist() for k, v in columns.items()}  # one conversion, then slices (no per-cluster arrays)
    clusters = [{"cluster": c, "size": b - a, **{k: v[a:b] for k, v in lists.items()}}
                for c, (a, b) in enumerate(bounds)]
    sizes = table.cluster_size[starts] if len(table.cluster) else np.zeros(0, np.int64)
    doc = {**(meta or {}), "n_items": int(len(table.index)), "n_clusters": table.n_clusters,
           "n_singletons": int((sizes == 1).sum()),
           "order": "clusters by size, largest first (equal sizes by first item); members by item index",
           "clusters": clusters}
    write_text(path, json.dumps(doc) + "\n")


def read_table(path: str | os.PathLike) -> ClusterTable:
    """A ``clusters.tsv`` back (ids and confidences None where the columns are empty). Raises
    :class:`DataError` for a file that is missing or not such a table."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Cluster table {path} does not exist: make it with snakemake "
                        f"results/<ds>/<method>/clusters.tsv.")
    lines = path.read_text(encoding="utf-8").removesuffix("\n").split("\n")
    if lines[0].split("\t") != TABLE_COLUMNS:
        raise DataError(f"Cluster table {path} starts with {lines[0][:80]!r}, not the header "
                        f"{chr(9).join(TABLE_COLUMNS)!r}: give a clusters.tsv that the workflow made.")
    rows = [line.split("\t") for line in lines[1:]]
    bad = next((i for i, r in enumerate(rows) if len(r) != len(TABLE_COLUMNS)), None)
    if bad is not None:
        raise DataError(f"Cluster table {path} line {bad + 2} has {len(rows[bad])} cells, not "
                        f"{len(TABLE_COLUMNS)}: remake it with snakemake (--forcerun on it).")
    index, ids, cluster, size, conf = zip(*rows) if rows else ([],) * len(TABLE_COLUMNS)
    try:
        ints = [np.array(c, dtype=np.int64) for c in (index, cluster, size)]
        confidence = np.array(conf, dtype=np.float64) if rows and all(conf) else None
    except ValueError as err:
        raise DataError(f"Cluster table {path} holds a cell that is not a number ({err}): remake it with "
                        f"snakemake (--forcerun on it).") from None
    return ClusterTable(index=ints[0], cluster=ints[1], cluster_size=ints[2],
                        id=np.array(ids, dtype=object) if rows and all(ids) else None, confidence=confidence)


def link_images(table: ClusterTable, out_dir: str | os.PathLike, image_root: str | os.PathLike = ".",
                min_size: int = 2, source: str = "the cluster table") -> dict:
    """One folder per cluster of at least ``min_size`` items under ``out_dir`` (``cluster_<c>``, c = the
    table's cluster number, zero-padded), holding a symbolic link per member to its image
    (``<index>_<file name>``, absolute target); the items of smaller clusters (singletons by default)
    go together into ``unclustered/``. The ids are the image paths; relative ones are taken from
    ``image_root``. Nothing is copied or overwritten.

    Raises :class:`DataError` before making anything when the table has no ids, ``min_size`` < 1,
    ``out_dir`` exists and is not an empty folder, or an image is not a file (naming the first and the
    count). Returns ``{"clusters": folders made for clusters, "links": links made}``.
    """
    if table.id is None:
        raise DataError(f"{source} has no ids, so there are no images to link: set the test split's `ids` to a "
                        f"file of one image path per feature row (datasets.<ds>.test.ids) and remake clusters.tsv.")
    if min_size < 1:
        raise DataError(f"--min-size is {min_size}: give 1 (a folder for every cluster) or more.")
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(os.scandir(out))):
        raise DataError(f"{out} {'is not a folder' if not out.is_dir() else 'is not empty'}: links are only made "
                        f"in a new or empty folder (nothing is ever overwritten); name another one.")
    root = os.path.abspath(image_root)
    targets = [os.path.join(root, p) for p in table.id]  # os.path.join keeps absolute ids as they are
    missing = [i for i, p in enumerate(targets) if not os.path.isfile(p)]
    if missing:
        first = missing[0]
        raise DataError(f"{len(missing)} of the {len(targets)} ids of {source} are not image files (the first, "
                        f"{table.id[first]!r}, is not a file at {targets[first]}): give --image-root, the folder "
                        f"the image paths are relative to, or fix the split's ids file.")
    width = len(str(max(table.n_clusters - 1, 0)))
    index_width = len(str(max(int(table.index.max(initial=0)), 0)))
    folders = [f"cluster_{c:0{width}d}" if s >= min_size else UNCLUSTERED
               for c, s in zip(table.cluster.tolist(), table.cluster_size.tolist())]
    out.mkdir(parents=True, exist_ok=True)
    for folder in dict.fromkeys(folders):
        (out / folder).mkdir()
    for folder, index, target in zip(folders, table.index.tolist(), targets):
        os.symlink(target, out / folder / f"{index:0{index_width}d}_{os.path.basename(target)}")
    made = len(set(folders) - {UNCLUSTERED})
    log.info("%d links to images in %d cluster folders under %s%s", len(targets), made, out,
             f" (clusters under {min_size} items: {UNCLUSTERED}/)" if UNCLUSTERED in folders else "")
    return {"clusters": made, "links": len(targets)}


# --- the summary of an unlabelled test split ---------------------------------------------------------

SUMMARY_COLUMNS = ["method", "n_items", "n_clusters", "largest", "median_size", "n_singletons",
                   "wall_time_s", "peak_rss_mb", "steps"]
SUMMARY_HEADINGS = ["method", "items", "clusters", "largest", "median size", "singletons", "time (s)",
                    "peak memory (MB)"]


@dataclass
class SummaryRow:
    """One method's clusters (counts, sizes) and cost; the shared kNN graph's row has costs only."""
    method: str
    n_items: int | None = None
    n_clusters: int | None = None
    largest: int | None = None
    median_size: float | None = None
    n_singletons: int | None = None
    wall_time_s: float | None = None
    peak_rss_mb: float | None = None
    steps: list[str] = field(default_factory=list)

    def values(self) -> dict:
        return {c: (",".join(self.steps) if c == "steps" else getattr(self, c)) for c in SUMMARY_COLUMNS}


def size_summary(labels: np.ndarray) -> dict:
    """Counts of ``(n,)`` labels: ``n_items``, ``n_clusters``, ``largest`` and ``median_size`` (of the
    cluster sizes, a float: the mean of the two middle sizes for an even count) and ``n_singletons``."""
    from ltc.report.rows import cluster_sizes

    sizes = cluster_sizes(labels)
    return {"n_items": int(len(labels)), "n_clusters": int(len(sizes)),
            "largest": int(sizes.max()) if len(sizes) else 0,
            "median_size": float(np.median(sizes)) if len(sizes) else 0.0, "n_singletons": int((sizes == 1).sum())}


def summary_rows(methods: Sequence[str], preds: Sequence[str | os.PathLike], bench_dir: str | os.PathLike,
                 all_methods: Sequence[str], steps: Mapping[str, Sequence[str]] | None = None,
                 shared: Sequence[str] = ()) -> list[SummaryRow]:
    """One row per method (its ``pred_labels.meta`` in ``preds``, same order), then the shared kNN graph's
    row if it has benchmark files. Which benchmark files count toward a method is the comparison's rule
    (:func:`ltc.report.costs.method_steps`: exactly ``steps[method]`` where given, else by name; never the
    ``shared`` kNN graph, never scoring). Raises :class:`DataError` if the lists differ in length or
    ``steps`` is invalid (:func:`ltc.report.costs.check_steps`)."""
    from ltc.io import read_labels
    from ltc.report.costs import check_methods_named, check_steps, method_steps, summarize
    from ltc.report.rows import shared_row

    if len(methods) != len(preds):
        raise DataError(f"Give one predicted-labels file (--pred, {len(preds)} given) per method (--methods, "
                        f"{len(methods)} given), in that order.")
    steps = steps or {}
    check_methods_named("--steps", steps, methods, "summarised")
    check_steps(bench_dir, steps)
    rows = []
    for method, pred in zip(methods, preds):
        counted = method_steps(bench_dir, method, all_methods, (), shared, steps.get(method))
        rows.append(SummaryRow(method=method, **size_summary(read_labels(pred)),
                               steps=[Path(p).stem for p in counted], **summarize(counted)))
    knn = shared_row(bench_dir, shared)
    if knn is not None:
        rows.append(SummaryRow(method=knn.method, wall_time_s=knn.wall_time_s, peak_rss_mb=knn.peak_rss_mb,
                               steps=knn.steps))
    return rows


def _cells(row: SummaryRow) -> list[str]:
    from ltc.report.tables import format_memory, format_time

    def count(v):
        return "" if v is None else f"{v:,}"

    median = "" if row.median_size is None else f"{row.median_size:g}"
    return [row.method, count(row.n_items), count(row.n_clusters), count(row.largest), median,
            count(row.n_singletons), format_time(row.wall_time_s), format_memory(row.peak_rss_mb)]


#: score files that a run with test labels writes and a run without them never does
SCORE_FILES = ("fscore.txt", "metrics.json", "comparison.tsv", "comparison.md", "comparison.html", "method.json")


def stale_scores(pred: Sequence[str | os.PathLike]) -> list[Path]:
    """Score files beside the predictions ``pred`` (``results/<ds>/<method>/pred_labels.meta``), in
    their method folders and the dataset folder above them: on an unlabelled test split nothing
    writes them, so any that exist are from an earlier run with labels and do not score these
    clusters. Sorted paths."""
    folders = {Path(p).parent for p in pred}
    folders |= {f.parent for f in folders}
    return sorted(f / name for f in folders for name in SCORE_FILES if (f / name).is_file())


def format_summary(rows: Sequence[SummaryRow], dataset: str, stale: Sequence[str | os.PathLike] = ()) -> str:
    """The summary as Markdown: heading, what it is, a warning naming ``stale`` score files (see
    :func:`stale_scores`), table, which steps each row's costs add up."""
    lines = [f"# Clusters of each method on `{dataset}` (unlabelled test split)", "",
             "The test split has no labels, so there are no scores: per method the clusters it made and what "
             "it cost. Thresholds set to `auto` were chosen on the labelled train split.", ""]
    if stale:
        lines += ["**Old scores:** " + ", ".join(f"`{p}`" for p in stale) + " are from an earlier run with test "
                  "labels and do not score these clusters: delete them.", ""]
    lines += [
             "| " + " | ".join(SUMMARY_HEADINGS) + " |", "|---|" + "---:|" * (len(SUMMARY_HEADINGS) - 1)]
    for row in rows:
        cells = _cells(row)
        if row.n_items is None:
            cells[0] = f"*{cells[0]}*"
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Time is the summed wall time of the steps counted for the method, peak memory the largest "
              "peak resident memory of those steps (Snakemake benchmark files); the kNN graph of the features, "
              "which every method uses, is its own row. Steps counted:", ""]
    lines += [f"* {r.method}: {', '.join(r.steps) or 'none found'}" for r in rows]
    return "\n".join(lines) + "\n"


def write_summary(rows: Sequence[SummaryRow], dataset: str, tsv: str | os.PathLike | None = None,
                  md: str | os.PathLike | None = None, stale: Sequence[str | os.PathLike] = ()) -> None:
    """``summary.tsv`` (columns :data:`SUMMARY_COLUMNS`, empty cells where a value does not apply) and
    ``summary.md`` (:func:`format_summary`, which names the ``stale`` score files)."""
    from ltc.report.tables import tsv_cell

    if tsv:
        lines = ["\t".join(SUMMARY_COLUMNS)] + ["\t".join(tsv_cell(r.values()[c]) for c in SUMMARY_COLUMNS)
                                                for r in rows]
        write_text(tsv, "\n".join(lines) + "\n")
    if md:
        write_text(md, format_summary(rows, dataset, stale))
