"""DBSCAN on the kNN graph: the original project's kNN-DBSCAN baseline (``KNN DBSCAN (k=80,
th=0.7, eps=0.25, min=1)``: scikit-learn's DBSCAN on the sparse kNN distance matrix).

The graph keeps the kNN links with cosine similarity >= ``th_sim`` and is made symmetric (a point's
eps-neighbourhood is its linked points within cosine distance ``eps``, in either direction). Then
DBSCAN: a *core* point has at least ``min_samples`` points (itself included) in its neighbourhood;
core points within ``eps`` of each other share a cluster (connected components of core-core
links); a non-core point within ``eps`` of a core point joins the cluster of its nearest such core
point (scikit-learn joins whichever reaches it first); any other point is noise and gets a cluster
of its own. With ``min_samples`` = 1 every point is core and the clusters are the components of the
links with distance <= eps. Everything is vectorised over the edges.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from ltc.graph import components
from ltc.methods.common import both_ways, renumber, undirected_edges
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of knn_dbscan (config ``methods.knn_dbscan``)."""
    eps: float | str = setting("auto", "cosine distance radius; 'auto': chosen on the labelled train split", example=0.25)
    min_samples: int = setting(1, "neighbours within eps (itself included) that make a core point")
    th_sim: float = setting(0.0, "kNN links with cosine below this are dropped first (MS1M: 0.7; YTB, DeepFashion: 0)")


def graph_dbscan(n: int, i: np.ndarray, j: np.ndarray, d: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN labels (int64, n) on the undirected graph of edges (i, j, distance d), each pair once."""
    near = d <= eps
    i, j, d = i[near], j[near], d[near]
    degree = 1 + np.bincount(i, minlength=n) + np.bincount(j, minlength=n)  # the point itself counts
    core = degree >= min_samples
    both_core = core[i] & core[j]
    labels = components(n, i[both_core], j[both_core])
    # border points: non-core with a core neighbour within eps -> the nearest core neighbour's cluster
    src, dst, dist = both_ways(i, j, d)
    border_link = ~core[src] & core[dst]
    src, dst, dist = src[border_link], dst[border_link], dist[border_link]
    order = np.lexsort((dst, dist, src))  # per border point: nearest core first (ties: smallest id)
    src, dst = src[order], dst[order]
    first = np.ones(len(src), dtype=bool)
    first[1:] = src[1:] != src[:-1]
    labels[src[first]] = labels[dst[first]]
    # noise: neither core nor border -> its own cluster (already: components leave it alone)
    return renumber(labels)


def sweeper(ids: np.ndarray, dists: np.ndarray, min_samples: int = Params.min_samples,
            th_sim: float = Params.th_sim) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(eps -> labels, the cosine distance of every link kept by ``th_sim``) over one edge list."""
    i, j, d = undirected_edges(ids, dists, th_sim)
    n = len(ids)
    return (lambda eps: graph_dbscan(n, i, j, d, eps, int(min_samples))), d


def cluster(ids: np.ndarray, dists: np.ndarray, eps: float, min_samples: int = Params.min_samples,
            th_sim: float = Params.th_sim) -> np.ndarray:
    """Labels (int64, N) of DBSCAN on the kNN graph (``ids``, ``dists``: N x K, dists = 1 - cosine)
    with cosine-distance radius ``eps``, after dropping links with similarity < ``th_sim``."""
    return sweeper(ids, dists, min_samples, th_sim)[0](eps)


METHOD = Method(
    "knn_dbscan", Params, "DBSCAN on the kNN graph", reads=frozenset({"knn"}), threshold="eps",
    sweeper=lambda p, d: sweeper(d.ids, d.dists, p.min_samples, p.th_sim))
