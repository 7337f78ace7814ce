"""GCN-D (Yang et al., CVPR 2019; the original project's ``dsgcn/``): a GCN that scores each cluster
proposal (:mod:`ltc.proposals`) by its predicted IoU with the true identity, then the de-overlap.

A proposal's graph (the original's ``ClusterDetProcessor`` / ``ClusterProcessor.build_adj``): node
features are its members' L2-normalised features, as they are (no centring); the adjacency is the
identity plus, for every pair of members one of which is among the other's first k kNN neighbours
(k of the proposal's setting, whatever their similarity), the similarity ``1 - dist`` (the larger of
the two directions; a negative similarity counts as no link), row-normalised. Batches pad to the
largest proposal, the padding ``[[A, 0], [0, I]]`` with zero features (its ``collate_graphs``).

The model (its ``dsgcn/models/dsgcn.py``, ``GCN`` with stage ``det``): per layer
``relu((A (X W)) / D)`` (W without bias, D the adjacency's row sums), ``hidden`` = [512, 64] on MS1M,
max pooling over the vertices (the zero rows of the padding never exceed a ReLU's output), then
``Linear(last, 1)``. Parameter names follow its module layout (``layers.<i>.gc.weight`` of shape
(in, out), ``classifier.weight``, ``classifier.bias``), so its checkpoints load as they are. Dropout
there is ``nn.Dropout2d`` on (batch, vertices, features), which in the PyTorch of its time zeroes
whole vertices: so here.

Targets (its ``cluster_det_processor.py``): the proposal's IoU (or IoP) with its majority identity
(the label most of its members carry; ties go to the identity of the higher IoU, then the smaller
label). De-overlap (its ``post_process/deoverlap.py`` with th_iou 1, no NMS): the proposals scoring at
least ``th_pos`` by descending score, each vertex to the first proposal that contains it, the others
singletons. The original's th_pos is -1 (every proposal); here it is chosen on the train split by
default (``methods.gcnd.th_pos: auto``): where identities are small, the largest proposals mix many of
them, and with every proposal kept their leftover vertices form mixed clusters.

GCN-S (its ``GCN`` with stage ``seg``, ``reduce_method='no_pool'``, the ``cfg_*_seg_*`` configs and
``test_cluster_seg.py``): the same graph and convolutions without the pooling, ``Linear(last, 2)`` on
every vertex, the log-softmax over the two classes (1: the vertex belongs to the proposal's identity).
Its targets (``cluster_seg_processor.py``): the members of the proposal's majority identity (seed
``none``), or, with the original's seed column (``use_random_seed``: an extra input feature, 1 on one
member, 0 elsewhere), the members of the seed's identity; trained on the train proposals whose true IoP
lies in ``train_iop`` (its 0.2-0.8), by the negative log-likelihood (NLLLoss, padding ignored), here
averaged per proposal as its batches of one proposal do. Applied (:func:`segment`, its
``filter_outlier`` and ``keep_outlier``): the members of probability <= ``th_outlier`` leave the
proposals whose estimated IoP lies in ``apply_iop``; each proposal's removed members form one more
proposal, ranked after all the others in the order of their proposals.
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
from ltc.gcn import EarlyStopping, check_converging, checkpoint_error, device, held_out_groups, load_state, \
    read_checkpoint, save_checkpoint
from ltc.graph import renumber
from ltc.methods.gcnd import Params
from ltc.proposals import Proposals, concatenate
from ltc.rows import normalized

DEFAULTS = Params()  # the settings' one default (ltc.methods.gcnd); TRAIN: those of its training
TRAIN = DEFAULTS.train
SEGMENT = DEFAULTS.segment  # GCN-S's
IGNORE = -100  # the target of a padding vertex (the original's NLLLoss ignore_index)

log = logging.getLogger(__name__)

__all__ = ["GCND", "GCNS", "targets", "majority", "member_targets", "graph_batch", "segment_batch", "train",
           "train_segment", "predict", "predict_keep", "segment", "deoverlap", "load_checkpoint", "load_gcns_checkpoint",
           "save_checkpoint", "normalized"]


class GraphConv(nn.Module):
    """``(adj @ (x @ weight)) / d`` for batched x (B, S, in), adj (B, S, S), d (B, S, 1); no bias."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        bound = 1.0 / math.sqrt(out_dim)  # the original's reset_parameters: U(-1/sqrt(out), 1/sqrt(out))
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor, adj: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        return torch.bmm(adj, x @ self.weight) / d


class BasicBlock(nn.Module):
    """A graph convolution, ReLU, then (training) whole vertices zeroed with probability ``dropout``."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float = 0.0):
        super().__init__()
        self.gc = GraphConv(in_dim, out_dim)
        self.dropout = float(dropout)

    def forward(self, x: torch.Tensor, adj: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.gc(x, adj, d))
        if self.training and self.dropout > 0:
            keep = torch.rand(x.shape[0], x.shape[1], 1, device=x.device) >= self.dropout
            x = x * keep / (1.0 - self.dropout)
        return x


class GCN(nn.Module):
    """The graph convolutions of GCN-D and GCN-S (``layers``) and their ``classifier`` Linear(last, outputs)."""

    def __init__(self, dim: int, hidden, dropout: float, outputs: int):
        super().__init__()
        widths = [int(dim), *map(int, hidden)]
        self.layers = nn.ModuleList(BasicBlock(a, b, dropout) for a, b in zip(widths[:-1], widths[1:]))
        self.classifier = nn.Linear(widths[-1], outputs)

    @property
    def dim(self) -> int:
        return self.layers[0].gc.weight.shape[0]

    @property
    def hidden(self) -> list[int]:
        return [layer.gc.weight.shape[1] for layer in self.layers]

    def vertex_features(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """The last convolution's output (B, S, last) from features (B, S, dim) and adjacency (B, S, S)."""
        d = adj.sum(dim=2, keepdim=True)
        for layer in self.layers:
            x = layer(x, adj, d)
        return x


class GCND(GCN):
    """GCN-D: a score (B,) per padded proposal graph from features (B, S, dim) and adjacency (B, S, S)."""

    def __init__(self, dim: int, hidden=tuple(DEFAULTS.hidden), dropout: float = 0.0):
        super().__init__(dim, hidden, dropout, 1)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.vertex_features(x, adj).max(dim=1).values).squeeze(1)


class GCNS(GCN):
    """GCN-S: two logits (B, S, 2) per vertex of a padded proposal graph (class 1: of the proposal's
    identity) from features (B, S, dim; dim includes the seed column, if any) and adjacency (B, S, S)."""

    def __init__(self, dim: int, hidden=tuple(SEGMENT.hidden), dropout: float = 0.0):
        super().__init__(dim, hidden, dropout, 2)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.vertex_features(x, adj))


def targets(proposals: Proposals, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(IoU, IoP) (float32, P each) of every proposal with its majority identity among ``labels``
    (any integers, one per vertex): with c the members of that identity, s the proposal's size and g
    the identity's size, IoU = c / (s + g - c) and IoP = c / s (:func:`majority`)."""
    _, iou, iop = majority(proposals, labels)
    return iou, iop


def majority(proposals: Proposals, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(identity, IoU, IoP) of every proposal's majority identity: the label most of its members
    carry (ties: the identity of the higher IoU, i.e. the smaller one, then the smaller label), as
    the original's get_majority; its IoU and IoP as float32. Vectorised over all members at once.
    Raises :class:`DataError` unless there is one label per vertex."""
    labels = np.asarray(labels)
    if len(labels) != proposals.n:
        raise DataError(f"There are {len(labels)} labels for proposals of {proposals.n} vertices: give one label per "
                        f"feature row of the split.")
    names, code = np.unique(labels, return_inverse=True)
    code = code.ravel().astype(np.int64)
    identity_size = np.bincount(code, minlength=len(names))
    pair, count = np.unique(proposals.owner * len(names) + code[proposals.members], return_counts=True)
    p, lab = pair // len(names), pair % len(names)
    size = proposals.sizes[p]
    iou = count / (size + identity_size[lab] - count)
    order = np.lexsort((lab, -iou, -count, p))  # per proposal: most members, then higher IoU, then smaller label
    first = order[np.r_[True, p[order][1:] != p[order][:-1]]] if len(order) else order
    return (names[lab[first]], iou[first].astype(np.float32),
            (count[first] / size[first]).astype(np.float32))


def layout(members: np.ndarray, offsets: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, ...]:
    """(sizes (B,), b_of, local, vertex) of the proposals ``chosen`` (B ids into ``offsets``), int64:
    for every member in batch order, its proposal's place in the batch, its row there and its vertex id."""
    starts, sizes = offsets[chosen], offsets[chosen + 1] - offsets[chosen]
    b_of = np.repeat(np.arange(len(chosen)), sizes)
    local = np.arange(len(b_of)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return sizes, b_of, local, members[np.repeat(starts, sizes) + local]


def graph_batch(x: np.ndarray, ids: np.ndarray, dists: np.ndarray, members: np.ndarray, offsets: np.ndarray,
                ks: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (B, S, D) float32, adjacency (B, S, S) float32) of the proposals ``chosen`` (B ids
    into ``offsets``; ``ks`` each proposal's k), padded to the largest S: see the module docstring.
    ``x``: the split's L2-normalised features (N x D); ``ids``/``dists``: its kNN graph (N x K)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    sizes, b_of, local, vertex = layout(members, offsets, chosen)
    s = int(sizes.max())
    feats = np.zeros((len(chosen), s, x.shape[1]), dtype=np.float32)
    feats[b_of, local] = x[vertex]
    kmax = int(ks[chosen].max())
    nbr = ids[vertex, :kmax].astype(np.int64)
    sim = np.maximum(1.0 - dists[vertex, :kmax].astype(np.float32), 0)
    key = b_of * len(x) + vertex  # ascending: by proposal, members ascending within one
    nkey = b_of[:, None] * len(x) + nbr
    pos = np.minimum(np.searchsorted(key, nkey), len(key) - 1)
    hit = ((key[pos] == nkey) & (nbr >= 0) & (nbr != vertex[:, None])
           & (np.arange(kmax)[None, :] < np.repeat(ks[chosen], sizes)[:, None]))
    row, col = np.nonzero(hit)
    adj = np.zeros((len(chosen), s, s), dtype=np.float32)
    adj[b_of[row], local[row], local[pos[row, col]]] = sim[row, col]
    adj = np.maximum(adj, adj.transpose(0, 2, 1))
    adj[:, np.arange(s), np.arange(s)] = 1.0  # self-loops, and the identity of the padding
    adj /= adj.sum(axis=2, keepdims=True)
    return feats, adj


class Pool:
    """Several proposal sets of one split as one list: ``members``/``offsets`` concatenated, ``ks``
    the k of each proposal's set (its links), with the split's features and kNN graph."""

    def __init__(self, x: np.ndarray, ids: np.ndarray, dists: np.ndarray, sets: list[Proposals]):
        for s in sets:
            if s.n != len(x) or len(ids) != len(x):
                raise DataError(f"Proposals of {s.n} vertices, a kNN graph of {len(ids)} rows and {len(x)} feature rows "
                                f"do not come from one split: delete the proposal files so they are remade.")
            if s.k > ids.shape[1]:
                raise DataError(f"A proposal set has k = {s.k} but the kNN graph only {ids.shape[1]} neighbours: lower "
                                f"the k of methods.gcnd.proposals or raise knn.k.")
        whole = concatenate(sets)
        self.x, self.ids, self.dists = x, ids, dists
        self.members, self.offsets = whole.members, whole.offsets
        self.ks = np.concatenate([np.full(len(s), s.k, dtype=np.int64) for s in sets])
        self.sizes = np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.ks)

    def batch(self, chosen: np.ndarray, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        f, a = graph_batch(self.x, self.ids, self.dists, self.members, self.offsets, self.ks, chosen)
        return torch.from_numpy(f).to(dev), torch.from_numpy(a).to(dev)


def batches(pool: Pool, chosen: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """``chosen`` proposals in batches of similar size (little padding): sorted by size within runs of
    20 batches (seeded shuffles of the proposals and of the batches when ``rng`` is given)."""
    chosen = rng.permutation(chosen) if rng is not None else np.asarray(chosen)
    run = 20 * batch_size
    out = []
    for start in range(0, len(chosen), run):
        part = chosen[start:start + run]
        part = part[np.argsort(pool.sizes[part], kind="stable")]
        out += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    if rng is not None:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


def train(pool: Pool, target: np.ndarray, groups: np.ndarray, *, hidden=tuple(DEFAULTS.hidden),
          dropout: float = DEFAULTS.dropout, lr: float = TRAIN.lr, weight_decay: float = TRAIN.weight_decay,
          batch_size: int = TRAIN.batch_size, max_epochs: int = TRAIN.max_epochs, patience: int = TRAIN.patience,
          val_fraction: float = TRAIN.val_fraction, max_proposals: int | None = TRAIN.max_proposals,
          seed: int = TRAIN.seed, device_name: str = TRAIN.device) -> tuple[GCND, list[dict]]:
    """Fit GCN-D on the proposals of ``pool`` against ``target`` (float, P: their IoU or IoP), by
    Adam on padded batches (:func:`batches`), the MSE as the original's loss. The proposals whose
    majority identity (``groups``, P) is among a seeded ``val_fraction`` of the identities are held out
    (:func:`ltc.gcn.held_out_groups`); training stops after ``patience`` epochs without a lower
    held-out MSE and the best weights are kept. ``max_proposals``: a seeded sample of at most that
    many training proposals per epoch (None: all).

    Returns the model (CPU) and the curve (``epoch``, ``train_mse``, ``val_mse``, ``proposals``,
    ``seconds``; :func:`fit_proposals`). Raises :class:`DataError` for no proposals, fewer than two
    identities, and when training diverges."""
    if len(pool) == 0:
        raise DataError("The train split has no proposals, so GCN-D has nothing to learn from: lower the th of "
                        "methods.gcnd.proposals or methods.gcnd.minsz.")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = device(device_name)
    is_val = held_out_groups(np.asarray(groups), val_fraction, rng)
    val, fit = np.flatnonzero(is_val), np.flatnonzero(~is_val)
    y = torch.from_numpy(np.asarray(target, dtype=np.float32))
    model = GCND(pool.x.shape[1], hidden, dropout).to(dev)

    def batch_loss(model, chosen, _rng):
        return nn.functional.mse_loss(model(*pool.batch(chosen, dev)), y[chosen].to(dev))

    return fit_proposals("GCN-D", "mse", model, pool, fit, val, batch_loss, lr=lr, weight_decay=weight_decay,
                         batch_size=batch_size, max_epochs=max_epochs, patience=patience, max_proposals=max_proposals,
                         rng=rng, fix=f"lower methods.gcnd.train.lr (now {lr:g})")


def fit_proposals(name: str, loss_name: str, model: nn.Module, pool: Pool, fit: np.ndarray, val: np.ndarray,
                  batch_loss, *, lr: float, weight_decay: float, batch_size: int, max_epochs: int, patience: int,
                  max_proposals: int | None, rng: np.random.Generator, fix: str) -> tuple[nn.Module, list[dict]]:
    """The training loop of GCN-D and GCN-S: Adam over the proposals ``fit`` (ids into ``pool``; a
    seeded sample of ``max_proposals`` an epoch if given, and as many held out at most, drawn once) in
    batches of similar size (:func:`batches`),
    ``batch_loss(model, chosen, rng)`` the mean loss of a batch's proposals (a scalar tensor); after
    each epoch the held-out loss over ``val`` (eval mode, no dropout; a fresh ``default_rng(0)`` for any
    draw, the same every epoch), early stopping after ``patience`` epochs without a lower one, the best
    weights kept (no held-out proposal: every epoch is run and the last weights kept). Returns the model
    (CPU) and the curve (``epoch``, ``train_<loss_name>``, ``val_<loss_name>``, ``proposals``,
    ``seconds``). Raises :class:`DataError` (ending in ``fix``) when training diverges."""
    if not len(val):
        log.warning("no identity held out: no early stopping (all %d epochs are run)", max_epochs)
    if max_proposals is not None and len(val) > max_proposals:  # a held-out sample as large, drawn once
        val = np.sort(rng.choice(val, max_proposals, replace=False))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    stopper, history = EarlyStopping(model, patience), []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        drawn = fit if max_proposals is None or len(fit) <= max_proposals else rng.choice(fit, max_proposals, replace=False)
        total = 0.0
        for chosen in tqdm(batches(pool, drawn, batch_size, rng), desc=f"epoch {epoch}", unit="batch", leave=False):
            loss = batch_loss(model, chosen, rng)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(chosen)
        val_loss = held_out_loss(model, pool, val, batch_loss, batch_size) if len(val) else math.nan
        history.append({"epoch": epoch, f"train_{loss_name}": total / len(drawn), f"val_{loss_name}": val_loss,
                        "proposals": len(drawn), "seconds": round(time.perf_counter() - start, 2)})
        log.info("%s epoch %d: train %s %.5f, held-out %s %.5f (%d proposals, %.1f s)", name, epoch, loss_name,
                 total / len(drawn), loss_name, val_loss, len(drawn), history[-1]["seconds"])
        check_converging(name, epoch, total / len(drawn), val_loss if len(val) else None, model, fix)
        if len(val) and stopper.should_stop(val_loss):
            log.info("no improvement for %d epochs: stopping, keeping epoch %d", patience, epoch - patience)
            break
    return (stopper.restore_best() if len(val) else model).cpu(), history


@torch.no_grad()
def held_out_loss(model: nn.Module, pool: Pool, chosen: np.ndarray, batch_loss, batch_size: int) -> float:
    """The mean of ``batch_loss`` over the proposals ``chosen`` (weighted by batch size), in eval mode."""
    model.eval()
    rng, total = np.random.default_rng(0), 0.0
    for part in batches(pool, chosen, batch_size, None):
        total += float(batch_loss(model, part, rng)) * len(part)
    return total / len(chosen)


def member_targets(proposals: Proposals, labels: np.ndarray) -> np.ndarray:
    """GCN-S's targets without a seed (bool, one per entry of ``proposals.members``): whether the member
    carries its proposal's majority identity (:func:`majority`). Raises :class:`DataError` unless
    there is one label per vertex."""
    identity = majority(proposals, labels)[0]
    return np.asarray(labels)[proposals.members] == identity[proposals.owner]


def seeds(adj: np.ndarray, sizes: np.ndarray, mode: str, rng: np.random.Generator | None) -> np.ndarray:
    """The seed row (int64, B) of each padded proposal graph (``adj`` B x S x S, ``sizes`` its real
    vertices): ``random``, uniform over its members (the original's ``random.choice``); ``max_degree``,
    the member of most links inside the proposal (the first on ties; the original takes the argmax of
    the row-normalised adjacency's row sums, all ones)."""
    if mode == "random":
        return rng.integers(0, sizes).astype(np.int64)
    degree = (adj > 0).sum(axis=2)
    degree[np.arange(adj.shape[1])[None, :] >= sizes[:, None]] = -1
    return degree.argmax(axis=1).astype(np.int64)


def segment_batch(pool: Pool, chosen: np.ndarray, seed: str, rng: np.random.Generator | None,
                  labels: np.ndarray | None = None, identity: np.ndarray | None = None):
    """GCN-S's batch of the proposals ``chosen``: (features B x S x (D + 1 with a seed column), adjacency
    B x S x S, both float32 numpy; targets int64 B x S, 1 for a member of the proposal's identity, 0 for
    another member, :data:`IGNORE` for padding, or None without ``labels``; and the members' (b_of, local)
    rows, :func:`layout`). ``labels``: int per vertex of the split; ``identity``: per proposal of the pool,
    its majority identity (used when ``seed`` is none; else the seed's label is)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    feats, adj = graph_batch(pool.x, pool.ids, pool.dists, pool.members, pool.offsets, pool.ks, chosen)
    sizes, b_of, local, vertex = layout(pool.members, pool.offsets, chosen)
    first = np.cumsum(sizes) - sizes
    if seed != "none":
        row = seeds(adj, sizes, seed, rng)
        column = np.zeros(feats.shape[:2] + (1,), dtype=np.float32)
        column[np.arange(len(chosen)), row, 0] = 1.0
        feats = np.concatenate([feats, column], axis=2)
    target = None
    if labels is not None:
        ref = identity[chosen] if seed == "none" else labels[vertex[first + row]]
        target = np.full(feats.shape[:2], IGNORE, dtype=np.int64)
        target[b_of, local] = labels[vertex] == ref[b_of]
    return feats, adj, target, (b_of, local)


def segment_loss(model: GCNS, feats: torch.Tensor, adj: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """GCN-S's loss: per proposal, the mean over its real vertices of the negative log-likelihood of the
    target class; averaged over the batch (the original: NLLLoss of one proposal, 32 accumulated)."""
    nll = nn.functional.cross_entropy(model(feats, adj).transpose(1, 2), target, ignore_index=IGNORE, reduction="none")
    return (nll.sum(dim=1) / (target != IGNORE).sum(dim=1)).mean()


def train_segment(pool: Pool, labels: np.ndarray, identity: np.ndarray, iop: np.ndarray, *, seed_mode: str = SEGMENT.seed,
                  train_iop=tuple(SEGMENT.train_iop), hidden=tuple(SEGMENT.hidden), dropout: float = SEGMENT.dropout,
                  lr: float = SEGMENT.train.lr, weight_decay: float = SEGMENT.train.weight_decay,
                  batch_size: int = SEGMENT.train.batch_size, max_epochs: int = SEGMENT.train.max_epochs,
                  patience: int = SEGMENT.train.patience, val_fraction: float = SEGMENT.train.val_fraction,
                  max_proposals: int | None = SEGMENT.train.max_proposals, seed: int = SEGMENT.train.seed,
                  device_name: str = SEGMENT.train.device) -> tuple[GCNS, list[dict]]:
    """Fit GCN-S on the proposals of ``pool`` whose true IoP (``iop``, float P) lies in ``train_iop``
    (inclusive), their members' targets from ``labels`` (int, one per vertex of the split) and
    ``identity`` (P, each proposal's majority identity, :func:`majority`; its held-out groups too),
    by :func:`fit_proposals` with :func:`segment_loss`. Returns the model (CPU) and the curve (``train_nll``,
    ``val_nll``, ...). Raises :class:`DataError` when no proposal lies in ``train_iop``, for fewer than
    two identities, and when training diverges."""
    lo, hi = train_iop
    chosen = np.flatnonzero((np.asarray(iop) >= lo) & (np.asarray(iop) <= hi))
    if not len(chosen):
        raise DataError(f"No train proposal has a true IoP in methods.gcnd.segment.train_iop [{lo}, {hi}], so GCN-S "
                        f"has nothing to learn from: widen it (the original's [0.2, 0.8]) or lower the th of "
                        f"methods.gcnd.proposals.")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = device(device_name)
    names, codes = np.unique(labels, return_inverse=True)
    codes = codes.ravel().astype(np.int64)
    identity_codes = np.searchsorted(names, identity).astype(np.int64)
    is_val = held_out_groups(np.asarray(identity)[chosen], val_fraction, rng)
    val, fit = chosen[is_val], chosen[~is_val]
    log.info("GCN-S: %d of %d train proposals have a true IoP in [%g, %g] (%d held out)", len(chosen), len(pool), lo,
             hi, len(val))
    model = GCNS(pool.x.shape[1] + (seed_mode != "none"), hidden, dropout).to(dev)

    def batch_loss(model, part, rng):
        feats, adj, target, _ = segment_batch(pool, part, seed_mode, rng, codes, identity_codes)
        return segment_loss(model, *(torch.from_numpy(a).to(dev) for a in (feats, adj, target)))

    return fit_proposals("GCN-S", "nll", model, pool, fit, val, batch_loss, lr=lr, weight_decay=weight_decay,
                         batch_size=batch_size, max_epochs=max_epochs, patience=patience, max_proposals=max_proposals,
                         rng=rng, fix=f"lower methods.gcnd.segment.train.lr (now {lr:g})")


@torch.no_grad()
def predict_pool(model: GCND, pool: Pool, chosen: np.ndarray, batch_size: int, dev: torch.device) -> np.ndarray:
    """Scores (float32) of the proposals ``chosen``, in that order."""
    model = model.to(dev).eval()
    out = np.empty(len(chosen), dtype=np.float32)
    position = np.empty(len(pool), dtype=np.int64)
    position[chosen] = np.arange(len(chosen))
    for part in batches(pool, np.asarray(chosen, dtype=np.int64), batch_size, None):
        out[position[part]] = model(*pool.batch(part, dev)).cpu().numpy()
    return out


def predict(model: GCND, x: np.ndarray, ids: np.ndarray, dists: np.ndarray, sets: list[Proposals],
            batch_size: int = 256, device_name: str = TRAIN.device) -> np.ndarray:
    """GCN-D's score (float32) of every proposal of ``sets`` (in their order, set after set) of a split
    with L2-normalised features ``x`` (N x D) and kNN graph ``ids``/``dists`` (N x K). Raises
    :class:`DataError` for features of another width than the model's, or NaN scores."""
    if x.shape[1] != model.dim:
        raise DataError(f"The GCN-D model expects {model.dim}-D features but the data is {x.shape[1]}-D: use a model "
                        f"trained on features of this width.")
    pool = Pool(x, ids, dists, sets)
    if len(pool) == 0:
        return np.empty(0, dtype=np.float32)
    scores = predict_pool(model, pool, np.arange(len(pool)), batch_size, device(device_name))
    if not np.isfinite(scores).all():
        raise DataError("The GCN-D model predicts NaN or infinite scores: it is broken; retrain it or check the "
                        "checkpoint, and the features for huge values.")
    return scores


def deoverlap(proposals: Proposals, scores: np.ndarray, th_pos: float = -math.inf) -> np.ndarray:
    """Labels (int64, n, numbered by first point) from overlapping proposals and their ``scores``
    (float, P): the proposals scoring at least ``th_pos`` (the original's th_pos; default: all) in
    descending score (equal scores: the earlier first), each vertex to the first proposal containing
    it, vertices in none of them as singletons; a proposal left without vertices disappears. One
    stable sort and one ``np.unique`` over the kept members in that order. Raises
    :class:`DataError` for a score count other than the proposal count."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) != len(proposals):
        raise DataError(f"There are {len(scores)} scores for {len(proposals)} proposals: remake the scores from "
                        f"these proposals.")
    rank = np.empty(len(proposals), dtype=np.int64)
    rank[np.argsort(-scores, kind="stable")] = np.arange(len(proposals))
    kept = (scores >= th_pos)[proposals.owner]
    owner_rank, members = rank[proposals.owner][kept], proposals.members[kept]
    order = np.argsort(owner_rank, kind="stable")
    vertices, first = np.unique(members[order], return_index=True)
    labels = np.full(proposals.n, -1, dtype=np.int64)  # -1: in no kept proposal, a singleton (renumber)
    labels[vertices] = owner_rank[order][first]
    return renumber(labels)


def kept_fraction(scores: np.ndarray, th_pos: float) -> float:
    """The fraction (in [0, 1]) of proposals whose ``scores`` (float, P) are at least ``th_pos``: how a
    th_pos chosen on the train split carries over to the test split (:func:`th_pos_keeping`). GCN-D's
    scores of the train proposals, which it was trained on, run higher than its scores of unseen
    proposals, so the same score would keep fewer test proposals; the same fraction keeps as many."""
    scores = np.asarray(scores, dtype=np.float64)
    return float((scores >= th_pos).mean()) if len(scores) else 1.0


def th_pos_keeping(scores: np.ndarray, fraction: float) -> float:
    """The th_pos that keeps the best ``fraction`` (in [0, 1]) of the proposals by ``scores`` (float,
    P): the score of the ceil(fraction x P)-th best (ties at it are kept too); 1 keeps all (the lowest
    score), 0 none (+inf). The inverse of :func:`kept_fraction` up to ties."""
    scores = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    count = int(math.ceil(round(fraction * len(scores), 9)))
    return float(scores[count - 1]) if count > 0 else math.inf


def sweeper(proposals: Proposals, scores: np.ndarray, keep: np.ndarray | None = None,
            apply_iop=tuple(SEGMENT.apply_iop), th_outlier: float = SEGMENT.th_outlier,
            keep_outlier: bool = SEGMENT.keep_outlier):
    """(th_pos -> labels, the scores: the candidate values), for clustering at a th_pos or choosing it
    on a labelled split (:func:`ltc.thresholds.choose`). The labels are :func:`deoverlap`'s; with
    GCN-S's probabilities ``keep``, of the proposals cleaned by :func:`segment`, which drops those
    below th_pos first (its output scores are ranks, so th_pos cannot apply after it)."""
    if keep is None:
        return (lambda t: deoverlap(proposals, scores, float(t))), np.asarray(scores, dtype=np.float64)
    return ((lambda t: deoverlap(*segment(proposals, scores, keep, apply_iop, th_outlier, keep_outlier, float(t)))),
            np.asarray(scores, dtype=np.float64))


def predict_keep(model: GCNS, x: np.ndarray, ids: np.ndarray, dists: np.ndarray, sets: list[Proposals],
                 seed_mode: str = SEGMENT.seed, seed: int = SEGMENT.train.seed, batch_size: int = 256,
                 device_name: str = SEGMENT.train.device) -> np.ndarray:
    """GCN-S's probability (float32) that each member belongs to its proposal's identity, one per entry
    of ``concatenate(sets).members`` (in that order), for a split with L2-normalised features ``x``
    (N x D) and kNN graph ``ids``/``dists``; a ``random`` seed drawn by ``default_rng(seed)``. Raises
    :class:`DataError` for a model of another input width than D (+ 1 with a seed column) or NaN outputs."""
    width = x.shape[1] + (seed_mode != "none")
    if model.dim != width:
        raise DataError(f"The GCN-S model takes {model.dim} inputs but {x.shape[1]}-D features with seed {seed_mode} "
                        f"make {width}: use a model trained on features of this width with this "
                        f"methods.gcnd.segment.seed.")
    pool = Pool(x, ids, dists, sets)
    out = np.empty(len(pool.members), dtype=np.float32)
    dev, rng = device(device_name), np.random.default_rng(seed)
    model = model.to(dev).eval()
    with torch.no_grad():
        for part in batches(pool, np.arange(len(pool)), batch_size, None):
            feats, adj, _, (b_of, local) = segment_batch(pool, part, seed_mode, rng)
            prob = torch.softmax(model(torch.from_numpy(feats).to(dev), torch.from_numpy(adj).to(dev)), dim=2)[..., 1]
            out[pool.offsets[part][b_of] + local] = prob.cpu().numpy()[b_of, local]
    if not np.isfinite(out).all():
        raise DataError("The GCN-S model predicts NaN probabilities: it is broken; retrain it or check the checkpoint.")
    return out


def segment(proposals: Proposals, scores: np.ndarray, keep: np.ndarray, apply_iop=tuple(SEGMENT.apply_iop),
            th_outlier: float = SEGMENT.th_outlier, keep_outlier: bool = SEGMENT.keep_outlier,
            th_pos: float = -math.inf) -> tuple[Proposals, np.ndarray]:
    """The proposals cleaned by GCN-S, and scores that order them for :func:`deoverlap`. ``keep``
    (float, one per entry of ``proposals.members``): GCN-S's probabilities; a member is kept when above
    ``th_outlier``. A proposal whose kept fraction (GCN-S's estimate of its IoP) lies in ``apply_iop``
    (inclusive) loses its other members; with ``keep_outlier`` those form one proposal of their own,
    ranked after every proposal, in the order of their proposals (the original's ``deoverlap`` with
    ``outlier_scores``). Proposals scoring below ``th_pos`` are dropped first, with their members (the
    returned scores are ranks, so a th_pos applies here, not in the de-overlap after). Returns
    (proposals, float64 scores: minus each one's rank, so the de-overlap takes them in that order,
    ties as :func:`deoverlap` breaks them). Raises :class:`DataError` for
    ``keep`` or ``scores`` of the wrong length."""
    keep, scores = np.asarray(keep), np.asarray(scores, dtype=np.float64)
    count = len(proposals)
    if len(keep) != len(proposals.members) or len(scores) != count:
        raise DataError(f"There are {len(keep)} GCN-S probabilities and {len(scores)} scores for {count} proposals of "
                        f"{len(proposals.members)} members: remake them from these proposals.")
    kept = keep > th_outlier
    owner = proposals.owner
    fraction = np.bincount(owner, weights=kept, minlength=count) / np.maximum(proposals.sizes, 1)
    cleaned = (fraction >= apply_iop[0]) & (fraction <= apply_iop[1])
    stays = kept | ~cleaned[owner]
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(-scores, kind="stable")] = np.arange(count)
    group = np.where(stays, owner, count + owner)  # count + p: the members removed from proposal p
    chosen = (stays | keep_outlier) & (scores >= th_pos)[owner]
    group, members = group[chosen], proposals.members[chosen]
    order = np.argsort(group, kind="stable")  # members stay ascending within a group
    group, members = group[order], members[order]
    names, starts = np.unique(group, return_index=True)
    offsets = np.r_[starts, len(members)].astype(np.int64)
    order_key = np.where(names < count, rank[names % count], count + rank[names % count])
    log.info("GCN-S: %d of %d proposals cleaned (kept fraction in [%g, %g]), %d of their %d members removed%s",
             int(cleaned.sum()), count, apply_iop[0], apply_iop[1], int((~stays).sum()),
             int(proposals.sizes[cleaned].sum()), " (kept as proposals of their own)" if keep_outlier else "")
    out = Proposals(members.astype(np.int64), offsets, proposals.n, proposals.k, proposals.th, proposals.step,
                    proposals.minsz, proposals.maxsz)
    return out, -order_key.astype(np.float64)


def _layer_widths(state: dict) -> list[tuple[int, int]]:
    """(in, out) of ``layers.<i>.gc.weight``, i = 0, 1, ... while present (the original's module layout)."""
    widths, i = [], 0
    while f"layers.{i}.gc.weight" in state and state[f"layers.{i}.gc.weight"].ndim == 2:
        widths.append(tuple(state[f"layers.{i}.gc.weight"].shape))
        i += 1
    return widths


def load_checkpoint(path: str | Path, dim: int | None = None) -> GCND:
    """A GCN-D checkpoint: ours (:func:`ltc.gcn.save_checkpoint`) or the original project's (its
    ``dsgcn`` state dict, bare or under ``state_dict``, keys possibly prefixed ``module.``), for
    ``dim``-D features (any if None). The hidden widths are read from its weights. Raises
    :class:`DataError` naming the file for a missing, unreadable or foreign file, NaN weights, or
    features of another width."""
    path = Path(path)
    setting, fix = "methods.gcnd.checkpoint", "check the file, or point the config at a GCN-D checkpoint"
    state, _ = read_checkpoint(path, setting, fix)
    widths = _layer_widths(state)
    if not widths:
        raise checkpoint_error(path, setting, "holds no GCN-D weights (no layers.0.gc.weight)", fix)
    if dim is not None and widths[0][0] != dim:
        raise DataError(f"Checkpoint {path} expects {widths[0][0]}-D features but the data is {dim}-D: use a model "
                        f"trained on features of this width.")
    return load_state(GCND(widths[0][0], [w[1] for w in widths]), state, path, setting, fix)


def load_gcns_checkpoint(path: str | Path, dim: int | None = None, seed_mode: str = SEGMENT.seed) -> GCNS:
    """A GCN-S checkpoint: ours or the original project's (its ``dsgcn`` state dict with stage ``seg``:
    ``layers.<i>.gc.weight``, ``classifier.weight`` of shape (2, last), as :func:`load_checkpoint`
    reads), for ``dim``-D features with ``seed_mode``'s column (``dim + 1`` inputs unless none; the
    original's MS1M GCN-S has one: 257 inputs). Raises :class:`DataError` naming the file for a missing,
    unreadable or foreign file (a GCN-D's among them), NaN weights, or another input width, saying which
    seed setting the file's width fits."""
    path = Path(path)
    setting, fix = "methods.gcnd.segment.checkpoint", "check the file, or point the config at a GCN-S checkpoint"
    state, _ = read_checkpoint(path, setting, fix)
    widths = _layer_widths(state)
    outputs = state.get("classifier.weight")
    if not widths or outputs is None or outputs.ndim != 2 or outputs.shape[0] != 2:
        raise checkpoint_error(path, setting, "holds no GCN-S weights (layers.0.gc.weight and a classifier of two "
                                              "outputs)", fix)
    width = widths[0][0]
    if dim is not None and width != dim + (seed_mode != "none"):
        fits = {dim: "none", dim + 1: "random or max_degree (the original's seed column)"}.get(width)
        hint = (f"set methods.gcnd.segment.seed to {fits}" if fits else "use a model trained on features of this width")
        raise DataError(f"Checkpoint {path} takes {width} inputs but {dim}-D features with segment.seed {seed_mode} "
                        f"make {dim + (seed_mode != 'none')}: {hint}.")
    return load_state(GCNS(width, [w[1] for w in widths]), state, path, setting, fix)
