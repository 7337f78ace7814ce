"""Learned kNN links: a gradient-boosted classifier of "this kNN link joins two faces of one identity"
on scale-free structural features of the link, trained on the labelled train split; the test split's
links are kept where the predicted probability p >= ``min_prob`` and clustered by two-level Infomap
with weight p (:func:`ltc.methods.infomap.modules`).

This follows the idea of learned linkage in face clustering (L-GCN, Wang et al., CVPR 2019; GCN-E,
Yang et al., CVPR 2020: predict the same-identity probability of each kNN link, then cut) with a
small tabular model in place of a GCN, and the clustering of face-cluster-by-infomap (Infomap on the
kNN graph, similarity-weighted links) with the learned probability as the weight.

Features of a directed kNN link i -> j (j among i's first ``k`` kNN columns, self and missing ids
dropped), in the order of :data:`FEATURES`, all float32:

0. ``similarity``: cosine s_ij = 1 - distance;
1. ``rank``: the column of j in i's kNN row, / k (the kNN lists a point itself first, at column 0);
2. ``reverse_rank``: the column of i in j's first k columns, / k; (k + 1) / k where i is not there;
3. ``shared``: |N(i) & N(j)| / (shared_k + 1), N(x) = {x} and x's true neighbours in its first
   ``shared_k`` columns;
4. ``above_mean_src``: s_ij - mean_i, mean_i the mean similarity of i's true neighbours among its first
   ``top`` columns (NaN where there is none: the classifier handles missing values);
5. ``above_mean_dst``: s_ij - mean_j;
6. ``above_kth``: s_ij - last_i, last_i the smallest similarity of i's true neighbours among its first
   k columns (its k-th neighbour's for a full row);
7. ``relative``: (s_ij - last_i) / max(mean_i - last_i, 1e-6).

Every feature but the cosine is free of the embedding's scale, so the model transfers between splits
of one embedding. Links are handled in chunks (:data:`CHUNK_EDGES`), so memory stays bounded at MS1M
scale (584K points x 80 links = 46M links: the link list and one probability per link, ~1 GB).

The model file is a pickle (scikit-learn's own persistence): load only files this workflow wrote or
that you trust (unpickling runs code).
"""
from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.io import atomic_output, rebuild_hint
from ltc.methods.learned_infomap import Params

log = logging.getLogger(__name__)

DEFAULTS = Params()  # the settings' one default (ltc.methods.learned_infomap)
TRAIN = DEFAULTS.train

FEATURES = ("similarity", "rank", "reverse_rank", "shared", "above_mean_src", "above_mean_dst", "above_kth",
            "relative")
CHUNK_EDGES = 1 << 18  # links whose features are computed at once (~100 MB of temporaries with k 80)
FORMAT = "ltc learned_infomap link classifier"
#: the thresholds min_prob the train split's out-of-fold sweep compares: 0.05 ... 0.95, then 0.97 and
#: 0.99 (at 584K points the best lay at 0.95 or above)
CANDIDATES = np.round(np.r_[np.linspace(0.05, 0.95, 19), 0.97, 0.99], 4)


@dataclass(frozen=True)
class LinkGraph:
    """The kNN links of one split and the per-point values their features need.

    ``src``, ``dst``: int32 (E,), each link i -> j, row-major (i ascending, then column); ``col``: int16
    (E,), j's column in i's row; ``sim``: float32 (E,); ``ids``: int32 (N, k), the first k kNN columns
    with self and missing ids set to -1 (columns kept); ``sets``: int32 (N, shared_k + 1), N(x) sorted,
    unused places -1; ``mean_top``, ``last``: float32 (N,). ``k``: the feature scale (the model's k).
    """
    n: int
    k: int
    src: np.ndarray
    dst: np.ndarray
    col: np.ndarray
    sim: np.ndarray
    ids: np.ndarray
    sets: np.ndarray
    mean_top: np.ndarray
    last: np.ndarray

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def features(self, edges) -> np.ndarray:
        """Features (float32, len(edges) x len(FEATURES)) of the links ``edges`` (a slice or an index array)."""
        src, dst = self.src[edges].astype(np.int64), self.dst[edges].astype(np.int64)
        s = self.sim[edges]
        out = np.empty((len(src), len(FEATURES)), dtype=np.float32)
        out[:, 0] = s
        out[:, 1] = self.col[edges] / self.k
        hit = self.ids[dst] == src[:, None]  # i in j's row, at which column
        out[:, 2] = np.where(hit.any(1), hit.argmax(1), self.k + 1) / self.k
        both = np.sort(np.concatenate([self.sets[src], self.sets[dst]], axis=1), axis=1)
        common = (both[:, 1:] == both[:, :-1]) & (both[:, 1:] >= 0)  # each shared id: once in each set
        out[:, 3] = common.sum(1) / self.sets.shape[1]
        out[:, 4] = s - self.mean_top[src]
        out[:, 5] = s - self.mean_top[dst]
        out[:, 6] = s - self.last[src]
        out[:, 7] = out[:, 6] / np.maximum(self.mean_top[src] - self.last[src], 1e-6)
        return out


def link_graph(ids: np.ndarray, dists: np.ndarray, k: int = DEFAULTS.k, shared_k: int = DEFAULTS.shared_k,
               top: int = DEFAULTS.top) -> LinkGraph:
    """The :class:`LinkGraph` of a kNN graph (``ids`` int N x K, -1 missing; ``dists`` float32 N x K cosine
    distances, rows ascending). Links are each point's first ``k`` columns; a kNN of fewer columns uses
    all of them (logged), ranks are still divided by ``k`` (the model's scale)."""
    n, width = ids.shape
    if width < k:
        log.info("learned_infomap: k = %d but the kNN graph has %d columns: using %d", k, width, width)
    cols = min(k, width)
    rows = np.arange(n)[:, None]
    clean = np.where((ids[:, :cols] >= 0) & (ids[:, :cols] != rows), ids[:, :cols], -1).astype(np.int32)
    sims = np.where(clean >= 0, 1.0 - dists[:, :cols], np.nan).astype(np.float32)
    src, col = np.nonzero(clean >= 0)
    dst = clean[src, col]
    head = clean[:, :top] >= 0
    count = head.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a row without neighbours: NaN (the classifier's missing)
        mean_top = np.where(head, sims[:, :top], 0).sum(1) / count
    last = np.where(clean >= 0, sims, np.inf).min(1, initial=np.inf)
    last[~np.isfinite(last)] = np.nan
    return LinkGraph(n, int(k), src.astype(np.int32), dst, col.astype(np.int16), sims[src, col], clean,
                     _neighbour_sets(clean, shared_k), mean_top.astype(np.float32), last.astype(np.float32))


def _neighbour_sets(clean: np.ndarray, shared_k: int) -> np.ndarray:
    """N(x) = {x} and x's ids in its first ``shared_k`` columns, sorted, a repeated id and the unused
    places -1 (int32, N x (shared_k + 1))."""
    n = len(clean)
    sets = np.full((n, shared_k + 1), -1, dtype=np.int32)
    sets[:, 0] = np.arange(n)
    part = clean[:, :shared_k]
    sets[:, 1:1 + part.shape[1]] = part
    sets.sort(axis=1)
    sets[:, 1:][sets[:, 1:] == sets[:, :-1]] = -1  # a duplicate kNN entry counts once
    sets.sort(axis=1)
    return sets


def same_identity(graph: LinkGraph, labels: np.ndarray) -> np.ndarray:
    """Targets (int8, E): 1 where a link joins two points of one label."""
    return (labels[graph.src] == labels[graph.dst]).astype(np.int8)


def fit(graph: LinkGraph, labels: np.ndarray, edges: np.ndarray | None = None, *, max_iter: int = TRAIN.max_iter,
        learning_rate: float = TRAIN.learning_rate, max_train_edges: int | None = TRAIN.max_train_edges,
        seed: int = TRAIN.seed, source: str = "the train split"):
    """A fitted ``sklearn.ensemble.HistGradientBoostingClassifier`` of same-identity on the links ``edges``
    (int index array; all if None), a seeded sample of ``max_train_edges`` of them at most (None: all).
    ``labels``: int (N,). Raises :class:`DataError` naming ``source`` when the links are all of one class."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    edges = np.arange(graph.n_edges) if edges is None else np.asarray(edges)
    if max_train_edges is not None and len(edges) > max_train_edges:
        edges = np.sort(np.random.default_rng(seed).choice(edges, max_train_edges, replace=False))
    y = labels[graph.src[edges]] == labels[graph.dst[edges]]
    if y.all() or not y.any():
        kind = "links two faces of one identity" if y.all() else "links two different identities"
        fix = ("raise knn.k above the faces per identity so that links reach other identities, or give the train "
               "split more identities" if y.all() else "give the train split identities with several faces each")
        raise DataError(f"Every kNN link of {source} {kind} ({len(y)} links), so no link classifier can be trained "
                        f"on it: {fix}, or set methods.learned_infomap.checkpoint to a trained model.")
    x = np.concatenate([graph.features(edges[s:s + CHUNK_EDGES]) for s in range(0, len(edges), CHUNK_EDGES)])
    clf = HistGradientBoostingClassifier(max_iter=max_iter, learning_rate=learning_rate, random_state=seed)
    return clf.fit(x, y.astype(np.int8))


def predict(clf, graph: LinkGraph, edges: np.ndarray | None = None) -> np.ndarray:
    """Same-identity probability (float32) of the links ``edges`` (all if None), chunk by chunk."""
    edges = np.arange(graph.n_edges) if edges is None else np.asarray(edges)
    out = np.empty(len(edges), dtype=np.float32)
    for s in range(0, len(edges), CHUNK_EDGES):
        out[s:s + CHUNK_EDGES] = clf.predict_proba(graph.features(edges[s:s + CHUNK_EDGES]))[:, 1]
    return out


def identity_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold (int64, N) of every point: the identities shuffled (seeded) and dealt to ``folds`` folds in turn."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    fold_of = np.empty(len(uniq), dtype=np.int64)
    fold_of[np.random.default_rng(seed).permutation(len(uniq))] = np.arange(len(uniq)) % folds
    return fold_of[inverse.ravel()]


def out_of_fold(graph: LinkGraph, labels: np.ndarray, folds: int = TRAIN.folds, *, max_iter: int = TRAIN.max_iter,
                learning_rate: float = TRAIN.learning_rate, max_train_edges: int | None = TRAIN.max_train_edges,
                seed: int = TRAIN.seed, source: str = "the train split") -> np.ndarray:
    """Out-of-fold probability (float32, E) of every link: the labelled split's identities in ``folds``
    folds (:func:`identity_folds`); the links from the points of each fold are predicted by a classifier
    fit on the links from the other folds' points. Raises :class:`DataError` for fewer than ``folds``
    identities."""
    fold = identity_folds(labels, folds, seed)
    if len(np.unique(labels)) < folds:
        raise DataError(f"{source} has {len(np.unique(labels))} identities, fewer than methods.learned_infomap."
                        f"train.folds = {folds}: lower folds or give min_prob a number instead of auto.")
    edge_fold = fold[graph.src]
    prob = np.empty(graph.n_edges, dtype=np.float32)
    for a in range(folds):
        held = np.flatnonzero(edge_fold == a)
        clf = fit(graph, labels, np.flatnonzero(edge_fold != a), max_iter=max_iter, learning_rate=learning_rate,
                  max_train_edges=max_train_edges, seed=seed, source=f"{source} (all folds but {a})")
        prob[held] = predict(clf, graph, held)
        log.info("fold %d of %d: %d links predicted", a + 1, folds, len(held))
    return prob


def cluster(graph: LinkGraph, prob: np.ndarray, min_prob: float, *, directed: bool = DEFAULTS.infomap.directed,
            seed: int = DEFAULTS.infomap.seed, trials: int = DEFAULTS.infomap.trials) -> np.ndarray:
    """Labels (int64, N, numbered by first point) of Infomap on the links of probability >= ``min_prob``,
    weight = probability (:func:`ltc.methods.infomap.modules`); points without a kept link alone."""
    from ltc.methods import infomap

    keep = prob >= min_prob
    return infomap.modules(graph.n, graph.src[keep], graph.dst[keep], prob[keep], directed=directed, seed=seed,
                           trials=trials)


def sweeper(graph: LinkGraph, prob: np.ndarray, **options):
    """(min_prob -> labels, the links' probabilities): :func:`cluster` at each threshold."""
    return (lambda t: cluster(graph, prob, float(t), **options)), prob


def save_model(path: str | Path, clf, graph_settings: dict) -> None:
    """Pickle the classifier with the feature settings it was fit with (``k``, ``shared_k``, ``top``; and
    ``links_per_point``, the train split's kNN links per point, for :func:`graph_of_model`'s check), atomically."""
    import sklearn

    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        pickle.dump({"format": FORMAT, "features": FEATURES, "sklearn": sklearn.__version__, **graph_settings,
                     "classifier": clf}, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_model(path: str | Path) -> tuple[object, dict]:
    """(classifier, feature settings ``{"k", "shared_k", "top"}``) of a model file :func:`save_model`
    wrote. Unpickling runs code: give only this workflow's own model files or ones you trust. Raises
    :class:`DataError` naming the file for one that is missing, unreadable or not such a model."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Link classifier {path} does not exist: {rebuild_hint(path)}.")
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)
    except Exception as err:  # a truncated or foreign pickle fails in many ways
        raise DataError(f"Link classifier {path} cannot be read ({type(err).__name__}: {err}): "
                        f"{rebuild_hint(path)}.") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or tuple(saved.get("features", ())) != FEATURES:
        raise DataError(f"{path} is not a learned_infomap link classifier of this version (features "
                        f"{', '.join(FEATURES)}): {rebuild_hint(path)}.")
    settings = {key: int(saved[key]) for key in ("k", "shared_k", "top")}
    if "links_per_point" in saved:  # files written before it was recorded lack it
        settings["links_per_point"] = float(saved["links_per_point"])
    return saved["classifier"], settings


def graph_of_model(settings: dict, ids: np.ndarray, dists: np.ndarray) -> LinkGraph:
    """:func:`link_graph` of a kNN graph with a model's feature settings (:func:`load_model`). Logs a
    warning when its points have under half the kNN links per point of the split the model was trained
    on (``settings["links_per_point"]``, where recorded): a split of fewer points than k, or a kNN file
    of fewer columns, puts the ranks and the k-th neighbour's similarity outside what the model learned."""
    graph = link_graph(ids, dists, settings["k"], settings["shared_k"], settings["top"])
    trained = settings.get("links_per_point")
    here = graph.n_edges / max(graph.n, 1)
    if trained and here < 0.5 * trained:
        log.warning("learned_infomap: this split's points have %.1f kNN links each (%d points, %d kNN columns), the "
                    "train split's %.1f: the link classifier sees ranks and k-th-neighbour similarities it was not "
                    "trained on, so its clusters may be poor; for a split this small use a training-free method "
                    "(e.g. method: infomap), or train with methods.learned_infomap.k (and knn.k) near %d.", here,
                    graph.n, ids.shape[1], trained, max(int(round(here)), 1))
    return graph


def optional_int(value) -> int | None:
    """An int, or None for null/None (a setting whose null means no limit)."""
    return None if value in (None, "None", "null") else int(value)


def add_options(parser, *, graph: bool = False, train: bool = False, folds: bool = False,
                infomap: bool = False) -> None:
    """The scripts' options of the settings they take (defaults and help from :class:`Params`):
    ``graph``: --k, --shared-k, --top; ``train``: the classifier's (``folds``: and --folds); ``infomap``:
    --directed/--no-directed, --infomap-seed, --trials."""
    import argparse

    from ltc import cli

    if graph:
        for key in ("k", "shared_k", "top"):
            cli.setting_option(parser, "--" + key.replace("_", "-"), DEFAULTS, key)
    if train:
        cli.setting_option(parser, "--max-iter", DEFAULTS, "train.max_iter")
        cli.setting_option(parser, "--learning-rate", DEFAULTS, "train.learning_rate")
        cli.setting_option(parser, "--seed", DEFAULTS, "train.seed")
        parser.add_argument("--max-train-edges", type=optional_int, default=TRAIN.max_train_edges,
                            help="links fit on at most (null: all)")
    if folds:
        cli.setting_option(parser, "--folds", DEFAULTS, "train.folds")
    if infomap:
        parser.add_argument("--directed", action=argparse.BooleanOptionalAction, default=DEFAULTS.infomap.directed,
                            help="directed Infomap links")
        cli.setting_option(parser, "--infomap-seed", DEFAULTS, "infomap.seed")
        cli.setting_option(parser, "--trials", DEFAULTS, "infomap.trials")


def train_options(args) -> dict:
    """The classifier's keyword arguments of :func:`add_options`' ``train`` options."""
    return {"max_iter": args.max_iter, "learning_rate": args.learning_rate, "max_train_edges": args.max_train_edges,
            "seed": args.seed}


def infomap_options(args) -> dict:
    """:func:`cluster`'s keyword arguments of :func:`add_options`' ``infomap`` options."""
    return {"directed": args.directed, "seed": args.infomap_seed, "trials": args.trials}


def labelled_graph(args) -> tuple[LinkGraph, np.ndarray]:
    """(link graph, true labels) of a labelled split's ``--knn`` and ``--labels`` (:func:`add_options`'
    ``graph`` settings). Raises :class:`DataError` when they disagree in length or a setting is too large."""
    from ltc import cli
    from ltc.io import load_knn

    if args.top > args.k or args.shared_k > args.k:
        raise DataError(f"methods.learned_infomap.top ({args.top}) and shared_k ({args.shared_k}) must be at most "
                        f"k ({args.k}): lower them.")
    labels = cli.truth(args)
    ids, dists = load_knn(args.knn)
    if len(ids) != len(labels):
        raise DataError(f"kNN file {args.knn} has {len(ids)} rows but {args.labels} has {len(labels)} labels: both "
                        f"must come from the same split (delete the kNN file so it is rebuilt).")
    graph = link_graph(ids, dists, args.k, args.shared_k, args.top)
    log.info("%d points, %d kNN links", graph.n, graph.n_edges)
    return graph, labels


def choose_min_prob(cut, gt: np.ndarray, json_path, plot_path, source, candidates: np.ndarray = CANDIDATES) -> float:
    """Choose min_prob among ``candidates`` (ascending) with ``cut`` (min_prob -> labels of the labelled
    split, its out-of-fold probabilities), coarse to fine: every other candidate first, then those
    between the best's two neighbours (12 or 13 Infomap runs for the 21 default candidates, the same choice
    where F has one peak); keep the best pairwise F and write the JSON and plot
    (:func:`ltc.thresholds.choose` with ``grid`` and ``fine_grid``). Raises :class:`DataError` for
    labels that cannot choose (:func:`ltc.thresholds.check_labels`)."""
    from ltc import thresholds

    candidates = np.asarray(candidates, dtype=np.float64)
    return thresholds.choose(cut, gt, None, "min_prob", json_path, plot_path, source,
                             "methods.learned_infomap.min_prob", grid=candidates[::2], fine_grid=candidates)
