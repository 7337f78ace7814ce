"""GCN-V (Yang et al., "Learning to Cluster Faces via Confidence and Connectivity Estimation", CVPR
2020): its settings and its entry in the method registry. The model, its training and inference are
:mod:`ltc.gcn`; the links (each vertex to its nearest more-confident neighbour) :mod:`ltc.confidence`;
the workflow runs them as stages (``workflow/rules/method_gcnv.smk``, then ``link_clustering.smk``).
Defaults: the original project's MS1M configuration (its ``vegcn/configs/cfg_train_gcnv_ms1m.py``)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from ltc import DataError
from ltc.methods.registry import Method, setting


# Each training recipe's own learning rate (``train.lr: auto``): Adam's for mini-batches; the original
# project's SGD lr (its vegcn/configs/cfg_train_gcnv_ms1m.py and _fashion.py both give 0.1).
RECIPE_LR = {"minibatch": 1.0e-3, "original": 0.1}
# The original's lr schedule: times 0.1 at these fractions of the steps (its lr_config, policy 'step').
ORIGINAL_LR_STEPS, ORIGINAL_LR_FACTOR = (0.5, 0.8, 0.9), 0.1


@dataclass(frozen=True)
class TrainParams:
    """Training of GCN-V (config ``methods.gcnv.train``), by one of two recipes:

    * ``minibatch``: Adam on mini-batches of rows of [X, AX], early stopping on held-out identities
      (the best weights are kept);
    * ``original``: the original project's (vegcn/train_gcn_v.py, cfg_train_gcnv_ms1m.py): SGD with
      momentum on the whole train graph (every row, one step per "epoch"), a fixed number of ``steps``,
      the lr times 0.1 at 50%, 80% and 90% of them, no early stopping, the last weights kept.

    Settings marked (minibatch) or (original) are read by that recipe only."""
    recipe: str = setting("minibatch", "minibatch (Adam on mini-batches, early stopping on held-out identities) or "
                                       "original (the original project's full-graph SGD, fixed steps, stepped lr)")
    lr: float | str = setting("auto", "learning rate; auto: the recipe's own ("
                                      + ", ".join(f"{k} {v:g}" for k, v in RECIPE_LR.items()) + ")")
    weight_decay: float = setting(1.0e-5, "L2 weight decay (both recipes; the original's MS1M value)")
    batch_size: int = setting(256, "rows per step (minibatch)")
    max_epochs: int = setting(50, "epochs at most (minibatch)")
    patience: int = setting(3, "epochs without a lower held-out error before stopping, the best weights kept (minibatch)")
    val_fraction: float = setting(0.1, "fraction of the train identities held out for early stopping (minibatch)")
    steps: int = setting(4000, "full-graph SGD steps (original; its MS1M config runs 80000, its DeepFashion one "
                               "20000: 4000 keeps a 10K-face train split to minutes on 2 cores)")
    momentum: float = setting(0.9, "SGD's momentum (original)")
    seed: int = setting(0, "seed of the initial weights, and (minibatch) of the held-out identities and the batches")
    device: str = setting("auto", "auto (CUDA when present, else CPU), cpu or cuda")

    def learning_rate(self) -> float:
        """``lr``, or the recipe's own when ``auto`` (:data:`RECIPE_LR`)."""
        return learning_rate(self.recipe, self.lr)


def learning_rate(recipe: str, lr: float | str) -> float:
    """The learning rate of ``recipe`` for setting ``lr`` (a number, or ``auto``: :data:`RECIPE_LR`).
    Raises :class:`ltc.DataError` for an unknown recipe or an lr that is neither."""
    if recipe not in RECIPE_LR:
        raise DataError(f"methods.gcnv.train.recipe is {recipe!r}: set it to one of {', '.join(RECIPE_LR)}.")
    if lr == "auto":
        return RECIPE_LR[recipe]
    try:
        value = float(lr)
    except (TypeError, ValueError):
        value = math.nan
    if not value > 0 or not math.isfinite(value):
        raise DataError(f"methods.gcnv.train.lr is {lr!r}: set it to a positive number, or auto for the recipe's "
                        f"own ({', '.join(f'{k} {v:g}' for k, v in RECIPE_LR.items())}).")
    return value


@dataclass(frozen=True)
class Params:
    """Settings of GCN-V (config ``methods.gcnv``)."""
    th_sim: float = setting(0.0, "graph edges with cosine similarity below this are dropped")
    nhid: int = setting(512, "hidden features of the GCN layer")
    tau_0: float | str = setting("auto", "each vertex links to its nearest more-confident kNN neighbour if their "
                                         "cosine >= tau_0; 'auto': chosen on the labelled train split", example=0.65)
    use_gcn_feat: bool = setting(False, "link on the kNN of GCN-V's hidden features instead, with threshold tau")
    tau: float | str = setting("auto", "the threshold of the links on the hidden features (use_gcn_feat); 'auto': "
                                       "chosen on the labelled train split", example=0.8)
    checkpoint: str | None = setting(None, "a trained GCN-V (ours, or the original project's .pth; zoo:NAME: a model "
                                           "of the config's zoo, `models`): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained GCN-V to use (for a dataset without a train split)")
    gpus: int = setting(0, "GPUs a scheduler should give the training job")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


METHOD = Method(
    "gcnv", Params, "GCN-V vertex confidences, links to the nearest more-confident neighbour",
    reads=frozenset({"knn", "features"}), threshold=lambda p: "tau" if p.use_gcn_feat else "tau_0", rules="links",
    learned=True, threads=8)
