"""Approximate Rank-Order clustering (Otto, Wang and Jain, "Clustering millions of faces by
identity", TPAMI 2018): the original project's ``Approx Rank Order (k=80, th=0)`` baseline.

Each point's kNN list (K entries, itself first, rank 0) ranks its neighbours. For a pair a, b that
are in each other's lists, with b at rank O_a(b) in a's list and a at rank O_b(a) in b's:

    d(a, b) = #{ r = 1 .. O_a(b) : the neighbour of a at rank r is not in b's list }
    D(a, b) = (d(a, b) + d(b, a)) / min(O_a(b), O_b(a))

(the neighbour at rank O_a(b) is b itself, always in b's list). Pairs not in each other's lists
are never linked. Pairs with ``D <= 1 - th_sim`` are linked and the clusters are the connected
components (the original's parameterisation: ``th=0`` links D <= 1). The original code divides by
min(O_a(b), O_b(a) + 1), an off-by-one; this follows the paper.

Vectorised over the pairs, in batches: each list is sorted by id once; for each pair the two sorted
lists are merged (2K values), equal neighbours fall side by side, which marks every neighbour of a
that is in b's list and vice versa; prefix sums of the unmarked ones give d(a, b) and d(b, a).
O(N K^2) time, O(N K) memory.
"""
from __future__ import annotations

from dataclasses import dataclass
import logging
from collections.abc import Callable

import numpy as np
from scipy import sparse

from ltc.graph import components
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class Params:
    """Settings of aro (config ``methods.aro``)."""
    th_sim: float | str = setting("auto", "mutual kNN pairs with rank-order distance <= 1 - th_sim are linked "
                                          "(original: 0); 'auto': chosen on the labelled train split", example=0.0)

log = logging.getLogger(__name__)


def code_bits(k: int) -> int:
    """Bits of (side, rank) in a code: ranks 0 .. k-1 plus one bit for the side."""
    return int(k - 1).bit_length() + 1


def encoded_lists(ids: np.ndarray, side: int) -> np.ndarray:
    """Each row of ``ids`` (N x K) as sorted codes ``id << B | side << (B-1) | rank``: sorting a pair's
    two rows together puts equal ids side by side and still tells which list and rank each came from.
    Missing neighbours (-1) get ids above N that never match (different for the two sides)."""
    n, k = ids.shape
    bits = code_bits(k)
    cols = np.arange(k)
    ident = np.where(ids >= 0, ids, n + side * k + cols)
    return np.sort((ident << bits) | (side << (bits - 1)) | cols, axis=1)


def shared_members(a_codes: np.ndarray, b_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For E pairs of lists, given as :func:`encoded_lists` rows of side 0 and side 1 (E x K each):
    (a_in_b, b_in_a), E x K booleans by rank, whether each entry of one list is in the other's."""
    k = a_codes.shape[1]
    bits = code_bits(k)
    codes = np.concatenate([a_codes, b_codes], axis=1)
    codes.sort(axis=1, kind="stable")  # two sorted runs: a linear merge
    ident = codes >> bits
    same = ident[:, 1:] == ident[:, :-1]
    matched = np.zeros(codes.shape, dtype=bool)
    matched[:, 1:] |= same
    matched[:, :-1] |= same
    member = np.empty((len(codes), 2 << (bits - 1)), dtype=bool)
    slot = codes & ((1 << bits) - 1)  # side << (B-1) | rank
    np.put_along_axis(member, slot, matched, axis=1)  # back to (side, rank) order
    half = 1 << (bits - 1)
    return member[:, :k], member[:, half:half + k]


def rank_order_distances(ids: np.ndarray, batch_size: int = 32768
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, D): every pair a < b in each other's kNN lists and its approximate rank-order distance
    (int64, int64, float64; empty when there is no such pair). ``ids``: N x K neighbour ids (int, -1
    missing, e.g. the padding of a kNN file with K > N), each row sorted, the point itself first."""
    n, k = ids.shape
    rows = np.broadcast_to(np.arange(n)[:, None], ids.shape)
    ranks = np.broadcast_to(np.arange(k)[None, :], ids.shape)
    listed = ids >= 0
    # rank_of[x, y] = 1 + rank of y in x's list (0: not listed)
    rank_of = sparse.csr_matrix(((ranks + 1)[listed], (rows[listed], ids[listed])), shape=(n, n))
    pick = listed & (ids > rows)  # each pair once, from its smaller end
    a, b, rank_ab = rows[pick], ids[pick], ranks[pick]
    if not len(a):  # no pair at all (N = 1, or only the points themselves listed)
        return a, b, np.zeros(0)
    rank_ba = np.asarray(rank_of[b, a]).ravel() - 1
    mutual = rank_ba >= 0
    a, b, rank_ab, rank_ba = a[mutual], b[mutual], rank_ab[mutual], rank_ba[mutual]
    a_codes, b_codes = encoded_lists(ids, 0), encoded_lists(ids, 1)
    dist = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), batch_size):
        s = slice(start, start + batch_size)
        a_in_b, b_in_a = shared_members(a_codes[a[s]], b_codes[b[s]])
        # d(a, b): a's neighbours at ranks 1 .. O_a(b) that b's list lacks (rank 0 is a itself)
        missing_ab = np.cumsum(~a_in_b, axis=1)
        missing_ba = np.cumsum(~b_in_a, axis=1)
        e = np.arange(len(a_in_b))
        d_ab = missing_ab[e, rank_ab[s]] - missing_ab[:, 0]
        d_ba = missing_ba[e, rank_ba[s]] - missing_ba[:, 0]
        dist[s] = (d_ab + d_ba) / np.maximum(np.minimum(rank_ab[s], rank_ba[s]), 1)
    return a, b, dist


def sweeper(ids: np.ndarray) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(th_sim -> labels, 1 - D of every mutual pair): rank-order distances computed once."""
    n = len(ids)
    if n > 1 and (ids >= 0).sum(axis=1).min() >= n:
        log.warning("aro: every kNN list holds all %d points (K >= N), so every pair has rank-order distance 0 "
                    "and any th_sim <= 1 links them all: ARO needs knn.k below the number of points", n)
    a, b, dist = rank_order_distances(ids)
    score = 1.0 - dist
    def labels(t: float) -> np.ndarray:
        keep = score >= t
        return components(n, a[keep], b[keep])

    return labels, score


def cluster(ids: np.ndarray, th_sim: float) -> np.ndarray:
    """Labels (int64, N) of approximate rank-order clustering of the kNN lists ``ids`` (N x K,
    sorted, itself first): pairs with rank-order distance <= 1 - ``th_sim`` are linked."""
    return sweeper(ids)[0](th_sim)


METHOD = Method(
    "aro", Params, "approximate rank-order clustering of the kNN lists", reads=frozenset({"knn"}), threshold="th_sim",
    sweeper=lambda p, d: sweeper(d.ids))
