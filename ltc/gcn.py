"""GCN-V (Yang et al., CVPR 2020): graph, model, training and inference, in torch.

The graph is the kNN graph with edges of similarity < ``th_sim`` dropped, made symmetric (the larger
weight of i->j and j->i, weight = similarity), with self-loops, row-normalised: ``A``. The model is
one graph convolution over ``[X, A X]`` (D -> nhid, ReLU), then Linear(nhid, nhid) -> PReLU ->
Linear(nhid, 1), trained by MSE against the supervised confidence. Its parameter names follow the
original project's module layout (``conv1.weight`` of shape (2D, nhid), ``conv1.bias``,
``classifier.{0,1,2}.*``), so its checkpoints load as they are.

With a single graph convolution over fixed input features, ``A X`` never changes during training:
it is computed once, and the model trains on rows of ``[X, A X]`` in mini-batches (Adam, early
stopping on a held-out part of the train split) instead of full-graph steps.

Inference at scale (:func:`predict_graph`) never builds ``[X, A X]`` (N x 2D) or ``A`` whole: it
takes ``A`` block of rows by block of rows from a :class:`ltc.graph.SymmetricKnnGraph`, computes
those rows of ``A X`` and the model's outputs, and streams the hidden features out. Memory: X (N x D
float32), the graph's reverse edges (8 bytes per kNN edge) and one block.
"""
from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy import sparse
from torch import nn
from tqdm import tqdm

from ltc import DataError
from ltc.graph import SymmetricKnnGraph, symmetric_graph
from ltc.io import CHUNK_ROWS, NpyRows, atomic_output, feature_shape, iter_features
from ltc.knn import normalized

log = logging.getLogger(__name__)


def normalized_adjacency(ids: np.ndarray, dists: np.ndarray, th_sim: float) -> sparse.csr_matrix:
    """Row-normalised symmetric kNN adjacency with self-loops (weights = cosine similarity)."""
    return row_normalized(symmetric_graph(ids, dists, th_sim))


def row_normalized(adj: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows of ``adj`` (or of a block of its rows) divided by their sums."""
    inv_degree = 1.0 / np.asarray(adj.sum(axis=1)).ravel()
    return sparse.diags(inv_degree.astype(np.float32)) @ adj


def neighbour_mean(adj: sparse.csr_matrix, x: np.ndarray) -> np.ndarray:
    """``adj @ x`` (float32) for a sparse (block of rows of a) row-normalised adjacency and dense ``x``,
    by torch's multithreaded sparse-dense product."""
    adj = adj.tocsr()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": it is exact for this product
        warnings.simplefilter("ignore", UserWarning)
        a = torch.sparse_csr_tensor(torch.from_numpy(adj.indptr.astype(np.int64)),
                                    torch.from_numpy(adj.indices.astype(np.int64)),
                                    torch.from_numpy(adj.data.astype(np.float32)), size=adj.shape,
                                    check_invariants=False)
    return (a @ torch.from_numpy(x)).numpy()


def gcn_input(feats: np.ndarray, adj: sparse.csr_matrix) -> np.ndarray:
    """``[X, A X]`` (N x 2D float32) for L2-normalised features X."""
    x = normalized(feats)
    return np.concatenate([x, neighbour_mean(adj, x)], axis=1)


def read_normalized(path: str | Path, dim: int, chunk_rows: int = CHUNK_ROWS) -> np.ndarray:
    """L2-normalised float32 rows of a feature file (X of :func:`gcn_input`), read chunk by chunk into
    the one N x D array returned."""
    x = np.empty(feature_shape(path, dim), dtype=np.float32)
    for start, chunk in iter_features(path, dim, chunk_rows):
        x[start:start + len(chunk)] = normalized(chunk)
    return x


class GraphConv(nn.Module):
    """ReLU([x, mean of neighbours] @ weight + bias), given the concatenation as input."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(2 * in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x_and_neighbours: torch.Tensor) -> torch.Tensor:
        return torch.relu(x_and_neighbours @ self.weight + self.bias)


class GCNV(nn.Module):
    """GCN-V: returns (confidence (N,), hidden features (N, nhid)) from ``[X, A X]``."""

    def __init__(self, dim: int, nhid: int = 512):
        super().__init__()
        self.conv1 = GraphConv(dim, nhid)
        self.classifier = nn.Sequential(nn.Linear(nhid, nhid), nn.PReLU(nhid), nn.Linear(nhid, 1))

    def forward(self, x_and_neighbours: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.conv1(x_and_neighbours)
        return self.classifier(hidden).squeeze(1), hidden


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest held-out loss; says when ``patience`` epochs in a
    row brought no improvement."""

    def __init__(self, model: nn.Module, patience: int):
        self.model, self.patience = model, patience
        self.best, self.best_state, self.waited = np.inf, None, 0

    def should_stop(self, val_loss: float) -> bool:
        if val_loss < self.best:
            self.best, self.best_state, self.waited = val_loss, copy.deepcopy(self.model.state_dict()), 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self) -> nn.Module:
        self.model.load_state_dict(self.best_state)
        return self.model


def device(name: str = "auto") -> torch.device:
    """CUDA when present (for ``auto``), CPU otherwise."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def train(z: np.ndarray, target: np.ndarray, groups: np.ndarray | None = None, *, nhid: int = 512, lr: float = 1e-3, weight_decay: float = 1e-5,
          batch_size: int = 4096, max_epochs: int = 50, patience: int = 3, val_fraction: float = 0.1,
          seed: int = 0, device_name: str = "auto") -> tuple[GCNV, list[dict]]:
    """Fit GCN-V on rows of ``z`` = [X, A X] (N x 2D) against ``target`` (N,), by mini-batch Adam.

    A seeded ``val_fraction`` of the ``groups`` (identity labels; rows when None) is held out, so the
    held-out error measures what the test split asks for: unseen identities. Training stops after
    ``patience`` epochs without a lower held-out MSE and the best weights are kept.
    Returns the model and the loss curve.
    """
    torch.manual_seed(seed)
    dev = device(device_name)
    rng = np.random.default_rng(seed)
    groups = np.arange(len(z)) if groups is None else np.asarray(groups)
    names = np.unique(groups)
    held_out = rng.choice(names, max(1, int(round(val_fraction * len(names)))), replace=False)
    is_val = np.isin(groups, held_out)
    val_rows, train_rows = np.flatnonzero(is_val), np.flatnonzero(~is_val)
    z_all = torch.from_numpy(np.ascontiguousarray(z)).to(dev)
    y_all = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32)).to(dev)
    model = GCNV(z.shape[1] // 2, nhid).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    stopper, history = EarlyStopping(model, patience), []
    for epoch in range(1, max_epochs + 1):
        start = time.perf_counter()
        model.train()
        rows = torch.from_numpy(rng.permutation(train_rows)).to(dev)
        total = 0.0
        for batch in tqdm(rows.split(batch_size), desc=f"epoch {epoch}", unit="batch", leave=False):
            pred, _ = model(z_all[batch])
            loss = nn.functional.mse_loss(pred, y_all[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        val_loss = mse(model, z_all, y_all, torch.from_numpy(val_rows).to(dev), batch_size)
        history.append({"epoch": epoch, "train_mse": total / len(train_rows), "val_mse": val_loss,
                        "seconds": round(time.perf_counter() - start, 2)})
        log.info("epoch %d: train mse %.5f, held-out mse %.5f", epoch, history[-1]["train_mse"], val_loss)
        if stopper.should_stop(val_loss):
            log.info("no improvement for %d epochs: stopping, keeping epoch %d", patience, epoch - patience)
            break
    return stopper.restore_best().cpu(), history


@torch.no_grad()
def mse(model: GCNV, z: torch.Tensor, y: torch.Tensor, rows: torch.Tensor, batch_size: int) -> float:
    model.eval()
    err = sum(float(((model(z[b])[0] - y[b]) ** 2).sum()) for b in rows.split(batch_size))
    return err / len(rows)


@torch.no_grad()
def predict(model: GCNV, z: np.ndarray, batch_size: int = 65536,
            device_name: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(confidence (N,) float32, hidden features (N, nhid) float32) for rows of ``z`` = [X, A X]."""
    dev = device(device_name)
    model = model.to(dev).eval()
    nhid = model.conv1.weight.shape[1]
    conf = np.empty(len(z), dtype=np.float32)
    hidden = np.empty((len(z), nhid), dtype=np.float32)
    for start in tqdm(range(0, len(z), batch_size), desc="gcn-v inference", unit="batch"):
        c, h = model(torch.from_numpy(np.ascontiguousarray(z[start:start + batch_size])).to(dev))
        conf[start:start + len(c)] = c.cpu().numpy()
        hidden[start:start + len(c)] = h.cpu().numpy()
    return conf, hidden


@torch.no_grad()
def predict_graph(model: GCNV, x: np.ndarray, graph: SymmetricKnnGraph, hidden_out: NpyRows | None = None,
                  batch_size: int = CHUNK_ROWS, device_name: str = "auto") -> np.ndarray:
    """Confidence (N,) float32 of every vertex, as ``predict(model, gcn_input(feats, A))[0]`` with ``A``
    the row-normalised ``graph``, without ``A`` or ``[X, A X]`` whole: for each block of
    ``batch_size`` rows, those rows of ``A`` and of ``A X``, then the model. ``x``: the L2-normalised
    features (:func:`read_normalized`). The hidden features (N x nhid) go to ``hidden_out``
    (:func:`ltc.io.npy_row_writer`) block by block, if given."""
    if graph.n != len(x):
        raise DataError(f"The kNN graph has {graph.n} rows but the features have {len(x)}: "
                        f"both must come from the same split (delete the kNN file so it is rebuilt).")
    dev = device(device_name)
    model = model.to(dev).eval()
    conf = np.empty(len(x), dtype=np.float32)
    blocks = graph.blocks(batch_size)
    for start, adj in tqdm(blocks, total=math.ceil(len(x) / batch_size), desc="gcn-v inference", unit="batch"):
        stop = start + adj.shape[0]
        z = np.concatenate([x[start:stop], neighbour_mean(row_normalized(adj), x)], axis=1)
        c, h = model(torch.from_numpy(z).to(dev))
        conf[start:stop] = c.cpu().numpy()
        if hidden_out is not None:
            hidden_out.write(h.cpu().numpy())
    return conf


def save_checkpoint(model: GCNV, path: str | Path, meta: dict) -> None:
    """Save as ``{"state_dict": ..., "meta": ...}`` (the layout the original project writes)."""
    with atomic_output(path) as tmp:
        torch.save({"state_dict": model.state_dict(), "meta": meta}, tmp)


def load_checkpoint(path: str | Path, dim: int | None = None) -> GCNV:
    """Load a GCN-V checkpoint: ours, or the original project's (a state dict, bare or under
    ``state_dict``, keys possibly prefixed ``module.``)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for unreadable files
        raise DataError(f"Checkpoint {path} is not a readable torch file ({err}): point the config at a GCN-V checkpoint.") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or "conv1.weight" not in {k.removeprefix("module.") for k in state}:
        raise DataError(f"Checkpoint {path} holds no GCN-V weights (no conv1.weight): point the config at a GCN-V checkpoint.")
    state = {k.removeprefix("module."): v for k, v in state.items()}
    two_d, nhid = state["conv1.weight"].shape
    if dim is not None and two_d != 2 * dim:
        raise DataError(f"Checkpoint {path} expects {two_d // 2}-D features but the data is {dim}-D: use a model trained on features of this width.")
    model = GCNV(two_d // 2, nhid)
    model.load_state_dict(state)
    return model
