"""Arithmetic floors of the 584K test side's stages, measured on this machine in the calling run.

A stage's floor is the time of the bare work it cannot avoid, at the best rate this machine shows in
the same process: the GEMM flop of the kNN index (spherical k-means + probing every row), of the IVF
scan (every row against its probed cells' members) and of GCN-V inference (its three dense layers),
each at the fastest of ``torch.mm`` and numpy's ``@`` on a 65,536 x 256 x 4,096 float32 product
(the BLAS settings stay as tests and CI keep them); reading the features file and checking it is
finite (validate); writing the N x k kNN arrays once plus the exact search of the recall sample
(the kNN merge); the metrics computed in
process (evaluate). Used by bench_scale.py --floors; not a test.
"""
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

GEMM_SHAPE = (65_536, 256, 4_096)


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def gemm_rates(threads: int) -> dict:
    """GFLOP/s of torch.mm and numpy @ on GEMM_SHAPE float32 with ``threads`` torch threads."""
    m, d, n = GEMM_SHAPE
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((m, d), dtype=np.float32), rng.standard_normal((d, n), dtype=np.float32)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        flop = 2.0 * m * d * n
        return {"torch.mm": flop / _best_of(lambda: torch.mm(ta, tb)) / 1e9,
                "numpy @": flop / _best_of(lambda: a @ b) / 1e9}
    finally:
        torch.set_num_threads(before)


def knn_flop(n: int, dim: int, nlist: int, candidates: float, kmeans_iter: int = 10, train_per_cell: int = 32) -> dict:
    """GEMM flop of the IVF index (k-means on min(n, 32 nlist) rows, then every row probed) and of the scan
    (each row against ``candidates`` members, the mean over rows of its probed cells' sizes)."""
    n_train = min(n, train_per_cell * nlist)
    return {"index": 2.0 * dim * nlist * (kmeans_iter * n_train + n), "scan": 2.0 * n * candidates * dim}


def ivf_candidates(index_path: Path) -> tuple[int, float]:
    """(nlist, mean candidates per row) of a saved ltc IVF index: each row scans its probed cells' members."""
    from ltc.knn import load_index
    index = load_index(index_path, "ivf")
    sizes = np.bincount(index.probes[:, 0], minlength=len(index.centroids))
    return len(index.centroids), float(sizes[index.probes].sum(axis=1).mean())


def gcnv_flop(n: int, dim: int, nhid: int) -> float:
    """Dense GEMM flop of GCN-V inference: [X, AX] (2D) -> nhid -> nhid -> 1 for n rows."""
    return 2.0 * n * (2 * dim * nhid + nhid * nhid + nhid)


def read_floor(features: Path, dim: int) -> float:
    """Seconds to read the float32 features file and check it is finite."""
    def read():
        x = np.fromfile(features, dtype=np.float32).reshape(-1, dim)
        return bool(np.isfinite(x).all())
    return _best_of(read, repeats=2)


def write_floor(n: int, k: int, where: Path) -> float:
    """Seconds to write an n x k int64 id array and an n x k float32 distance array once (the merge's output)."""
    ids, dists = np.zeros((n, k), dtype=np.int64), np.zeros((n, k), dtype=np.float32)
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        def write():
            path = os.path.join(tmp, "knn.npz")
            np.savez(path, ids=ids, dists=dists)
            os.remove(path)
        return _best_of(write, repeats=2)


def metrics_floor(labels: Path) -> float:
    """Seconds of the three metrics computed in process (a prediction: the labels with 1% of rows moved)."""
    from ltc.io import read_labels
    from ltc.metrics import evaluate
    gt = read_labels(labels)
    pred = gt.copy()
    pred[::100] = pred[::-100][:len(pred[::100])]
    return _best_of(lambda: evaluate(gt, pred), repeats=2)
