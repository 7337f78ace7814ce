"""Training-free baseline: link each point to its kNN neighbours with cosine similarity >= threshold;
clusters are the connected components (singletons allowed)."""
from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ltc.graph import components, knn_edges
from ltc.io import CHUNK_ROWS, iter_knn, knn_shape


def cluster(ids: np.ndarray, dists: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster labels from a kNN graph (ids, dists: N x K, dists = 1 - cosine)."""
    src, dst, _ = knn_edges(ids, dists, threshold)
    return components(len(ids), src, dst)


def cluster_file(path: str | os.PathLike, threshold: float, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """:func:`cluster` of a kNN file, read in row blocks: only the kept links are held, as int32
    (a 5.21M x 80 graph never sits in memory whole)."""
    n, _ = knn_shape(path)
    index = np.int32 if n < 2 ** 31 else np.int64
    src_parts, dst_parts = [], []
    for start, ids, dists in iter_knn(path, chunk_rows):
        src, dst, _ = knn_edges(ids, dists, threshold, first_row=start)
        src_parts.append(src.astype(index))
        dst_parts.append(dst.astype(index))
    src, dst = np.concatenate(src_parts), np.concatenate(dst_parts)
    del src_parts, dst_parts
    return components(n, src, dst)


def sweeper(ids: np.ndarray, dists: np.ndarray) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(threshold -> cluster labels, similarity of every link) over one edge list built once, for
    threshold sweeps."""
    src, dst, sims = knn_edges(ids, dists, -np.inf)
    return (lambda t: components(len(ids), src[sims >= t], dst[sims >= t])), sims
