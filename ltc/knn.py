"""k-nearest-neighbour graphs by cosine similarity, with faiss.

Features are L2-normalised row by row (in batches, so a memory-mapped file is never copied whole
in float64) and searched by inner product, which then equals cosine similarity. Three indexes:

* ``flat``  exact search, the default: blocked BLAS GEMM + top-k (:func:`exact_search`). It
  replaces faiss's IndexFlatIP, whose bundled OpenBLAS falls back to a generic kernel on CPUs it
  does not know (measured 2.8x slower on this project's machines);
* ``ivf``   IndexIVFFlat, ``nlist`` cells of which ``nprobe`` are scanned; the cells come from a
  spherical k-means by GEMM and are looked up through an HNSW graph of the centroids, so neither
  step goes through faiss's bundled BLAS (see ``flat``);
* ``hnsw``  IndexHNSWFlat with ``hnsw_m`` links, ``ef_construction`` and ``ef_search``.

The result is (ids, dists), both N x K, each row sorted by distance ``1 - cosine``; a neighbour
the index could not return has id -1 and distance +inf.
"""
from __future__ import annotations

import logging
import math

import faiss
import numpy as np
import torch
from tqdm import tqdm

log = logging.getLogger(__name__)

METHODS = ("flat", "ivf", "hnsw")
#: file tag per method; ``faiss`` for exact search, as in the original project's ``faiss_k_80.npz``
FILE_TAG = {"flat": "faiss", "ivf": "ivf", "hnsw": "hnsw"}


def normalized(rows: np.ndarray) -> np.ndarray:
    """Float32 copy of ``rows`` with unit L2 norm."""
    rows = np.array(rows, dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def auto_nlist(n: int) -> int:
    """IVF cell count: the power of two nearest 4*sqrt(N), with at least 39 training points per cell."""
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    return int(max(1, min(nlist, n // 39)))


def nearest_centroid(x: np.ndarray, centroids: np.ndarray, batch_size: int = 16384) -> np.ndarray:
    """Index of the most similar centroid (inner product) of every row, by blocked GEMM."""
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), batch_size):
        out[start:start + batch_size] = torch.from_numpy(x[start:start + batch_size] @ centroids.T).argmax(dim=1).numpy()
    return out


def spherical_kmeans(x: np.ndarray, k: int, n_iter: int = 10, seed: int = 0) -> np.ndarray:
    """k unit centroids of the unit rows ``x`` (k-means on the sphere; empty cells are re-seeded)."""
    rng = np.random.default_rng(seed)
    centroids = x[np.sort(rng.choice(len(x), k, replace=False))].copy()
    for _ in range(n_iter):
        assign = nearest_centroid(x, centroids)
        sums = np.zeros_like(centroids)
        torch.from_numpy(sums).index_add_(0, torch.from_numpy(assign), torch.from_numpy(x))
        norms = np.linalg.norm(sums, axis=1)
        empty = norms == 0
        sums[empty] = x[rng.choice(len(x), int(empty.sum()), replace=False)]
        norms[empty] = 1.0
        centroids = (sums / norms[:, None]).astype(np.float32)
    return centroids


def build_index(feats: np.ndarray, method: str, *, nlist: int | str = "auto", nprobe: int = 16,
                hnsw_m: int = 32, ef_construction: int = 40, ef_search: int = 100,
                batch_size: int = 65536, seed: int = 0) -> faiss.Index:
    """Build an approximate faiss inner-product index (``ivf`` or ``hnsw``) over the normalised rows."""
    n, dim = feats.shape
    if method == "ivf":
        nlist = auto_nlist(n) if nlist == "auto" else int(nlist)
        n_train = min(n, 32 * nlist)
        sample = np.sort(np.random.default_rng(seed).choice(n, n_train, replace=False))
        log.info("ivf: training %d cells on %d points", nlist, n_train)
        # cells: spherical k-means by BLAS GEMM; cell lookup: an HNSW graph over the centroids (no BLAS)
        quantizer = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        quantizer.hnsw.efSearch = max(64, 2 * int(nprobe))
        quantizer.add(spherical_kmeans(normalized(feats[sample]), nlist, seed=seed))
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(int(nprobe), nlist)
    elif method == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
        index.hnsw.efSearch = int(ef_search)
    else:
        raise ValueError(f"unknown faiss index {method!r}; choose ivf or hnsw")
    for start in tqdm(range(0, n, batch_size), desc=f"{method}: add", unit="batch"):
        index.add(normalized(feats[start:start + batch_size]))
    return index


def search(index: faiss.Index, feats: np.ndarray, k: int, batch_size: int = 16384,
           rows: np.ndarray | None = None, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Search the k nearest neighbours of ``feats[rows]`` (all rows by default), in batches.

    Returns (ids int64, dists float32), each len(rows) x k, sorted by distance ``1 - cosine``.
    """
    rows = np.arange(len(feats)) if rows is None else np.asarray(rows)
    ids = np.empty((len(rows), k), dtype=np.int64)
    dists = np.empty((len(rows), k), dtype=np.float32)
    for start in tqdm(range(0, len(rows), batch_size), desc="search", unit="batch", disable=not progress):
        sel = rows[start:start + batch_size]
        sims, nbrs = index.search(normalized(feats[sel]), k)
        ids[start:start + len(sel)] = nbrs
        dists[start:start + len(sel)] = np.where(nbrs >= 0, 1.0 - sims, np.inf)
    return ids, dists


def knn_graph(feats: np.ndarray, k: int, method: str = "flat", threads: int | None = None,
              **index_params) -> tuple[np.ndarray, np.ndarray]:
    """kNN of every row of ``feats`` among all rows (itself included), by cosine similarity."""
    if threads:
        faiss.omp_set_num_threads(int(threads))
        torch.set_num_threads(int(threads))
    if method == "flat":
        ids, sims = exact_search(feats, k)
        return ids, 1.0 - sims
    index = build_index(feats, method, **index_params)
    return search(index, feats, k)


def exact_search(feats: np.ndarray, k: int, rows: np.ndarray | None = None, query_batch: int = 2048,
                 db_batch: int = 32768, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k neighbours by cosine of ``feats[rows]`` (all rows by default) among all rows.

    One BLAS GEMM per (query block, database block), then a top-k per block merged into the
    running top-k: memory ~ query_batch x db_batch floats. Returns (ids int64, similarities float32),
    len(rows) x k, most similar first.
    """
    rows = np.arange(len(feats)) if rows is None else np.asarray(rows)
    unit = normalized(feats) if len(rows) > db_batch else None  # reused by every query block
    database = (lambda a, b: unit[a:b]) if unit is not None else (lambda a, b: normalized(feats[a:b]))
    k = min(k, len(feats))
    ids = np.empty((len(rows), k), dtype=np.int64)
    sims = np.empty((len(rows), k), dtype=np.float32)
    buffer = np.empty((min(query_batch, len(rows)), min(db_batch, len(feats))), dtype=np.float32)
    for q in tqdm(range(0, len(rows), query_batch), desc="exact search", unit="batch", disable=not progress):
        queries = unit[rows[q:q + query_batch]] if unit is not None else normalized(feats[rows[q:q + query_batch]])
        best_s = best_i = None
        for start in range(0, len(feats), db_batch):
            block = database(start, start + db_batch)
            out = buffer[:len(queries), :len(block)]
            np.matmul(queries, block.T, out=out)
            top_s, top_i = torch.topk(torch.from_numpy(out), min(k, len(block)), dim=1)
            top_i += start
            if best_s is not None:
                top_s, top_i = torch.cat([best_s, top_s], 1), torch.cat([best_i, top_i], 1)
                top_s, pick = torch.topk(top_s, k, dim=1)
                top_i = torch.gather(top_i, 1, pick)
            best_s, best_i = top_s, top_i
        best_s, order = torch.sort(best_s, dim=1, descending=True, stable=True)
        sims[q:q + len(queries)] = best_s.numpy()
        ids[q:q + len(queries)] = torch.gather(best_i, 1, order).numpy()
    return ids, sims


def recall_at_k(ids: np.ndarray, feats: np.ndarray, k: int, sample: int = 1000, seed: int = 0,
                min_similarity: float = -1.0) -> float:
    """Fraction of the exact k nearest neighbours (those with cosine >= ``min_similarity``) that ``ids``
    found, over a seeded sample of rows."""
    rows = np.sort(np.random.default_rng(seed).choice(len(feats), min(sample, len(feats)), replace=False))
    exact_ids, exact_sims = exact_search(feats, k, rows=rows, progress=False)
    found = (ids[rows][:, :, None] == exact_ids[:, None, :]).any(axis=1)
    counted = exact_sims >= min_similarity
    return float(found[counted].mean()) if counted.any() else 1.0
