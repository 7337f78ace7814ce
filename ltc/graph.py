"""Graph helpers shared by clustering methods: edges from a kNN graph, connected components."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def knn_edges(ids: np.ndarray, dists: np.ndarray,
              min_similarity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges (src, dst, similarity) from each point to its neighbours with cosine similarity
    >= ``min_similarity``. Self-loops and missing neighbours (id -1) are dropped.
    """
    n = len(ids)
    src = np.broadcast_to(np.arange(n)[:, None], ids.shape)
    sims = 1.0 - dists
    keep = (sims >= min_similarity) & (ids >= 0) & (ids != src)
    return src[keep], ids[keep], sims[keep]


def components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label of each of ``n`` points = its connected component in the undirected graph of the edges.

    Components are numbered 0, 1, ... in order of their smallest point, so the labels are stable.
    """
    graph = sparse.coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="weak")
    first_seen = np.unique(labels, return_index=True)[1]
    order = np.empty(len(first_seen), dtype=np.int64)
    order[np.argsort(first_seen)] = np.arange(len(first_seen))
    return order[labels]


def symmetric_graph(ids: np.ndarray, dists: np.ndarray, min_similarity: float) -> sparse.csr_matrix:
    """Sparse N x N graph of the kNN edges with similarity >= ``min_similarity`` (weight = similarity),
    made symmetric by the larger of the two directions, with self-loops of weight 1."""
    n = len(ids)
    src, dst, sims = knn_edges(ids, dists, min_similarity)
    graph = sparse.csr_matrix((sims.astype(np.float32), (src, dst)), shape=(n, n))
    return (graph.maximum(graph.T) + sparse.identity(n, dtype=np.float32, format="csr")).tocsr()
