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
label). De-overlap (its ``post_process/deoverlap.py`` with th_pos -1 and th_iou 1, no NMS):
proposals by descending score, each vertex to the first proposal that contains it, the others
singletons.

GCN-S (segmentation) is not implemented; it would take the top proposals and a keep mask per vertex
before the de-overlap.
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

log = logging.getLogger(__name__)

__all__ = ["GCND", "targets", "majority", "graph_batch", "train", "predict", "deoverlap", "load_checkpoint", "save_checkpoint",
           "normalized"]


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


class GCND(nn.Module):
    """GCN-D: a score (B,) per padded proposal graph from features (B, S, dim) and adjacency (B, S, S)."""

    def __init__(self, dim: int, hidden=tuple(DEFAULTS.hidden), dropout: float = 0.0):
        super().__init__()
        widths = [int(dim), *map(int, hidden)]
        self.layers = nn.ModuleList(BasicBlock(a, b, dropout) for a, b in zip(widths[:-1], widths[1:]))
        self.classifier = nn.Linear(widths[-1], 1)

    @property
    def dim(self) -> int:
        return self.layers[0].gc.weight.shape[0]

    @property
    def hidden(self) -> list[int]:
        return [layer.gc.weight.shape[1] for layer in self.layers]

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        d = adj.sum(dim=2, keepdim=True)
        for layer in self.layers:
            x = layer(x, adj, d)
        return self.classifier(x.max(dim=1).values).squeeze(1)


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


def graph_batch(x: np.ndarray, ids: np.ndarray, dists: np.ndarray, members: np.ndarray, offsets: np.ndarray,
                ks: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features (B, S, D) float32, adjacency (B, S, S) float32) of the proposals ``chosen`` (B ids
    into ``offsets``; ``ks`` each proposal's k), padded to the largest S: see the module docstring.
    ``x``: the split's L2-normalised features (N x D); ``ids``/``dists``: its kNN graph (N x K)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    starts, sizes = offsets[chosen], offsets[chosen + 1] - offsets[chosen]
    b_of = np.repeat(np.arange(len(chosen)), sizes)
    first_of = np.repeat(np.cumsum(sizes) - sizes, sizes)
    local = np.arange(len(b_of)) - first_of
    vertex = members[np.repeat(starts, sizes) + local]
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
    ``seconds``). Raises :class:`DataError` for no proposals, fewer than two identities, and when
    training diverges."""
    if len(pool) == 0:
        raise DataError("The train split has no proposals, so GCN-D has nothing to learn from: lower the th of "
                        "methods.gcnd.proposals or methods.gcnd.minsz.")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    dev = device(device_name)
    is_val = held_out_groups(np.asarray(groups), val_fraction, rng)
    val, fit = np.flatnonzero(is_val), np.flatnonzero(~is_val)
    if not len(val):
        log.warning("no identity held out: no early stopping (all %d epochs are run)", max_epochs)
    y = torch.from_numpy(np.asarray(target, dtype=np.float32))
    model = GCND(pool.x.shape[1], hidden, dropout).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    stopper, history = EarlyStopping(model, patience), []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        drawn = fit if max_proposals is None or len(fit) <= max_proposals else rng.choice(fit, max_proposals, replace=False)
        total = 0.0
        for chosen in tqdm(batches(pool, drawn, batch_size, rng), desc=f"epoch {epoch}", unit="batch", leave=False):
            feats, adj = pool.batch(chosen, dev)
            loss = nn.functional.mse_loss(model(feats, adj), y[chosen].to(dev))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(chosen)
        val_loss = float(((predict_pool(model, pool, val, batch_size, dev) - target[val]) ** 2).mean()) \
            if len(val) else math.nan
        history.append({"epoch": epoch, "train_mse": total / len(drawn), "val_mse": val_loss, "proposals": len(drawn),
                        "seconds": round(time.perf_counter() - start, 2)})
        log.info("epoch %d: train mse %.5f, held-out mse %.5f (%d proposals)", epoch, history[-1]["train_mse"],
                 val_loss, len(drawn))
        check_converging("GCN-D", epoch, history[-1]["train_mse"], val_loss if len(val) else None, model,
                         f"lower methods.gcnd.train.lr (now {lr:g})")
        if len(val) and stopper.should_stop(val_loss):
            log.info("no improvement for %d epochs: stopping, keeping epoch %d", patience, epoch - patience)
            break
    return (stopper.restore_best() if len(val) else model).cpu(), history


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


def deoverlap(proposals: Proposals, scores: np.ndarray) -> np.ndarray:
    """Labels (int64, n, numbered by first point) from overlapping proposals and their ``scores``
    (float, P): proposals in descending score (equal scores: the earlier first), each vertex to the
    first proposal containing it, vertices in none as singletons; a proposal left without vertices
    disappears. One stable sort and one ``np.unique`` over the members in that order."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) != len(proposals):
        raise DataError(f"There are {len(scores)} scores for {len(proposals)} proposals: remake the scores from "
                        f"these proposals.")
    rank = np.empty(len(proposals), dtype=np.int64)
    rank[np.argsort(-scores, kind="stable")] = np.arange(len(proposals))
    owner_rank = rank[proposals.owner]
    order = np.argsort(owner_rank, kind="stable")
    vertices, first = np.unique(proposals.members[order], return_index=True)
    labels = np.full(proposals.n, -1, dtype=np.int64)  # -1: in no proposal, a singleton (renumber)
    labels[vertices] = owner_rank[order][first]
    return renumber(labels)


def load_checkpoint(path: str | Path, dim: int | None = None) -> GCND:
    """A GCN-D checkpoint: ours (:func:`ltc.gcn.save_checkpoint`) or the original project's (its
    ``dsgcn`` state dict, bare or under ``state_dict``, keys possibly prefixed ``module.``), for
    ``dim``-D features (any if None). The hidden widths are read from its weights. Raises
    :class:`DataError` naming the file for a missing, unreadable or foreign file, NaN weights, or
    features of another width."""
    path = Path(path)
    setting, fix = "methods.gcnd.checkpoint", "check the file, or point the config at a GCN-D checkpoint"
    state, _ = read_checkpoint(path, setting, fix)
    widths, i = [], 0
    while f"layers.{i}.gc.weight" in state and state[f"layers.{i}.gc.weight"].ndim == 2:
        widths.append(tuple(state[f"layers.{i}.gc.weight"].shape))
        i += 1
    if not widths:
        raise checkpoint_error(path, setting, "holds no GCN-D weights (no layers.0.gc.weight)", fix)
    if dim is not None and widths[0][0] != dim:
        raise DataError(f"Checkpoint {path} expects {widths[0][0]}-D features but the data is {dim}-D: use a model "
                        f"trained on features of this width.")
    return load_state(GCND(widths[0][0], [w[1] for w in widths]), state, path, setting, fix)
