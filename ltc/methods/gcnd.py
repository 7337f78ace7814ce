"""GCN-D (Yang et al., "Learning to Cluster Faces on an Affinity Graph", CVPR 2019): its settings and
its entry in the method registry. Proposals are :mod:`ltc.proposals`; the model, its training,
inference and the de-overlap :mod:`ltc.gcnd`; the workflow runs them as stages of its own rules
(``workflow/rules/method_gcnd.smk``: proposals per setting, train_gcnd, infer_gcnd, deoverlap_gcnd).
Defaults: the original project's MS1M configuration (its ``dsgcn/configs/cfg_train_det_ms1m_8_prpsls.py``:
the eight (k, th) settings, step 0.05, minsz 3, maxsz 300, hidden dims [512, 64], max pooling).

GCN-S (per-vertex segmentation of the top proposals) is not part of this method yet: it would add
settings under ``methods.gcnd.segment`` and rules between infer_gcnd and deoverlap_gcnd.
"""
from __future__ import annotations

from dataclasses import dataclass

from ltc import DataError
from ltc.methods.registry import Method, setting

#: the original's MS1M training settings (k, th): cfg_train_det_ms1m_8_prpsls.py, k_th_lst
MS1M_PROPOSALS = [[30, 0.6], [30, 0.7], [60, 0.6], [60, 0.7], [80, 0.6], [80, 0.65], [80, 0.7], [80, 0.75]]


@dataclass(frozen=True)
class TrainParams:
    """Training of GCN-D (config ``methods.gcnd.train``): Adam on padded batches of proposals, the MSE
    of the predicted against the true IoU, early stopping on proposals of held-out identities (the
    best weights kept). The original trains by SGD (lr 0.01, momentum 0.9, 30 epochs, batch 32)."""
    lr: float = setting(1.0e-3, "Adam's learning rate")
    weight_decay: float = setting(1.0e-4, "L2 weight decay (the original's 1e-4)")
    batch_size: int = setting(32, "proposals per step (the original's 32)")
    max_epochs: int = setting(30, "epochs at most (the original runs 30)")
    patience: int = setting(3, "epochs without a lower held-out error before stopping, the best weights kept")
    val_fraction: float = setting(0.1, "fraction of the train identities whose proposals are held out for early stopping")
    max_proposals: int | None = setting(None, "proposals drawn per epoch at most (a seeded sample; null: all)")
    seed: int = setting(0, "seed of the initial weights, the held-out identities, the samples and the batches")
    device: str = setting("auto", "auto (CUDA when present, else CPU), cpu or cuda")


@dataclass(frozen=True)
class Params:
    """Settings of GCN-D (config ``methods.gcnd``)."""
    proposals: list = setting(MS1M_PROPOSALS, "proposal settings [k, th]: links to the first k kNN neighbours with "
                                              "cosine >= th, components (one proposal set per pair, both splits)")
    step: float = setting(0.05, "a component above maxsz is split again at t <- t + (1 - t) * step, until no part "
                                "exceeds maxsz")
    minsz: int = setting(3, "proposals of fewer vertices are dropped")
    maxsz: int = setting(300, "components of more vertices are split at a rising threshold")
    hidden: list = setting([512, 64], "output widths of the graph convolutions (ReLU after each; max pooling "
                                             "over the proposal's vertices, then Linear(last, 1))")
    dropout: float = setting(0.5, "training: the fraction of a proposal's vertices zeroed after each convolution "
                                  "(the original's dsgcn default 0.5)")
    target: str = setting("iou", "what GCN-D regresses: iou (the proposal's IoU with its majority identity) or iop")
    score: str = setting("model", "de-overlap order: model (GCN-D's predicted scores) or gt (the test labels' true "
                                  "IoU: the upper bound of perfect scores, an oracle)")
    checkpoint: str | None = setting(None, "a trained GCN-D (ours, or the original project's .pth): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained GCN-D to use (for a dataset without a train split)")
    gpus: int = setting(0, "GPUs a scheduler should give the training job")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


TARGETS = ("iou", "iop")
SCORES = ("model", "gt")


def check(params: Params) -> None:
    """Raise :class:`DataError` (one sentence naming the setting) for settings the schema cannot
    refuse alone: an empty or malformed proposal list, an unknown target or score."""
    pairs = params.proposals
    if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], int) and not isinstance(p[0], bool)
            and isinstance(p[1], (int, float)) and not isinstance(p[1], bool) for p in pairs):
        raise DataError(f"methods.gcnd.proposals is {pairs!r}: set it to a list of [k, th] pairs, e.g. [[80, 0.7]].")
    if len({(int(k), float(th)) for k, th in pairs}) != len(pairs):
        raise DataError(f"methods.gcnd.proposals lists a [k, th] pair twice ({pairs!r}): list each setting once.")
    if params.target not in TARGETS:
        raise DataError(f"methods.gcnd.target is {params.target!r}: set it to iou or iop.")
    if params.score not in SCORES:
        raise DataError(f"methods.gcnd.score is {params.score!r}: set it to model or gt.")
    if not params.hidden or not all(isinstance(h, int) and h >= 1 for h in params.hidden):
        raise DataError(f"methods.gcnd.hidden is {params.hidden!r}: set it to a list of positive widths, e.g. [512, 64].")


def cluster(params: Params, data) -> "object":
    """GCN-D in one step, with a trained model (``checkpoint``): proposals of every setting on the kNN
    graph, GCN-D's scores, the de-overlap. Raises :class:`DataError` without a checkpoint (training
    needs a labelled train split: the workflow's rules do it) or with ``score: gt`` (no labels here)."""
    from ltc import gcnd, proposals

    check(params)
    if params.score != "model":
        raise DataError("methods.gcnd.score is gt, which needs the test labels: run it in the workflow, or set score "
                        "to model.")
    if not params.checkpoint:
        raise DataError("gcnd clusters with a trained GCN-D: set methods.gcnd.checkpoint to one (ours or the original "
                        "project's .pth), or run the workflow, which trains it on the labelled train split.")
    sets = [proposals.basic_proposals(data.ids, data.dists, k, th, params.step, params.minsz, params.maxsz)
            for k, th in params.proposals]
    model = gcnd.load_checkpoint(params.checkpoint, data.feats.shape[1])
    x = gcnd.normalized(data.feats)
    scores = gcnd.predict(model, x, data.ids, data.dists, sets, device_name=params.train.device)
    return gcnd.deoverlap(proposals.concatenate(sets), scores)


METHOD = Method(
    "gcnd", Params, "GCN-D: multi-scale cluster proposals scored by a GCN's predicted IoU, de-overlapped best first",
    reads=frozenset({"knn", "features"}), threshold=None, cluster=cluster, rules="own", learned=True, threads=8)
