"""Helpers shared by the baseline clustering methods: size limits, label numbering, the symmetric
kNN graph as an edge list or a sparse matrix, and the unit-norm features.

Conventions of every ``ltc.methods`` module: a kNN graph is ``(ids, dists)``, both N x K, ``ids``
int64 neighbour indices (-1: missing), ``dists`` float32 cosine distances ``1 - similarity``, each row
sorted by distance (:func:`ltc.io.load_knn`); features are N x D float32; labels are int64, one per
point, numbered 0, 1, ... in order of each cluster's first point; points a method calls noise get
a cluster of their own (as the original project writes them).
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

from ltc import DataError
from ltc.graph import renumber  # noqa: F401  (the methods' label numbering)
from ltc.rows import unit_rows  # noqa: F401  (the methods' unit features)


def check_size(method: str, n: int, max_points: int | None, instead: str) -> None:
    """Refuse, with one sentence, to run ``method`` on more than ``max_points`` points (None: no limit).

    Called before anything of size N is allocated, so a too-large input fails at once instead of
    exhausting memory or running for hours.
    """
    if max_points is not None and n > max_points:
        raise DataError(
            f"{method} cannot cluster {n} points within this machine's memory and time (its limit, "
            f"methods.{method}.max_points, is {max_points}): use {instead} instead, or raise "
            f"methods.{method}.max_points if you have the memory and hours it needs.")


def check_n_clusters(method: str, n_clusters: int, n: int) -> None:
    """Refuse, with one sentence, a number of clusters outside 1..N."""
    if not 1 <= n_clusters <= n:
        raise DataError(f"{method}: n_clusters is {n_clusters} but there are {n} points: "
                        f"set methods.{method}.n_clusters between 1 and {n}.")


def euclidean_of_cosine_distance(dists: np.ndarray) -> np.ndarray:
    """Euclidean distance between unit vectors whose cosine distance (1 - cos) is ``dists``."""
    return np.sqrt(np.maximum(2.0 * np.asarray(dists, dtype=np.float64), 0.0))


def undirected_edges(ids: np.ndarray, dists: np.ndarray,
                     min_similarity: float = -np.inf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unordered pair {i, j} that is a kNN link in either direction with similarity >=
    ``min_similarity``, once: (i, j, distance) with i < j, int64/int64/float32, sorted by (i, j).

    Self-links and missing neighbours (id -1) are dropped.
    """
    n = len(ids)
    rows = np.broadcast_to(np.arange(n)[:, None], ids.shape)
    keep = (ids >= 0) & (ids != rows) & (1.0 - dists >= min_similarity)
    a, b, d = rows[keep], ids[keep], dists[keep].astype(np.float32)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key, first = np.unique(lo * n + hi, return_index=True)
    return key // n, key % n, d[first]


def both_ways(i: np.ndarray, j: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The directed edge list (src, dst, d) holding each undirected edge in both directions."""
    return np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([d, d])


def distance_graph(ids: np.ndarray, dists: np.ndarray, min_similarity: float = -np.inf,
                   floor: float = 1e-9) -> sparse.csr_matrix:
    """Symmetric sparse N x N matrix of the kNN cosine distances (no diagonal); a distance of 0
    (duplicate points) is stored as ``floor`` so that it is not mistaken for a missing edge."""
    i, j, d = both_ways(*undirected_edges(ids, dists, min_similarity))
    n = len(ids)
    return sparse.csr_matrix((np.maximum(d, floor).astype(np.float64), (i, j)), shape=(n, n))
