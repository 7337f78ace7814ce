"""Training-free baseline: link each point to its kNN neighbours with cosine similarity >= threshold;
clusters are the connected components (singletons allowed)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ltc.graph import components, knn_edges


def cluster(ids: np.ndarray, dists: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels from a kNN graph (ids, dists: N x K, dists = 1 - cosine)."""
    src, dst, _ = knn_edges(ids, dists, threshold)
    return components(len(ids), src, dst)


def sweeper(ids: np.ndarray, dists: np.ndarray) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(threshold -> cluster labels, similarity of every link) over one edge list built once, for
    threshold sweeps."""
    src, dst, sims = knn_edges(ids, dists, -np.inf)
    return (lambda t: components(len(ids), src[sims >= t], dst[sims >= t])), sims
