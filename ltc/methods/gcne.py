"""GCN-E (Yang et al., CVPR 2020, on top of GCN-V): its settings and its entry in the method registry.
The model, its training and its links are :mod:`ltc.gcne`; the workflow runs them as stages
(``workflow/rules/method_gcne.smk``, then ``link_clustering.smk``). Defaults: the original project's
MS1M configuration (its ``vegcn/configs/cfg_train_gcne_ms1m.py``)."""
from __future__ import annotations

from dataclasses import dataclass

from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class IgnoreRatio:
    """The least confident fraction of vertices left to GCN-V's nearest-candidate rule (config
    ``methods.gcne.ignore_ratio``)."""
    train: float = setting(0.7, "on the train split (not trained on)")
    test: float = setting(0.8, "on the test split")


@dataclass(frozen=True)
class TrainParams:
    """Training of GCN-E (config ``methods.gcne.train``): Adam on batches of subgraphs, early stopping
    on held-out identities."""
    lr: float = setting(0.001, "Adam's learning rate")
    weight_decay: float = setting(1.0e-5, "Adam's L2 weight decay")
    batch_size: int = setting(64, "subgraphs per step")
    max_epochs: int = setting(20, "epochs at most")
    patience: int = setting(2, "epochs without a lower held-out error before stopping (the best weights are kept)")
    val_fraction: float = setting(0.1, "fraction of the train identities held out for early stopping")
    seed: int = setting(0, "seed of the initial weights, the held-out identities and the batches")


@dataclass(frozen=True)
class Params:
    """Settings of GCN-E (config ``methods.gcne``)."""
    k: int = setting(160, "kNN of the GCN-V hidden features whose more-confident members are the candidates")
    th_sim: float = setting(0.0, "graph edges with cosine similarity below this are dropped")
    nhid: int = setting(512, "hidden features of the GCN layers")
    tau: float | str = setting("auto", "each vertex links to its chosen candidate if their cosine >= tau; 'auto': "
                                       "chosen on the labelled train split", example=0.8)
    checkpoint: str | None = setting(None, "a trained GCN-E (ours, or the original project's .pth; zoo:NAME: a model "
                                           "of the config's zoo, `models`): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained GCN-E to use (for a dataset without a train split)")
    ignore_ratio: IgnoreRatio = setting(IgnoreRatio(), "see IgnoreRatio")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


METHOD = Method(
    "gcne", Params, "GCN-E: a GCN over each vertex's more-confident neighbours picks its link",
    reads=frozenset({"knn", "features"}), threshold="tau", rules="links", learned=True, threads=8)
