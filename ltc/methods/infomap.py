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

from dataclasses import dataclass
import gc
import logging
from collections.abc import Callable

import numpy as np

from ltc import DataError
from ltc.graph import knn_edges
from ltc.methods.common import renumber
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of infomap (config ``methods.infomap``)."""
    k: int = setting(50, "first k kNN neighbours of each point (at most knn.k)")
    min_sim: float | str = setting("auto", "links with cosine >= min_sim (>= 0: Infomap's weights are similarities); "
                                           "'auto': chosen on the labelled train split (face-cluster-by-infomap, MS1M: "
                                           "0.58)", example=0.58)
    directed: bool = setting(True, "links point from each point to its neighbours (else undirected)")
    seed: int = setting(1, "Infomap's seed (its seeds start at 1)")
    trials: int = setting(1, "Infomap runs; the best partition is kept")

log = logging.getLogger(__name__)


def modules(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, directed: bool = Params.directed,
            seed: int = Params.seed, trials: int = Params.trials) -> np.ndarray:
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


def sweeper(ids: np.ndarray, dists: np.ndarray, k: int = Params.k, **options) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
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


def cluster(ids: np.ndarray, dists: np.ndarray, *, k: int = Params.k, min_sim: float, **options) -> np.ndarray:
    """Labels (int64, N) of Infomap on the kNN graph (``ids``, ``dists``: N x K, dists = 1 - cosine, id -1
    missing) restricted to the first ``k`` neighbours with similarity >= ``min_sim`` (>= 0).
    ``options``: directed, seed (>= 1), trials."""
    return sweeper(ids, dists, k, **options)[0](min_sim)


METHOD = Method(
    "infomap", Params, "two-level Infomap on the kNN graph", reads=frozenset({"knn"}), threshold="min_sim",
    sweeper=lambda p, d: sweeper(d.ids, d.dists, p.k, directed=p.directed, seed=p.seed, trials=p.trials))
