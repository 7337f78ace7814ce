"""L-GCN (Wang et al., "Linkage-based Face Clustering via Graph Convolution Network", CVPR 2019; the
original learn-to-cluster project's ``lgcn/``, after Zhongdao/gcn_clustering): a GCN over each
point's instance pivot subgraph (IPS) predicts which of its kNN neighbours share its identity; the
predicted links are clustered by components split at a rising threshold.

Instance pivot subgraph of a pivot p (the original's ``ClusterDataset.__getitem__``), from the kNN
graph with each row's own id and missing ids (-1) dropped (:func:`clean_knn`; the original drops the
first column, which is the point itself in a sorted kNN file):

* nodes: p, its first ``k_at_hop[0]`` neighbours (hop 1) and the first ``k_at_hop[1]`` neighbours
  of each hop-1 node (hop 2), each node once (here in increasing id order; the original's set order);
* node features: the L2-normalised feature minus the pivot's;
* adjacency: every node linked, both ways, to those of its first ``active_connection`` neighbours that
  are nodes of the subgraph (weight 1), rows divided by their sums (mean aggregation); a node
  without any link keeps a zero row (the original would divide by zero, which its settings,
  ``k_at_hop[1] <= active_connection``, never meet).

With the original's own kNN files (k 80, k 5) its hop 1 is the whole kNN row: ``k_at_hop[0]`` of 200
or 80 (MS1M) only sizes its padding, so [200, 10] and [80, 10] build the same subgraphs there.

The model (its ``lgcn/models/lgcn.py``): ``bn0`` (BatchNorm1d without affine weights over the node
features), four graph convolutions ``relu([x, A x] W + b)`` (dim -> nhid -> nhid -> nhid/2 -> nhid/2;
the original: 512, 512, 256, 256), then for each hop-1 node ``Linear -> PReLU -> Linear(2)``: logits of
"not / same identity as the pivot". Parameter names follow that module layout (``bn0.running_mean``,
``conv1.weight`` of shape (2 in, out), ``conv1.bias``, ..., ``classifier.{0,1,2}.*``), so its
checkpoints load as they are (:func:`load_checkpoint`).

Batches are padding-free: the B subgraphs of a batch are stacked into one node array (M x D) with a
block-diagonal sparse adjacency (M x M), built for the whole batch at once by sorting and searching
keys ``b * N + node`` (no Python loop over pivots), so ``A x`` costs O(edges) instead of the padded
O(B S^2) of the original's dense ``bmm``; the results are the same. ``bn0`` in training normalises over
the real nodes only (the original's statistics also count its zero padding).

Clustering (the original's ``test_lgcn`` with ``graph_clustering_dynamic_th``, pool ``avg``): every
(pivot, hop-1 node, probability) is a link; a pair given twice (each is the other's neighbour) gets
the mean of its two probabilities; links of probability >= ``th`` are kept and their components split
while larger than ``maxsz`` at a threshold rising t <- t + (1 - t) ``step`` from max(th, the smallest
probability) (:func:`ltc.graph.split_at_rising_threshold`, at most 100 rounds). ``th`` 0 is the
original's choice (all links).
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from ltc import DataError
from ltc.gcn import (EarlyStopping, GraphConv, check_converging, checkpoint_error, device, held_out_groups, load_state,
                     read_checkpoint, save_checkpoint)
from ltc.graph import split_at_rising_threshold
from ltc.io import atomic_output, rebuild_hint
from ltc.methods.lgcn import Params
from ltc.rows import normalized

DEFAULTS = Params()  # the settings' one default (ltc.methods.lgcn); TRAIN: those of its training
TRAIN = DEFAULTS.train
MAX_ITER = 100  # splitting rounds at most (the original's graph_clustering_dynamic_th max_iter)
BATCH_NODES = 1 << 16  # inference: subgraph nodes per batch at most (its pivots: this / the largest subgraph)

log = logging.getLogger(__name__)

__all__ = ["LGCN", "clean_knn", "Subgraphs", "subgraphs", "train", "links", "pooled_pairs", "sweeper", "cluster",
           "load_checkpoint", "save_checkpoint", "save_links", "load_links", "normalized", "subgraph_nodes",
           "check_cost"]


def clean_knn(ids: np.ndarray, width: int | None = None) -> np.ndarray:
    """Each row's neighbours (int64 N x ``width``, default K) in kNN order with the row's own id and
    missing ids (-1) dropped, the rest moved left and -1 after them. ``ids``: N x K int kNN ids."""
    ids = np.asarray(ids, dtype=np.int64)
    n, k = ids.shape
    valid = (ids >= 0) & (ids != np.arange(n)[:, None])
    order = np.argsort(~valid, axis=1, kind="stable")
    out = np.where(np.take_along_axis(valid, order, axis=1), np.take_along_axis(ids, order, axis=1), -1)
    width = k if width is None else int(width)
    return out[:, :width] if width <= k else np.pad(out, ((0, 0), (0, width - k)), constant_values=-1)


def subgraph_nodes(k_at_hop, k: int | None = None) -> int:
    """The most nodes a pivot subgraph can have: 1 + k0 + k0 k1, each count at most ``k`` - 1 (a kNN
    graph of k columns, the point itself included) if given."""
    k0, k1 = (int(h) if k is None else min(int(h), int(k) - 1) for h in k_at_hop)
    return 1 + k0 + k0 * k1


class Subgraphs:
    """A batch of B pivot subgraphs stacked without padding (see the module docstring).

    ``nodes`` (M,) int64: the point of each stacked node, subgraph after subgraph, ids ascending in
    each; ``owner`` (M,): its subgraph (0..B-1); ``src``, ``dst``, ``weight`` (E,): the adjacency's
    entries (row-normalised, block-diagonal); ``hop1`` (B x k0) int64: the stacked position of each
    pivot's hop-1 nodes in kNN order (-1: none); ``peer`` (B x k0): those nodes' point ids (-1: none).
    """

    def __init__(self, nodes, owner, src, dst, weight, hop1, peer, pivots):
        self.nodes, self.owner, self.src, self.dst, self.weight = nodes, owner, src, dst, weight
        self.hop1, self.peer, self.pivots = hop1, peer, pivots

    def features(self, x: np.ndarray) -> np.ndarray:
        """Node features (M x D float32): ``x[node] - x[pivot]`` (``x``: the split's unit features)."""
        return x[self.nodes] - x[self.pivots[self.owner]]

    def adjacency(self, dev: torch.device) -> torch.Tensor:
        """The sparse (M x M) row-normalised adjacency on ``dev`` (its entries are sorted and unique
        by construction: coalesced without a sort)."""
        m = len(self.nodes)
        index = torch.from_numpy(np.stack([self.src, self.dst]))
        return torch.sparse_coo_tensor(index, torch.from_numpy(self.weight), (m, m), is_coalesced=True,
                                       check_invariants=False).to(dev)

    def edge_targets(self, labels: np.ndarray) -> np.ndarray:
        """1 where a hop-1 node shares its pivot's label, else 0 (int64, over the hop-1 entries >= 0,
        row-major)."""
        keep = self.peer >= 0
        centre = np.broadcast_to(labels[self.pivots][:, None], self.peer.shape)
        return (labels[self.peer[keep]] == centre[keep]).astype(np.int64)


def subgraphs(clean: np.ndarray, pivots: np.ndarray, k_at_hop, active_connection: int) -> Subgraphs:
    """The instance pivot subgraphs of ``pivots`` (int, B) on the cleaned kNN ``clean``
    (:func:`clean_knn`, N x K'), all at once (sorting and searching, no loop over pivots).

    hop 1: ``clean[p, :k0]``; hop 2: ``clean[hop1, :k1]``; links: ``clean[node, :active_connection]``
    that are nodes of the same subgraph, symmetric, rows divided by their sums. Counts above K' use
    what the kNN graph holds."""
    pivots = np.asarray(pivots, dtype=np.int64)
    n = len(clean)
    k0, k1 = int(k_at_hop[0]), int(k_at_hop[1])
    b = len(pivots)
    hop1 = clean[pivots, :k0]
    hop2 = np.where(hop1[..., None] >= 0, clean[np.maximum(hop1, 0), :k1], -1).reshape(b, -1)
    cand = np.concatenate([pivots[:, None], hop1, hop2], axis=1)
    block = np.broadcast_to(np.arange(b, dtype=np.int64)[:, None], cand.shape)
    keys = np.unique(block[cand >= 0] * n + cand[cand >= 0])  # sorted: subgraph after subgraph, ids ascending
    owner, nodes = keys // n, keys % n

    def position(of_block, points):
        """Stacked positions of ``points`` in subgraphs ``of_block`` (-1 where not a node there)."""
        want = of_block * n + points
        pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        return np.where((points >= 0) & (keys[pos] == want), pos, -1)

    hop1_pos = position(np.arange(b, dtype=np.int64)[:, None], hop1)
    near = clean[nodes, :int(active_connection)]
    linked = position(owner[:, None], near)
    row = np.broadcast_to(np.arange(len(keys), dtype=np.int64)[:, None], near.shape)[linked >= 0]
    col = linked[linked >= 0]
    m = len(keys)
    pair = np.unique(np.concatenate([row * m + col, col * m + row]))  # symmetric, each entry once
    src, dst = pair // m, pair % m
    degree = np.bincount(src, minlength=m)
    weight = (1.0 / degree[src]).astype(np.float32)
    return Subgraphs(nodes, owner, src, dst, weight, hop1_pos, hop1, pivots)


class LGCN(nn.Module):
    """L-GCN: ``bn0``, four graph convolutions, a classifier of each hop-1 node (the module docstring)."""

    def __init__(self, dim: int, nhid: int = DEFAULTS.nhid):
        super().__init__()
        half = nhid // 2
        self.bn0 = nn.BatchNorm1d(dim, affine=False)
        self.conv1 = GraphConv(dim, nhid)
        self.conv2 = GraphConv(nhid, nhid)
        self.conv3 = GraphConv(nhid, half)
        self.conv4 = GraphConv(half, half)
        self.classifier = nn.Sequential(nn.Linear(half, half), nn.PReLU(half), nn.Linear(half, 2))

    @property
    def dim(self) -> int:
        return self.conv1.weight.shape[0] // 2

    @property
    def nhid(self) -> int:
        return self.conv1.weight.shape[1]

    def forward(self, x: torch.Tensor, adj: torch.Tensor, hop1: torch.Tensor) -> torch.Tensor:
        """Logits (H x 2) of the stacked nodes at positions ``hop1`` (H,) from node features x (M x D)
        and the sparse row-normalised adjacency (M x M)."""
        x = self.bn0(x)
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = conv(torch.cat([x, torch.sparse.mm(adj, x)], dim=1))
        return self.classifier(x[hop1])


def _logits(model: LGCN, graphs: Subgraphs, x: np.ndarray, dev: torch.device) -> tuple[torch.Tensor, np.ndarray]:
    """(logits of every hop-1 entry >= 0, row-major; that mask over ``graphs.hop1``)."""
    keep = graphs.hop1 >= 0
    feats = torch.from_numpy(graphs.features(x)).to(dev)
    return model(feats, graphs.adjacency(dev), torch.from_numpy(graphs.hop1[keep]).to(dev)), keep


def check_cost(n: int, k_at_hop, dev: torch.device, max_cpu_nodes: int | None, k: int | None = None,
               what: str = "split") -> None:
    """Refuse up front, with one sentence, a CPU run over ``n`` pivot subgraphs of up to
    :func:`subgraph_nodes` nodes each (on a kNN graph of ``k`` columns) when their total exceeds
    ``max_cpu_nodes`` (None: no limit)."""
    total = n * subgraph_nodes(k_at_hop, k)
    if dev.type == "cpu" and max_cpu_nodes is not None and total > max_cpu_nodes:
        raise DataError(
            f"lgcn cannot finish the {n} pivot subgraphs of this {what} on the CPU in reasonable time: with k_at_hop "
            f"{list(map(int, k_at_hop))} they hold up to {total:,} nodes, above methods.lgcn.max_cpu_nodes "
            f"({max_cpu_nodes:,}): run it with CUDA (methods.lgcn.train.device), lower methods.lgcn.k_at_hop, or "
            f"raise methods.lgcn.max_cpu_nodes if you have the hours it needs.")


def _pivot_batches(pivots: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    order = rng.permutation(pivots) if rng is not None else np.asarray(pivots)
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def train(feats: np.ndarray, ids: np.ndarray, labels: np.ndarray, *, k_at_hop=tuple(DEFAULTS.k_at_hop),
          active_connection: int = DEFAULTS.active_connection, nhid: int = DEFAULTS.nhid, lr: float = TRAIN.lr,
          weight_decay: float = TRAIN.weight_decay, batch_size: int = TRAIN.batch_size,
          max_epochs: int = TRAIN.max_epochs, patience: int = TRAIN.patience, val_fraction: float = TRAIN.val_fraction,
          max_pivots: int | None = TRAIN.max_pivots, seed: int = TRAIN.seed,
          device_name: str = TRAIN.device) -> tuple[LGCN, list[dict]]:
    """Fit L-GCN on a labelled split: ``feats`` (N x D float, L2-normalised here), its kNN ``ids``
    (N x K int, -1 missing), ``labels`` (int, N). Every point with a hop-1 neighbour is a pivot; those
    of a seeded ``val_fraction`` of the identities are held out (:func:`ltc.gcn.held_out_groups`; at
    most ``max_pivots`` of them, sampled once, are scored after each epoch); each epoch draws at most
    ``max_pivots`` of the others. Adam on the cross-entropy of every hop-1 node's "same identity as
    the pivot"; training stops after ``patience`` epochs without a lower held-out loss and the best
    weights are kept.

    Returns the model (CPU) and the curve (``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``,
    ``pivots``, ``seconds``). Raises :class:`DataError` for no pivot, fewer than two identities, and
    when training diverges."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = device(device_name)
    x = normalized(feats)
    clean = clean_knn(ids, max(int(k_at_hop[0]), int(k_at_hop[1]), int(active_connection)))
    labels = np.asarray(labels)
    pivots = np.flatnonzero(clean[:, 0] >= 0)
    if not len(pivots):
        raise DataError("No point of the train split has a kNN neighbour, so L-GCN has no pivot subgraph to learn "
                        "from: rebuild the train split's kNN graph (knn.k of 2 or more).")
    held = held_out_groups(labels[pivots], val_fraction, rng)
    val, fit = pivots[held], pivots[~held]
    if max_pivots is not None and len(val) > max_pivots:
        val = np.sort(rng.choice(val, max_pivots, replace=False))
    if not len(val):
        log.warning("no identity held out: no early stopping (all %d epochs are run)", max_epochs)
    log.info("L-GCN: %d training pivots, %d held out; subgraphs of up to %d nodes", len(fit), len(val),
             subgraph_nodes(k_at_hop, ids.shape[1]))
    model = LGCN(x.shape[1], nhid).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)

    def loss_of(chosen):
        graphs = subgraphs(clean, chosen, k_at_hop, active_connection)
        logits, _ = _logits(model, graphs, x, dev)
        target = torch.from_numpy(graphs.edge_targets(labels)).to(dev)
        return nn.functional.cross_entropy(logits, target, reduction="sum"), logits, target

    stopper, history = EarlyStopping(model, patience), []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        drawn = fit if max_pivots is None or len(fit) <= max_pivots else rng.choice(fit, max_pivots, replace=False)
        total = count = 0.0
        for chosen in tqdm(_pivot_batches(drawn, batch_size, rng), desc=f"l-gcn epoch {epoch}", unit="batch",
                           leave=False):
            loss, _, target = loss_of(chosen)
            optimizer.zero_grad()
            (loss / max(1, len(target))).backward()
            optimizer.step()
            total, count = total + loss.item(), count + len(target)
        model.eval()
        val_loss, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for chosen in _pivot_batches(val, batch_size, None):
                loss, logits, target = loss_of(chosen)
                val_loss += loss.item()
                correct += int((logits.argmax(dim=1) == target).sum())
                seen += len(target)
        val_loss = val_loss / seen if seen else math.nan
        history.append({"epoch": epoch, "train_loss": total / max(1, count), "val_loss": val_loss,
                        "val_accuracy": correct / seen if seen else math.nan, "pivots": len(drawn),
                        "seconds": round(time.perf_counter() - start, 2)})
        log.info("L-GCN epoch %d: train loss %.5f, held-out loss %.5f, accuracy %.4f (%d pivots)", epoch,
                 history[-1]["train_loss"], val_loss, history[-1]["val_accuracy"], len(drawn))
        check_converging("L-GCN", epoch, history[-1]["train_loss"], val_loss if seen else None, model,
                         f"lower methods.lgcn.train.lr (now {lr:g})")
        if seen and stopper.should_stop(val_loss):
            log.info("no improvement for %d epochs: stopping, keeping epoch %d", patience, epoch - patience)
            break
    return (stopper.restore_best() if seen else model).cpu(), history


@torch.no_grad()
def links(model: LGCN, feats: np.ndarray, ids: np.ndarray, k_at_hop=tuple(DEFAULTS.k_at_hop),
          active_connection: int = DEFAULTS.active_connection, *, batch_nodes: int = BATCH_NODES,
          device_name: str = TRAIN.device, max_cpu_nodes: int | None = DEFAULTS.max_cpu_nodes,
          pivots: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every point as a pivot: (peer, prob), each N x k0 (k0 = min(k_at_hop[0], K)): its hop-1 nodes
    (int64 point ids in kNN order, -1 none) and L-GCN's probability that each shares its identity
    (float32, NaN where none). ``feats``: N x D (L2-normalised here); ``ids``: N x K kNN ids.
    Batches hold at most ``batch_nodes`` subgraph nodes. ``pivots``: only these points' links are
    predicted (the others' probabilities stay NaN; a benchmark's sample). Raises :class:`DataError` for features of
    another width than the model's, NaN predictions, or a CPU run above ``max_cpu_nodes``
    (:func:`check_cost`)."""
    if feats.shape[1] != model.dim:
        raise DataError(f"The L-GCN model expects {model.dim}-D features but the data is {feats.shape[1]}-D: use a "
                        f"model trained on features of this width.")
    dev = device(device_name)
    n = len(feats)
    chosen_pivots = np.arange(n) if pivots is None else np.asarray(pivots, dtype=np.int64)
    check_cost(len(chosen_pivots), k_at_hop, dev, max_cpu_nodes, ids.shape[1])
    x = normalized(feats)
    clean = clean_knn(ids, max(int(k_at_hop[0]), int(k_at_hop[1]), int(active_connection)))
    k0 = min(int(k_at_hop[0]), clean.shape[1])
    if int(k_at_hop[0]) > ids.shape[1] - 1:
        log.info("lgcn: k_at_hop[0] = %d but the kNN graph has %d neighbours besides each point: hop 1 is those",
                 int(k_at_hop[0]), ids.shape[1] - 1)
    peer = clean[:, :k0].copy()
    prob = np.full((n, k0), np.nan, dtype=np.float32)
    model = model.to(dev).eval()
    per_batch = max(1, batch_nodes // subgraph_nodes(k_at_hop, ids.shape[1]))
    start = time.perf_counter()
    todo = chosen_pivots[peer[chosen_pivots, 0] >= 0]
    for chosen in tqdm(_pivot_batches(todo, per_batch, None), desc="l-gcn links",
                       unit="batch"):
        graphs = subgraphs(clean, chosen, k_at_hop, active_connection)
        logits, keep = _logits(model, graphs, x, dev)
        block = np.full(graphs.hop1.shape, np.nan, dtype=np.float32)
        block[keep] = torch.softmax(logits, dim=1)[:, 1].cpu().numpy()
        prob[chosen] = block[:, :k0]
    if not np.isfinite(prob[todo][peer[todo] >= 0]).all():
        raise DataError("The L-GCN model predicts NaN link probabilities: it is broken; retrain it (snakemake "
                        "--forcerun train_lgcn) or check the checkpoint and the features for huge values.")
    seconds = time.perf_counter() - start
    log.info("lgcn: %d pivots in %.1f s (%.1f pivots/s), %d links", len(todo), seconds,
             len(todo) / max(seconds, 1e-9), int((peer[todo] >= 0).sum()))
    return peer, prob


def pooled_pairs(peer: np.ndarray, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(i, j, w, smallest): each unordered pair {i, j} (int64, i < j, sorted) of the links pivot ->
    ``peer`` (N x k0, -1 none) once, ``w`` the mean (float64) of the probabilities it was given (the
    original's pool ``avg``), and the smallest probability of any link (0.0 without links).
    Self-links are dropped."""
    n = len(peer)
    rows = np.broadcast_to(np.arange(n, dtype=np.int64)[:, None], peer.shape)
    keep = (peer >= 0) & (peer != rows)
    a, b, p = rows[keep], peer[keep].astype(np.int64), prob[keep].astype(np.float64)
    key, inverse, counts = np.unique(np.minimum(a, b) * n + np.maximum(a, b), return_inverse=True, return_counts=True)
    w = np.bincount(inverse.ravel(), weights=p, minlength=len(key)) / counts
    return key // n, key % n, w, float(p.min()) if len(p) else 0.0


def sweeper(peer: np.ndarray, prob: np.ndarray, maxsz: int = DEFAULTS.maxsz, step: float = DEFAULTS.step
            ) -> tuple:
    """(th -> labels (int64, N), pooled probability of every pair): the pairs are pooled once
    (:func:`pooled_pairs`); a cut keeps those >= th and splits their components above ``maxsz`` at a
    threshold rising by ``step`` from max(th, the smallest link probability)."""
    i, j, w, smallest = pooled_pairs(peer, prob)
    n = len(peer)

    def cut(th: float) -> np.ndarray:
        keep = w >= th
        return split_at_rising_threshold(n, i[keep], j[keep], w[keep], max(float(th), smallest), int(maxsz),
                                         float(step), MAX_ITER)

    return cut, w


def cluster(peer: np.ndarray, prob: np.ndarray, th: float, maxsz: int = DEFAULTS.maxsz,
            step: float = DEFAULTS.step) -> np.ndarray:
    """Labels (int64, N, numbered by first point) of L-GCN's links (:func:`links`) at ``th``: see
    :func:`sweeper` and the module docstring."""
    return sweeper(peer, prob, maxsz, step)[0](th)


def save_links(path: str | Path, peer: np.ndarray, prob: np.ndarray) -> None:
    """Save L-GCN's links (``peer`` int64 N x k0, ``prob`` float32 N x k0) as ``.npz``, atomically."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, peer=np.asarray(peer, dtype=np.int64), prob=np.asarray(prob, dtype=np.float32))


def load_links(path: str | Path, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(peer, prob) of :func:`save_links`, checked: readable, equal N x k0 shapes (N = ``n`` if given),
    peers in [-1, N), probabilities in [0, 1] where there is a peer. Raises :class:`DataError` naming
    the file and how to remake it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"L-GCN links file {path} does not exist: {rebuild_hint(path)}.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            peer, prob = npz["peer"], npz["prob"]
    except Exception as err:  # zip, npy and key errors of a truncated or foreign file
        raise DataError(f"L-GCN links file {path} is truncated or corrupt ({type(err).__name__}): "
                        f"{rebuild_hint(path)}.") from None
    if (peer.ndim != 2 or prob.shape != peer.shape or (n is not None and len(peer) != n)
            or not np.issubdtype(peer.dtype, np.integer) or not np.issubdtype(prob.dtype, np.floating)):
        raise DataError(f"L-GCN links file {path} does not hold {n if n is not None else 'N'} rows of integer peers "
                        f"and probabilities (peer {peer.dtype}{peer.shape}, prob {prob.dtype}{prob.shape}): "
                        f"{rebuild_hint(path)}.")
    linked = peer >= 0
    p = prob[linked]
    if (peer < -1).any() or (peer >= len(peer)).any() or not (np.isfinite(p) & (p >= 0) & (p <= 1)).all():
        raise DataError(f"L-GCN links file {path} holds peers outside [-1, {len(peer)}) or probabilities outside "
                        f"[0, 1]: {rebuild_hint(path)}.")
    return peer.astype(np.int64, copy=False), prob.astype(np.float32, copy=False)


def load_checkpoint(path: str | Path, dim: int | None = None) -> LGCN:
    """An L-GCN checkpoint: ours (:func:`ltc.gcn.save_checkpoint`) or the original project's (its
    ``lgcn`` state dict, bare or under mmcv's ``state_dict``, keys possibly prefixed ``module.``), for
    ``dim``-D features (any if None); the widths are read from its weights. Raises
    :class:`DataError` naming the file for a missing, unreadable or foreign file, NaN weights, weights
    that do not fit the layout, or features of another width."""
    path = Path(path)
    setting, fix = "methods.lgcn.checkpoint", "check the file, or point the config at an L-GCN checkpoint"
    state, _ = read_checkpoint(path, setting, fix)
    weight = state.get("conv1.weight")
    if weight is None or weight.ndim != 2 or "conv4.weight" not in state or "bn0.running_mean" not in state:
        raise checkpoint_error(path, setting, "holds no L-GCN weights (no bn0.running_mean, conv1.weight and "
                                              "conv4.weight)", fix)
    model_dim, nhid = weight.shape[0] // 2, weight.shape[1]
    if dim is not None and model_dim != dim:
        raise DataError(f"Checkpoint {path} expects {model_dim}-D features but the data is {dim}-D: use a model "
                        f"trained on features of this width.")
    return load_state(LGCN(model_dim, nhid), state, path, setting, fix)
