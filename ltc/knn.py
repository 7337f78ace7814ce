"""k-nearest-neighbour graphs by cosine similarity, with faiss.

Features are L2-normalised row by row (in batches, so a memory-mapped file is never copied whole
in float64) and searched by inner product, which then equals cosine similarity. Three indexes:

* ``flat``  exact search, the default: blocked BLAS GEMM + top-k (:func:`exact_search`). It
  replaces faiss's IndexFlatIP, whose bundled OpenBLAS falls back to a generic kernel on CPUs it
  does not know (measured 2.8x slower on this project's machines);
* ``ivf``   an inverted file: ``nlist`` cells from a spherical k-means by GEMM, each row's ``nprobe``
  nearest cells by GEMM against the centroids; a query is scored exactly
  against the members of its probed cells, one GEMM per cell for all the queries that probe it
  (:func:`ivf_search`), which is what makes it fast without faiss's bundled BLAS (see ``flat``);
* ``hnsw``  IndexHNSWFlat with ``hnsw_m`` links, ``ef_construction`` and ``ef_search``.

The result is (ids, dists), both N x K, each row sorted by distance ``1 - cosine``; a neighbour
the index could not return has id -1 and distance +inf (so are the columns past N when K > N: a
row holds at most every point, itself included). The search runs in fixed batches of query
rows and a row's result depends only on its batch, so the queries can be split into shards
(:func:`shard_rows`) searched by separate jobs against one saved index, with identical results.

A precomputed kNN file (the user's) is checked and rewritten in this format by :func:`import_knn`
before anything reads it: rows == N, ids -1..N-1, cosine distances, rows sorted, the original
project's ragged object layout converted.
"""
from __future__ import annotations

import contextlib
import logging
import math
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import torch
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from ltc import DataError
from ltc.datasets import KNN_FILE_TAG
from ltc.io import atomic_output
from ltc.settings import setting
from ltc.rows import normalized

log = logging.getLogger(__name__)

METHODS = tuple(KNN_FILE_TAG)


@dataclass(frozen=True)
class IVFSettings:
    """The ``ivf`` index (config ``knn.ivf``)."""
    nlist: int | str = setting("auto", "cells of the inverted file; 'auto': the power of two nearest 4 sqrt(N)")
    nprobe: int = setting(16, "cells scanned per query")


@dataclass(frozen=True)
class HNSWSettings:
    """The ``hnsw`` index (config ``knn.hnsw``)."""
    m: int = setting(32, "links per node of the HNSW graph")
    ef_construction: int = setting(40, "candidate list length while building")
    ef_search: int = setting(100, "candidate list length while searching")


@dataclass(frozen=True)
class Settings:
    """The kNN graph's settings (config ``knn``): their one default is here; config.yaml's global
    ``knn`` entry repeats them and tests/test_api.py binds the two (and the schema's keys)."""
    method: str = setting("flat", "flat (exact), ivf or hnsw (approximate)")
    k: int = setting(80, "neighbours per point, itself included")
    batch_size: int = setting(65536, "query rows searched per batch (also the unit of a shard)")
    shards: int = setting(1, "query shards searched as separate jobs, then merged (same kNN for any count)")
    ivf: IVFSettings = setting(IVFSettings(), "see IVFSettings")
    hnsw: HNSWSettings = setting(HNSWSettings(), "see HNSWSettings")
    recall_sample: int = setting(1000, "queries checked against exact search for approximate methods")
    seed: int = setting(0, "seed of the IVF training sample and of the recall sample")

    def index_params(self) -> dict:
        """:func:`build_index` keyword arguments of these settings (besides ``batch_size``)."""
        return {"nlist": self.ivf.nlist, "nprobe": self.ivf.nprobe, "hnsw_m": self.hnsw.m,
                "ef_construction": self.hnsw.ef_construction, "ef_search": self.hnsw.ef_search, "seed": self.seed}


#: the default kNN settings (config.yaml's global ``knn``)
DEFAULTS = Settings()


def auto_nlist(n: int) -> int:
    """IVF cell count: the power of two nearest 4*sqrt(N), with at least 39 training points per cell."""
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    return int(max(1, min(nlist, n // 39)))


def nearest_centroids(x: np.ndarray, centroids: np.ndarray, n: int = 1, batch_size: int = 16384) -> np.ndarray:
    """Indices (len(x) x n int32) of the ``n`` most similar centroids (inner product) of every row,
    most similar first, by blocked GEMM + top-n."""
    out = np.empty((len(x), n), dtype=np.int32)
    for start in range(0, len(x), batch_size):
        sims = torch.from_numpy(np.asarray(x[start:start + batch_size]) @ centroids.T)
        out[start:start + batch_size] = (sims.argmax(dim=1, keepdim=True) if n == 1 else torch.topk(sims, n, dim=1)[1]).numpy()
    return out


def spherical_kmeans(x: np.ndarray, k: int, n_iter: int = 10, seed: int = 0) -> np.ndarray:
    """k unit centroids of the unit rows ``x`` (k-means on the sphere; empty cells are re-seeded)."""
    rng = np.random.default_rng(seed)
    centroids = x[np.sort(rng.choice(len(x), k, replace=False))].copy()
    for _ in range(n_iter):
        assign = nearest_centroids(x, centroids)[:, 0].astype(np.int64)
        sums = np.zeros_like(centroids)
        torch.from_numpy(sums).index_add_(0, torch.from_numpy(assign), torch.from_numpy(x))
        norms = np.linalg.norm(sums, axis=1)
        empty = norms == 0
        sums[empty] = x[rng.choice(len(x), int(empty.sum()), replace=False)]
        norms[empty] = 1.0
        centroids = (sums / norms[:, None]).astype(np.float32)
    return centroids


@dataclass(frozen=True)
class IVFCells:
    """An inverted-file partition of N unit rows into ``nlist`` cells.

    ``centroids`` (nlist x D float32, unit rows); ``probes`` (N x nprobe int32): every row's ``nprobe``
    most similar cells, most similar first, so ``probes[:, 0]`` is the cell the row belongs to.
    """
    centroids: np.ndarray
    probes: np.ndarray


def build_index(feats: np.ndarray, method: str, *, nlist: int | str = DEFAULTS.ivf.nlist,
                nprobe: int = DEFAULTS.ivf.nprobe, hnsw_m: int = DEFAULTS.hnsw.m,
                ef_construction: int = DEFAULTS.hnsw.ef_construction, ef_search: int = DEFAULTS.hnsw.ef_search,
                batch_size: int = DEFAULTS.batch_size, seed: int = DEFAULTS.seed) -> IVFCells | faiss.Index:
    """The approximate index over the normalised rows: :class:`IVFCells` (``ivf``) or a faiss HNSW index."""
    n, dim = feats.shape
    if method == "ivf":
        nlist = auto_nlist(n) if nlist == "auto" else min(int(nlist), n)
        nprobe = min(int(nprobe), nlist)
        n_train = min(n, 32 * nlist)
        sample = np.sort(np.random.default_rng(seed).choice(n, n_train, replace=False))
        log.info("ivf: training %d cells on %d points", nlist, n_train)
        centroids = spherical_kmeans(normalized(feats[sample]), nlist, seed=seed)
        probes = np.empty((n, nprobe), dtype=np.int32)
        for start in tqdm(range(0, n, batch_size), desc="ivf: probe", unit="batch"):
            probes[start:start + batch_size] = nearest_centroids(normalized(feats[start:start + batch_size]), centroids, nprobe)
        return IVFCells(centroids, probes)
    if method == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(hnsw_m), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(ef_construction)
        index.hnsw.efSearch = int(ef_search)
        for start in tqdm(range(0, n, batch_size), desc="hnsw: add", unit="batch"):
            index.add(normalized(feats[start:start + batch_size]))
        return index
    raise ValueError(f"unknown approximate index {method!r}; choose ivf or hnsw")


def save_index(path: str | Path, index: IVFCells | faiss.Index) -> None:
    """Write an index built by :func:`build_index` (``.npz`` for ivf, faiss's format for hnsw), atomically."""
    with atomic_output(path) as tmp:
        if isinstance(index, IVFCells):
            with open(tmp, "wb") as f:
                np.savez(f, centroids=index.centroids, probes=index.probes)
        else:
            faiss.write_index(index, str(tmp))


def load_index(path: str | Path, method: str) -> IVFCells | faiss.Index:
    if method == "ivf":
        with np.load(path) as npz:
            return IVFCells(npz["centroids"], npz["probes"])
    return faiss.read_index(str(path))


class CellDatabase:
    """The normalised rows stored cell by cell, so that a cell's members are one contiguous block."""

    def __init__(self, feats: np.ndarray, cells: IVFCells, batch_size: int = 65536):
        own = cells.probes[:, 0]
        self.order = np.argsort(own, kind="stable")          # row ids, cell by cell
        self.bounds = np.searchsorted(own[self.order], np.arange(len(cells.centroids) + 1))
        self.position = np.empty(len(own), dtype=np.int64)   # where each row id sits in ``unit``
        self.position[self.order] = np.arange(len(own))
        self.unit = np.empty(feats.shape, dtype=np.float32)
        for start in tqdm(range(0, len(own), batch_size), desc="ivf: gather cells", unit="batch"):
            self.unit[start:start + batch_size] = normalized(feats[self.order[start:start + batch_size]])


_BUFFERS = threading.local()  # each search thread's candidate buffer, reused by its batches


def _candidate_buffer(rows: int, width: int) -> np.ndarray:
    """A rows x width float32 array of -inf from this thread's reusable buffer: a fresh array of that
    size each batch (hundreds of MB) cost more in page faults than the search's own GEMMs."""
    size = rows * width
    held = getattr(_BUFFERS, "array", None)
    if held is None or held.size < size:
        held = _BUFFERS.array = np.empty(size, dtype=np.float32)
    out = held[:size].reshape(rows, width)
    out.fill(-np.inf)
    return out


def ivf_search(database: CellDatabase, probes: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of ``rows`` among the members of each row's probed cells (``probes``: len(rows) x nprobe).

    Cell by cell, one GEMM scores all the queries that probe a cell against all its members, and the
    scores go to each query's row of a candidate buffer (its probed cells' members side by side, in
    probe order; -inf padding after them); one top-k per row then picks the neighbours among all its
    candidates. A row's result depends only on the rows searched together with it, never on other
    batches. Returns (ids int64, similarities float32), len(rows) x k, most similar first; -1 / -inf pad.
    """
    m, nprobe = probes.shape
    queries = database.unit[database.position[rows]]
    sizes = np.diff(database.bounds)[probes]                       # members of each probed cell, m x nprobe
    offsets = np.zeros((m, nprobe), dtype=np.int64)                 # where each probe's members start in a row
    np.cumsum(sizes[:, :-1], axis=1, out=offsets[:, 1:])
    width = max(int((offsets[:, -1] + sizes[:, -1]).max()) if m else 0, k)
    buffer = _candidate_buffer(m, width)
    flat = buffer.reshape(-1)
    block_start = np.arange(m, dtype=np.int64)[:, None] * width + offsets  # flat position of each probe's block
    entries = np.argsort(probes.ravel(), kind="stable")             # (query, probe) pairs grouped by cell
    cells, first = np.unique(probes.ravel()[entries], return_index=True)
    for cell, group in zip(cells, np.split(entries, first[1:])):
        lo, hi = database.bounds[cell], database.bounds[cell + 1]
        if hi == lo:
            continue
        q, p = np.divmod(group, nprobe)
        flat[block_start[q, p][:, None] + np.arange(hi - lo)] = queries[q] @ database.unit[lo:hi].T
    best_s, pos = torch.topk(torch.from_numpy(buffer), k, dim=1)
    best_s, pos = best_s.numpy(), pos.numpy()
    # the probe whose block holds each chosen position, and the member there
    probe = (pos[:, :, None] >= offsets[:, None, :]).sum(axis=2) - 1
    r = np.arange(m)[:, None]
    member = np.minimum(database.bounds[probes[r, probe]] + pos - offsets[r, probe], len(database.order) - 1)
    found = np.isfinite(best_s)
    return np.where(found, database.order[member], -1), best_s


def shard_rows(n: int, shards: int, shard: int, batch_size: int) -> range:
    """Rows of query shard ``shard`` of ``shards``: whole search batches, so batches never depend on the sharding."""
    batches = -(-n // batch_size)
    return range(min(n, batches * shard // shards * batch_size), min(n, batches * (shard + 1) // shards * batch_size))


def search(feats: np.ndarray, k: int, method: str = "flat", index: IVFCells | faiss.Index | None = None,
           rows: range | None = None, batch_size: int = DEFAULTS.batch_size) -> tuple[np.ndarray, np.ndarray]:
    """kNN of the rows ``rows`` (all by default) among all rows of ``feats``, in batches of ``batch_size``.

    ``index`` is :func:`build_index`'s result for ``ivf`` and ``hnsw`` (none for exact ``flat``).
    Returns (ids int64, dists float32), each len(rows) x k, sorted by distance ``1 - cosine``;
    a neighbour the index could not return has id -1 and distance +inf, and so has every column
    past N when ``k`` > N (a row holds at most all N points, itself included).
    """
    rows = range(len(feats)) if rows is None else rows
    width = min(k, len(feats))  # a row has at most every point (itself included); the rest is missing
    database = CellDatabase(feats, index, batch_size) if method == "ivf" else None
    unit = normalized(feats) if method == "flat" else None  # searched by every batch
    ids = np.full((len(rows), k), -1, dtype=np.int64)
    sims = np.full((len(rows), k), -np.inf, dtype=np.float32)

    def search_batch(start: int) -> None:
        block = np.arange(start, min(start + batch_size, rows.stop))
        out = slice(start - rows.start, start - rows.start + len(block))
        if method == "flat":
            ids[out, :width], sims[out, :width] = exact_search(feats, width, rows=block, progress=False, unit=unit)
        elif method == "ivf":
            ids[out, :width], sims[out, :width] = ivf_search(database, index.probes[block], block, width)
        else:
            sims[out, :width], ids[out, :width] = index.search(normalized(feats[block]), width)

    starts = range(rows.start, rows.stop, batch_size)
    if method == "ivf":  # many small GEMMs: one single-threaded batch per thread beats threaded BLAS
        workers = torch.get_num_threads()
        with threadpool_limits(1), _torch_threads(1), ThreadPoolExecutor(workers) as pool:
            list(tqdm(pool.map(search_batch, starts), total=len(starts), desc="ivf: search", unit="batch"))
    else:
        for start in tqdm(starts, desc=f"{method}: search", unit="batch"):
            search_batch(start)
    missing = ids < 0
    dists = 1.0 - sims
    dists[missing] = np.inf
    return ids, dists


@contextlib.contextmanager
def _torch_threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def set_threads(threads: int | None) -> None:
    """Threads for faiss (OpenMP) and torch."""
    if threads:
        faiss.omp_set_num_threads(int(threads))
        torch.set_num_threads(int(threads))


def knn_graph(feats: np.ndarray, k: int, method: str = "flat", threads: int | None = None,
              batch_size: int = DEFAULTS.batch_size, **index_params) -> tuple[np.ndarray, np.ndarray]:
    """kNN of every row of ``feats`` among all rows (itself included), by cosine similarity."""
    set_threads(threads)
    index = None if method == "flat" else build_index(feats, method, batch_size=batch_size, **index_params)
    return search(feats, k, method, index, batch_size=batch_size)


def summary(found: np.ndarray, rows: np.ndarray, feats: np.ndarray, method: str, k: int, **extra) -> dict:
    """JSON-able facts about a kNN graph of ``feats``: method, k, N, and for approximate methods its
    recall@k on the sample ``rows`` (:func:`recall_rows`), whose found neighbours are ``found``."""
    out = {"method": method, "k": int(k), "n": int(len(feats)), **extra}
    if method != "flat" and len(rows):
        out["recall_at_k"] = recall(found, rows, feats, k)
        log.info("%s recall@%d on %d sampled queries: %.4f", method, k, len(rows), out["recall_at_k"])
    return out


def add_arguments(parser, methods: tuple[str, ...] = METHODS) -> None:
    """The command-line options shared by the kNN scripts: features, method, index settings, threads."""
    parser.add_argument("--features", required=True)
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--method", choices=methods, default=methods[0])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="query rows searched per batch")
    parser.add_argument("--nlist", default=DEFAULTS.ivf.nlist, help="ivf: number of cells, or 'auto'")
    parser.add_argument("--nprobe", type=int, default=DEFAULTS.ivf.nprobe, help="ivf: cells scanned per query")
    parser.add_argument("--hnsw-m", type=int, default=DEFAULTS.hnsw.m)
    parser.add_argument("--ef-construction", type=int, default=DEFAULTS.hnsw.ef_construction)
    parser.add_argument("--ef-search", type=int, default=DEFAULTS.hnsw.ef_search)
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
    parser.add_argument("--threads", type=int, default=None)


def index_options(args) -> dict:
    """:func:`build_index` keyword arguments from :func:`add_arguments`' options."""
    return {"nlist": args.nlist, "nprobe": args.nprobe, "hnsw_m": args.hnsw_m, "ef_construction": args.ef_construction,
            "ef_search": args.ef_search, "batch_size": args.batch_size, "seed": args.seed}


def exact_search(feats: np.ndarray, k: int, rows: np.ndarray | None = None, query_batch: int = 2048,
                 db_batch: int = 32768, progress: bool = True, unit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k neighbours by cosine of ``feats[rows]`` (all rows by default) among all rows.

    One BLAS GEMM per (query block, database block), then a top-k per block merged into the
    running top-k: memory ~ query_batch x db_batch floats. ``unit``: ``normalized(feats)``, if the
    caller already has it. Returns (ids int64, similarities float32), len(rows) x k, most similar first.
    """
    rows = np.arange(len(feats)) if rows is None else np.asarray(rows)
    if unit is None and len(rows) > db_batch:
        unit = normalized(feats)  # reused by every query block
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


def recall_rows(n: int, sample: int = 1000, seed: int = 0) -> np.ndarray:
    """A seeded, sorted sample of ``sample`` of ``n`` rows for measuring recall."""
    return np.sort(np.random.default_rng(seed).choice(n, min(sample, n), replace=False))


def recall(found: np.ndarray, rows: np.ndarray, feats: np.ndarray, k: int, min_similarity: float = -1.0) -> float:
    """Fraction of the exact k nearest neighbours of ``feats[rows]`` (those with cosine >=
    ``min_similarity``) that are among ``found`` (len(rows) x k ids)."""
    exact_ids, exact_sims = exact_search(feats, k, rows=rows, progress=False)
    hit = (found[:, :, None] == exact_ids[:, None, :]).any(axis=1)
    counted = exact_sims >= min_similarity
    return float(hit[counted].mean()) if counted.any() else 1.0


def recall_at_k(ids: np.ndarray, feats: np.ndarray, k: int, sample: int = 1000, seed: int = 0,
                min_similarity: float = -1.0) -> float:
    """:func:`recall` of the kNN ``ids`` (N x k) over a seeded sample of rows."""
    rows = recall_rows(len(feats), sample, seed)
    return recall(ids[rows], rows, feats, k, min_similarity)


# --- precomputed kNN files ----------------------------------------------------------------------

#: valid cosine distances ``1 - similarity`` lie in [0, 2]; this much float rounding is allowed
DISTANCE_SLACK = 1e-3


def _out_of_order(dists: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row: is some valid entry smaller than a valid entry before it? (missing ones skipped)"""
    shown = np.where(valid, dists, -np.inf)
    return (valid & (shown < np.maximum.accumulate(shown, axis=1))).any(axis=1)


def _holds_objects(path: str | Path) -> bool:
    """Whether a kNN ``.npz``'s ``data`` member is an object array (read from its header only)."""
    from ltc.io import _read_npy_header
    try:
        with zipfile.ZipFile(path) as zf:
            name = next(name for name in ("data.npy", "data") if name in zf.namelist())
            with zf.open(name) as member:
                return _read_npy_header(member)[2].hasobject
    except (OSError, ValueError, StopIteration, zipfile.BadZipFile):
        return False  # not a kNN file at all: iter_knn says so


def read_ragged_knn(path: str | Path, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """The original project's other kNN layout, read whole: ``data`` an object array of rows
    (ids, distances) that may differ in length (its hnsw path), shape (N, 2) or (N,) of pairs.

    Returns (ids float64, dists float64), N x K for the longest row K, shorter rows padded with
    id -1 and distance +inf. Loading it unpickles the file, so call this only on a file the user
    put in the data folder (or named) themselves. Raises :class:`DataError` for another layout.
    """
    with np.load(path, allow_pickle=True) as npz:
        data = npz["data"]
    if data.ndim == 3 and data.shape[1] == 2:  # equal rows saved as objects: the plain layout
        data = data.astype(np.float64)
        return data[:, 0, :], data[:, 1, :]
    if data.ndim == 2 and data.shape[1] == 2:
        id_rows, dist_rows = data[:, 0], data[:, 1]
    elif data.ndim == 1 and all(len(row) == 2 for row in data):  # one Python object per row: no vector form
        id_rows, dist_rows = [row[0] for row in data], [row[1] for row in data]
    else:
        raise DataError(f"kNN file {path} holds an object array of shape {data.shape}, not rows of "
                        f"(ids, distances): {fix}.")
    lengths = np.fromiter(map(len, id_rows), dtype=np.int64, count=len(data))
    if not np.array_equal(lengths, np.fromiter(map(len, dist_rows), dtype=np.int64, count=len(data))):
        raise DataError(f"kNN file {path} has rows whose ids and distances differ in length: {fix}.")
    width = int(lengths.max()) if len(lengths) else 0
    ids = np.full((len(data), width), -1.0)
    dists = np.full((len(data), width), np.inf)
    if width:
        rows = np.repeat(np.arange(len(data)), lengths)
        cols = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ids[rows, cols] = np.concatenate([np.asarray(r, dtype=np.float64).ravel() for r in id_rows])
        dists[rows, cols] = np.concatenate([np.asarray(r, dtype=np.float64).ravel() for r in dist_rows])
    return ids, dists


def canonical_rows(path, start: int, ids: np.ndarray, dists: np.ndarray, k: int,
                   fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Checked rows (:func:`ltc.io.check_knn_rows` output) of a precomputed kNN file as this workflow
    writes them: sorted by distance (stable; missing neighbours last), cut to the ``k`` nearest or
    padded to ``k`` with missing neighbours (id -1, distance +inf).

    Raises :class:`DataError` for distances outside [0, 2] (not ``1 - cosine``) and for similarities
    stored in place of distances (which sorting would invert): every point at distance > 0.5 from
    itself, or, in rows without the point itself, distances that only decrease along every row.
    """
    valid = ids >= 0
    if valid.any():
        low, high = dists[valid].min(), dists[valid].max()
        if low < -DISTANCE_SLACK or high > 2 + DISTANCE_SLACK:
            raise DataError(f"kNN file {path} has distances from {low:g} to {high:g} (rows {start}.."
                            f"{start + len(ids) - 1}), not cosine distances 1 - similarity in [0, 2]: {fix}.")
    own = ids == np.arange(start, start + len(ids))[:, None]
    if own.any():  # a point's distance to itself is 0; its similarity 1
        if (dists[own] > 0.5).all():
            raise DataError(f"kNN file {path} gives every point a distance of {np.median(dists[own]):g} to itself, "
                            f"so it holds similarities, not distances 1 - similarity: {fix}.")
    else:
        falling, rising = _out_of_order(dists, valid), _out_of_order(-dists, valid)
        if falling.any() and not (falling & rising).any():  # every row out of order only goes down
            raise DataError(f"kNN file {path} has distances that decrease along every row, so it holds "
                            f"similarities, not distances 1 - similarity: {fix}.")
    order = np.argsort(dists, axis=1, kind="stable")  # a sorted row keeps its order; missing (+inf) go last
    ids, dists = np.take_along_axis(ids, order, axis=1), np.take_along_axis(dists, order, axis=1)
    if ids.shape[1] >= k:
        return ids[:, :k], dists[:, :k]
    pad = k - ids.shape[1]
    return (np.pad(ids, ((0, 0), (0, pad)), constant_values=-1),
            np.pad(dists, ((0, 0), (0, pad)), constant_values=np.inf))


#: rows of a precomputed kNN file whose distances are recomputed from the features (:func:`check_against_features`)
CHECKED_ROWS = 1000
#: how far a stored cosine distance may be from the features' own (float32 sums, float16 files)
DISTANCE_TOLERANCE = 2e-3


def repeated_neighbours(ids: np.ndarray) -> np.ndarray:
    """Rows (bool, len(ids)) that list one neighbour (id >= 0) more than once."""
    ordered = np.sort(ids, axis=1)
    return ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any(axis=1)


def check_against_features(path, rows: np.ndarray, ids: np.ndarray, dists: np.ndarray, feats: np.ndarray,
                           fix: str) -> None:
    """Raise :class:`DataError` unless the stored distances of kNN rows ``rows`` (their ``ids``, ``dists``)
    are the cosine distances of the features ``feats`` (N x D, any norm), within :data:`DISTANCE_TOLERANCE`
    for all but 1% of them: a file made for other or reordered features has the right shape and ids but
    the wrong distances."""
    valid = ids >= 0
    if not valid.any():
        return
    queries = normalized(feats[rows])
    found = normalized(feats[np.where(valid, ids, 0).ravel()]).reshape(*ids.shape, -1)
    true = 1.0 - np.einsum("rd,rkd->rk", queries, found)
    off = valid & (np.abs(true - dists) > DISTANCE_TOLERANCE)
    if off.sum() > 0.01 * valid.sum():  # more than a few rounding cases: another set of features
        r, c = np.argwhere(off)[0]
        raise DataError(f"kNN file {path} does not match the features: row {rows[r]} gives neighbour {ids[r, c]} "
                        f"distance {dists[r, c]:.4f}, the features give {true[r, c]:.4f} ({off.sum()} of "
                        f"{valid.sum()} checked neighbours disagree), so it was made for other or reordered "
                        f"features: {fix}.")


def import_knn(src: str | Path, out: str | Path, n: int, k: int, features: str = "the split's features",
               chunk_rows: int = 65536, feats: np.ndarray | None = None) -> dict:
    """Write the precomputed kNN file ``src`` of a split of ``n`` rows as the workflow's kNN file
    ``out`` (``ltc.io.save_knn`` format, width ``k``), so that no consumer reads a user's file directly.

    ``src`` is the original (N, 2, K) layout (any float dtype, compressed or not, with or without an
    ``ids`` member) or the original's ragged object layout (:func:`read_ragged_knn`). Its rows must
    be ``n`` and its ids -1 or 0..n-1; rows are sorted by distance if they are not, and cut or padded
    to ``k`` (:func:`canonical_rows`). Streams the plain layout; the ragged one is read whole. A row
    may not list a neighbour twice, and with ``feats`` (the split's N x D features) the distances of
    :data:`CHECKED_ROWS` evenly spread rows are recomputed and must match (:func:`check_against_features`).
    Raises :class:`DataError` (one sentence naming ``src``) before ``out`` is written.
    Returns counts for the log: rows, sorted rows, the file's width.
    """
    from ltc.io import check_knn_rows, iter_knn, knn_shape, save_knn_chunks

    fix = (f"replace it with the kNN of {features} searched against themselves, or move it out of the data "
           f"folder so the workflow builds the kNN itself")
    stats = {"rows": n, "sorted_rows": 0}
    if _holds_objects(src):
        ids, dists = read_ragged_knn(src, fix)
        rows, stats["width"] = ids.shape
        source = (check_knn_rows(src, s, ids[s:s + chunk_rows], dists[s:s + chunk_rows], n, False, fix)
                  for s in range(0, rows, chunk_rows))
        chunks = ((s, *checked) for s, checked in zip(range(0, rows, chunk_rows), source))
    else:
        rows, stats["width"] = knn_shape(src, fix)
        chunks = iter_knn(src, chunk_rows, require_sorted=False, fix=fix, n_ids=n)
    if rows != n:
        raise DataError(f"kNN file {src} has {rows} rows but {features} have {n}: {fix}.")

    checked = np.unique(np.linspace(0, n - 1, min(n, CHECKED_ROWS)).astype(np.int64))

    def rows_out():
        for start, ids, dists in chunks:
            twice = repeated_neighbours(ids)
            if twice.any():
                raise DataError(f"kNN file {src} row {start + int(np.argmax(twice))} lists a neighbour more than "
                                f"once, which a kNN search never does: {fix}.")
            if feats is not None:
                here = checked[(checked >= start) & (checked < start + len(ids))]
                check_against_features(src, here, ids[here - start], dists[here - start], feats, fix)
            stats["sorted_rows"] += int(_out_of_order(dists, ids >= 0).sum())
            yield canonical_rows(src, start, ids, dists, k, fix)

    save_knn_chunks(out, n, k, rows_out(), n_ids=n)
    return stats
