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

Exact duplicates (kNN distance <= :data:`DUPLICATE_DISTANCE`: the same photo imported several times)
are joined whatever their confidences and tau: each group of them (connected through such kNN
pairs) is collapsed onto its top member in the order, which every other member links to with
similarity 1.0, and the top keeps its own peak (necessarily outside the group). Without this, a
group larger than k splits: its copies all list the same k "hub" copies, and a copy whose hubs are
all below it finds no peak and becomes a root. Every link still goes up the order (a forest).

Peaks are found row by row, so :func:`peaks_of_chunks` takes the kNN in chunks of rows (e.g. from
:func:`ltc.io.iter_knn`) and never needs it whole.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.graph import components, renumber
from ltc.io import load_array

log = logging.getLogger(__name__)

#: kNN (cosine) distance at or below which two vertices are the same photo imported twice: joined
#: unconditionally by GCN-V (:func:`peaks_of_chunks`) and GCN-E (:func:`ltc.gcne.links`)
DUPLICATE_DISTANCE = 1e-6


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
    """:func:`peaks` of all vertices from their kNN in consecutive chunks of rows (first row, ids, dists),
    then every group of exact duplicates joined (:func:`join_duplicates`): the same photo imported
    any number of times always ends in one cluster.

    Returns (peak id int64 or -1, similarity float32 or -inf); memory: those, ``confidence``, one chunk
    and the duplicate pairs. Raises :class:`DataError` for non-finite confidences or a kNN graph of
    another size.
    """
    n = len(confidence)
    if not np.isfinite(confidence).all():  # NaN is never higher: every vertex would stay alone
        raise DataError(f"{int((~np.isfinite(confidence)).sum())} of the {n} confidences are NaN or infinite: "
                        f"rebuild them (infer_gcnv) from a model that predicts finite values.")
    peak = np.full(n, -1, dtype=np.int64)
    sim = np.full(n, -np.inf, dtype=np.float32)
    pairs = []  # exact-duplicate pairs, per chunk
    seen = 0
    for start, ids, dists in chunks:
        if start != seen or start + len(ids) > n:
            raise DataError(f"The kNN graph does not match the {n} confidences (rows from {start}, expected {seen}): "
                            f"both must come from the same split.")
        peak[start:start + len(ids)], sim[start:start + len(ids)] = peaks(ids, dists, confidence, start)
        pairs.append(duplicate_pairs(ids, dists, start))
        seen += len(ids)
    if seen != n:
        raise DataError(f"The kNN graph has {seen} rows but there are {n} confidences: both must come from the same split.")
    src, dst = (np.concatenate(side) for side in zip(*pairs)) if pairs else (np.empty(0, np.int64),) * 2
    return join_duplicates(peak, sim, src, dst, confidence)


def duplicate_pairs(ids: np.ndarray, dists: np.ndarray, row_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Exact-duplicate pairs in a block of kNN rows (the kNN of vertices ``row_offset``, ...):
    (src, dst) int64 arrays of every vertex and a listed neighbour other than itself at distance
    <= :data:`DUPLICATE_DISTANCE` (missing neighbours, id -1, are skipped)."""
    rows = np.arange(row_offset, row_offset + len(ids), dtype=np.int64)[:, None]
    hit = (ids >= 0) & (ids != rows) & (dists <= DUPLICATE_DISTANCE)
    return np.broadcast_to(rows, ids.shape)[hit], ids[hit].astype(np.int64)


def join_duplicates(peak: np.ndarray, sim: np.ndarray, src: np.ndarray, dst: np.ndarray,
                    confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links (peak int64 N, -1 = none; similarity float N) with every group of exact duplicates joined.

    ``src``/``dst``: duplicate pairs (:func:`duplicate_pairs`); a group is a connected component of
    them. Every member but the group's top in the order of :func:`higher` (by ``confidence``, N
    finite floats) gets the top as its peak with similarity 1.0 (kept at any tau <= 1); the top, and
    every vertex in no pair, keeps its link. Returns new arrays (of the input dtypes); unchanged
    without pairs."""
    peak, sim = np.array(peak, copy=True), np.array(sim, copy=True)
    if len(src) == 0:
        return peak, sim
    n = len(peak)
    members = np.unique(np.concatenate([src, dst]))
    group = components(n, src, dst)[members]  # the group of each member (other vertices are alone)
    group = renumber(group)
    rank = order_rank(np.asarray(confidence))[members]
    top_rank = np.full(group.max() + 1, -1, dtype=np.int64)
    np.maximum.at(top_rank, group, rank)
    is_top = rank == top_rank[group]
    top = np.empty(len(top_rank), dtype=np.int64)
    top[group[is_top]] = members[is_top]
    follow = members[~is_top]
    peak[follow] = top[group[~is_top]]
    sim[follow] = 1.0
    log.info("%d vertices are exact duplicates (kNN distance <= %g) in %d groups: each group is joined "
             "into one cluster", len(members), DUPLICATE_DISTANCE, len(top))
    return peak, sim


def link_to_peaks(peak: np.ndarray, peak_sim: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels: components of the edges vertex -> peak with similarity >= tau."""
    keep = (peak >= 0) & (peak_sim >= tau)
    return components(len(peak), np.flatnonzero(keep), peak[keep])


def cluster(ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels from a kNN graph and per-vertex confidences (finite, else :class:`DataError`)."""
    return link_to_peaks(*peaks_of_chunks([(0, ids, dists)], confidence), tau)
