"""Mean shift with a flat kernel on the unit-norm features: the original project's baseline
(scikit-learn's MeanShift, DeepFashion ``Meanshift (bandwidth=0.5)``), vectorised.

As scikit-learn's: every point is a seed; a seed moves to the mean of the points within
``bandwidth`` (Euclidean) of it until it moves less than ``1e-3 * bandwidth`` or ``max_iter`` steps;
its *intensity* is the number of points in its last window. Modes are kept greedily by decreasing
intensity, a kept mode removing every mode within ``bandwidth`` of it; each point joins its nearest
kept mode. Here all seeds move at once, by blocked matrix products (seeds x points), and the greedy
choice is made in rounds (a mode is kept once it out-ranks every undecided mode near it, which
gives the same set as the sequential greedy pass). Memory is O(N D) plus blocks of about 2^26
entries; each step costs O(N^2 D) time: the method refuses more than ``max_points`` points.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging

import numpy as np
from scipy import sparse

from ltc.methods.common import check_size, renumber, unit_rows
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of meanshift (config ``methods.meanshift``)."""
    bandwidth: float = setting(0.5, "Euclidean kernel radius on unit features")
    max_iter: int = setting(300, "mean-shift steps per point at most")
    max_points: int | None = setting(60000, "larger inputs are refused up front with one sentence (null: no limit)")

log = logging.getLogger(__name__)


def _within(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray, radius: float) -> np.ndarray:
    """Boolean len(a) x len(b): squared Euclidean distance <= radius^2."""
    sq = (a * a).sum(1)[:, None] + b_sq[None, :] - 2.0 * (a @ b.T)
    return sq <= radius * radius


def block_rows(n: int, cells: int = 2**26) -> int:
    """Rows of a block of a (rows x n) product: about ``cells`` entries (256 MiB of float32) each."""
    return int(max(16, min(2048, cells // max(n, 1))))


def seek_modes(x: np.ndarray, bandwidth: float, max_iter: int = 300, block: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Where every point's flat-kernel mean shift converges: (modes float32 N x D, intensity int64 N)."""
    block = block or block_rows(len(x))
    x_sq = (x * x).sum(1)
    means = x.copy()
    intensity = np.zeros(len(x), dtype=np.int64)
    active = np.arange(len(x))
    for step in range(max_iter):
        if not len(active):
            break
        still = np.zeros(len(active), dtype=bool)
        for start in range(0, len(active), block):
            rows = active[start:start + block]
            window = _within(means[rows], x, x_sq, bandwidth)
            counts = window.sum(1)
            new = (window.astype(np.float32) @ x) / np.maximum(counts, 1)[:, None]
            new[counts == 0] = means[rows][counts == 0]
            moved = np.linalg.norm(new - means[rows], axis=1) > 1e-3 * bandwidth
            means[rows], intensity[rows] = new, counts
            still[start:start + block] = moved & (counts > 0)
        active = active[still]
        log.debug("mean shift step %d: %d seeds still moving", step + 1, len(active))
    return means, intensity


def pairs_within(points: np.ndarray, radius: float, block: int | None = None) -> sparse.csr_matrix:
    """Sparse boolean M x M graph of the pairs of ``points`` within ``radius`` (no diagonal)."""
    block = block or block_rows(len(points))
    sq = (points * points).sum(1)
    rows, cols = [], []
    for start in range(0, len(points), block):
        r, c = np.nonzero(_within(points[start:start + block], points, sq, radius))
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    off = r != c
    m = len(points)
    return sparse.csr_matrix((np.ones(int(off.sum()), dtype=bool), (r[off], c[off])), shape=(m, m))


def greedy_suppression(near: sparse.csr_matrix, priority: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes the sequential greedy pass keeps (highest ``priority`` first, each
    kept node removing its neighbours in ``near``), computed in rounds."""
    m = len(priority)
    rank = np.empty(m, dtype=np.int64)
    rank[np.argsort(-priority, kind="stable")] = np.arange(m)  # 0 = first in the greedy order
    src = np.repeat(np.arange(m), np.diff(near.indptr))
    dst = near.indices
    kept = np.zeros(m, dtype=bool)
    undecided = np.ones(m, dtype=bool)
    while undecided.any():
        live = undecided[src] & undecided[dst]
        best_rival = np.full(m, m, dtype=np.int64)  # smallest rank of an undecided neighbour
        np.minimum.at(best_rival, src[live], rank[dst[live]])
        new = undecided & (rank < best_rival)
        kept |= new
        undecided &= ~new
        undecided[dst[new[src]]] = False
    return kept


def nearest(x: np.ndarray, centres: np.ndarray, block: int | None = None) -> np.ndarray:
    """Index of the nearest (Euclidean) centre of every row of ``x``."""
    block = block or block_rows(len(centres))
    c_sq = (centres * centres).sum(1)
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), block):
        out[start:start + block] = np.argmin(c_sq[None, :] - 2.0 * (x[start:start + block] @ centres.T), axis=1)
    return out


def cluster(feats: np.ndarray, bandwidth: float = Params.bandwidth, max_iter: int = Params.max_iter,
            max_points: int | None = None) -> np.ndarray:
    """Labels (int64, N) of flat-kernel mean shift with Euclidean ``bandwidth`` on the N x D features
    (unit-normalised first)."""
    check_size("meanshift", len(feats), max_points, "knn_dbscan or fast_hac")
    x = unit_rows(feats)
    modes, intensity = seek_modes(x, float(bandwidth), int(max_iter))
    found = intensity > 0
    modes, intensity = modes[found], intensity[found]
    # seeds that converged to the same place (within the stopping tolerance) are one mode
    _, first = np.unique(np.round(modes / (1e-3 * bandwidth)).astype(np.int64), axis=0, return_index=True)
    modes, intensity = modes[np.sort(first)], intensity[np.sort(first)]
    kept = greedy_suppression(pairs_within(modes, float(bandwidth)), intensity)
    log.info("mean shift: %d modes kept of %d", int(kept.sum()), len(modes))
    return renumber(nearest(x, modes[kept]))


METHOD = Method(
    "meanshift", Params, "flat-kernel mean shift on the unit features", reads=frozenset({"features"}), threads=8,
    cluster=lambda p, d: cluster(d.feats, p.bandwidth, p.max_iter, max_points=p.max_points))
