"""Infomap (Rosvall and Bergstrom, the map equation) on the kNN graph, as in face-cluster-by-infomap
(``Infomap (k=50, min_sim=0.58)`` on MS1M part1_test: two-level, directed links weighted by
cosine similarity).

The links are each point's first ``k`` kNN neighbours with cosine similarity >= ``min_sim`` (no
self-links), directed from the point to its neighbour, weight = similarity. The ``infomap`` package's
C++ core does the graph work (links handed over as one array); the clusters are its top-level
modules. Points without any link are clusters of their own.
"""
from __future__ import annotations

import gc
from collections.abc import Callable

import numpy as np

from ltc.graph import knn_edges
from ltc.methods.common import renumber


def modules(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, directed: bool = True,
            seed: int = 1, trials: int = 1) -> np.ndarray:
    """Top-level Infomap module (int64, n) of every point; points without links get their own."""
    import infomap

    labels = -np.ones(n, dtype=np.int64)
    if len(src):
        im = infomap.Infomap(two_level=True, directed=directed, silent=True, seed=int(seed), num_trials=int(trials))
        im.add_links(np.stack([src, dst, weight], axis=1).astype(np.float64))
        result = im.run()
        found = result.modules()
        del result, im
        gc.collect()  # the result and the Infomap object refer to each other: free the C++ network now
        nodes = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        labels[nodes] = np.fromiter(found.values(), dtype=np.int64, count=len(found))
    return renumber(labels)


def sweeper(ids: np.ndarray, dists: np.ndarray, k: int = 50, **options) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(min_sim -> labels, similarity of every link among the first ``k`` neighbours)."""
    src, dst, sim = knn_edges(ids[:, :k], dists[:, :k], -np.inf)
    sim = sim.astype(np.float64)
    n = len(ids)

    def cluster_at(t: float) -> np.ndarray:
        keep = sim >= t
        return modules(n, src[keep], dst[keep], sim[keep], **options)

    return cluster_at, sim


def cluster(ids: np.ndarray, dists: np.ndarray, k: int = 50, min_sim: float = 0.58, **options) -> np.ndarray:
    """Labels (int64, N) of Infomap on the kNN graph (``ids``, ``dists``: N x K, dists = 1 - cosine)
    restricted to the first ``k`` neighbours with similarity >= ``min_sim``. ``options``: directed,
    seed (>= 1), trials."""
    return sweeper(ids, dists, k, **options)[0](min_sim)
