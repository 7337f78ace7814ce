"""GCN-V (Yang et al., "Learning to Cluster Faces via Confidence and Connectivity Estimation", CVPR
2020): its settings and its entry in the method registry. The model, its training and inference are
:mod:`ltc.gcn`; the links (each vertex to its nearest more-confident neighbour) :mod:`ltc.confidence`;
the workflow runs them as stages (``workflow/rules/method_gcnv.smk``, then ``link_clustering.smk``).
Defaults: the original project's MS1M configuration (its ``vegcn/configs/cfg_train_gcnv_ms1m.py``)."""
from __future__ import annotations

from dataclasses import dataclass

from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class TrainParams:
    """Training of GCN-V (config ``methods.gcnv.train``): mini-batch Adam on rows of [X, AX], early
    stopping on held-out identities."""
    lr: float = setting(0.001, "Adam's learning rate")
    weight_decay: float = setting(1.0e-5, "Adam's L2 weight decay")
    batch_size: int = setting(4096, "rows per step")
    max_epochs: int = setting(50, "epochs at most")
    patience: int = setting(3, "epochs without a lower held-out error before stopping (the best weights are kept)")
    val_fraction: float = setting(0.1, "fraction of the train identities held out for early stopping")
    seed: int = setting(0, "seed of the initial weights, the held-out identities and the batches")
    device: str = setting("auto", "auto (CUDA when present, else CPU), cpu or cuda")


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
    checkpoint: str | None = setting(None, "a trained GCN-V (ours, or the original project's .pth): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained GCN-V to use (for a dataset without a train split)")
    gpus: int = setting(0, "GPUs a scheduler should give the training job")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


METHOD = Method(
    "gcnv", Params, "GCN-V vertex confidences, links to the nearest more-confident neighbour",
    reads=frozenset({"knn", "features"}), threshold=lambda p: "tau" if p.use_gcn_feat else "tau_0", rules="links",
    learned=True, threads=8)
