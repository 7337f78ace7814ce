"""Training-free baseline: link each point to its kNN neighbours with cosine similarity >= threshold;
clusters are the connected components (singletons allowed)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ltc.graph import components, directed_graph, graph_components, knn_edges, spanning_forest
from ltc.io import CHUNK_ROWS, iter_knn, knn_shape
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of knn_cc (config ``methods.knn_cc``)."""
    threshold: float | str = setting("auto", "links with cosine similarity >= threshold are kept; 'auto': the "
                                             "best pairwise F on the labelled train split", example=0.7)


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
    """(threshold -> cluster labels, similarity of every link), for threshold sweeps: the links'
    maximum spanning forest is built once and each threshold cuts it (the same components as all
    links >= t, :func:`ltc.graph.spanning_forest`, from at most N - 1 edges)."""
    src, dst, sims = knn_edges(ids, dists, -np.inf)
    fsrc, fdst, fsims = spanning_forest(len(ids), src, dst, sims, largest=True)
    return (lambda t: components(len(ids), fsrc[fsims >= t], fdst[fsims >= t])), sims


METHOD = Method(
    "knn_cc", Params, "kNN links above a cosine threshold, clusters = connected components",
    reads=frozenset({"knn"}), threshold="threshold", rules="own",
    sweeper=lambda p, data: sweeper(data.ids, data.dists))
