"""Vertex confidence (GCN-V, Yang et al. CVPR 2020) and clustering by linking to higher confidence.

* supervised confidence of a vertex (the GCN-V training target, "s_nbr"): over its kNN (itself
  included), the sum of similarities to same-label neighbours minus the sum to other-label ones,
  divided by the largest absolute value over all vertices;
* peak linking: each vertex links to its most similar kNN neighbour that is higher in the order
  of :func:`higher` (greater confidence; equal confidence: the lower index), if their similarity is
  >= tau; clusters are the connected components.

The order is strict and total, so the links form a forest (every link goes up the order) and a
vertex whose confidence equals a neighbour's, e.g. an identical twin (the same photo twice), still
links: the twin with the larger index links to the other one. The original project links only to
strictly higher confidence, so equal twins never link to each other and may end in different
clusters. Ties are broken by index, never by float noise, so the labels depend only on the
confidences' values and the kNN file.

Peaks are found row by row, so :func:`peaks_of_chunks` takes the kNN in chunks of rows (e.g. from
:func:`ltc.io.iter_knn`) and never needs it whole.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.graph import components
from ltc.io import rebuild_hint

def check_finite(array: np.ndarray, what: str, path, chunk_rows: int = 65536) -> None:
    """Raise :class:`DataError` naming ``what`` and ``path`` if ``array`` (read by blocks of rows, so
    a memory map stays unread beside the check) holds NaN or infinity."""
    bad = sum(int((~np.isfinite(array[s:s + chunk_rows])).sum()) for s in range(0, len(array), chunk_rows))
    if bad:
        raise DataError(f"{what} {path} holds {bad} NaN or infinite values: {rebuild_hint(path)}.")


def load_array(path: str | Path, what: str, shape: tuple, *, mmap: bool = False) -> np.ndarray:
    """A float ``.npy`` intermediate file, checked: readable (not truncated), of ``shape`` (``None``
    entries match anything, e.g. ``(n, None)``), finite. ``what`` names the file in the error
    ("GCN-V confidence file"); every failure is one :class:`DataError` sentence saying how to remake it.
    With ``mmap`` the array is a read-only memory map (checked by blocks of rows)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist: {rebuild_hint(path)}.")
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"{what} {path} is truncated or corrupt ({err}): {rebuild_hint(path)}.") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"{what} {path} does not hold a float array: {rebuild_hint(path)}.")
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
        raise DataError(f"{what} {path} holds shape {array.shape}, not {want} for the {shape[0]} points of its "
                        f"split (it was made from other data): {rebuild_hint(path)}.")
    check_finite(array, what, path)
    return array


def load_confidence(path: str | Path, n: int) -> np.ndarray:
    """GCN-V confidences (``n`` float32) from ``infer_gcnv.py``'s ``.npy``, checked by :func:`load_array`."""
    return np.asarray(load_array(path, "GCN-V confidence file", (n,)), dtype=np.float32)


def higher(conf_a: np.ndarray, ids_a: np.ndarray, conf_b: np.ndarray, ids_b: np.ndarray) -> np.ndarray:
    """Whether vertex a is above vertex b in GCN-V's linking order (elementwise, broadcasting):
    ``conf_a > conf_b``, or equal confidences and ``ids_a < ids_b``. Strict and total on distinct
    vertices (a vertex is never above itself), so links up the order never form a cycle."""
    return (conf_a > conf_b) | ((conf_a == conf_b) & (ids_a < ids_b))


def order_rank(confidence: np.ndarray) -> np.ndarray:
    """Rank (int64, 0 = lowest) of each vertex in the order of :func:`higher`: by confidence, equal
    confidences ranked lower the larger their index."""
    n = len(confidence)
    order = np.lexsort((-np.arange(n), confidence))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


def check_train_labels(labels: np.ndarray, path, method: str = "gcnv") -> None:
    """Raise :class:`DataError` unless ``labels`` (the train split's, from file ``path``) can teach
    ``method``: at least two identities and at least one identity with two or more samples (the
    placeholder labels written when there are none, all equal or all distinct, cannot)."""
    labels = np.asarray(labels)
    names, counts = np.unique(labels, return_counts=True)
    if len(names) >= 2 and (counts >= 2).any():
        return
    what = (f"has {len(names)} identit{'y' if len(names) == 1 else 'ies'}" if len(names) < 2
            else f"has no identity with two or more of its {len(labels)} samples")
    fix = ("set methods.gcnv.checkpoint (a trained model) or methods.gcnv.model_from (a dataset with real labels)"
           if method == "gcnv" else "set methods.gcne.model_from to a dataset with real labels")
    raise DataError(f"Train label file {path} {what}, so {method.upper().replace('GCN', 'GCN-')} cannot learn "
                    f"from it: {fix}, or give the train split its real identity labels.")


def supervised_confidence(ids: np.ndarray, dists: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GCN-V target per vertex, in [-1, 1] (ids, dists: N x K kNN; labels: N ints)."""
    valid = ids >= 0
    sims = np.where(valid, 1.0 - dists.astype(np.float64), 0.0)
    same = labels[np.where(valid, ids, 0)] == labels[:, None]
    conf = np.where(same, sims, -sims).sum(axis=1)
    top = np.abs(conf).max()
    return (conf / top if top > 0 else conf).astype(np.float32)


def peaks(ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray,
          row_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """For each vertex, its nearest kNN neighbour above it in the order of :func:`higher`.

    Rows of ``ids``/``dists`` must be sorted by distance; they are the kNN of vertices ``row_offset``,
    ``row_offset + 1``, ... (all vertices by default); ``confidence`` is that of all vertices.
    Returns (peak id or -1, similarity to it or -inf).
    """
    n = len(ids)
    rows = np.arange(n)
    safe = np.where(ids >= 0, ids, 0)
    own = confidence[row_offset:row_offset + n, None]
    above = (ids >= 0) & higher(confidence[safe], ids, own, (rows + row_offset)[:, None])
    first = above.argmax(axis=1)  # the first (nearest) such neighbour in the row's kNN order
    found = above[rows, first]
    peak = np.where(found, ids[rows, first], -1)
    sim = np.where(found, 1.0 - dists[rows, first], -np.inf)
    return peak, sim


def peaks_of_chunks(chunks: Iterable[tuple[int, np.ndarray, np.ndarray]],
                    confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`peaks` of all vertices from their kNN in consecutive chunks of rows (first row, ids, dists).

    Returns (peak id int64 or -1, similarity float32 or -inf); memory: those, ``confidence`` and one chunk.
    """
    n = len(confidence)
    if not np.isfinite(confidence).all():  # NaN is never higher: every vertex would stay alone
        raise DataError(f"{int((~np.isfinite(confidence)).sum())} of the {n} confidences are NaN or infinite: "
                        f"rebuild them (infer_gcnv) from a model that predicts finite values.")
    peak = np.full(n, -1, dtype=np.int64)
    sim = np.full(n, -np.inf, dtype=np.float32)
    seen = 0
    for start, ids, dists in chunks:
        if start != seen or start + len(ids) > n:
            raise DataError(f"The kNN graph does not match the {n} confidences (rows from {start}, expected {seen}): "
                            f"both must come from the same split.")
        peak[start:start + len(ids)], sim[start:start + len(ids)] = peaks(ids, dists, confidence, start)
        seen += len(ids)
    if seen != n:
        raise DataError(f"The kNN graph has {seen} rows but there are {n} confidences: both must come from the same split.")
    return peak, sim


def link_to_peaks(peak: np.ndarray, peak_sim: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels: components of the edges vertex -> peak with similarity >= tau."""
    keep = (peak >= 0) & (peak_sim >= tau)
    return components(len(peak), np.flatnonzero(keep), peak[keep])


def cluster(ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels from a kNN graph and per-vertex confidences (finite, else :class:`DataError`)."""
    return link_to_peaks(*peaks_of_chunks([(0, ids, dists)], confidence), tau)
