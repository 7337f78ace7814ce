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

The second iteration of the original (super-vertices: its ``proposals/generate_iter_proposals.py``
and ``super_vertex.py``, run by ``proposals/generate_proposals.py`` for the test settings of
``dsgcn/configs/cfg_test_ms1m_8_prpsls.py``) is :func:`super_vertex_proposals`: the clusters of an
iteration-0 setting (base k, th; every cluster, before the minsz filter, so also the single vertices a
split leaves; vertices in no link are in none) become super-vertices whose feature is the mean of their
members' unit features; on the exact kNN graph of those means (first ``k``, the super-vertex itself
among them) the same links, components and rising-threshold split (at most ``sv_maxsz`` super-vertices
a part) give parts; parts of fewer than ``sv_minsz`` super-vertices are dropped, each other part is a
proposal of its super-vertices' members, kept when of ``minsz`` to ``maxsz`` vertices. The similarity
of two means is their cosine (``similarity="cosine"``: the original's ``hnsw`` kNN, nmslib's
``cosinesimil``, the knn_method of cfg_test_ms1m_8_prpsls.py) or their inner product (``"inner"``: its
``faiss`` IndexFlatIP, the knn_method of generate_proposals.py's own example), the kNN exact either way.

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
from ltc.rows import unit_rows

log = logging.getLogger(__name__)

#: the rounds of the rising threshold at most (the original's ``max_iter`` of graph_clustering_dynamic_th)
MAX_ITER = 100


#: how the super-vertices' mean features are compared (:func:`super_vertex_proposals`)
SIMILARITIES = ("cosine", "inner")


@dataclass(frozen=True)
class SuperVertex:
    """The iteration-1 setting of a proposal set made by :func:`super_vertex_proposals`: ``k, th, step,
    sv_minsz, sv_maxsz, similarity`` on the super-vertices' kNN graph, and ``base_maxsz``, the maxsz of
    the iteration-0 clustering whose clusters are the super-vertices."""
    k: int
    th: float
    step: float
    sv_minsz: int
    sv_maxsz: int
    similarity: str
    base_maxsz: int


@dataclass(frozen=True)
class Proposals:
    """One proposal set: proposal p is ``members[offsets[p]:offsets[p + 1]]`` (int64 vertex ids in
    0..n-1, ascending); ``k, th, step, minsz, maxsz``: the setting that made it. For a set of the
    second iteration (``super_vertex`` set) ``k, th, step`` are those of its iteration-0 clustering (GCN-D
    links a proposal's members by their first ``k`` kNN neighbours, as the original links them by the
    iteration-0 kNN), ``minsz, maxsz`` the iteration-1 bounds on its proposals' sizes."""
    members: np.ndarray
    offsets: np.ndarray
    n: int
    k: int
    th: float
    step: float
    minsz: int
    maxsz: int
    super_vertex: SuperVertex | None = None

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
                  where: str = "methods.gcnd", name: str = "proposals", prefix: str = "") -> None:
    """Raise :class:`DataError` (one sentence naming ``where``) for a setting that cannot make
    proposals: k < 1 or above the kNN file's ``knn_k``, th outside [-1, 1], step outside (0, 1],
    minsz < 2 (a one-vertex proposal has no graph) or maxsz < minsz. ``name``: the list that holds
    the (k, th) pair, ``prefix`` its names' (``super_vertex`` and ``base_`` for an iteration-1 setting's base)."""
    if int(k) < 1 or (knn_k is not None and int(k) > knn_k):
        bound = f"at most the kNN file's {knn_k} neighbours" if knn_k is not None else "positive"
        raise DataError(f"{where}.{name} has {prefix}k = {k}, which must be {bound}: lower it or raise knn.k.")
    if not -1 <= float(th) <= 1:
        raise DataError(f"{where}.{name} has {prefix}th = {th}, not a cosine similarity in [-1, 1]: set it to one, "
                        f"e.g. 0.7.")
    if not 0 < float(step) <= 1:
        raise DataError(f"{where}.step is {step}: set it in (0, 1], e.g. the original's 0.05.")
    if int(minsz) < 2 or int(maxsz) < int(minsz):
        raise DataError(f"{where}.minsz is {minsz} and maxsz {maxsz}: need 2 <= minsz <= maxsz "
                        f"(the original's 3 and 300).")


def check_super_vertex(k: int, sv_maxsz: int, th: float = 0.4, step: float = 0.05, sv_minsz: int = 2,
                       minsz: int = 3, maxsz: int = 500, similarity: str = "cosine",
                       where: str = "methods.gcnd") -> None:
    """Raise :class:`DataError` (one sentence naming the setting under ``where``) for an iteration-1
    setting (:func:`super_vertex_proposals`) that cannot make proposals: k < 1, sv_minsz < 2 (a part
    of one super-vertex repeats an iteration-0 cluster; the original asserts it too), sv_maxsz <
    sv_minsz, th outside [-1, 1], step outside (0, 1], minsz < 2 or maxsz < minsz, or a similarity
    not in :data:`SIMILARITIES`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"{where}.super_vertex has k = {k!r}, the super-vertices' kNN neighbours (the super-vertex "
                        f"itself among them): set it to a whole number of at least 1, e.g. the original's 2 or 3.")
    if isinstance(sv_minsz, bool) or not isinstance(sv_minsz, (int, np.integer)) or sv_minsz < 2:
        raise DataError(f"{where}.sv.sv_minsz is {sv_minsz!r}: set it to 2 or more (a part of one super-vertex only "
                        f"repeats an iteration-0 cluster), e.g. the original's 2.")
    if isinstance(sv_maxsz, bool) or not isinstance(sv_maxsz, (int, np.integer)) or sv_maxsz < sv_minsz:
        raise DataError(f"{where}.super_vertex has sv_maxsz = {sv_maxsz!r}, below sv.sv_minsz {sv_minsz}: set it to "
                        f"at least {sv_minsz}, e.g. the original's 5 or 8.")
    if not -1 <= float(th) <= 1:
        raise DataError(f"{where}.sv.th is {th}, not a similarity in [-1, 1]: set it to one, e.g. the original's 0.4.")
    if not 0 < float(step) <= 1:
        raise DataError(f"{where}.sv.step is {step}: set it in (0, 1], e.g. the original's 0.05.")
    if int(minsz) < 2 or int(maxsz) < int(minsz):
        raise DataError(f"{where}.sv.minsz is {minsz} and sv.maxsz {maxsz}: need 2 <= minsz <= maxsz (the original's "
                        f"3 and 500).")
    if similarity not in SIMILARITIES:
        raise DataError(f"{where}.sv.similarity is {similarity!r}: set it to cosine or inner.")


#: the kinds of a derived threshold (the letter of a ``"q0.8"``-style th): a quantile of the first-k kNN
#: links' similarities, or the recall of the same-identity ones among them
DERIVED = {"q": "quantile of the first-k kNN links' similarities", "r": "recall of the same-identity first-k links"}


def derived_spec(th, name: str = "proposals", prefix: str = "") -> tuple[str, float] | None:
    """``(kind, level)`` of a derived threshold such as ``"q0.8"`` or ``"r0.5"`` (kind a key of
    :data:`DERIVED`, level in [0, 1]), or None for a number. Raises :class:`DataError` for any other
    string (naming ``methods.gcnd.<name>``, the list that holds it, and ``<prefix>th``)."""
    if not isinstance(th, str):
        return None
    kind, level = th[:1], th[1:]
    try:
        value = float(level)
    except ValueError:
        value = math.nan
    if kind not in DERIVED or not 0 <= value <= 1 or level.strip() != level:
        raise DataError(f"methods.gcnd.{name} has {prefix}th = {th!r}: give a cosine similarity (e.g. 0.7) or a "
                        f"threshold derived from the train split, q<level> (a quantile of its kNN links' similarities) or "
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


def linked_clustering(n: int, src: np.ndarray, dst: np.ndarray, sims: np.ndarray, maxsz: int, step: float,
                      max_iter: int = MAX_ITER) -> np.ndarray:
    """Labels (int64, n; -1 for a vertex in no link) of the components of the links ``src -- dst``
    (int, E) with similarity ``sims`` (float, E), those above ``maxsz`` vertices split at a rising
    threshold from the smallest similarity (:func:`ltc.graph.split_at_rising_threshold`, the
    original's ``graph_clustering_dynamic_th``, whose clusters are the vertices of its links only);
    the clusters are numbered 0, 1, ... by their first linked vertex, the single vertices a split
    leaves included."""
    labels = split_at_rising_threshold(n, src, dst, sims, None, maxsz, step, max_iter)
    linked = np.zeros(n, dtype=bool)
    linked[src], linked[dst] = True, True
    _, labels[linked] = np.unique(labels[linked], return_inverse=True)  # renumbered: first linked vertex first
    labels[~linked] = -1
    return labels


def grouped(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(members, offsets), both int64, of the groups of ``labels`` (int, N; -1: in none): the vertices
    of each group ascending, the groups in the order of their first vertex (:class:`Proposals`' layout)."""
    vertices = np.flatnonzero(labels >= 0)
    _, first, inverse = np.unique(labels[vertices], return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    group = rank[inverse]
    members = vertices[np.argsort(group, kind="stable")]  # by group, ascending ids within each
    offsets = np.r_[0, np.cumsum(np.bincount(group, minlength=len(first)))].astype(np.int64)
    return members.astype(np.int64), offsets


def _log_set(what: str, found: Proposals) -> None:
    log.info("%s: %d proposals over %d of %d vertices (sizes %s)", what, len(found), len(found.members), found.n,
             f"{found.sizes.min()}-{found.sizes.max()}" if len(found) else "none")


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
    labels = linked_clustering(n, *proposal_links(ids, dists, k, th), maxsz, step, max_iter)
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    labels[(labels >= 0) & (sizes[np.maximum(labels, 0)] < minsz)] = -1
    found = Proposals(*grouped(labels), n, int(k), float(th), float(step), int(minsz), int(maxsz))
    _log_set(f"proposals k={k} th={th:g}", found)
    return found


def super_vertex_means(feats: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """The feature of each super-vertex (float32, S x D, S = clusters.max() + 1): the mean of its
    members' L2-normalised rows of ``feats`` (N x D; an array or a memory map, normalised block by
    block), not normalised again (the original's ``feats[c].mean(axis=0)`` of its normalised features).
    ``clusters``: int, N, each vertex's super-vertex, -1 for none. One sparse product, no loop."""
    from scipy import sparse

    inside = np.flatnonzero(clusters >= 0)
    count = int(clusters.max(initial=-1)) + 1
    sizes = np.bincount(clusters[inside], minlength=count).astype(np.float32)
    weights = sparse.csr_matrix((1.0 / sizes[clusters[inside]], (clusters[inside], inside)), shape=(count, len(feats)),
                                dtype=np.float32)
    return np.asarray(weights @ unit_rows(feats), dtype=np.float32)


def super_vertex_proposals(ids: np.ndarray, dists: np.ndarray, feats: np.ndarray, base_k: int, base_th: float,
                           k: int, sv_maxsz: int, *, base_step: float = 0.05, base_maxsz: int = 300, th: float = 0.4,
                           step: float = 0.05, sv_minsz: int = 2, minsz: int = 3, maxsz: int = 500,
                           similarity: str = "cosine", max_iter: int = MAX_ITER) -> Proposals:
    """The proposals of the original's second iteration (super-vertices; module docstring) of one
    setting, on a split's kNN graph (``ids`` int N x K, -1 missing; ``dists`` float32 N x K, ``1 -
    cosine``) and features (``feats`` N x D float32, normalised here):

    1. the iteration-0 clustering of ``base_k``, ``base_th`` (a cosine; a derived th resolved by the
       caller), ``base_step``, ``base_maxsz`` (:func:`linked_clustering`), every cluster a super-vertex;
    2. their mean features (:func:`super_vertex_means`) and their exact kNN graph (first ``k``, by
       ``similarity``: cosine, or inner product of the means; :func:`ltc.knn.exact_search`), as the
       original's a float32 similarity stored as the distance ``1 - s`` and read back;
    3. links of each super-vertex to its first ``k`` with similarity >= ``th`` (:func:`proposal_links`),
       components, split at a rising threshold (``step``) until no part has more than ``sv_maxsz``
       super-vertices; parts of fewer than ``sv_minsz`` super-vertices dropped;
    4. each part a proposal of its super-vertices' members, kept when of ``minsz`` to ``maxsz`` vertices.

    Returns a :class:`Proposals` (numbered by first vertex, members ascending) whose ``k, th, step`` are
    the base setting's and ``super_vertex`` the iteration-1 setting. Raises :class:`DataError` for a
    base setting :func:`check_setting` refuses, an iteration-1 setting :func:`check_super_vertex`
    refuses, or features of another row count than the kNN graph."""
    from ltc.knn import exact_search

    n = len(ids)
    check_setting(base_k, base_th, base_step, 2, base_maxsz, ids.shape[1] if ids.ndim == 2 else 0,
                  name="super_vertex", prefix="base_")
    check_super_vertex(k, sv_maxsz, th, step, sv_minsz, minsz, maxsz, similarity)
    if len(feats) != n:
        raise DataError(f"There are {len(feats)} feature rows for a kNN graph of {n} rows: give the features of the "
                        f"split the kNN graph is of.")
    clusters = linked_clustering(n, *proposal_links(ids, dists, base_k, base_th), base_maxsz, base_step, max_iter)
    means = super_vertex_means(feats, clusters)
    count = len(means)
    if count:
        # exact_search compares its ``unit`` rows as given: the means themselves for the inner product
        sv_ids, sv_sims = exact_search(means, k, progress=False, unit=means if similarity == "inner" else None)
        part = linked_clustering(count, *proposal_links(sv_ids, 1.0 - sv_sims, k, th), sv_maxsz, step, max_iter)
        parts = np.bincount(part[part >= 0], minlength=1)
        part[(part >= 0) & (parts[np.maximum(part, 0)] < sv_minsz)] = -1
        labels = np.where(clusters >= 0, part[np.maximum(clusters, 0)], -1)
    else:
        labels = np.full(n, -1, dtype=np.int64)
    sizes = np.bincount(labels[labels >= 0], minlength=1)
    size = sizes[np.maximum(labels, 0)]
    labels[(labels >= 0) & ((size < minsz) | (size > maxsz))] = -1
    setting = SuperVertex(int(k), float(th), float(step), int(sv_minsz), int(sv_maxsz), similarity, int(base_maxsz))
    found = Proposals(*grouped(labels), n, int(base_k), float(base_th), float(base_step), int(minsz), int(maxsz),
                      setting)
    _log_set(f"super-vertex proposals k={k} sv_maxsz={sv_maxsz} of {count} super-vertices (k={base_k} "
             f"th={base_th:g})", found)
    return found


def save(path: str | os.PathLike, proposals: Proposals) -> None:
    """Write a proposal set as ``.npz`` (members, offsets, n and the setting), atomically."""
    p = proposals
    sv = {f"sv_{key}": value for key, value in vars(p.super_vertex).items()} if p.super_vertex else {}
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, members=p.members.astype(np.int64), offsets=p.offsets.astype(np.int64), n=p.n, k=p.k, th=p.th,
                 step=p.step, minsz=p.minsz, maxsz=p.maxsz, **sv)


def load(path: str | os.PathLike, n: int | None = None) -> Proposals:
    """A proposal set written by :func:`save`, checked (offsets rising from 0 to len(members),
    members in 0..n-1, of ``n`` vertices if given). Raises :class:`DataError` naming the file."""
    fix = "delete it so that the workflow remakes it"
    try:
        with np.load(path) as z:
            sv = None
            if "sv_k" in z.files:  # a set of the second iteration
                sv = SuperVertex(int(z["sv_k"]), float(z["sv_th"]), float(z["sv_step"]), int(z["sv_sv_minsz"]),
                                 int(z["sv_sv_maxsz"]), str(z["sv_similarity"]), int(z["sv_base_maxsz"]))
            p = Proposals(z["members"].astype(np.int64), z["offsets"].astype(np.int64), int(z["n"]), int(z["k"]),
                          float(z["th"]), float(z["step"]), int(z["minsz"]), int(z["maxsz"]), sv)
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
