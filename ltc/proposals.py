"""Cluster proposals on a kNN graph (Yang et al., "Learning to Cluster Faces on an Affinity Graph",
CVPR 2019; the original project's ``proposals/``), the input of GCN-D (:mod:`ltc.gcnd`).

One setting (k, th) gives one set of proposals: the links of each vertex to its first ``k`` kNN
neighbours with cosine similarity >= ``th`` (self-links and missing neighbours dropped, each
unordered pair once: the original's ``utils/knn.py`` ``filter_knns``), their connected components,
every component of more than ``maxsz`` vertices split again at a rising threshold until no part
exceeds ``maxsz`` (:func:`ltc.graph.split_at_rising_threshold`, the loop of the original's
``proposals/graph.py`` ``graph_clustering_dynamic_th``: its first threshold is the smallest kept
similarity and each round sets t <- t + (1 - t) * step), and the parts of fewer than ``minsz``
vertices dropped (its ``filter_clusters``). Several settings give overlapping multi-scale proposals.

A set of proposals is stored CSR-like (:class:`Proposals`): ``members`` (int64, every proposal's
vertex ids, ascending within a proposal) and ``offsets`` (int64, P + 1: proposal p is
``members[offsets[p]:offsets[p + 1]]``), with the setting that made it and the vertex count ``n``.
The optional second iteration of the original (super-vertices) is not implemented.

A setting's th may be derived per dataset from the labelled train split (:func:`derive_threshold`,
ours: the original hand-tunes th for MS1M and those values do not transfer to other embeddings):
``"q0.8"`` is the 0.8-quantile of the similarities of the split's first-k kNN links (each unordered
pair once, as the proposals count them; no labels needed), ``"r0.5"`` the similarity above which
half of its same-identity first-k links lie (their 0.5 recall; labels needed).
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.graph import knn_pairs, split_at_rising_threshold
from ltc.io import atomic_output

log = logging.getLogger(__name__)

#: the rounds of the rising threshold at most (the original's ``max_iter`` of graph_clustering_dynamic_th)
MAX_ITER = 100


@dataclass(frozen=True)
class Proposals:
    """One proposal set: proposal p is ``members[offsets[p]:offsets[p + 1]]`` (int64 vertex ids in
    0..n-1, ascending); ``k, th, step, minsz, maxsz``: the setting that made it."""
    members: np.ndarray
    offsets: np.ndarray
    n: int
    k: int
    th: float
    step: float
    minsz: int
    maxsz: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def sizes(self) -> np.ndarray:
        """Members per proposal (int64, P)."""
        return np.diff(self.offsets)

    @property
    def owner(self) -> np.ndarray:
        """The proposal of each entry of ``members`` (int64, len(members))."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.sizes)

    def proposal(self, p: int) -> np.ndarray:
        return self.members[self.offsets[p]:self.offsets[p + 1]]


def check_setting(k: int, th: float, step: float, minsz: int, maxsz: int, knn_k: int | None = None,
                  where: str = "methods.gcnd") -> None:
    """Raise :class:`DataError` (one sentence naming ``where``) for a setting that cannot make
    proposals: k < 1 or above the kNN file's ``knn_k``, th outside [-1, 1], step outside (0, 1],
    minsz < 2 (a one-vertex proposal has no graph) or maxsz < minsz."""
    if int(k) < 1 or (knn_k is not None and int(k) > knn_k):
        bound = f"at most the kNN file's {knn_k} neighbours" if knn_k is not None else "positive"
        raise DataError(f"{where}.proposals has k = {k}, which must be {bound}: lower it or raise knn.k.")
    if not -1 <= float(th) <= 1:
        raise DataError(f"{where}.proposals has th = {th}, not a cosine similarity in [-1, 1]: set it to one, e.g. 0.7.")
    if not 0 < float(step) <= 1:
        raise DataError(f"{where}.step is {step}: set it in (0, 1], e.g. the original's 0.05.")
    if int(minsz) < 2 or int(maxsz) < int(minsz):
        raise DataError(f"{where}.minsz is {minsz} and maxsz {maxsz}: need 2 <= minsz <= maxsz "
                        f"(the original's 3 and 300).")


#: the kinds of a derived threshold (the letter of a ``"q0.8"``-style th): a quantile of the first-k kNN
#: links' similarities, or the recall of the same-identity ones among them
DERIVED = {"q": "quantile of the first-k kNN links' similarities", "r": "recall of the same-identity first-k links"}


def derived_spec(th) -> tuple[str, float] | None:
    """``(kind, level)`` of a derived threshold such as ``"q0.8"`` or ``"r0.5"`` (kind a key of
    :data:`DERIVED`, level in [0, 1]), or None for a number. Raises :class:`DataError` for any other
    string."""
    if not isinstance(th, str):
        return None
    kind, level = th[:1], th[1:]
    try:
        value = float(level)
    except ValueError:
        value = math.nan
    if kind not in DERIVED or not 0 <= value <= 1 or level.strip() != level:
        raise DataError(f"methods.gcnd.proposals has th = {th!r}: give a cosine similarity (e.g. 0.7) or a threshold "
                        f"derived from the train split, q<level> (a quantile of its kNN links' similarities) or "
                        f"r<level> (the recall of its same-identity links), level in [0, 1], e.g. 'q0.8' or 'r0.5'.")
    return kind, value


def derive_threshold(ids: np.ndarray, dists: np.ndarray, k: int, th: str, labels: np.ndarray | None = None) -> float:
    """The cosine threshold (float) that a derived ``th`` (:func:`derived_spec`) names on a split's kNN
    graph (``ids``/``dists`` N x K as :func:`basic_proposals`; ``labels`` int, N, needed for ``r``):
    over its first-``k`` links, each unordered pair once with the similarity of its first occurrence
    (:func:`proposal_links` with no threshold), ``q<l>`` is ``numpy.quantile(similarities, l)`` (linear
    interpolation) and ``r<l>`` is ``numpy.quantile(same-identity similarities, 1 - l)``, so links
    >= it keep the fraction l of those. Computed in float64 from the file's float32. Raises
    :class:`DataError` for a bad spec, missing labels for ``r``, or no (same-identity) links."""
    kind, level = derived_spec(th)
    src, dst, sims = proposal_links(ids, dists, k, -math.inf)
    if kind == "q":
        if not len(sims):
            raise DataError(f"The train split has no kNN links, so th {th!r} of methods.gcnd.proposals cannot be "
                            f"derived: give a number instead.")
        return float(np.quantile(sims, level))
    if labels is None:
        raise DataError(f"th {th!r} of methods.gcnd.proposals needs the train split's labels (the recall of its "
                        f"same-identity links): give the split labels, or use a q<level> or numeric th.")
    labels = np.asarray(labels)
    if len(labels) != len(ids):
        raise DataError(f"There are {len(labels)} labels for a kNN graph of {len(ids)} rows: give one label per "
                        f"feature row of the train split.")
    same = sims[labels[src] == labels[dst]]
    if not len(same):
        raise DataError(f"The train split has no kNN link between two faces of one identity, so th {th!r} of "
                        f"methods.gcnd.proposals cannot be derived: give a number or a q<level> instead.")
    return float(np.quantile(same, 1.0 - level))


def read_threshold(path: str | os.PathLike, k: int, th: str) -> float:
    """The cosine that a derived ``th`` names for ``k`` in a threshold file of the workflow
    (``results/<ds>/gcnd/thresholds.json``: ``{"thresholds": [{"k", "th", "value"}, ...]}``). Raises
    :class:`DataError` naming the file when it is unreadable or lacks the setting."""
    try:
        rows = json.loads(Path(path).read_text())["thresholds"]
        match = [float(row["value"]) for row in rows if row["k"] == k and row["th"] == th]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"Threshold file {path} is not a readable threshold list ({type(err).__name__}): delete it so "
                        f"that the workflow remakes it.") from None
    if not match:
        raise DataError(f"Threshold file {path} has no th {th!r} for k {k}: delete it so that the workflow remakes it.")
    return match[0]


def proposal_links(ids: np.ndarray, dists: np.ndarray, k: int, th: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(src, dst, similarity) of the links of each vertex to its first ``k`` neighbours with cosine
    similarity >= ``th`` (int64, int64, float64; self-links and missing ids -1 dropped), each
    unordered pair once (src < dst) with the similarity of its first occurrence in row order, as the
    original's ``filter_knns`` (:func:`ltc.graph.knn_pairs`). The similarity is ``1 - dist`` in the kNN
    file's float32, compared with ``th`` in float64 (as the original does), so a th such as 0.7 cuts
    where it does there."""
    lo, hi, sim, first = knn_pairs(ids, dists, k)
    sims = sim.astype(np.float64)
    keep = first(sims >= float(th))
    return lo[keep], hi[keep], sims[keep]


def basic_proposals(ids: np.ndarray, dists: np.ndarray, k: int, th: float, step: float = 0.05, minsz: int = 3,
                    maxsz: int = 300, max_iter: int = MAX_ITER) -> Proposals:
    """The proposals of one setting on a kNN graph (``ids`` int N x K, -1 missing; ``dists`` float
    N x K cosine distances ``1 - similarity``; k <= K): see the module docstring. Vertices in no link
    are in no proposal. Proposals are numbered by their first vertex; members ascending.

    Where the rising threshold still leaves a part above ``maxsz`` after ``max_iter`` rounds, that
    part is kept as it is (the original would merge all such leftovers into one proposal).
    Raises :class:`DataError` for a setting :func:`check_setting` refuses."""
    n = len(ids)
    check_setting(k, th, step, minsz, maxsz, ids.shape[1] if ids.ndim == 2 else 0)
    src, dst, sims = proposal_links(ids, dists, k, th)
    labels = split_at_rising_threshold(n, src, dst, sims, None, maxsz, step, max_iter)
    linked = np.zeros(n, dtype=bool)
    linked[src], linked[dst] = True, True
    sizes = np.bincount(labels[linked], minlength=int(labels.max(initial=-1)) + 1)
    keep = linked & (sizes[labels] >= minsz)
    vertices = np.flatnonzero(keep)
    order = np.argsort(labels[vertices], kind="stable")  # by proposal, ascending ids within each
    members = vertices[order]
    kept_labels = labels[members]
    starts = np.flatnonzero(np.r_[True, kept_labels[1:] != kept_labels[:-1]]) if len(members) else np.empty(0, int)
    offsets = np.r_[starts, len(members)].astype(np.int64)
    found = Proposals(members.astype(np.int64), offsets, n, int(k), float(th), float(step), int(minsz), int(maxsz))
    log.info("proposals k=%d th=%g: %d proposals over %d of %d vertices (sizes %s)", k, th, len(found),
             len(members), n, f"{found.sizes.min()}-{found.sizes.max()}" if len(found) else "none")
    return found


def save(path: str | os.PathLike, proposals: Proposals) -> None:
    """Write a proposal set as ``.npz`` (members, offsets, n and the setting), atomically."""
    p = proposals
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, members=p.members.astype(np.int64), offsets=p.offsets.astype(np.int64), n=p.n, k=p.k, th=p.th,
                 step=p.step, minsz=p.minsz, maxsz=p.maxsz)


def load(path: str | os.PathLike, n: int | None = None) -> Proposals:
    """A proposal set written by :func:`save`, checked (offsets rising from 0 to len(members),
    members in 0..n-1, of ``n`` vertices if given). Raises :class:`DataError` naming the file."""
    fix = "delete it so that the workflow remakes it"
    try:
        with np.load(path) as z:
            p = Proposals(z["members"].astype(np.int64), z["offsets"].astype(np.int64), int(z["n"]), int(z["k"]),
                          float(z["th"]), float(z["step"]), int(z["minsz"]), int(z["maxsz"]))
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"Proposal file {path} is not a readable proposal set ({type(err).__name__}): {fix}.") from None
    ok = (len(p.offsets) >= 1 and p.offsets[0] == 0 and p.offsets[-1] == len(p.members)
          and (np.diff(p.offsets) > 0).all() and (len(p.members) == 0 or (p.members.min() >= 0 and p.members.max() < p.n)))
    if not ok:
        raise DataError(f"Proposal file {path} has inconsistent members and offsets: {fix}.")
    if n is not None and p.n != n:
        raise DataError(f"Proposal file {path} is of {p.n} vertices but the split has {n}: {fix}.")
    return p


def concatenate(sets: list[Proposals]) -> Proposals:
    """The proposals of several settings as one set (in the given order; the setting fields are the
    first set's, ``k`` the largest: GCN-D reads each set's own k through :func:`ltc.gcnd.batches`)."""
    if not sets:
        raise ValueError("no proposal sets to concatenate")
    members = np.concatenate([s.members for s in sets])
    offsets = np.concatenate([[0]] + [s.offsets[1:] + base for s, base in
                                      zip(sets, np.cumsum([0] + [len(s.members) for s in sets[:-1]]))])
    first = sets[0]
    return Proposals(members, offsets.astype(np.int64), first.n, max(s.k for s in sets), first.th, first.step,
                     first.minsz, first.maxsz)
