"""Incremental clustering: give new faces the clusters of an existing run, without clustering again.

The new faces (M x D) are searched against the clustered set (N x D) with the run's own kNN search:
exact (``flat``), or the saved ``ivf`` / ``hnsw`` index of the run's test split with the new rows
added to it (ivf: each new row goes to its nearest cells of the saved centroids; no re-training, no
new search of the N old rows). Each new face gets its k nearest neighbours among old and new faces,
the same k as the run's kNN. Then (:func:`assign`), on a graph whose nodes are the existing clusters
and the new faces:

* ``links`` (the method's own linking rule, where it has one: knn_cc, and fast_hac with single
  linkage, whose cut distance d is the cosine 1 - d^2/2): a new face is linked to every existing
  cluster holding one of its neighbours of cosine >= the method's threshold, and to every new face
  among its neighbours above it;
* ``nearest`` (every other method, GCN-V and GCN-E included): a new face is linked only to the
  cluster of its most similar old neighbour, if that cosine is >= a threshold chosen on the labelled
  train split (:func:`choose_threshold`) or given; new faces are linked to each other as above.

New faces that reach no existing cluster form new clusters (the connected components of their links:
two close new faces far from all old ones become one new cluster). With ``merge: false`` (the default)
existing clusters are never changed: a new face reaching several takes the one it is nearest to along
its links (multi-source Dijkstra over 1 - cosine), and the count of such "bridges" is reported. With
``merge: true`` the clusters joined through new faces are merged (the existing items' labels after
assignment are written separately; the run's own files are never touched).

Equality with a full rerun (knn_cc, exact kNN, ``merge: true``): knn_cc's clusters are the components
of the kNN links >= t. On the union, the links of the new faces are exactly what is computed here, and
the old faces' links among themselves are those of the run, as long as no face has k or more
neighbours of cosine >= t (then every such pair is a kNN link both ways, and adding faces displaces
no link above t). Under that condition the partitions are identical (tests/test_assign.py); otherwise
(a new face displacing an old one's k-th link above t, or an old face whose k nearest would now
include a new face that does not list it) they may drift, as they do for ``merge: false`` wherever a
new face bridges two clusters. GCN-V's own rule (a GCN-estimated confidence per face, a link to the
nearest more confident neighbour above tau_0) would need the model run on the new faces'
neighbourhoods, which also changes old faces' confidences; it is not claimed here: GCN-V runs get the
``nearest`` rule, and benchmarks/bench_assign.py measures the drift against a full rerun.

Units: features any scale (rows are L2-normalised), similarities are cosines; labels int64.
Importing this module is light (numpy only); the search imports faiss and torch when it runs.
``ltc.assign(...)`` is :func:`ltc.api.assign`, which runs this module's code.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ltc import DataError
from ltc.settings import setting

log = logging.getLogger(__name__)

RULES = ("links", "nearest")


@dataclass(frozen=True)
class Settings:
    """Assignment settings (config ``datasets.<ds>.new``, besides its files)."""
    threshold: float | str = setting("auto", "nearest rule: a new face joins the cluster of its most similar old "
                                             "neighbour if their cosine is >= this; 'auto': chosen on the labelled "
                                             "train split (methods with a linking rule use their own threshold)")
    merge: bool = setting(False, "let new faces that link two existing clusters merge them (a full rerun's "
                                 "result for knn_cc); false: existing clusters never change")
    holdout: float = setting(0.1, "'auto' threshold: fraction of the train faces held out as new ones (half as "
                                  "whole identities, half as faces of the others)")
    seed: int = setting(0, "seed of the held-out train faces")


DEFAULTS = Settings()


def link_rule(method: str, settings: Mapping | None = None) -> tuple[str, callable] | None:
    """(threshold setting name, value -> cosine) of a method whose clusters are the components of its
    kNN links above a cosine (knn_cc; fast_hac with single linkage), or None for any other method."""
    settings = settings or {}
    if method == "knn_cc":
        return "threshold", float
    if method == "fast_hac" and settings.get("linkage", "single") == "single":
        return "distance", lambda d: 1.0 - float(d) ** 2 / 2.0  # Euclidean distance of unit rows -> cosine
    return None


@dataclass
class Assignment:
    """The result of :func:`assign`.

    ``labels``: (M,) int64, each new face's cluster in the existing labels' numbering; new clusters are
    numbered from the largest existing label + 1 on, in order of their first new face. ``old_labels``:
    (N,) int64, the existing items' labels after assignment (the given ones unless ``merge``).
    ``joined``: (M,) bool, the new face joined an existing cluster. ``bridges``: components of the
    new faces' links that reach two or more existing clusters. ``merged``: existing clusters absorbed
    into another (``merge`` only).
    """
    labels: np.ndarray
    old_labels: np.ndarray
    joined: np.ndarray
    bridges: int
    merged: int
    info: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-able counts of the assignment."""
        new = ~self.joined
        return {**self.info, "n_old": int(len(self.old_labels)), "n_new": int(len(self.labels)),
                "joined_existing": int(self.joined.sum()),
                "new_clusters": int(len(np.unique(self.labels[new]))), "faces_in_new_clusters": int(new.sum()),
                "bridges": int(self.bridges), "merged_clusters": int(self.merged)}


def _edges(n_old: int, old_cluster: np.ndarray, ids: np.ndarray, dists: np.ndarray, threshold: float, rule: str):
    """(new face, cluster node, weight) and (new face, new face, weight) links above ``threshold``."""
    m = len(ids)
    rows = np.broadcast_to(np.arange(m)[:, None], ids.shape)
    sims = 1.0 - dists.astype(np.float64)
    keep = (ids >= 0) & (sims >= threshold) & (ids != n_old + rows)
    to_old = keep & (ids < n_old)
    if rule == "nearest":  # rows are sorted by distance: the first old link is the most similar one
        first = np.argmax(to_old, axis=1)
        to_old = np.zeros_like(to_old)
        has = keep[np.arange(m), first] & (ids[np.arange(m), first] < n_old)
        to_old[np.flatnonzero(has), first[has]] = True
    to_new = keep & (ids >= n_old)
    weight = np.maximum(1.0 - sims, 0.0) + 1e-9  # Dijkstra lengths: 1 - cosine, never zero (no edge in scipy)
    return ((rows[to_old], old_cluster[ids[to_old]], weight[to_old]),
            (rows[to_new], ids[to_new] - n_old, weight[to_new]))


def assign(old_labels: np.ndarray, ids: np.ndarray, dists: np.ndarray, threshold: float, *,
           rule: str = "links", merge: bool = False) -> Assignment:
    """Clusters of M new faces from their kNN among the old and new faces (module docstring).

    ``old_labels``: (N,) int labels of the clustered set (any non-negative numbering). ``ids``,
    ``dists``: (M, K) kNN rows of the new faces, ids in the union (0..N-1 old items, N + j new face j,
    -1 missing), ``dists`` = 1 - cosine, each row sorted by distance (:func:`search_new`). ``threshold``:
    the minimum cosine of a link. ``rule``: ``links`` or ``nearest``; ``merge``: see the module docstring.
    Raises :class:`DataError` for an unknown rule or ids out of range.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components, dijkstra

    from ltc.graph import renumber

    if rule not in RULES:
        raise DataError(f"The assignment rule is {rule!r}: choose links (the method's own) or nearest.")
    old_labels = np.asarray(old_labels, dtype=np.int64)
    ids, dists = np.asarray(ids, dtype=np.int64), np.asarray(dists)
    n, m = len(old_labels), len(ids)
    if ids.size and (ids.max() >= n + m or ids.min() < -1):
        raise DataError(f"The new faces' kNN lists ids up to {ids.max()}, but there are {n} old and {m} new faces: "
                        f"search them with ltc.incremental.search_new (ids 0..N-1 old, N.. new).")
    clusters, old_cluster = np.unique(old_labels, return_inverse=True)
    c = len(clusters)
    (xo, co, wo), (xn, yn, wn) = _edges(n, old_cluster.ravel(), ids, dists, threshold, rule)
    src = np.concatenate([c + xo, c + xn])
    dst = np.concatenate([co, c + yn])
    weight = np.concatenate([wo, wn])
    key = np.minimum(src, dst) * (c + m) + np.maximum(src, dst)  # one edge per pair: the shortest
    order = np.lexsort((weight, key))
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if len(key) else order
    graph = sparse.csr_matrix((weight[first], (src[first], dst[first])), shape=(c + m, c + m))
    n_comp, comp = connected_components(graph, directed=False)
    clusters_per_comp = np.bincount(comp[:c], minlength=n_comp)
    bridges = int((clusters_per_comp >= 2).sum())
    reaches = clusters_per_comp[comp[c:]] > 0  # the new face's component holds an existing cluster
    labels = np.empty(m, dtype=np.int64)
    old_after = old_labels.copy()
    merged = 0
    if merge:
        smallest = np.full(n_comp, np.iinfo(np.int64).max)
        np.minimum.at(smallest, comp[:c], clusters)  # a merged cluster keeps its smallest existing label
        labels[reaches] = smallest[comp[c:][reaches]]
        old_after = smallest[comp[:c]][old_cluster.ravel()]
        merged = int((clusters_per_comp - 1).clip(min=0).sum())
    elif reaches.any():
        anchors = np.flatnonzero(np.isin(comp[:c], comp[c:][reaches]))  # the clusters some new face reaches
        _, _, source = dijkstra(graph, directed=False, indices=anchors, min_only=True, return_predecessors=True)
        labels[reaches] = clusters[source[c:][reaches]]
    fresh = ~reaches
    if fresh.any():
        labels[fresh] = clusters.max(initial=-1) + 1 + renumber(comp[c:][fresh])
    return Assignment(labels, old_after, reaches, bridges, merged,
                      {"rule": rule, "threshold": float(threshold), "merge": bool(merge)})


def search_new(old_feats: np.ndarray, new_feats: np.ndarray, k: int, method: str = "flat", index=None,
               batch_size: int | None = None, **index_params) -> tuple[np.ndarray, np.ndarray]:
    """kNN (ids int64, dists float32 = 1 - cosine; M x k, rows sorted) of the new rows among the old
    and new rows together: ids 0..N-1 are old rows, N + j new row j (-1: none).

    ``method``: the run's kNN search (:mod:`ltc.knn`): ``flat`` exact; ``ivf`` / ``hnsw`` search
    ``index`` (the run's saved index of the old rows, :func:`ltc.knn.load_index`; built here with
    ``index_params`` if None) with the new rows added (ivf: to their nearest cells of its centroids;
    hnsw: ``index`` itself gets them). Raises :class:`DataError` for an index of other features.
    """
    from ltc import knn
    from ltc.rows import normalized

    batch_size = batch_size or knn.DEFAULTS.batch_size
    n, m = len(old_feats), len(new_feats)
    if method != "flat" and index is None:
        index = knn.build_index(old_feats, method, batch_size=batch_size, **index_params)
    if method == "ivf":
        if index.probes.shape[0] != n or index.centroids.shape[1] != old_feats.shape[1]:
            raise DataError(f"The ivf index covers {index.probes.shape[0]} rows of width {index.centroids.shape[1]}, "
                            f"but the clustered features are {n} x {old_feats.shape[1]}: give the index built for "
                            f"them (results/<ds>/knn/test/ivf.index).")
        probes = knn.nearest_centroids(normalized(new_feats), index.centroids, index.probes.shape[1])
        index = knn.IVFCells(index.centroids, np.concatenate([index.probes, probes]))
    elif method == "hnsw":
        if index.ntotal != n:
            raise DataError(f"The hnsw index holds {index.ntotal} rows but the clustered features have {n}: give the "
                            f"index built for them (results/<ds>/knn/test/hnsw.index).")
        for start in range(0, m, batch_size):
            index.add(normalized(new_feats[start:start + batch_size]))
    union = np.concatenate([np.asarray(old_feats, dtype=np.float32), np.asarray(new_feats, dtype=np.float32)])
    return knn.search(union, k, method, index, rows=range(n, n + m), batch_size=batch_size)


# --- scores --------------------------------------------------------------------------------------

def pair_counts(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(same-cluster pairs in both, in ``pred``, in ``gt``) of two labellings, as float64 [3]."""
    from ltc.metrics import contingency

    table = contingency(gt, pred)
    nij = table.data.astype(np.float64)
    a = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    b = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    return np.array([nij @ nij - len(gt), b @ b - len(gt), a @ a - len(gt)]) / 2


def touching_pairwise(gt: np.ndarray, pred: np.ndarray, new: np.ndarray) -> dict:
    """Pairwise precision, recall and F over the pairs with at least one item in the bool mask ``new``
    (all pairs' counts minus those of the other items' pairs): how well new items were placed."""
    tp, p, g = pair_counts(gt, pred) - pair_counts(gt[~new], pred[~new])
    precision, recall = (tp / p if p else 0.0), (tp / g if g else 0.0)
    f = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": float(precision), "recall": float(recall), "fscore": float(f)}


def scores(new_gt: np.ndarray, result: Assignment, old_gt: np.ndarray | None = None) -> dict:
    """Scores of an assignment: ``new`` (ltc.metrics.evaluate among the new faces) and, with the
    clustered set's true labels ``old_gt``, ``union`` (old and new items together) and
    ``touching_new`` (:func:`touching_pairwise`). The true labels share one identity numbering."""
    from ltc.metrics import evaluate

    out = {"new": evaluate(np.asarray(new_gt), result.labels)}
    if old_gt is not None:
        gt = np.concatenate([old_gt, new_gt])
        pred = np.concatenate([result.old_labels, result.labels])
        new = np.r_[np.zeros(len(old_gt), bool), np.ones(len(new_gt), bool)]
        out["union"] = evaluate(gt, pred)
        out["touching_new"] = touching_pairwise(gt, pred, new)
    return out


# --- an 'auto' threshold, chosen on the labelled train split -------------------------------------

def holdout(labels: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """A bool mask of about ``fraction`` of the items, held out as "new": half of it whole identities
    (new ones for the rest), half single faces of the other identities (faces of known ones)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    ident, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = rng.permutation(len(ident))
    whole = np.zeros(len(ident), bool)
    whole[order[np.cumsum(counts[order]) <= fraction / 2 * len(labels)]] = True
    mask = whole[inverse.ravel()]
    rest = np.flatnonzero(~mask)
    mask[rng.choice(rest, min(len(rest), int(round(fraction / 2 * len(labels)))), replace=False)] = True
    return mask


def holdout_problem(ids: np.ndarray, dists: np.ndarray, labels: np.ndarray, mask: np.ndarray):
    """(old labels, new faces' kNN in union ids) of a labelled split's kNN with the items ``mask`` held out:
    the old set is the others with their true labels (a perfect run), the new faces keep their rows."""
    n_old = int((~mask).sum())
    where = np.empty(len(mask), dtype=np.int64)
    where[~mask] = np.arange(n_old)
    where[mask] = n_old + np.arange(int(mask.sum()))
    rows = ids[mask]
    return labels[~mask], np.where(rows >= 0, where[np.maximum(rows, 0)], -1), dists[mask]


def choose_threshold(ids: np.ndarray, dists: np.ndarray, labels: np.ndarray, *, rule: str = "nearest",
                     merge: bool = False, fraction: float = DEFAULTS.holdout, seed: int = DEFAULTS.seed,
                     json_path=None, plot_path=None, source: str = "the train split") -> float:
    """The threshold of best :func:`touching_pairwise` F when the held-out faces (:func:`holdout`) of a
    labelled split (kNN ``ids``/``dists`` N x K, true ``labels``) are assigned to the others' true
    identities; candidates are the quantiles of the held-out faces' link cosines, then a finer grid
    around the best (as :func:`ltc.thresholds.choose`). Writes ``json_path`` (``{"threshold": t,
    "name": "threshold", "fscore", "split", "sweep"}``, readable by :func:`ltc.thresholds.read_choice`) and
    the plot ``plot_path`` when given. Raises :class:`DataError` for labels that cannot choose.
    """
    from ltc import thresholds
    from ltc.io import write_json

    labels = np.asarray(labels, dtype=np.int64)
    thresholds.check_labels(labels, source, "threshold", "datasets.<ds>.new.threshold")
    mask = holdout(labels, fraction, seed)
    old_labels, new_ids, new_dists = holdout_problem(ids, dists, labels, mask)
    gt = np.concatenate([old_labels, labels[mask]])
    is_new = np.r_[np.zeros(len(old_labels), bool), np.ones(int(mask.sum()), bool)]

    def score(t: float) -> dict:
        a = assign(old_labels, new_ids, new_dists, t, rule=rule, merge=merge)
        return {"threshold": float(t), **touching_pairwise(gt, np.concatenate([a.old_labels, a.labels]), is_new)}

    coarse = thresholds.candidates(1.0 - new_dists[new_ids >= 0])
    if not len(coarse) or not mask.any():
        raise DataError(f"The held-out faces of {source} have no links to sweep the threshold over: give "
                        f"datasets.<ds>.new.threshold a number instead of auto.")
    table = [score(t) for t in coarse]
    i = int(np.searchsorted(coarse, thresholds.best_of(table)))
    fine = np.setdiff1d(np.linspace(coarse[max(i - 1, 0)], coarse[min(i + 1, len(coarse) - 1)], 21).round(4), coarse)
    table = sorted(table + [score(t) for t in fine], key=lambda row: row["threshold"])
    chosen = thresholds.best_of(table)
    best = next(row for row in table if row["threshold"] == chosen)
    log.info("assignment threshold %.4f: pairwise F %.4f of %d held-out faces of %s", chosen, best["fscore"],
             int(mask.sum()), source)
    if json_path is not None:
        write_json(json_path, {"threshold": chosen, "name": "threshold", "fscore": best["fscore"], "split": str(source),
                               "held_out": int(mask.sum()), "rule": rule, "merge": merge, "sweep": table})
    if plot_path is not None:
        thresholds.plot_sweep(table, chosen, "threshold", plot_path)
    return chosen


# --- outputs -------------------------------------------------------------------------------------

def new_items_table(result: Assignment, ids: np.ndarray | None = None):
    """The new faces' :class:`ltc.clusters.ClusterTable`: ``index`` is the new face's row, ``cluster`` the
    number the cluster has in the existing run's clusters.tsv (largest first; new clusters numbered after
    the existing ones, in order of their first new face), ``cluster_size`` its size with the new faces."""
    from ltc.clusters import ClusterTable, cluster_table

    old = cluster_table(result.old_labels)
    item_number = np.empty(len(result.old_labels), dtype=np.int64)
    item_number[old.index] = old.cluster
    values, first = np.unique(result.old_labels, return_index=True)
    known = np.isin(result.labels, values)
    cluster = np.empty(len(result.labels), dtype=np.int64)
    cluster[known] = item_number[first[np.searchsorted(values, result.labels[known])]]
    _, rank = np.unique(result.labels[~known], return_inverse=True)  # new labels rise with their first face
    cluster[~known] = old.n_clusters + rank.ravel()
    union = np.concatenate([result.old_labels, result.labels])
    values, counts = np.unique(union, return_counts=True)
    size = counts[np.searchsorted(values, result.labels)]
    rows = np.lexsort((np.arange(len(cluster)), cluster))
    return ClusterTable(index=rows.astype(np.int64), cluster=cluster[rows], cluster_size=size[rows],
                        id=None if ids is None else np.asarray(ids, dtype=object)[rows])



def write_outputs(result: Assignment, labels_out, *, old_labels_out=None, tsv=None, summary=None,
                  ids: np.ndarray | None = None, meta: Mapping | None = None) -> None:
    """Write an assignment (each atomically): the new faces' labels (``.meta``, one per new face), the
    existing items' labels after it (``old_labels_out``), the new faces' clusters.tsv
    (:func:`new_items_table`, with their ``ids``) and the JSON summary (``meta`` + :meth:`Assignment.summary`)."""
    from ltc.clusters import write_table
    from ltc.io import write_json, write_labels

    write_labels(labels_out, result.labels)
    if old_labels_out is not None:
        write_labels(old_labels_out, result.old_labels)
    if tsv is not None:
        write_table(new_items_table(result, ids), tsv)
    if summary is not None:
        write_json(summary, {**(meta or {}), **result.summary()})
