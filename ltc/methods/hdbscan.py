"""HDBSCAN (scikit-learn's ``sklearn.cluster.HDBSCAN``) on the kNN graph's cosine distances.

The original project ran the ``hdbscan`` package on the features with ``min_cluster_size=10`` (its
default ``min_samples`` argument). On the features HDBSCAN's minimum spanning tree costs O(N^2 D)
time (5 minutes for the 13.8K-point demo, 2 cores); on the sparse kNN distance matrix it is
O(N K log N) and scores the same on the demo, because the core distances (distance to the
``min_samples``-th neighbour) are exact for ``min_samples`` < K and the spanning tree needs only short
links. HDBSCAN needs a connected graph: separate components of the kNN graph are chained by links
longer than any real one, so they never merge into one cluster. Noise points get a cluster each.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from ltc import DataError
from ltc.methods.common import check_size, distance_graph, renumber
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of hdbscan (config ``methods.hdbscan``)."""
    min_cluster_size: int = setting(10, "smallest cluster; smaller groups are noise (singletons)")
    min_samples: int | None = setting(None, "neighbours that define a core distance (null: min_cluster_size)")
    max_points: int | None = setting(None, "larger inputs are refused up front with one sentence (null: no limit)")

log = logging.getLogger(__name__)


def connected(graph: sparse.csr_matrix, link_length: float) -> sparse.csr_matrix:
    """``graph`` with its components chained (first point of each to the next's) by ``link_length`` links."""
    n_comp, comp = connected_components(graph, directed=False)
    if n_comp == 1:
        return graph
    firsts = np.unique(comp, return_index=True)[1]
    firsts.sort()
    a, b = firsts[:-1], firsts[1:]
    extra = sparse.csr_matrix((np.full(2 * len(a), link_length), (np.r_[a, b], np.r_[b, a])), shape=graph.shape)
    return (graph + extra).tocsr()


def cluster(ids: np.ndarray, dists: np.ndarray, min_cluster_size: int = Params.min_cluster_size, min_samples: int | None = None,
            max_points: int | None = None) -> np.ndarray:
    """Labels (int64, N) of HDBSCAN on the kNN graph (``ids``, ``dists``: N x K, dists = 1 - cosine, id -1
    missing: a file with K > N may be padded so).

    Fewer than ``min_cluster_size`` points: every point is noise (a cluster of its own). A ``min_samples``
    above N - 1 (no point can have that many others) is lowered to N - 1, logged. Raises
    :class:`DataError` when some point has fewer than ``min_samples`` linked neighbours although N
    allows more (the kNN's K is too small for it)."""
    from sklearn.cluster import HDBSCAN

    n = len(ids)
    check_size("hdbscan", n, max_points, "knn_dbscan or fast_hac")
    min_cluster_size = int(min_cluster_size)
    min_samples = int(min_samples or min_cluster_size)
    if n < max(min_cluster_size, 2):
        log.info("hdbscan: %d points, fewer than min_cluster_size %d: every point is noise", n, min_cluster_size)
        return np.arange(n, dtype=np.int64)
    if min_samples > n - 1:
        log.info("hdbscan: min_samples %d lowered to %d: the %d points have no more neighbours", min_samples, n - 1, n)
        min_samples = n - 1
    graph = distance_graph(ids, dists)
    fewest = int(np.diff(graph.indptr).min())  # linked neighbours of the least linked point
    if fewest < min_samples:
        raise DataError(f"hdbscan: min_samples (or min_cluster_size) {min_samples} needs more than the {fewest} "
                        f"neighbours of the kNN graph that some points have: lower it or raise knn.k.")
    graph = connected(graph, 2.0 * (graph.data.max(initial=0.0) + 1.0))
    model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, metric="precomputed", copy=True)
    return renumber(model.fit_predict(graph))


METHOD = Method(
    "hdbscan", Params, "scikit-learn's HDBSCAN on the kNN graph", reads=frozenset({"knn"}),
    cluster=lambda p, d: cluster(d.ids, d.dists, p.min_cluster_size, p.min_samples, max_points=p.max_points))
