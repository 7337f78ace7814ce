"""Chinese Whispers (Biemann, 2006) on the kNN graph: the original project's ``Chinese Whispers
(k=80, th=0.6, iters=20)`` baseline.

The graph keeps the kNN links with cosine similarity >= ``th_sim`` (weight = similarity, symmetric,
no self-links). Every point starts in a class of its own; in each round a point takes the class with
the largest total link weight among its neighbours. The original updates the points one at a time
in a random order (a Python loop over networkx nodes); here each round updates a seeded random half
of the points at once from the classes of the previous round, vectorised over the edges (sparse
sum of weights per point and class, then a per-row argmax; ties go to the smaller class id). Updating
only half of the points per round breaks the oscillation of fully synchronous updates (two linked
points swapping classes forever). Points without links stay alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
from scipy import sparse

from ltc.methods.common import both_ways, renumber, undirected_edges
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of chinese_whispers (config ``methods.chinese_whispers``)."""
    th_sim: float | str = setting("auto", "kNN links with cosine >= th_sim are kept; 'auto': chosen on the labelled "
                                          "train split", example=0.6)
    iters: int = setting(20, "label-propagation rounds")
    seed: int = setting(0, "seed of the order in which points take their neighbours' class")


def best_class(n: int, src: np.ndarray, cls: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points, their class of largest summed ``weight``) over the edges src -> class ``cls``."""
    votes = sparse.csr_matrix((weight, (src, cls)), shape=(n, n))  # sums duplicate (point, class) pairs
    votes.sum_duplicates()
    has = np.diff(votes.indptr) > 0
    points = np.nonzero(has)[0]
    if not len(points):
        return points, points
    row = np.repeat(np.arange(n), np.diff(votes.indptr))
    top = np.maximum.reduceat(votes.data, votes.indptr[points])
    is_top = votes.data >= top[np.searchsorted(points, row)]
    # first (smallest class: indices are sorted) of each row's maxima
    first = np.flatnonzero(is_top)
    first = first[np.r_[True, row[first][1:] != row[first][:-1]]]
    return row[first], votes.indices[first]


def whisper(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, iters: int, seed: int) -> np.ndarray:
    """Chinese Whispers classes (int64, n) on the directed edge list (both directions present)."""
    labels = np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    for _ in range(int(iters)):
        moving = rng.random(n) < 0.5
        e = moving[src]
        points, classes = best_class(n, src[e], labels[dst[e]], weight[e])
        labels[points] = classes
    return renumber(labels)


def sweeper(ids: np.ndarray, dists: np.ndarray, iters: int = Params.iters, seed: int = Params.seed
            ) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(th_sim -> labels, similarity of every link) over one edge list."""
    src, dst, d = both_ways(*undirected_edges(ids, dists))
    sim = 1.0 - d.astype(np.float64)
    n = len(ids)

    def cluster_at(t: float) -> np.ndarray:
        keep = sim >= t
        return whisper(n, src[keep], dst[keep], sim[keep], iters, seed)

    return cluster_at, sim[: len(sim) // 2]


def cluster(ids: np.ndarray, dists: np.ndarray, th_sim: float, iters: int = Params.iters, seed: int = Params.seed) -> np.ndarray:
    """Labels (int64, N) of Chinese Whispers on the kNN graph (``ids``, ``dists``: N x K,
    dists = 1 - cosine) with links of similarity >= ``th_sim``."""
    return sweeper(ids, dists, iters, seed)[0](th_sim)


METHOD = Method(
    "chinese_whispers", Params, "Chinese Whispers label propagation on the kNN graph", reads=frozenset({"knn"}),
    threshold="th_sim", sweeper=lambda p, d: sweeper(d.ids, d.dists, p.iters, p.seed))
