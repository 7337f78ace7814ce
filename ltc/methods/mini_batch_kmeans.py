"""Mini-batch k-means (scikit-learn's MiniBatchKMeans) on the unit-norm features.

The original project's baseline: ``MiniBatchKmeans (ncluster=5000, bs=100)`` on MS1M part1_test,
k-means++ initialisation, ``random_state=0``.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ltc.methods.common import check_n_clusters, check_size, renumber, unit_rows
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of mini_batch_kmeans (config ``methods.mini_batch_kmeans``)."""
    n_clusters: int | str = setting("auto", "number of clusters; 'auto': the test split's true identity count (an oracle)")
    batch_size: int = setting(100, "points per mini-batch")
    seed: int = setting(0, "random_state of scikit-learn's MiniBatchKMeans")
    max_iter: int = setting(100, "passes over the data at most")
    max_points: int | None = setting(600000, "larger inputs are refused up front with one sentence (null: no limit)")


def cluster(feats: np.ndarray, n_clusters: int, batch_size: int = Params.batch_size, seed: int = Params.seed,
            max_iter: int = Params.max_iter, max_points: int | None = None) -> np.ndarray:
    """Labels (int64, N) of mini-batch k-means with ``n_clusters`` centroids and mini-batches of
    ``batch_size`` points on the N x D float32 features (L2-normalised first)."""
    from sklearn.cluster import MiniBatchKMeans

    n = len(feats)
    check_size("mini_batch_kmeans", n, max_points, "kmeans (faiss)")
    check_n_clusters("mini_batch_kmeans", n_clusters, n)
    model = MiniBatchKMeans(n_clusters=int(n_clusters), batch_size=int(batch_size), random_state=int(seed),
                            max_iter=int(max_iter), n_init=1)
    return renumber(model.fit_predict(unit_rows(feats)))


METHOD = Method(
    "mini_batch_kmeans", Params, "scikit-learn's MiniBatchKMeans on the unit features", reads=frozenset({"features"}),
    n_clusters=True, threads=8,
    cluster=lambda p, d: cluster(d.feats, int(p.n_clusters), batch_size=p.batch_size, seed=p.seed,
                                 max_iter=p.max_iter, max_points=p.max_points))
