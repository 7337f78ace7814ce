"""Spectral clustering on the sparse kNN affinity graph.

The original project's baseline is DaskSpectral (``ncluster=8573, affinity='rbf'``): a Nystroem
approximation with ``n_components=100`` eigenvectors, then k-means into ``n_clusters``. Here the
affinity is the kNN graph instead of a dense N x N kernel: weights ``max(cos, 0)`` on the kNN links,
symmetric. The embedding is the top ``n_components`` eigenvectors of the normalised affinity
``D^-1/2 W D^-1/2`` (ARPACK on the sparse matrix; only those of positive eigenvalue), each row
scaled by ``D^-1/2`` and to unit length; the clusters are k-means (faiss) with ``n_clusters``
centroids on it. Points without any link of positive affinity have no place in the embedding: each
is a cluster of its own. ARPACK keeps about 2 * n_components vectors of length N and its cost grows
as N * n_components^2 per restart, so the method refuses more than ``max_points`` points.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import eigsh

from ltc.methods import kmeans
from ltc.methods.common import both_ways, check_n_clusters, check_size, renumber, undirected_edges
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of spectral (config ``methods.spectral``)."""
    n_clusters: int | str = setting("auto", "number of clusters; 'auto': the test split's true identity count (an oracle)")
    n_components: int = setting(100, "eigenvectors of the normalised kNN affinity that embed the points")
    seed: int = setting(0, "seed of ARPACK's start vector and of k-means")
    max_points: int | None = setting(600000, "larger inputs are refused up front with one sentence (null: no limit)")

log = logging.getLogger(__name__)


def affinity(ids: np.ndarray, dists: np.ndarray) -> sparse.csr_matrix:
    """Symmetric sparse N x N affinity ``max(cos, 0)`` on the kNN links (float64, no diagonal)."""
    n = len(ids)
    i, j, d = both_ways(*undirected_edges(ids, dists, 0.0))
    return sparse.csr_matrix((np.maximum(1.0 - d, 0.0).astype(np.float64), (i, j)), shape=(n, n))


def top_eigenvectors(matrix: sparse.csr_matrix, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(eigenvalues, eigenvectors N x k, float64) of the ``k`` largest eigenvalues of a symmetric N x N
    matrix: ARPACK, or a dense ``eigh`` where ARPACK's Krylov space would be the whole space (N <=
    max(2k + 1, 20), e.g. tiny inputs or k >= N - 1, which ARPACK cannot do)."""
    n = matrix.shape[0]
    if n <= max(2 * k + 1, 20):
        values, vectors = np.linalg.eigh(matrix.toarray())
        return values[n - k:], vectors[:, n - k:]
    v0 = np.random.default_rng(seed).uniform(-1, 1, n)
    return eigsh(matrix, k=k, which="LA", tol=1e-3, v0=v0)


def embedding(ids: np.ndarray, dists: np.ndarray, n_components: int, seed: int = 0,
              weights: sparse.csr_matrix | None = None) -> np.ndarray:
    """Spectral embedding (float32, N x at most n_components, unit rows; isolated points: zero rows)
    of the kNN graph, or of the affinity ``weights`` when given.

    Only eigenvectors of positive eigenvalue are kept: one of eigenvalue <= 0 alternates in sign
    across the links (it separates linked points), which only happens among the top
    ``n_components`` when there are few points (e.g. N <= n_components, where the whole eigenbasis
    would make every two points equally far apart)."""
    weights = affinity(ids, dists) if weights is None else weights
    n = weights.shape[0]
    degree = np.asarray(weights.sum(axis=1)).ravel()
    scale = np.where(degree > 0, 1.0 / np.sqrt(np.where(degree > 0, degree, 1.0)), 0.0)
    normalised = (sparse.diags(scale) @ weights @ sparse.diags(scale)).tocsr()
    values, vectors = top_eigenvectors(normalised, int(min(n_components, n)), seed)
    positive = values > 1e-9
    if not positive.all():
        log.info("spectral: %d of %d eigenvectors have eigenvalue <= 0 and are left out", int((~positive).sum()),
                 len(values))
    vectors = vectors[:, positive] if positive.any() else vectors[:, -1:]
    vectors *= scale[:, None]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def cluster(ids: np.ndarray, dists: np.ndarray, n_clusters: int, n_components: int = Params.n_components, seed: int = Params.seed,
            max_points: int | None = None, threads: int | None = None) -> np.ndarray:
    """Labels (int64, N) of spectral clustering of the kNN graph (``ids``, ``dists``: N x K,
    dists = 1 - cosine, id -1 missing) into ``n_clusters`` clusters, from ``n_components``
    eigenvectors (at most the number of points; fewer are used, logged).

    A point without any link of positive affinity has no place in the embedding: it is a cluster of
    its own, and the other points make the remaining ``n_clusters`` minus that many clusters (at least
    one; logged). Raises :class:`DataError` for ``n_clusters`` outside 1..N or N above ``max_points``.
    """
    n = len(ids)
    check_size("spectral", n, max_points, "knn_dbscan, infomap or kmeans")
    check_n_clusters("spectral", n_clusters, n)
    weights = affinity(ids, dists)
    linked = np.asarray(weights.sum(axis=1)).ravel() > 0
    m, alone = int(linked.sum()), int(n - linked.sum())
    labels = np.empty(n, dtype=np.int64)
    labels[~linked] = -1  # noise: a cluster each
    if m:
        k = min(max(int(n_clusters) - alone, 1), m)
        if alone:
            (log.warning if alone >= n_clusters else log.info)(
                "spectral: %d points have no link of positive affinity, each is a cluster of its own; the other "
                "%d points make %d clusters", alone, m, k)
        if n_components > m:
            log.info("spectral: n_components %d lowered to %d, the linked points", n_components, m)
        emb = embedding(ids, dists, n_components, seed, weights=weights if m == n else weights[linked][:, linked])
        labels[linked] = kmeans.cluster(emb, k, seed=seed, threads=threads)
    return renumber(labels)


METHOD = Method(
    "spectral", Params, "spectral clustering of the kNN affinity", reads=frozenset({"knn"}), n_clusters=True,
    threads=8, cluster=lambda p, d: cluster(d.ids, d.dists, int(p.n_clusters), p.n_components, p.seed,
                                            max_points=p.max_points, threads=d.threads))
