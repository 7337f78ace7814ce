"""Vertex confidence (GCN-V, Yang et al. CVPR 2020) and clustering by linking to higher confidence.

* supervised confidence of a vertex (the GCN-V training target, "s_nbr"): over its kNN (itself
  included), the sum of similarities to same-label neighbours minus the sum to other-label ones,
  divided by the largest absolute value over all vertices;
* peak linking: each vertex links to its most similar kNN neighbour with strictly higher
  confidence, if their similarity is >= tau; clusters are the connected components.

Peaks are found row by row, so :func:`peaks_of_chunks` takes the kNN in chunks of rows (e.g. from
:func:`ltc.io.iter_knn`) and never needs it whole.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ltc import DataError
from ltc.graph import components


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
    """For each vertex, its nearest kNN neighbour with strictly higher confidence.

    Rows of ``ids``/``dists`` must be sorted by distance; they are the kNN of vertices ``row_offset``,
    ``row_offset + 1``, ... (all vertices by default); ``confidence`` is that of all vertices.
    Returns (peak id or -1, similarity to it or -inf).
    """
    n = len(ids)
    rows = np.arange(n)
    safe = np.where(ids >= 0, ids, 0)
    own = confidence[row_offset:row_offset + n, None]
    higher = (ids >= 0) & (ids != (rows + row_offset)[:, None]) & (confidence[safe] > own)
    first = higher.argmax(axis=1)
    found = higher[rows, first]
    peak = np.where(found, ids[rows, first], -1)
    sim = np.where(found, 1.0 - dists[rows, first], -np.inf)
    return peak, sim


def peaks_of_chunks(chunks: Iterable[tuple[int, np.ndarray, np.ndarray]],
                    confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`peaks` of all vertices from their kNN in consecutive chunks of rows (first row, ids, dists).

    Returns (peak id int64 or -1, similarity float32 or -inf); memory: those, ``confidence`` and one chunk.
    """
    n = len(confidence)
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
    """Cluster labels from a kNN graph and per-vertex confidences."""
    return link_to_peaks(*peaks(ids, dists, confidence), tau)
