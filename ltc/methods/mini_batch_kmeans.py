"""Mini-batch k-means (scikit-learn's MiniBatchKMeans) on the unit-norm features.

The original project's baseline: ``MiniBatchKmeans (ncluster=5000, bs=100)`` on MS1M part1_test,
k-means++ initialisation, ``random_state=0``.
"""
from __future__ import annotations

import numpy as np

from ltc.methods.common import check_n_clusters, check_size, renumber, unit_rows


def cluster(feats: np.ndarray, n_clusters: int, batch_size: int = 100, seed: int = 0,
            max_iter: int = 100, max_points: int | None = None) -> np.ndarray:
    """Labels (int64, N) of mini-batch k-means with ``n_clusters`` centroids and mini-batches of
    ``batch_size`` points on the N x D float32 features (L2-normalised first)."""
    from sklearn.cluster import MiniBatchKMeans

    n = len(feats)
    check_size("mini_batch_kmeans", n, max_points, "kmeans (faiss)")
    check_n_clusters("mini_batch_kmeans", n_clusters, n)
    model = MiniBatchKMeans(n_clusters=int(n_clusters), batch_size=int(batch_size), random_state=int(seed),
                            max_iter=int(max_iter), n_init=1)
    return renumber(model.fit_predict(unit_rows(feats)))
