"""Infomap (Rosvall and Bergstrom, the map equation) on the kNN graph, as in face-cluster-by-infomap
(``Infomap (k=50, min_sim=0.58)`` on MS1M part1_test: two-level, directed links weighted by
cosine similarity).

The links are each point's first ``k`` kNN neighbours with cosine similarity >= ``min_sim`` (no
self-links), directed from the point to its neighbour, weight = similarity. Infomap needs
non-negative weights (a link's weight is the flow a random walker takes along it), so ``min_sim`` is
at least 0: links of negative cosine are never used (the config schema says min_sim >= 0, a sweep
offers only non-negative candidates). The ``infomap`` package's
C++ core does the graph work (links handed over as one array); the clusters are its top-level
modules. Points without any link are clusters of their own.
"""
from __future__ import annotations

import gc
import logging
from collections.abc import Callable

import numpy as np

from ltc import DataError
from ltc.graph import knn_edges
from ltc.methods.common import renumber

log = logging.getLogger(__name__)


def modules(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, directed: bool = True,
            seed: int = 1, trials: int = 1) -> np.ndarray:
    """Top-level Infomap module (int64, n) of every point over the directed links src -> dst (weights
    >= 0; those of weight 0 are left out); points without links get their own."""
    import infomap

    labels = -np.ones(n, dtype=np.int64)
    flow = weight > 0  # a link of weight 0 carries no flow: Infomap drops it (and refuses a network of only those)
    src, dst, weight = src[flow], dst[flow], weight[flow]
    if len(src):
        im = infomap.Infomap(two_level=True, directed=directed, silent=True, seed=int(seed), num_trials=int(trials))
        im.add_links(np.stack([src, dst, weight], axis=1).astype(np.float64))
        result = im.run()
        found = result.modules()
        del result, im
        if len(src) > 100_000:  # the result and the Infomap object refer to each other: free a large C++
            gc.collect()         # network now (a small one waits for Python's own collection; a sweep is faster)
        nodes = np.fromiter(found.keys(), dtype=np.int64, count=len(found))
        labels[nodes] = np.fromiter(found.values(), dtype=np.int64, count=len(found))
    return renumber(labels)


def sweeper(ids: np.ndarray, dists: np.ndarray, k: int = 50, **options) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(min_sim -> labels, similarity of every non-negative link among the first ``k`` neighbours).

    Infomap's link weights (the similarities) must be non-negative, so ``min_sim`` must be >= 0 (the
    candidates offered for a sweep are); a negative one raises :class:`DataError`. A ``k`` above the
    kNN's K columns uses all K, logged.
    """
    width = ids.shape[1]
    if k > width:
        log.info("infomap: k = %d but the kNN graph has %d columns: using %d", k, width, width)
    k = min(int(k), width)
    src, dst, sim = knn_edges(ids[:, :k], dists[:, :k], 0.0)
    sim = sim.astype(np.float64)
    n = len(ids)

    def cluster_at(t: float) -> np.ndarray:
        if not t >= 0:
            raise DataError(f"infomap: min_sim {t} would hand Infomap links of negative weight (cosine < 0), which "
                            f"the map equation cannot use: set methods.infomap.min_sim to 0 or more.")
        keep = sim >= t
        return modules(n, src[keep], dst[keep], sim[keep], **options)

    return cluster_at, sim


def cluster(ids: np.ndarray, dists: np.ndarray, k: int = 50, min_sim: float = 0.58, **options) -> np.ndarray:
    """Labels (int64, N) of Infomap on the kNN graph (``ids``, ``dists``: N x K, dists = 1 - cosine, id -1
    missing) restricted to the first ``k`` neighbours with similarity >= ``min_sim`` (>= 0).
    ``options``: directed, seed (>= 1), trials."""
    return sweeper(ids, dists, k, **options)[0](min_sim)
