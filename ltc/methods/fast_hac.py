"""Agglomerative (hierarchical) clustering cut at a distance: the original project's FastHAC
baseline (``FastHAC (dist=0.72, single)``: fastcluster on the unit-norm features, Euclidean distance).

``distance`` is the original's unit: the Euclidean distance between L2-normalised features, which is
``sqrt(2 - 2 cos)`` (0.72 <-> cosine 0.7408).

* ``single`` linkage, cut at ``distance``, puts two points in one cluster when a chain of points
  joins them with every hop at most ``distance`` apart: the connected components of the graph of
  pairs within ``distance``. Here that graph is restricted to the kNN graph, which holds every such
  pair unless a point has more than K neighbours that close (then it is joined to them anyway), so
  it runs in O(N K) time and memory instead of fastcluster's O(N^2) time.
* ``average`` linkage (the mean Euclidean distance between the members of two clusters) has no
  such shortcut: it is scipy's exact algorithm on all N (N - 1) / 2 distances, so it is limited to
  ``max_points`` points.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import numpy as np

from ltc.graph import components, spanning_forest
from ltc.methods.common import check_size, euclidean_of_cosine_distance, renumber, undirected_edges, unit_rows
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of fast_hac (config ``methods.fast_hac``)."""
    distance: float | str = setting("auto", "Euclidean distance between unit features at which the tree is cut "
                                            "(MS1M: 0.72 = cosine 0.7408); 'auto': chosen on the labelled train split",
                                    example=0.72)
    linkage: str = setting("single", "single (on the kNN graph) or average (exact, on all pairs of features)")
    max_points: int | None = setting(20000, "average linkage only (it holds all N^2/2 distances): larger inputs "
                                            "are refused up front (null: no limit)")

LINKAGES = ("single", "average")


def single_linkage_sweeper(ids: np.ndarray, dists: np.ndarray) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(distance -> labels, the Euclidean length of every kNN link) for single linkage on the kNN graph:
    each distance cuts the links' minimum spanning forest (:func:`ltc.graph.spanning_forest`), which
    is single linkage's own tree."""
    i, j, d = undirected_edges(ids, dists)
    length = euclidean_of_cosine_distance(d)
    n = len(ids)
    fi, fj, flength = spanning_forest(n, i, j, length)

    def labels(t: float) -> np.ndarray:
        keep = flength <= t
        return components(n, fi[keep], fj[keep])

    return labels, length


def average_linkage_sweeper(feats: np.ndarray, max_points: int | None = None
                            ) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(distance -> labels, the height of every merge) for exact average linkage of the N x D
    features (unit-normalised, Euclidean); refuses more than ``max_points`` points."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    check_size("fast_hac", len(feats), max_points, "fast_hac with linkage: single (on the kNN graph)")
    if len(feats) < 2:
        return (lambda t: np.zeros(len(feats), dtype=np.int64)), np.zeros(0)
    tree = linkage(pdist(unit_rows(feats).astype(np.float64)), method="average")
    return (lambda t: renumber(fcluster(tree, t, criterion="distance"))), tree[:, 2]


def cluster(*, distance: float, linkage: str = "single", ids: np.ndarray | None = None,
            dists: np.ndarray | None = None, feats: np.ndarray | None = None,
            max_points: int | None = None) -> np.ndarray:
    """Labels (int64, N) of ``linkage`` clustering cut at Euclidean ``distance``: single linkage from
    the kNN graph (``ids``, ``dists``), average linkage from the features ``feats``."""
    return sweeper(linkage=linkage, ids=ids, dists=dists, feats=feats, max_points=max_points)[0](distance)


def sweeper(*, linkage: str = "single", ids=None, dists=None, feats=None, max_points=None):
    """(distance -> labels, candidate distances): the tree is built once and cut at each distance."""
    if linkage == "single":
        return single_linkage_sweeper(ids, dists)
    if linkage == "average":
        return average_linkage_sweeper(feats, max_points)
    raise ValueError(f"unknown linkage {linkage!r}: choose one of {', '.join(LINKAGES)}")


METHOD = Method(
    "fast_hac", Params, "hierarchical agglomerative clustering cut at a distance",
    reads=lambda p, sweep: frozenset({"features"} if p.linkage == "average" else {"knn"}), threshold="distance",
    sweeper=lambda p, d: sweeper(linkage=p.linkage, ids=d.ids, dists=d.dists, feats=d.feats, max_points=p.max_points))
