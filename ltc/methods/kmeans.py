"""k-means (Lloyd's algorithm, faiss) on the unit-norm features, with a given number of clusters.

The original project ran scikit-learn's KMeans on the normalised features with the true number of
identities (YouTube-Faces: ``Kmeans (ncluster=1436)``). faiss's k-means is the scalable equivalent:
it trains on at most ``max_points_per_centroid`` points per centroid (a seeded sample) and then
assigns every point to its nearest centroid, in batches, with the rule's threads.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np

from ltc.methods.common import check_n_clusters, renumber, unit_rows
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of kmeans (config ``methods.kmeans``)."""
    n_clusters: int | str = setting("auto", "number of clusters; 'auto': the test split's true identity count (an oracle)")
    niter: int = setting(20, "Lloyd iterations")
    seed: int = setting(0, "seed of the initial centroids")


def cluster(feats: np.ndarray, n_clusters: int, niter: int = Params.niter, seed: int = Params.seed,
            max_points_per_centroid: int = 256, threads: int | None = None,
            batch_size: int = 65536) -> np.ndarray:
    """Labels (int64, N) of k-means with ``n_clusters`` centroids on the N x D float32 features
    (L2-normalised first; Euclidean distance)."""
    import faiss  # here: importing the method registry stays light

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


METHOD = Method(
    "kmeans", Params, "faiss k-means on the unit features", reads=frozenset({"features"}), n_clusters=True,
    threads=8, cluster=lambda p, d: cluster(d.feats, int(p.n_clusters), niter=p.niter, seed=p.seed, threads=d.threads))
