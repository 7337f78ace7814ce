"""Graph helpers shared by clustering methods: edges from a kNN graph, sparse kNN graphs, connected
components.

The sparse graphs are built without int64 COO temporaries: rows of the kNN go straight into CSR
arrays with int32 column indices (where N fits), chunk by chunk. :class:`SymmetricKnnGraph` gives the
symmetric graph of a kNN file block of rows by block of rows while holding only the reverse
edges, so no stage needs the kNN arrays and the whole symmetric graph at once.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from ltc.io import CHUNK_ROWS, iter_knn, knn_shape

log = logging.getLogger(__name__)


def knn_edges(ids: np.ndarray, dists: np.ndarray, min_similarity: float,
              first_row: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges (src, dst, similarity) from each point to its neighbours with cosine similarity
    >= ``min_similarity``. Self-loops and missing neighbours (id -1) are dropped. ``ids`` may be a
    block of a kNN graph's rows starting at row ``first_row``.
    """
    n = len(ids)
    src = np.broadcast_to(np.arange(first_row, first_row + n)[:, None], ids.shape)
    sims = 1.0 - dists
    keep = (sims >= min_similarity) & (ids >= 0) & (ids != src)
    return src[keep], ids[keep], sims[keep]


def components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label of each of ``n`` points = its connected component in the undirected graph of the edges.

    Components are numbered 0, 1, ... in order of their smallest point, so the labels are stable.
    """
    return graph_components(sparse.coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n)))


def graph_components(graph: sparse.spmatrix) -> np.ndarray:
    """:func:`components` of a sparse graph's edges (its non-zero entries, either direction)."""
    return renumber(connected_components(graph, directed=True, connection="weak")[1])


def renumber(labels: np.ndarray) -> np.ndarray:
    """Labels numbered 0, 1, ... in order of each cluster's first point; negative labels (noise) each
    become a cluster of their own."""
    labels = np.asarray(labels, dtype=np.int64).copy()
    noise = labels < 0
    if noise.any():
        labels[noise] = labels.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.ravel()]


def spanning_forest(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray,
                    largest: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges (src, dst, weight; a subset of the given ones) of a minimum spanning forest of the
    undirected graph of ``n`` points (``largest``: a maximum one, e.g. for similarities).

    For every threshold t, the connected components of the edges with weight <= t (``largest``: >= t)
    are those of the forest's edges with weight <= t (>= t): Kruskal's algorithm adds an edge exactly
    when it joins two components of the lighter edges. A sweep over thresholds of "components of the
    links above t" (knn_cc, single linkage) can so cut at most N - 1 forest edges at each candidate
    instead of the whole edge list (the original's MS1M kNN: 80 N). Ties between weights may pick
    either edge; the components are the same. Self-loops must not be given.
    """
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if not len(src):
        return src, dst, weight[:0]
    w = np.asarray(weight, dtype=np.float64)
    # positive weights in the same order (reversed for ``largest``): scipy takes 0 for "no edge"
    cost = (w.max() + 1.0 - w) if largest else (w - w.min() + 1.0)
    edge_id = np.arange(1, len(src) + 1, dtype=np.float64)  # exact: which given edge a forest edge is
    graph = sparse.csr_matrix((cost, (src, dst)), shape=(n, n))
    if graph.nnz != len(src):  # a pair given twice would have its weights added: keep its best only
        key = np.minimum(src, dst) * n + np.maximum(src, dst)
        first = np.lexsort((cost, key))
        first = first[np.r_[True, key[first][1:] != key[first][:-1]]]
        src, dst, weight, cost, edge_id = src[first], dst[first], weight[first], cost[first], edge_id[:len(first)]
        graph = sparse.csr_matrix((cost, (src, dst)), shape=(n, n))
    tree = minimum_spanning_tree(graph).tocoo()
    ids = sparse.csr_matrix((edge_id, (src, dst)), shape=(n, n))
    edges = np.asarray(ids[tree.row, tree.col]).ravel().astype(np.int64) - 1
    return src[edges], dst[edges], weight[edges]


def degenerate(labels: np.ndarray) -> str | None:
    """What is wrong with a clustering that cannot be a useful one, or None: every one of N > 2 points
    alone, or all of them in one cluster (a threshold on the wrong side of the features' similarities
    gives either, with exit code 0; the clustering scripts log it as a warning)."""
    n = len(labels)
    if n <= 2:
        return None
    count = int(labels.max()) + 1 if n else 0
    if count == n:
        return f"every one of the {n} points is a cluster of its own"
    if count == 1:
        return f"all {n} points are in one cluster"
    return None


def index_dtype(largest: int) -> type:
    """int32 for sparse indices up to ``largest`` when they fit, else int64 (scipy's own rule)."""
    return np.int32 if largest <= np.iinfo(np.int32).max else np.int64


def knn_rows_graph(ids: np.ndarray, dists: np.ndarray, min_similarity: float, n: int, row_offset: int = 0,
                   self_loops: bool = False) -> sparse.csr_matrix:
    """The kNN edges of points ``row_offset ...`` (rows of ``ids``/``dists``) as a len(ids) x n CSR
    matrix (weight = similarity, float32): those of :func:`knn_edges`, plus, with ``self_loops``,
    each point's edge to itself of weight 1 (first in its row). Column indices are int32 where n fits;
    rows keep the kNN's order (call ``sum_duplicates()`` for sorted ones)."""
    rows = len(ids)
    own = np.arange(row_offset, row_offset + rows)[:, None]
    sims = 1.0 - dists
    keep = (sims >= min_similarity) & (ids >= 0) & (ids != own)
    if self_loops:
        ids = np.hstack([own, ids])
        sims = np.hstack([np.ones((rows, 1), dtype=sims.dtype), sims])
        keep = np.hstack([np.ones((rows, 1), dtype=bool), keep])
    idx = index_dtype(max(n, keep.size))
    indptr = np.zeros(rows + 1, dtype=idx)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return sparse.csr_matrix((sims[keep].astype(np.float32), ids[keep].astype(idx), indptr), shape=(rows, n))


def directed_graph(chunks: Iterable[tuple[int, np.ndarray, np.ndarray]], n: int, k: int, min_similarity: float,
                   self_loops: bool = True) -> sparse.csr_matrix:
    """N x N CSR graph of the kNN edges (:func:`knn_rows_graph`) from ``chunks`` of rows (first row,
    ids, dists), in order, with sorted rows. Memory: the graph (8 bytes per edge with int32 indices)
    plus one chunk."""
    width = k + bool(self_loops)
    idx = index_dtype(max(n, n * width))
    data = np.empty(n * width, dtype=np.float32)  # an upper bound: the unused tail is never touched
    indices = np.empty(n * width, dtype=idx)
    indptr = np.zeros(n + 1, dtype=idx)
    nnz = seen = 0
    for start, ids, dists in chunks:
        if start != seen:
            raise ValueError(f"kNN chunks out of order: rows from {start}, expected {seen}")
        block = knn_rows_graph(ids, dists, min_similarity, n, start, self_loops)
        data[nnz:nnz + block.nnz] = block.data
        indices[nnz:nnz + block.nnz] = block.indices
        indptr[start + 1:start + len(ids) + 1] = nnz + block.indptr[1:]
        nnz += block.nnz
        seen += len(ids)
    if seen != n:
        raise ValueError(f"kNN chunks cover {seen} of {n} rows")
    graph = sparse.csr_matrix((data[:nnz], indices[:nnz], indptr), shape=(n, n))
    graph.sum_duplicates()  # sorts each row (in place); a repeated neighbour's weights add up, as in COO
    return graph


def symmetric_graph(ids: np.ndarray, dists: np.ndarray, min_similarity: float) -> sparse.csr_matrix:
    """Sparse N x N graph of the kNN edges with similarity >= ``min_similarity`` (weight = similarity),
    made symmetric by the larger of the two directions, with self-loops of weight 1."""
    graph = directed_graph([(0, ids, dists)], len(ids), ids.shape[1], min_similarity)
    return graph.maximum(graph.T.tocsr())


class SymmetricKnnGraph:
    """:func:`symmetric_graph` of a kNN file, block of rows by block of rows.

    Only the reverse edges (the transposed directed graph, int32 indices and float32 weights: 8 bytes
    per kNN edge) stay in memory; each block's own rows are read again from the file and merged with
    them (``maximum``), which gives exactly the rows of ``symmetric_graph(*load_knn(path), ...)``.
    Building it holds the directed graph and its transpose (16 bytes per edge) for a moment.
    """

    def __init__(self, path: str | os.PathLike, min_similarity: float, chunk_rows: int = CHUNK_ROWS):
        self.path, self.min_similarity = path, min_similarity
        self.n, self.k = knn_shape(path)
        forward = directed_graph(iter_knn(path, chunk_rows), self.n, self.k, min_similarity)
        self.reverse = forward.T.tocsr()  # sorted rows, as the transposition writes them
        del forward

    def blocks(self, rows: int = CHUNK_ROWS) -> Iterator[tuple[int, sparse.csr_matrix]]:
        """(first row, rows x N CSR block of the symmetric graph), for consecutive blocks of ``rows`` rows."""
        for start, ids, dists in iter_knn(self.path, rows):
            forward = knn_rows_graph(ids, dists, self.min_similarity, self.n, start, self_loops=True)
            forward.sum_duplicates()
            yield start, forward.maximum(self.reverse[start:start + len(ids)])


def knn_pairs(ids: np.ndarray, dists: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The links of each vertex to its first ``k`` neighbours as unordered pairs, for rules that keep a
    pair by its first link in row order (CDP's pairs, GCN-D's proposals: the originals' ``np.unique``).

    ``ids`` int N x K (-1 missing), ``dists`` float N x K (1 - cosine). Returns (lo, hi, similarity,
    first): int64 ``lo < hi``, the float32 similarity ``1 - dist`` of each link (self-links and
    missing ids dropped), sorted by pair and, within a pair, in row order; and :func:`first_of_pairs`
    of a mask over them picks each pair's first kept link."""
    n = len(ids)
    ids = np.asarray(ids[:, :k], dtype=np.int64)
    rows = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], ids.shape)
    valid = (ids >= 0) & (ids != rows)
    a, b = rows[valid], ids[valid]
    sim = (1.0 - np.asarray(dists[:, :k], dtype=np.float32))[valid]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.argsort(lo * n + hi, kind="stable")  # by pair; within a pair, in row-major order
    return lo[order], hi[order], sim[order], first_of_pairs(lo[order] * n + hi[order])


def first_of_pairs(key: np.ndarray):
    """For links sorted by pair ``key``: ``keep (bool mask) -> indices of each pair's first kept link``."""
    def first(keep: np.ndarray) -> np.ndarray:
        kept = np.flatnonzero(keep)
        new = np.ones(len(kept), dtype=bool)
        new[1:] = key[kept[1:]] != key[kept[:-1]]
        return kept[new]
    return first


def split_at_rising_threshold(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray,
                              threshold: float | None, max_size: int, step: float, max_iter: int = 100) -> np.ndarray:
    """Labels (int64, n, numbered 0, 1, ... by first point): the connected components of the
    undirected graph of the edges ``src[e] -- dst[e]`` (int, E; ids in 0..n-1) with ``weight[e]``
    (float, E; e.g. a similarity) >= ``threshold``, where every component of more than ``max_size``
    points is split again, inside itself, at a rising threshold until no part exceeds ``max_size``.

    The rule of CDP's ``graph_propagation`` (XiaohangZhan/cdp, source/graph.py, lines 79-111; the
    same loop is learn-to-cluster's ``graph_clustering_dynamic_th``, proposals/graph.py, used by
    L-GCN and GCN-D's super-vertex proposals): the first round's threshold t is ``threshold`` (None:
    the smallest weight, so that every edge is used: the originals' choice); each further round sets
    t <- t + (1 - t) * ``step`` (it approaches 1, never reaches it for ``step`` < 1) and takes the
    components, at t, of the points of the components still above ``max_size``; a part of at most
    ``max_size`` points is final. The threshold is one global sequence, but since it only rises, a
    component's edges at the new t never leave it: it is the same as raising it per component. An
    edge is kept while ``weight >= t``; a part whose edges are all cut falls apart into single points.
    After ``max_iter`` raised rounds the parts still above ``max_size`` stay as they are (the
    originals then merge every remaining point, even of unrelated parts, into one cluster; here
    each part stays on its own), with a logged warning. A pair given more than once is linked while
    any of its edges is (the largest weight: pool duplicates first for another rule); self-loops
    change nothing.

    Each round is one :func:`scipy.sparse.csgraph.connected_components` call over the points of all
    oversized parts at once, on their remaining edges only (an edge cut once stays cut), and a round
    that would cut no edge only advances t: the cost is O(n + E) per round that cuts something, at
    most ``max_iter`` + 1 rounds. Raises ValueError for edge arrays of different lengths,
    ``max_size`` < 1, ``step`` outside (0, 1] or ``max_iter`` < 0.
    """
    src, dst = np.asarray(src, dtype=np.int64).ravel(), np.asarray(dst, dtype=np.int64).ravel()
    w = np.asarray(weight, dtype=np.float64).ravel()  # float32 weights promote exactly, as in the originals
    if not len(src) == len(dst) == len(w):
        raise ValueError(f"src, dst and weight must have one entry per edge, not {len(src)}, {len(dst)}, {len(w)}")
    if int(max_size) < 1 or not 0 < float(step) <= 1 or int(max_iter) < 0:
        raise ValueError(f"need max_size >= 1, 0 < step <= 1 and max_iter >= 0, not {max_size}, {step}, {max_iter}")
    if threshold is None:  # a NaN weight is never an edge (w >= t is false), nor the starting threshold
        t = float(np.nanmin(w)) if len(w) and not np.isnan(w).all() else 0.0
    else:
        t = float(threshold)
    keep = w >= t
    src, dst, w = src[keep], dst[keep], w[keep]
    labels = components(n, src, dst)
    sizes = np.bincount(labels, minlength=1)
    inside = sizes[labels] > max_size  # points of the parts still to split
    next_label = len(sizes)
    local = np.empty(n, dtype=np.int64)  # point -> index among the points being split (set where used)
    rounds = 0
    while inside.any():
        keep = inside[src]  # both ends of an edge are in one part: dst's side is the same
        src, dst, w = src[keep], dst[keep], w[keep]
        lightest = float(w.min()) if len(w) else np.inf
        cuts = False
        while rounds < max_iter and not cuts:  # rounds that cut nothing leave the parts as they are
            t = t + (1.0 - t) * float(step)
            rounds += 1
            cuts = lightest < t
        if not cuts:
            log.warning(
                "split_at_rising_threshold: %d points in parts above %d points remain after %d rounds "
                "(threshold %.6f): they are kept as they are", int(inside.sum()), max_size, rounds, t)
            break
        keep = w >= t
        src, dst, w = src[keep], dst[keep], w[keep]
        points = np.flatnonzero(inside)
        local[points] = np.arange(len(points))
        part = components(len(points), local[src], local[dst])
        part_sizes = np.bincount(part)
        labels[points] = next_label + part
        next_label += len(part_sizes)
        inside[points] = part_sizes[part] > max_size
    return renumber(labels)
