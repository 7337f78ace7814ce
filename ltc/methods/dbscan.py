"""DBSCAN on the features themselves (scikit-learn, exact eps-neighbourhoods), as the original
project's ``dbscan`` baseline: Euclidean distance between the L2-normalised features, its defaults
``eps=0.7, min_samples=10`` (tools/baseline_cluster.py; 0.7 is cosine 0.755, about the 0.25
cosine distance of its kNN-DBSCAN).

Brute-force neighbourhoods cost O(N^2 D) time and hold every eps-neighbour pair in memory, so the
method refuses more than ``max_points`` points (``knn_dbscan`` is the scalable variant). A choice of
``eps`` on the train split (``auto``) uses DBSCAN on the train split's kNN graph, whose
eps-neighbourhoods are the exact ones wherever they hold fewer than K points.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging
from collections.abc import Callable

import numpy as np

from ltc.methods import knn_dbscan
from ltc.methods.common import check_size, euclidean_of_cosine_distance, renumber, undirected_edges, unit_rows
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of dbscan (config ``methods.dbscan``)."""
    eps: float | str = setting("auto", "Euclidean radius on unit features; 'auto': chosen with the labelled train "
                                       "split's kNN graph", example=0.7)
    min_samples: int = setting(10, "points within eps (itself included) that make a core point")
    max_points: int | None = setting(200000, "larger inputs are refused up front with one sentence (null: no limit)")

log = logging.getLogger(__name__)

MIN_EPS = 1e-6  # the smallest eps given to scikit-learn (it refuses 0)


def cluster(feats: np.ndarray, eps: float, min_samples: int = Params.min_samples, max_points: int | None = None,
            threads: int | None = None) -> np.ndarray:
    """Labels (int64, N) of DBSCAN with Euclidean radius ``eps`` on the N x D features (unit-normalised
    first); noise points get a cluster each. An ``eps`` below :data:`MIN_EPS` (0: a sweep's choice
    at the length of a link between duplicates) is taken as ``MIN_EPS``."""
    from sklearn.cluster import DBSCAN

    check_size("dbscan", len(feats), max_points, "knn_dbscan (DBSCAN on the kNN graph)")
    if eps < MIN_EPS:  # an eps chosen on train at the shortest link, 0 between duplicates
        log.info("dbscan: eps %g taken as %g (scikit-learn needs eps > 0)", eps, MIN_EPS)
        eps = MIN_EPS
    model = DBSCAN(eps=float(eps), min_samples=int(min_samples), algorithm="brute", n_jobs=threads)
    return renumber(model.fit_predict(unit_rows(feats)))


def sweeper(ids: np.ndarray, dists: np.ndarray, min_samples: int = Params.min_samples
            ) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(Euclidean eps -> labels, Euclidean length of every kNN link): DBSCAN on the kNN graph, the
    approximation used to choose ``eps`` on a labelled split."""
    i, j, d = undirected_edges(ids, dists)
    length = euclidean_of_cosine_distance(d)
    n = len(ids)
    return (lambda eps: knn_dbscan.graph_dbscan(n, i, j, length, eps, int(min_samples))), length


METHOD = Method(
    "dbscan", Params, "scikit-learn's DBSCAN on the unit features",
    reads=lambda p, sweep: frozenset({"knn"} if sweep else {"features"}), threshold="eps", threads=8,
    cluster=lambda p, d: cluster(d.feats, float(p.eps), p.min_samples, max_points=p.max_points, threads=d.threads),
    sweeper=lambda p, d: sweeper(d.ids, d.dists, p.min_samples))
