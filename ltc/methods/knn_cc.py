"""Training-free baseline: link each point to its kNN neighbours with cosine similarity >= threshold;
clusters are the connected components (singletons allowed)."""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ltc.graph import components, directed_graph, graph_components, knn_edges
from ltc.io import CHUNK_ROWS, iter_knn, knn_shape


def cluster(ids: np.ndarray, dists: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels from a kNN graph (ids, dists: N x K, dists = 1 - cosine)."""
    src, dst, _ = knn_edges(ids, dists, threshold)
    return components(len(ids), src, dst)


def cluster_file(path: str | os.PathLike, threshold: float, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """:func:`cluster` of a kNN file, read in row blocks into a sparse graph of the kept links only
    (a 5.21M x 80 graph never sits in memory whole)."""
    n, k = knn_shape(path)
    return graph_components(directed_graph(iter_knn(path, chunk_rows), n, k, threshold, self_loops=False))


def sweeper(ids: np.ndarray, dists: np.ndarray) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(threshold -> cluster labels, similarity of every link) over one edge list built once, for
    threshold sweeps."""
    src, dst, sims = knn_edges(ids, dists, -np.inf)
    return (lambda t: components(len(ids), src[sims >= t], dst[sims >= t])), sims
