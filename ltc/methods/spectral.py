"""Spectral clustering on the sparse kNN affinity graph.

The original project's baseline is DaskSpectral (``ncluster=8573, affinity='rbf'``): a Nystroem
approximation with ``n_components=100`` eigenvectors, then k-means into ``n_clusters``. Here the
affinity is the kNN graph instead of a dense N x N kernel: weights ``max(cos, 0)`` on the kNN links,
symmetric. The embedding is the top ``n_components`` eigenvectors of the normalised affinity
``D^-1/2 W D^-1/2`` (ARPACK on the sparse matrix), each row scaled by ``D^-1/2`` and to unit length;
the clusters are k-means (faiss) with ``n_clusters`` centroids on it. ARPACK keeps about
2 * n_components vectors of length N and its cost grows as N * n_components^2 per restart, so the
method refuses more than ``max_points`` points.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import eigsh

from ltc.methods import kmeans
from ltc.methods.common import both_ways, check_n_clusters, check_size, undirected_edges


def embedding(ids: np.ndarray, dists: np.ndarray, n_components: int, seed: int = 0) -> np.ndarray:
    """Spectral embedding (float32, N x n_components, unit rows; isolated points: zero rows)."""
    n = len(ids)
    i, j, d = both_ways(*undirected_edges(ids, dists, 0.0))
    affinity = sparse.csr_matrix((np.maximum(1.0 - d, 0.0).astype(np.float64), (i, j)), shape=(n, n))
    degree = np.asarray(affinity.sum(axis=1)).ravel()
    scale = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
    normalised = sparse.diags(scale) @ affinity @ sparse.diags(scale)
    v0 = np.random.default_rng(seed).uniform(-1, 1, n)
    _, vectors = eigsh(normalised, k=n_components, which="LA", tol=1e-3, v0=v0)
    vectors *= scale[:, None]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def cluster(ids: np.ndarray, dists: np.ndarray, n_clusters: int, n_components: int = 100, seed: int = 0,
            max_points: int | None = None, threads: int | None = None) -> np.ndarray:
    """Labels (int64, N) of spectral clustering of the kNN graph (``ids``, ``dists``: N x K,
    dists = 1 - cosine) into ``n_clusters`` clusters, from ``n_components`` eigenvectors."""
    n = len(ids)
    check_size("spectral", n, max_points, "knn_dbscan, infomap or kmeans")
    check_n_clusters("spectral", n_clusters, n)
    n_components = int(min(n_components, n - 1))
    if n_components < 1:
        return np.zeros(n, dtype=np.int64)
    emb = embedding(ids, dists, n_components, seed)
    return kmeans.cluster(emb, n_clusters, seed=seed, threads=threads)
