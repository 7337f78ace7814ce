"""k-means (Lloyd's algorithm, faiss) on the unit-norm features, with a given number of clusters.

The original project ran scikit-learn's KMeans on the normalised features with the true number of
identities (YouTube-Faces: ``Kmeans (ncluster=1436)``). faiss's k-means is the scalable equivalent:
it trains on at most ``max_points_per_centroid`` points per centroid (a seeded sample) and then
assigns every point to its nearest centroid, in batches, with the rule's threads.
"""
from __future__ import annotations

import faiss
import numpy as np

from ltc.methods.common import check_n_clusters, renumber, unit_rows


def cluster(feats: np.ndarray, n_clusters: int, niter: int = 20, seed: int = 0,
            max_points_per_centroid: int = 256, threads: int | None = None,
            batch_size: int = 65536) -> np.ndarray:
    """Labels (int64, N) of k-means with ``n_clusters`` centroids on the N x D float32 features
    (L2-normalised first; Euclidean distance)."""
    n, dim = feats.shape
    check_n_clusters("kmeans", n_clusters, n)
    if threads:
        faiss.omp_set_num_threads(int(threads))
    x = unit_rows(feats)
    km = faiss.Kmeans(dim, int(n_clusters), niter=int(niter), seed=int(seed), verbose=False,
                      max_points_per_centroid=int(max_points_per_centroid), min_points_per_centroid=1)
    km.train(x)
    labels = np.empty(n, dtype=np.int64)
    for start in range(0, n, batch_size):
        labels[start:start + batch_size] = km.index.search(x[start:start + batch_size], 1)[1][:, 0]
    return renumber(labels)
