"""learned_infomap: Infomap on kNN links weighted by a link classifier trained on the labelled train
split; its settings and its entry in the method registry. Features, classifier, out-of-fold threshold
choice and clustering are :mod:`ltc.learned_links`; the workflow runs them as stages of its own rules
(``workflow/rules/method_learned_infomap.smk``: train_learned_infomap, select_threshold_learned_infomap,
cluster_learned_infomap).

The classifier is scikit-learn's ``HistGradientBoostingClassifier`` on eight scale-free features of
each kNN link (cosine, ranks both ways, shared neighbours, the cosine against each end's local scale);
the clustering is face-cluster-by-infomap's two-level Infomap with the predicted probability as the
link weight. The threshold ``min_prob`` is chosen on the train split's out-of-fold probabilities
(the identities in ``train.folds`` folds), so the sweep never scores links the model was fit on.
"""
from __future__ import annotations

from dataclasses import dataclass

from ltc import DataError
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class TrainParams:
    """The link classifier (config ``methods.learned_infomap.train``): scikit-learn's
    HistGradientBoostingClassifier, fit on a seeded sample of the train split's kNN links."""
    max_iter: int = setting(200, "boosting iterations (trees)")
    learning_rate: float = setting(0.1, "shrinkage of each tree")
    max_train_edges: int | None = setting(2_000_000, "links the classifier is fit on at most, a seeded sample "
                                                     "(null: all; MS1M's 576K x 80 = 46M links)")
    folds: int = setting(2, "folds of the train identities for the out-of-fold probabilities min_prob is chosen on")
    seed: int = setting(0, "seed of the sample, the folds and the classifier")


@dataclass(frozen=True)
class InfomapParams:
    """Infomap on the kept links (config ``methods.learned_infomap.infomap``; as ``methods.infomap``)."""
    directed: bool = setting(True, "links point from each point to its neighbours (else undirected)")
    seed: int = setting(1, "Infomap's seed (its seeds start at 1)")
    trials: int = setting(1, "Infomap runs; the best partition is kept")


@dataclass(frozen=True)
class Params:
    """Settings of learned_infomap (config ``methods.learned_infomap``)."""
    k: int = setting(80, "links: each point's first k kNN neighbours (at most knn.k)")
    shared_k: int = setting(20, "the shared-neighbour feature counts common ids among each end's first shared_k")
    top: int = setting(10, "the local-scale features: the mean cosine of each end's first top neighbours")
    min_prob: float | str = setting("auto", "links of predicted same-identity probability >= min_prob are kept "
                                            "(weight: the probability); 'auto': chosen on the train split's "
                                            "out-of-fold probabilities", example=0.5)
    checkpoint: str | None = setting(None, "a trained link classifier (a model.pkl this workflow wrote): training "
                                           "is skipped")
    model_from: str | None = setting(None, "a dataset whose trained link classifier to use (for a dataset without "
                                           "a train split)")
    train: TrainParams = setting(TrainParams(), "the classifier (see TrainParams)")
    infomap: InfomapParams = setting(InfomapParams(), "Infomap (see InfomapParams)")


def check(params: Params) -> None:
    """Raise :class:`DataError` (one sentence naming the setting) for settings the schema cannot refuse
    alone: ``top`` or ``shared_k`` above ``k``."""
    for name in ("top", "shared_k"):
        if getattr(params, name) > params.k:
            raise DataError(f"methods.learned_infomap.{name} is {getattr(params, name)} but k is {params.k}: set "
                            f"{name} to at most k.")


def _trained(params: Params, data):
    """(link graph, probabilities) of a checkpoint's classifier on ``data``; refuses without a checkpoint."""
    from ltc import learned_links

    check(params)
    if not params.checkpoint:
        raise DataError("learned_infomap clusters with a trained link classifier: set methods.learned_infomap."
                        "checkpoint to one (a model.pkl this workflow wrote), or run the workflow, which trains "
                        "it on the labelled train split.")
    clf, settings = learned_links.load_model(params.checkpoint)
    graph = learned_links.graph_of_model(settings, data.ids, data.dists)
    return graph, learned_links.predict(clf, graph)


def sweeper(params: Params, data):
    """(min_prob -> labels, link probabilities) of a checkpoint's classifier on ``data``: the links are
    predicted once, each cut is :func:`ltc.learned_links.cluster`."""
    from ltc import learned_links

    i = params.infomap
    return learned_links.sweeper(*_trained(params, data), directed=i.directed, seed=i.seed, trials=i.trials)


METHOD = Method(
    "learned_infomap", Params, "Infomap on kNN links weighted by a link classifier trained on the labelled "
                               "train split", reads=frozenset({"knn"}), threshold="min_prob", sweeper=sweeper,
    rules="own", learned=True, threads=8)
