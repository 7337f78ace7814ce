"""GCN-E (Yang et al., CVPR 2020): connectivity between a vertex and its more-confident neighbours.

For a vertex v, its candidate set is its kNN neighbours (on GCN-V's hidden features, k=160) with
higher GCN-V confidence, in the strict total order of :func:`ltc.confidence.higher` (equal
confidence: the lower index is higher), so an identical twin is a candidate of the other twin. A
vertex with one candidate, or among the ``ignore_ratio`` least confident vertices, simply links to
its nearest candidate (as GCN-V does); so does a vertex whose nearest candidate is an exact
duplicate. For every other vertex, GCN-E sees the subgraph of its candidates: node features are the
directions ``h_u - h_v``, edges the kNN graph's (symmetric, self-loops, row-normalised within the
subgraph), and four graph convolutions
(nhid, nhid, nhid/2, nhid/2) and a classifier predict for each candidate whether it is the same
identity as v. v links to the candidate with the highest predicted connectivity, if their similarity
is >= tau; clusters are the connected components.

Subgraphs are batched as padded dense tensors (B x W x ...) with masks, W the widest subgraph of the
batch; sub-adjacencies are read from the sparse graph for a whole batch at once. Inference batches
vertices of similar candidate counts (most decided vertices are confident ones, with few
more-confident neighbours: padding every subgraph to K = 160 slots had made inference 12x its
arithmetic, benchmarks/bench_gcne.py).
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from scipy import sparse
from torch import nn
from tqdm import tqdm

from ltc import DataError
from ltc.confidence import DUPLICATE_DISTANCE, duplicate_pairs, higher, join_duplicates, order_rank
from ltc.gcn import (EarlyStopping, GraphConv, checkpoint_error, check_converging, held_out_groups, load_state,
                     read_checkpoint)
from ltc.graph import symmetric_graph
from ltc.methods.gcne import Params

DEFAULTS = Params()  # the settings' one default (ltc.methods.gcne); TRAIN: those of its training
TRAIN = DEFAULTS.train

log = logging.getLogger(__name__)


def candidate_sets(ids: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """Mask (N x K bool) of each vertex's kNN neighbours above it in the order of
    :func:`ltc.confidence.higher` (higher confidence; equal confidence and a lower index). ids: N x K
    int (-1 = missing), confidence: N floats."""
    safe = np.where(ids >= 0, ids, 0)
    return (ids >= 0) & higher(confidence[safe], ids, confidence[:, None], np.arange(len(ids))[:, None])


def gcne_vertices(ids: np.ndarray, confidence: np.ndarray, ignore_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """(candidate mask, which vertices GCN-E decides for): two or more candidates and not among the
    ``ignore_ratio`` least confident vertices (lowest in the order of :func:`ltc.confidence.higher`,
    so equal confidences are ignored by index, never by sort noise)."""
    if not np.isfinite(confidence).all():
        raise DataError(f"{int((~np.isfinite(confidence)).sum())} of the {len(confidence)} GCN-V confidences are NaN "
                        f"or infinite: rebuild them (infer_gcnv) from a model that predicts finite values.")
    mask = candidate_sets(ids, confidence)
    n_ignored = int(len(ids) * ignore_ratio)
    ignored = order_rank(confidence) < n_ignored
    return mask, (mask.sum(axis=1) >= 2) & ~ignored


def subgraphs(vertices: np.ndarray, ids: np.ndarray, mask: np.ndarray, graph: sparse.csr_matrix,
              feats: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Padded subgraphs of ``vertices``: (candidate ids B x W, valid mask B x W, node features
    B x W x d = feats[candidate] - feats[vertex], row-normalised adjacency B x W x W), where W is the
    most candidates any of them has (at least 1, at most K): slot j of a row is its j-th candidate in
    kNN order, the slots after its last candidate are padding (zero features, no edges). Padding
    never changes a real candidate's output (no edge reaches it), so a batch is only as wide as its
    widest subgraph: batches of similar candidate counts (:func:`links`) waste little arithmetic."""
    b = len(vertices)
    valid = mask[vertices]
    k = max(1, int(valid.sum(axis=1).max())) if b else 1
    # candidates first (in kNN order), padding after; then cut to the widest row
    order = np.argsort(~valid, axis=1, kind="stable")[:, :k]
    valid = np.take_along_axis(valid, order, axis=1)
    cand = np.where(valid, np.take_along_axis(ids[vertices], order, axis=1), 0)
    x = (feats[cand] - feats[vertices][:, None, :]) * valid[..., None]
    # sub-adjacency: graph rows of the candidates, kept where the column is a candidate of the same vertex
    slots = np.flatnonzero(valid.ravel())  # flat (vertex, slot) positions of real candidates
    rows = graph[cand.ravel()[slots]].tocoo()
    row_slot = slots[rows.row]
    block = row_slot // k
    n = graph.shape[0]
    slot_keys = (slots // k) * n + cand.ravel()[slots]
    sort = np.argsort(slot_keys, kind="stable")
    slot_keys, slot_of = slot_keys[sort], slots[sort]
    want = block * n + rows.col
    pos = np.minimum(np.searchsorted(slot_keys, want), len(slot_keys) - 1)
    hit = slot_keys[pos] == want
    adj = np.zeros((b, k, k), dtype=np.float32)
    adj[block[hit], row_slot[hit] % k, slot_of[pos[hit]] % k] = rows.data[hit]
    total = adj.sum(axis=2, keepdims=True)
    adj = np.divide(adj, total, out=np.zeros_like(adj), where=total > 0)
    return cand, valid, x.astype(np.float32), adj


class DenseGraphConv(GraphConv):
    """GraphConv on a batch of padded subgraphs (x: B x K x d, A: B x K x K, row-normalised)."""

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return super().forward(torch.cat([x, torch.bmm(adj, x)], dim=-1))


class GCNE(nn.Module):
    """GCN-E: four graph convolutions, then Linear -> PReLU -> Linear(2): per-candidate logits."""

    def __init__(self, dim: int, nhid: int = DEFAULTS.nhid):
        super().__init__()
        half = nhid // 2
        self.conv1 = DenseGraphConv(dim, nhid)
        self.conv2 = DenseGraphConv(nhid, nhid)
        self.conv3 = DenseGraphConv(nhid, half)
        self.conv4 = DenseGraphConv(half, half)
        self.classifier = nn.Sequential(nn.Linear(half, half), nn.PReLU(half), nn.Linear(half, 2))

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = conv(x, adj)
        return self.classifier(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:2], 2)


def _batches(vertices: np.ndarray, batch_size: int, rng: np.random.Generator | None = None):
    order = rng.permutation(vertices) if rng is not None else vertices
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def train(feats: np.ndarray, ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray, labels: np.ndarray, *,
          th_sim: float = DEFAULTS.th_sim, ignore_ratio: float = DEFAULTS.ignore_ratio.train,
          nhid: int = DEFAULTS.nhid, lr: float = TRAIN.lr, weight_decay: float = TRAIN.weight_decay,
          batch_size: int = TRAIN.batch_size, max_epochs: int = TRAIN.max_epochs, patience: int = TRAIN.patience,
          val_fraction: float = TRAIN.val_fraction, seed: int = TRAIN.seed) -> tuple[GCNE, list[dict]]:
    """Fit GCN-E on a labelled split (feats: GCN-V hidden features, unit rows; kNN on them; GCN-V
    confidences). Cross-entropy of "same identity as the centre" over every candidate; early stopping
    on held-out identities (as :func:`ltc.gcn.held_out_groups` picks them: none when the subgraphs'
    centres have only two identities). Returns the model and the loss curve.

    Raises :class:`DataError` when no vertex has a subgraph to learn from (fewer than two candidates,
    or all among the ``ignore_ratio`` least confident) or when the centres have fewer than two
    identities; the caller checks the labels themselves (:func:`ltc.confidence.check_train_labels`)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    graph = symmetric_graph(ids, dists, th_sim)
    mask, decide = gcne_vertices(ids, confidence, ignore_ratio)
    vertices = np.flatnonzero(decide)
    if not len(vertices):
        raise DataError(f"No vertex of the train split has two or more more-confident candidates outside the "
                        f"{ignore_ratio:g} least confident, so GCN-E has nothing to learn from: lower "
                        f"methods.gcne.ignore_ratio.train or raise methods.gcne.k.")
    if len(np.unique(labels[vertices])) < 2:
        raise DataError(f"GCN-E's {len(vertices)} training subgraphs are all centred on one identity, so it cannot "
                        f"learn to tell identities apart: lower methods.gcne.ignore_ratio.train or label more identities.")
    held_out = held_out_groups(labels[vertices], val_fraction, rng)
    val_v, train_v = vertices[held_out], vertices[~held_out]
    log.info("GCN-E: %d training subgraphs, %d held out", len(train_v), len(val_v))
    if not len(val_v):
        log.warning("GCN-E: the subgraphs' centres have only two identities: none held out, so no early stopping")
    model = GCNE(feats.shape[1], nhid)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def loss_of(batch):
        cand, valid, x, adj = subgraphs(batch, ids, mask, graph, feats)
        target = torch.from_numpy((labels[cand] == labels[batch][:, None]).astype(np.int64))
        logits = model(torch.from_numpy(x), torch.from_numpy(adj))
        keep = torch.from_numpy(valid)
        return nn.functional.cross_entropy(logits[keep], target[keep]), int(keep.sum())

    stopper, history = EarlyStopping(model, patience), []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        total = count = 0
        for batch in tqdm(list(_batches(train_v, batch_size, rng)), desc=f"gcn-e epoch {epoch}", unit="batch", leave=False):
            loss, n = loss_of(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * n, count + n
        model.eval()
        with torch.no_grad():
            parts = [loss_of(b) for b in _batches(val_v, batch_size)]
        val_loss = sum(loss.item() * n for loss, n in parts) / max(1, sum(n for _, n in parts)) if parts else math.nan
        history.append({"epoch": epoch, "train_loss": total / max(1, count), "val_loss": val_loss,
                        "seconds": round(time.perf_counter() - start, 2)})
        log.info("GCN-E epoch %d: train loss %.5f, held-out loss %.5f", epoch, history[-1]["train_loss"], val_loss)
        check_converging("GCN-E", epoch, history[-1]["train_loss"], val_loss if parts else None, model,
                         f"lower methods.gcne.train.lr (now {lr:g})")
        if parts and stopper.should_stop(val_loss):
            break
    return (stopper.restore_best() if len(val_v) else model), history


@torch.no_grad()
def links(model: GCNE, feats: np.ndarray, ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray, *,
          th_sim: float = DEFAULTS.th_sim, ignore_ratio: float = DEFAULTS.ignore_ratio.test, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Each vertex's chosen peer (-1 if it has no candidate) and their similarity: its nearest candidate,
    or, for GCN-E vertices, the candidate GCN-E finds most connected. A vertex whose nearest candidate
    is an exact duplicate of it (distance <= :data:`DUPLICATE_DISTANCE`) links to that one, so the
    same photo twice is never split. Cluster with :func:`ltc.confidence.link_to_peaks`.
    Returns (peer int64 N, similarity float N, -inf without a peer); feats: N x d unit rows;
    ids, dists: their N x K kNN sorted by distance; confidence: N finite floats."""
    graph = symmetric_graph(ids, dists, th_sim)
    mask, decide = gcne_vertices(ids, confidence, ignore_ratio)
    choice = np.where(mask.any(axis=1), mask.argmax(axis=1), -1)
    duplicate = (choice >= 0) & (dists[np.arange(len(ids)), np.maximum(choice, 0)] <= DUPLICATE_DISTANCE)
    decide = decide & ~duplicate
    model.eval()
    # vertices in order of their candidate count, so each batch is about as wide as its subgraphs
    # (each vertex's choice is its own: the order changes no result)
    decided = np.flatnonzero(decide)
    decided = decided[np.argsort(mask[decided].sum(axis=1), kind="stable")]
    for batch in tqdm(list(_batches(decided, batch_size)), desc="gcn-e inference", unit="batch"):
        _, valid, x, adj = subgraphs(batch, ids, mask, graph, feats)
        prob = torch.softmax(model(torch.from_numpy(x), torch.from_numpy(adj)), dim=-1)[..., 1].numpy()
        if not np.isfinite(prob[valid]).all():
            raise DataError("The GCN-E model predicts NaN connectivities: it is broken; retrain it "
                            "(snakemake --forcerun train_gcne) and check the GCN-V features it is given.")
        best_slot = np.where(valid, prob, -np.inf).argmax(axis=1)  # ties: the first, i.e. nearest, candidate
        # slots hold the candidates in kNN order: map the slot back to its column in the kNN row
        columns = np.argsort(~mask[batch], axis=1, kind="stable")
        choice[batch] = columns[np.arange(len(batch)), best_slot]
    rows = np.arange(len(ids))
    safe = np.maximum(choice, 0)
    peer = np.where(choice >= 0, ids[rows, safe], -1)
    sim = np.where(choice >= 0, 1.0 - dists[rows, safe], -np.inf)
    return join_duplicates(peer, sim, *duplicate_pairs(ids, dists), confidence)  # groups of copies: one cluster


def load_checkpoint(path, dim: int | None = None) -> GCNE:
    """Load a GCN-E checkpoint written by :func:`ltc.gcn.save_checkpoint` (meta holds dim and nhid), or
    the original project's (the same parameter names; dim and nhid read from ``conv1.weight``, 2 dim x
    nhid), for ``dim``-D GCN-V features (any if None). Raises :class:`DataError` for a missing, truncated
    or corrupt file, NaN weights, neither dim/nhid meta nor ``conv1.weight``, or weights of another shape."""
    path = Path(path)
    setting, fix = "GCN-E model", "re-create it with train_gcne.py"
    state, meta = read_checkpoint(path, setting, fix)
    weight = state.get("conv1.weight")
    if not {"dim", "nhid"} <= set(meta) and weight is not None and weight.ndim == 2:
        meta = {"dim": weight.shape[0] // 2, "nhid": weight.shape[1]}  # the original's: no meta of ours
    try:
        model_dim, nhid = int(meta["dim"]), int(meta["nhid"])
    except (KeyError, TypeError, ValueError):
        raise checkpoint_error(path, setting, "has no meta dim and nhid (it is not a GCN-E checkpoint)", fix) from None
    if dim is not None and model_dim != dim:
        raise DataError(f"GCN-E model {path} expects {model_dim}-D GCN-V features but they are {dim}-D: "
                        f"retrain it on GCN-V features of this width (snakemake --forcerun train_gcne).")
    return load_state(GCNE(model_dim, nhid), state, path, setting, fix)
