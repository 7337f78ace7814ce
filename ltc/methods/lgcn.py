"""L-GCN (Wang et al., "Linkage-based Face Clustering via Graph Convolution Network", CVPR 2019; the
original learn-to-cluster project's ``lgcn/``): its settings and its entry in the method registry.
Subgraphs, the model, training, links and clustering are :mod:`ltc.lgcn`; the workflow runs them as
stages of its own rules (``workflow/rules/method_lgcn.smk``: train_lgcn, links_lgcn per split,
select_threshold_lgcn, cluster_lgcn).

Defaults: the model, active connection, ``step`` and ``maxsz`` of the original's MS1M configuration
(``lgcn/configs/cfg_train_lgcn_ms1m.py``: 4 graph convolutions 512, 512, 256, 256; step 0.6, max_sz
300), with smaller pivot subgraphs (``k_at_hop`` [10, 5], ``active_connection`` 5) so that the demo
runs in minutes on 2 CPU cores; the ``ms1m`` and ``deepfashion`` entries of config.yaml carry the
original's own values ([200, 10], 10; [5, 5], 5, step 0.5, max_sz 50; its threshold: none, ``th: 0``).
On the CPU a split whose subgraphs hold more than ``max_cpu_nodes`` nodes is refused up front.
"""
from __future__ import annotations

from dataclasses import dataclass

from ltc import DataError
from ltc.methods.registry import Method, setting


@dataclass(frozen=True)
class TrainParams:
    """Training of L-GCN (config ``methods.lgcn.train``): Adam on batches of pivot subgraphs (a seeded
    sample of pivots per epoch), the cross-entropy of "hop-1 node shares the pivot's identity", early
    stopping on pivots of held-out identities (the best weights kept). The original trains by SGD (lr
    0.01, momentum 0.9, weight decay 1e-4, 4 epochs over every pivot, batch 16, lr x0.1 per epoch)."""
    lr: float = setting(1.0e-3, "Adam's learning rate")
    weight_decay: float = setting(1.0e-4, "L2 weight decay (the original's 1e-4)")
    batch_size: int = setting(32, "pivot subgraphs per step (the original's 16)")
    max_epochs: int = setting(8, "epochs at most")
    patience: int = setting(2, "epochs without a lower held-out loss before stopping, the best weights kept")
    val_fraction: float = setting(0.1, "fraction of the train identities whose pivots are held out for early stopping")
    max_pivots: int | None = setting(2048, "pivots drawn per epoch at most, and held-out pivots scored at most (a "
                                           "seeded sample; null: all)")
    seed: int = setting(0, "seed of the initial weights, the held-out identities, the samples and the batches")
    device: str = setting("auto", "auto (CUDA when present, else CPU), cpu or cuda; also used for the links")


@dataclass(frozen=True)
class Params:
    """Settings of L-GCN (config ``methods.lgcn``)."""
    k_at_hop: list = setting([10, 5], "pivot subgraph: the pivot's first k_at_hop[0] kNN neighbours (hop 1, at most "
                                      "knn.k - 1) and their first k_at_hop[1] each (hop 2); the original, MS1M: "
                                      "[200, 10] (with its k 80 kNN: 79 hop-1 nodes)")
    active_connection: int = setting(5, "each subgraph node is linked to those of its first active_connection kNN "
                                        "neighbours that are in the subgraph (the original, MS1M: 10)")
    nhid: int = setting(512, "width of the first two graph convolutions (the last two and the classifier: nhid / 2; "
                             "the original's 512)")
    th: float | str = setting("auto", "links (pivot, hop-1 node) of predicted same-identity probability >= th are "
                                      "kept; 'auto': chosen on the labelled train split; 0: every link, the "
                                      "original's choice", example=0.0)
    step: float = setting(0.6, "a component above maxsz is split again at t <- t + (1 - t) * step, from the "
                               "smallest kept probability (the original, MS1M: 0.6)")
    maxsz: int = setting(300, "components of more points are split at a rising threshold (the original, MS1M: 300)")
    max_cpu_nodes: int | None = setting(1_000_000_000, "subgraph nodes of a split at most (points x (1 + k0 + k0 k1), "
                                                       "counts capped by knn.k - 1) when running on the CPU: a larger "
                                                       "split is refused up front (measured: ~1.4e-5 CPU s per node, "
                                                       "so 1e9 is ~4 CPU hours; null: no limit; CUDA: none)")
    checkpoint: str | None = setting(None, "a trained L-GCN (ours, or the original project's .pth): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained L-GCN to use (for a dataset without a train split)")
    gpus: int = setting(0, "GPUs a scheduler should give the training and links jobs")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


def check(params: Params) -> None:
    """Raise :class:`DataError` (one sentence naming the setting) for settings the schema cannot refuse
    alone: a ``k_at_hop`` that is not two positive counts, an odd ``nhid``."""
    hops = params.k_at_hop
    if not (isinstance(hops, (list, tuple)) and len(hops) == 2
            and all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hops)):
        raise DataError(f"methods.lgcn.k_at_hop is {hops!r}: set it to two positive counts [hop 1, hop 2], "
                        f"e.g. [10, 5].")
    if params.nhid < 2 or params.nhid % 2:
        raise DataError(f"methods.lgcn.nhid is {params.nhid}: set it to an even width of 2 or more, e.g. 512.")


def _trained(params: Params, data):
    """(links (peer, prob)) of a checkpoint's L-GCN on ``data``; refuses without a checkpoint."""
    from ltc import lgcn

    check(params)
    if not params.checkpoint:
        raise DataError("lgcn clusters with a trained L-GCN: set methods.lgcn.checkpoint to one (ours or the original "
                        "project's .pth), or run the workflow, which trains it on the labelled train split.")
    model = lgcn.load_checkpoint(params.checkpoint, data.feats.shape[1])
    return lgcn.links(model, data.feats, data.ids, params.k_at_hop, params.active_connection,
                      device_name=params.train.device, max_cpu_nodes=params.max_cpu_nodes)


def sweeper(params: Params, data):
    """(th -> labels, pooled link probabilities) of a checkpoint's L-GCN on ``data``: the links are
    predicted once (:func:`ltc.lgcn.links`), each cut is :func:`ltc.lgcn.cluster`."""
    from ltc import lgcn

    peer, prob = _trained(params, data)
    return lgcn.sweeper(peer, prob, params.maxsz, params.step)


def cluster(params: Params, data):
    """L-GCN in one step with a trained model (``checkpoint``) and a numeric ``th``."""
    return sweeper(params, data)[0](float(params.th))


METHOD = Method(
    "lgcn", Params, "L-GCN: a GCN over each point's pivot subgraph predicts its links to its kNN, split at a "
                    "rising threshold", reads=frozenset({"knn", "features"}), threshold="th", cluster=cluster,
    sweeper=sweeper, rules="own", learned=True, threads=8)
