"""Training-free baseline: link each point to its kNN neighbours with cosine similarity >= threshold;
clusters are the connected components (singletons allowed)."""
from __future__ import annotations

import numpy as np

from ltc.graph import components, knn_edges


def cluster(ids: np.ndarray, dists: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels from a kNN graph (ids, dists: N x K, dists = 1 - cosine)."""
    src, dst, _ = knn_edges(ids, dists, threshold)
    return components(len(ids), src, dst)
