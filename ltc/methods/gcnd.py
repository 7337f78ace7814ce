"""GCN-D (Yang et al., "Learning to Cluster Faces on an Affinity Graph", CVPR 2019): its settings and
its entry in the method registry. Proposals are :mod:`ltc.proposals`; the model, its training,
inference and the de-overlap :mod:`ltc.gcnd`; the workflow runs them as stages of its own rules
(``workflow/rules/method_gcnd.smk``: thresholds_gcnd, proposals per setting, train_gcnd, infer_gcnd,
select_threshold_gcnd (``th_pos: auto``), deoverlap_gcnd; proposals_gcnd_sv for the second iteration). Defaults: the original project's MS1M configuration (its
``dsgcn/configs/cfg_train_det_ms1m_8_prpsls.py``: the eight settings' k, step 0.05, minsz 3, maxsz 300,
hidden dims [512, 64], max pooling, dropout 0.5, 30 epochs), except the thresholds, derived from the
train split (below). Demo training: 30 epochs of about 2 s each on 2 idle cores.

GCN-S (the same paper's per-vertex segmentation of a proposal, its ``cfg_*_seg_*`` configs) is part
of this method, off by default (``methods.gcnd.segment``): it cleans GCN-D's proposals before the same
de-overlap, so it shares GCN-D's proposals, model and scores (a method of its own would repeat all of
GCN-D's settings); its rules are train_gcns and infer_gcns, and changing how its output is applied
(``th_outlier``, ``apply_iop``, ``keep_outlier``) reruns only the de-overlap.

Proposal thresholds: a th of ``proposals`` is a cosine similarity (the original's MS1M values, kept on
the ``ms1m`` entries of config.yaml) or derived from the train split (:func:`ltc.proposals.derive_threshold`:
``"q0.8"``, a quantile of its kNN links' similarities; ``"r0.5"``, the recall of its same-identity links);
the workflow records the values in ``results/<ds>/gcnd/thresholds.json`` and uses them on both splits.
The default list (:data:`DERIVED_PROPOSALS`) is derived: on the demo it covers 97% of the points where
the MS1M values cover 68% (upper bound pairwise F 0.908 against 0.749 on the test split; chosen by the
train split's, 0.916).

Second proposal iteration (super-vertices, :func:`ltc.proposals.super_vertex_proposals`; off by
default): each entry [base_k, base_th, k, sv_maxsz] of ``super_vertex`` makes one more proposal set on
both splits, after those of ``proposals``, from the clusters of the iteration-0 setting (base_k,
base_th) taken as super-vertices, with the shared settings ``sv``. The ``ms1m`` entries of config.yaml
carry the six of the original's ``dsgcn/configs/cfg_test_ms1m_8_prpsls.py`` (bases k 80, th 0.6, 0.7 and
0.75, each with [k 2, sv_maxsz 8] and [k 3, sv_maxsz 5]).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ltc import DataError
from ltc.methods.registry import Method, setting

#: the original's MS1M training settings (k, th): cfg_train_det_ms1m_8_prpsls.py, k_th_lst
MS1M_PROPOSALS = [[30, 0.6], [30, 0.7], [60, 0.6], [60, 0.7], [80, 0.6], [80, 0.65], [80, 0.7], [80, 0.75]]
#: the default: the MS1M pairs' k with thresholds derived from the train split's kNN similarities
#: (quantiles: of the seven q and r lists tried, the best upper bound, score gt, on the demo's train
#: split: pairwise F 0.916 against the MS1M cosines' 0.791)
DERIVED_PROPOSALS = [[30, "q0.5"], [30, "q0.7"], [60, "q0.7"], [60, "q0.8"], [80, "q0.75"], [80, "q0.8"],
                     [80, "q0.85"], [80, "q0.9"]]


@dataclass(frozen=True)
class TrainParams:
    """Training of GCN-D (config ``methods.gcnd.train``) and of GCN-S (``methods.gcnd.segment.train``):
    Adam on padded batches of proposals, GCN-D's loss the MSE of the predicted against the true IoU,
    GCN-S's the per-vertex cross-entropy; early stopping on proposals of held-out identities (the best
    weights kept). The original trains by SGD (lr 0.01, momentum 0.9, 30 epochs, batch 32)."""
    lr: float = setting(1.0e-3, "Adam's learning rate")
    weight_decay: float = setting(1.0e-4, "L2 weight decay (the original's 1e-4)")
    batch_size: int = setting(32, "proposals per step (the original's 32)")
    max_epochs: int = setting(30, "epochs at most (the original runs 30)")
    patience: int = setting(3, "epochs without a lower held-out error before stopping, the best weights kept")
    val_fraction: float = setting(0.1, "fraction of the train identities whose proposals are held out for early stopping")
    max_proposals: int | None = setting(None, "proposals drawn per epoch at most, and held out at most (seeded "
                                              "samples; null: all): for large splits (on the demo 1000 stops "
                                              "training after 4 epochs, pairwise F 0.876 -> 0.724)")
    seed: int = setting(0, "seed of the initial weights, the held-out identities, the samples and the batches")
    device: str = setting("auto", "auto (CUDA when present, else CPU), cpu or cuda")


#: GCN-S's seed vertex: none (positives: the proposal's majority identity), or the original's seed
#: column (positives: the seed's identity), the seed drawn at random or the member of most links
SEEDS = ("none", "random", "max_degree")


@dataclass(frozen=True)
class SegmentParams:
    """GCN-S (config ``methods.gcnd.segment``; the original's ``cfg_train_seg_ms1m_8_prpsls.py`` and
    ``cfg_test_seg_ms1m_8_prpsls.py``): per vertex of a proposal, the probability that it belongs to the
    proposal's identity; the vertices of the cleaned proposals at or below ``th_outlier`` are removed
    from them before the de-overlap."""
    enabled: bool = setting(False, "clean the test proposals with GCN-S before the de-overlap")
    seed: str = setting("none", "none: a vertex is positive when of the proposal's majority identity; random or "
                                "max_degree: the original's extra input column marking a seed vertex (random, as its "
                                "configs, or the member of most links), positives of the seed's identity")
    hidden: list = setting([512, 64], "output widths of the graph convolutions (ReLU after each), then per vertex "
                                      "Linear(last, 2)")
    dropout: float = setting(0.5, "training: the fraction of a proposal's vertices zeroed after each convolution "
                                  "(the original's 0.5)")
    train_iop: list = setting([0.2, 0.8], "GCN-S trains on the train proposals whose true IoP lies in [lo, hi] "
                                          "(the original's th_iop_min/max)")
    apply_iop: list = setting([0.1, 0.9], "the test proposals cleaned: those whose estimated IoP lies in [lo, hi] (the "
                                          "original's test range; the estimate is GCN-S's kept fraction, where the "
                                          "original uses a second GCN-D trained on IoP)")
    th_outlier: float = setting(0.5, "a vertex is kept when GCN-S's probability exceeds this (the original's th_outlier)")
    keep_outlier: bool = setting(True, "the vertices removed from a proposal form a cluster of their own, after "
                                       "every proposal in the de-overlap order (the original's keep_outlier)")
    checkpoint: str | None = setting(None, "a trained GCN-S (ours, or the original project's .pth): training is skipped")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")


@dataclass(frozen=True)
class SuperVertexParams:
    """The settings shared by the second proposal iteration's entries (config ``methods.gcnd.sv``;
    the original's th_i1, step_i1, sv_minsz_i1, minsz_i1 and maxsz_i1 of cfg_test_ms1m_8_prpsls.py),
    the keyword arguments of :func:`ltc.proposals.super_vertex_proposals` of the same names."""
    th: float = setting(0.4, "links of each super-vertex to its first k super-vertices of similarity >= th (the "
                             "original's 0.4)")
    step: float = setting(0.05, "a part above sv_maxsz super-vertices is split again at t <- t + (1 - t) * step")
    sv_minsz: int = setting(2, "parts of fewer super-vertices are dropped (at least 2: one super-vertex only "
                               "repeats an iteration-0 cluster)")
    minsz: int = setting(3, "proposals (the union of a part's super-vertices) of fewer vertices are dropped")
    maxsz: int = setting(500, "proposals of more vertices are dropped")
    similarity: str = setting("cosine", "the similarity of two super-vertices' mean features: cosine (the original's "
                                        "hnsw kNN of its MS1M test config) or inner, their inner product (its faiss "
                                        "IndexFlatIP)")


@dataclass(frozen=True)
class Params:
    """Settings of GCN-D (config ``methods.gcnd``)."""
    proposals: list = setting(DERIVED_PROPOSALS, "proposal settings [k, th]: links to the first k kNN neighbours with "
                                                 "cosine >= th, components (one proposal set per pair, both splits); "
                                                 "th a cosine, or derived from the train split: 'q0.8' (a quantile "
                                                 "of its kNN links' similarities) or 'r0.5' (the recall of its "
                                                 "same-identity links)")
    step: float = setting(0.05, "a component above maxsz is split again at t <- t + (1 - t) * step, until no part "
                                "exceeds maxsz")
    minsz: int = setting(3, "proposals of fewer vertices are dropped")
    maxsz: int = setting(300, "components of more vertices are split at a rising threshold")
    super_vertex: list = setting([], "second-iteration proposal settings [base_k, base_th, k, sv_maxsz] (one proposal "
                                     "set each, both splits, after those of proposals): the clusters of the proposal "
                                     "setting [base_k, base_th] (with step and maxsz; none dropped by minsz) as "
                                     "super-vertices of their mean features, linked to their first k super-vertices "
                                     "(itself among them), components split until at most sv_maxsz super-vertices "
                                     "(the original's MS1M test config: [[80, 0.6, 2, 8], [80, 0.6, 3, 5], ...]); "
                                     "[]: none")
    sv: SuperVertexParams = setting(SuperVertexParams(), "the second iteration's shared settings (see "
                                                         "SuperVertexParams)")
    hidden: list = setting([512, 64], "output widths of the graph convolutions (ReLU after each; max pooling "
                                             "over the proposal's vertices, then Linear(last, 1))")
    dropout: float = setting(0.5, "training: the fraction of a proposal's vertices zeroed after each convolution "
                                  "(the original's dsgcn default 0.5; on the demo 0 halves the held-out error at first "
                                  "but stops early and ranks worse: pairwise F 0.747 against 0.876)")
    target: str = setting("iou", "what GCN-D regresses: iou (the proposal's IoU with its majority identity) or iop")
    score: str = setting("model", "de-overlap order: model (GCN-D's predicted scores) or gt (the test labels' true "
                                  "IoU: the upper bound of perfect scores, an oracle)")
    th_pos: float | str = setting("auto", "the de-overlap keeps only the proposals scoring >= th_pos (the original's "
                                          "th_pos; its default -1 keeps all, as the ms1m entries do), or auto: "
                                          "chosen on the train split's proposals and scores (best pairwise F) and "
                                          "applied as the fraction of proposals it keeps there. On "
                                          "celeba10k (1.8 faces per identity) keeping all gives mixed clusters: the "
                                          "upper bound's pairwise F 0.10 against 0.47 at th_pos 0.5", example=-1)
    checkpoint: str | None = setting(None, "a trained GCN-D (ours, or the original project's .pth): training is skipped")
    model_from: str | None = setting(None, "a dataset whose trained GCN-D to use (for a dataset without a train split)")
    gpus: int = setting(0, "GPUs a scheduler should give the training jobs")
    train: TrainParams = setting(TrainParams(), "training (see TrainParams)")
    segment: SegmentParams = setting(SegmentParams(), "GCN-S (see SegmentParams)")


TARGETS = ("iou", "iop")
SCORES = ("model", "gt")


def check(params: Params) -> None:
    """Raise :class:`DataError` (one sentence naming the setting) for settings the schema cannot
    refuse alone: an empty or malformed proposal list, an unknown target or score, a malformed
    ``super_vertex`` list or one whose entry or ``sv`` settings cannot make proposals."""
    from ltc.proposals import check_setting, check_super_vertex, derived_spec

    pairs = params.proposals
    if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], int) and not isinstance(p[0], bool)
            and isinstance(p[1], (int, float, str)) and not isinstance(p[1], bool) for p in pairs):
        raise DataError(f"methods.gcnd.proposals is {pairs!r}: set it to a list of [k, th] pairs, e.g. [[80, 0.7]] "
                        f"or [[80, 'q0.8']].")
    for _, th in pairs:
        derived_spec(th)
    if len({(int(k), th if isinstance(th, str) else float(th)) for k, th in pairs}) != len(pairs):
        raise DataError(f"methods.gcnd.proposals lists a [k, th] pair twice ({pairs!r}): list each setting once.")
    entries = params.super_vertex
    if not isinstance(entries, list) or not all(
            isinstance(e, (list, tuple)) and len(e) == 4 and isinstance(e[0], int) and not isinstance(e[0], bool)
            and isinstance(e[1], (int, float, str)) and not isinstance(e[1], bool) for e in entries):
        raise DataError(f"methods.gcnd.super_vertex is {entries!r}: set it to a list of [base_k, base_th, k, sv_maxsz], "
                        f"e.g. [[80, 0.6, 2, 8]], or [] for no second iteration.")
    for base_k, base_th, k, sv_maxsz in entries:
        check_setting(base_k, 0.0 if derived_spec(base_th, "super_vertex", "base_") else base_th, params.step,
                      params.minsz, params.maxsz, name="super_vertex", prefix="base_")
        check_super_vertex(k, sv_maxsz, **dataclasses.asdict(params.sv))
    keys = [(int(b), th if isinstance(th, str) else float(th), k, m) for b, th, k, m in entries]
    if len(set(keys)) != len(keys):
        raise DataError(f"methods.gcnd.super_vertex lists an entry twice ({entries!r}): list each setting once.")
    if params.target not in TARGETS:
        raise DataError(f"methods.gcnd.target is {params.target!r}: set it to iou or iop.")
    if params.score not in SCORES:
        raise DataError(f"methods.gcnd.score is {params.score!r}: set it to model or gt.")
    if not params.hidden or not all(isinstance(h, int) and h >= 1 for h in params.hidden):
        raise DataError(f"methods.gcnd.hidden is {params.hidden!r}: set it to a list of positive widths, e.g. [512, 64].")
    seg = params.segment
    if seg.seed not in SEEDS:
        raise DataError(f"methods.gcnd.segment.seed is {seg.seed!r}: set it to none, random or max_degree.")
    if not seg.hidden or not all(isinstance(h, int) and h >= 1 for h in seg.hidden):
        raise DataError(f"methods.gcnd.segment.hidden is {seg.hidden!r}: set it to a list of positive widths, e.g. "
                        f"[512, 64].")
    for name in ("train_iop", "apply_iop"):
        span = getattr(seg, name)
        if not (isinstance(span, (list, tuple)) and len(span) == 2 and 0 <= span[0] <= span[1] <= 1):
            raise DataError(f"methods.gcnd.segment.{name} is {span!r}: set it to [lo, hi] with 0 <= lo <= hi <= 1, "
                            f"e.g. [0.2, 0.8].")


def proposal_sets(params: Params, ids, dists, feats) -> list:
    """The proposal sets (:class:`ltc.proposals.Proposals`) of GCN-D's settings on one split's kNN graph
    (``ids``/``dists`` N x K) and features (N x D float32), in the workflow's order (the rule
    proposals_gcnd's of ``proposals``, then proposals_gcnd_sv's of ``super_vertex``). A derived th
    ``q<l>`` is derived from this kNN graph; ``r<l>`` needs labels and is refused
    (:func:`ltc.proposals.derive_threshold`)."""
    from ltc import proposals

    def cosine(k, th):
        return proposals.derive_threshold(ids, dists, k, th) if isinstance(th, str) else th

    sets = [proposals.basic_proposals(ids, dists, k, cosine(k, th), params.step, params.minsz, params.maxsz)
            for k, th in params.proposals]
    return sets + [proposals.super_vertex_proposals(ids, dists, feats, base_k, cosine(base_k, base_th), k, sv_maxsz,
                                                    base_step=params.step, base_maxsz=params.maxsz,
                                                    **dataclasses.asdict(params.sv))
                   for base_k, base_th, k, sv_maxsz in params.super_vertex]


def sweeper(params: Params, data):
    """GCN-D in one step, with a trained model (``checkpoint``): proposals of every setting on the kNN
    graph and features (:func:`proposal_sets`), GCN-D's scores, GCN-S's cleaning (``segment.enabled``,
    with ``segment.checkpoint``); returns (th_pos -> the de-overlap's labels, the scores), the
    registry's sweeper (a numeric ``th_pos`` clusters; ``auto`` is chosen on a labelled split). A
    derived th ``q<l>`` is derived from the data clustered here (there is no train split); ``r<l>``
    needs labels and is refused. Raises :class:`DataError` without a checkpoint (training needs a
    labelled train split: the workflow's rules do it) or with ``score: gt`` (no labels here)."""
    from ltc import gcnd, proposals

    check(params)
    if params.score != "model":
        raise DataError("methods.gcnd.score is gt, which needs the test labels: run it in the workflow, or set score "
                        "to model.")
    if not params.checkpoint:
        raise DataError("gcnd clusters with a trained GCN-D: set methods.gcnd.checkpoint to one (ours or the original "
                        "project's .pth), or run the workflow, which trains it on the labelled train split.")
    seg = params.segment
    if seg.enabled and not seg.checkpoint:
        raise DataError("methods.gcnd.segment is enabled, and GCN-S in one step needs a trained one: set "
                        "methods.gcnd.segment.checkpoint, or run the workflow, which trains it on the train split.")
    sets = proposal_sets(params, data.ids, data.dists, data.feats)
    model = gcnd.load_checkpoint(params.checkpoint, data.feats.shape[1])
    x = gcnd.normalized(data.feats)
    scores = gcnd.predict(model, x, data.ids, data.dists, sets, device_name=params.train.device)
    keep = None
    if seg.enabled:
        segmenter = gcnd.load_gcns_checkpoint(seg.checkpoint, data.feats.shape[1], seg.seed)
        keep = gcnd.predict_keep(segmenter, x, data.ids, data.dists, sets, seg.seed, seg.train.seed,
                                 device_name=seg.train.device)
    return gcnd.sweeper(proposals.concatenate(sets), scores, keep, seg.apply_iop, seg.th_outlier, seg.keep_outlier)


METHOD = Method(
    "gcnd", Params, "GCN-D: multi-scale cluster proposals scored by a GCN's predicted IoU, de-overlapped best first",
    reads=frozenset({"knn", "features"}), threshold="th_pos", sweeper=sweeper, rules="own", learned=True, threads=8)
