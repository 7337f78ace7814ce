"""GCN-V (Yang et al., CVPR 2020): graph, model, training and inference, in torch.

The graph is the kNN graph with edges of similarity < ``th_sim`` dropped, made symmetric (the larger
weight of i->j and j->i, weight = similarity), with self-loops, row-normalised: ``A``. The model is
one graph convolution over ``[X, A X]`` (D -> nhid, ReLU), then Linear(nhid, nhid) -> PReLU ->
Linear(nhid, 1), trained by MSE against the supervised confidence. Its parameter names follow the
original project's module layout (``conv1.weight`` of shape (2D, nhid), ``conv1.bias``,
``classifier.{0,1,2}.*``), so its checkpoints load as they are.

With a single graph convolution over fixed input features, ``A X`` never changes during training:
it is computed once, and the model trains on rows of ``[X, A X]``: by recipe ``minibatch`` in
mini-batches (Adam, early stopping on a held-out part of the train split), by recipe ``original``
in full-graph SGD steps as the original project does (:func:`train`).

Inference at scale (:func:`predict_graph`) never builds ``[X, A X]`` (N x 2D) or ``A`` whole: it
takes ``A`` block of rows by block of rows from a :class:`ltc.graph.SymmetricKnnGraph`, computes
those rows of ``A X`` and the model's outputs, and streams the hidden features out. Memory: X (N x D
float32), the graph's reverse edges (8 bytes per kNN edge) and one block.
"""
from __future__ import annotations

import copy
import io
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
from ltc.io import (CHUNK_ROWS, NpyRows, atomic_output, feature_shape, iter_features, load_array, rebuild_hint,
                    workflow_made)
from ltc.rows import normalized, unit_rows
from ltc.methods.gcnv import ORIGINAL_LR_FACTOR, ORIGINAL_LR_STEPS, RECIPE_LR, Params, learning_rate

DEFAULTS = Params()  # the settings' one default (ltc.methods.gcnv); TRAIN: those of its training
TRAIN = DEFAULTS.train

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

    def __init__(self, dim: int, nhid: int = DEFAULTS.nhid):
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


def train(z: np.ndarray, target: np.ndarray, groups: np.ndarray | None = None, *, nhid: int = DEFAULTS.nhid,
          recipe: str = TRAIN.recipe, lr: float | str = TRAIN.lr, weight_decay: float = TRAIN.weight_decay,
          batch_size: int = TRAIN.batch_size, max_epochs: int = TRAIN.max_epochs, patience: int = TRAIN.patience,
          val_fraction: float = TRAIN.val_fraction, steps: int = TRAIN.steps, momentum: float = TRAIN.momentum,
          seed: int = TRAIN.seed, device_name: str = TRAIN.device) -> tuple[GCNV, list[dict]]:
    """Fit GCN-V on rows of ``z`` = [X, A X] (N x 2D float32) against ``target`` (N,), by ``recipe``
    (:class:`ltc.methods.gcnv.TrainParams`): ``minibatch`` (:func:`train_minibatch`, reads ``groups``,
    ``batch_size``, ``max_epochs``, ``patience``, ``val_fraction``) or ``original``
    (:func:`train_full_graph`, reads ``steps``, ``momentum``). ``lr``: a number or ``auto``, the
    recipe's own (:data:`ltc.methods.gcnv.RECIPE_LR`).

    Returns the model (on the CPU) and the loss curve (a list of dicts, one per epoch or logged step).
    Raises :class:`DataError` for an unknown recipe or a bad lr, and as the recipe's function does."""
    rate = learning_rate(recipe, lr)
    if recipe == "original":
        return train_full_graph(z, target, nhid=nhid, lr=rate, weight_decay=weight_decay, steps=steps,
                                momentum=momentum, seed=seed, device_name=device_name)
    return train_minibatch(z, target, groups, nhid=nhid, lr=rate, weight_decay=weight_decay, batch_size=batch_size,
                           max_epochs=max_epochs, patience=patience, val_fraction=val_fraction, seed=seed,
                           device_name=device_name)


def train_minibatch(z: np.ndarray, target: np.ndarray, groups: np.ndarray | None = None, *, nhid: int = DEFAULTS.nhid,
                    lr: float = RECIPE_LR["minibatch"], weight_decay: float = TRAIN.weight_decay,
                    batch_size: int = TRAIN.batch_size, max_epochs: int = TRAIN.max_epochs,
                    patience: int = TRAIN.patience, val_fraction: float = TRAIN.val_fraction, seed: int = TRAIN.seed,
                    device_name: str = TRAIN.device) -> tuple[GCNV, list[dict]]:
    """Recipe ``minibatch``: fit GCN-V on rows of ``z`` = [X, A X] (N x 2D) against ``target`` (N,),
    by mini-batch Adam.

    A seeded ``val_fraction`` of the ``groups`` (identity labels; rows when None) is held out, so the
    held-out error measures what the test split asks for: unseen identities (see
    :func:`held_out_groups`: at least one, leaving at least two; none of only two identities, and then
    all ``max_epochs`` run and the last weights are kept). Training stops after ``patience`` epochs
    without a lower held-out MSE and the best weights are kept.
    Returns the model and the loss curve (``epoch``, ``train_mse``, ``val_mse``, ``seconds`` per
    epoch). Raises :class:`DataError` for fewer than two groups, and when training diverges (a
    non-finite loss or weights: ``lr`` too high), so no NaN model is returned.
    """
    torch.manual_seed(seed)
    dev = device(device_name)
    rng = np.random.default_rng(seed)
    groups = np.arange(len(z)) if groups is None else np.asarray(groups)
    is_val = held_out_groups(groups, val_fraction, rng)
    val_rows, train_rows = np.flatnonzero(is_val), np.flatnonzero(~is_val)
    if not len(val_rows):
        log.warning("only %d identities: none held out, so no early stopping (all %d epochs are run)",
                    len(np.unique(groups)), max_epochs)
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
        val_loss = mse(model, z_all, y_all, torch.from_numpy(val_rows).to(dev), batch_size) if len(val_rows) else math.nan
        history.append({"epoch": epoch, "train_mse": total / len(train_rows), "val_mse": val_loss,
                        "seconds": round(time.perf_counter() - start, 2)})
        log.info("epoch %d: train mse %.5f, held-out mse %.5f", epoch, history[-1]["train_mse"], val_loss)
        check_converging("GCN-V", epoch, history[-1]["train_mse"], val_loss if len(val_rows) else None, model,
                         f"lower methods.gcnv.train.lr (now {lr:g})")
        if len(val_rows) and stopper.should_stop(val_loss):
            log.info("no improvement for %d epochs: stopping, keeping epoch %d", patience, epoch - patience)
            break
    return (stopper.restore_best() if len(val_rows) else model).cpu(), history


def original_schedule(optimizer: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The original project's lr schedule over ``steps`` full-graph steps (its ``lr_config``: policy
    'step' at ``int(r * steps)`` for r in 0.5, 0.8, 0.9, factor 0.1, as mmcv applies it): step ``i``
    (0-based; call ``scheduler.step()`` after each ``optimizer.step()``) runs at the base lr times
    0.1 to the number of those milestones <= i."""
    milestones = [int(r * steps) for r in ORIGINAL_LR_STEPS]
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: ORIGINAL_LR_FACTOR ** sum(i >= m for m in milestones))


def train_full_graph(z: np.ndarray, target: np.ndarray, *, nhid: int = DEFAULTS.nhid,
                     lr: float = RECIPE_LR["original"], weight_decay: float = TRAIN.weight_decay,
                     steps: int = TRAIN.steps, momentum: float = TRAIN.momentum, seed: int = TRAIN.seed,
                     device_name: str = TRAIN.device) -> tuple[GCNV, list[dict]]:
    """Recipe ``original`` (the original project's vegcn/train_gcn_v.py with its cfg_train_gcnv_*.py):
    ``steps`` steps of SGD (``lr``, ``momentum``, ``weight_decay``) on the MSE of every row of ``z`` =
    [X, A X] (N x 2D float32) against ``target`` (N,), the lr stepped by :func:`original_schedule`; no
    held-out identities, no early stopping, the last weights kept. (The original recomputes ``A X``
    at every step; it is constant, so one ``z`` gives the same steps.)

    Returns the model and the loss curve: about 1,000 rows (``step``, ``train_mse`` of the weights
    that step started from, ``lr`` it ran at, ``seconds`` since the previous row). Raises
    :class:`DataError` when training diverges (a non-finite loss or weights; checked at each row and
    at the last step), so no NaN model is returned. Memory: ``z`` and about six N x ``nhid`` float32
    activations and gradients (MS1M's 576K train rows: some 8 GB; a GPU is the original's setting)."""
    if steps < 1:
        raise DataError(f"methods.gcnv.train.steps is {steps}: set it to a positive number of full-graph steps, "
                        f"e.g. {TRAIN.steps}.")
    torch.manual_seed(seed)
    dev = device(device_name)
    z_all = torch.from_numpy(np.ascontiguousarray(z)).to(dev)
    y_all = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32)).to(dev)
    model = GCNV(z.shape[1] // 2, nhid).to(dev)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    scheduler = original_schedule(optimizer, steps)
    every, history, start = max(1, steps // 1000), [], time.perf_counter()
    for step in tqdm(range(1, steps + 1), desc="gcn-v full-graph steps", unit="step", leave=False):
        rate = optimizer.param_groups[0]["lr"]
        loss = nn.functional.mse_loss(model(z_all)[0], y_all)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % every == 0 or step == steps:
            history.append({"step": step, "train_mse": loss.item(), "lr": rate,
                            "seconds": round(time.perf_counter() - start, 3)})
            start = time.perf_counter()
            if step % (100 * every) == 0 or step == steps:
                log.info("step %d of %d: train mse %.5f, lr %g", step, steps, history[-1]["train_mse"], rate)
            check_converging("GCN-V", step, history[-1]["train_mse"], None, model,
                             f"lower methods.gcnv.train.lr (now {lr:g})", unit="step")
    return model.cpu(), history


def held_out_groups(groups: np.ndarray, val_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Mask of the rows whose group (identity) is held out for early stopping: a seeded
    ``val_fraction`` of the groups, rounded, but at least one and leaving at least two to train on;
    none when there are only two groups (then there is no early stopping). Raises
    :class:`DataError` for a ``val_fraction`` outside [0, 1) or fewer than two groups."""
    if not 0 <= val_fraction < 1:
        raise DataError(f"val_fraction {val_fraction} is not in [0, 1): set train.val_fraction of the method "
                        f"to the fraction of identities held out for early stopping, e.g. 0.1.")
    names = np.unique(groups)
    if len(names) < 2:
        raise DataError(f"The train split has fewer than two identities ({len(names)}), so nothing can be learnt "
                        f"from it: give the train split its real identity labels, or a trained model.")
    count = min(max(1, int(round(val_fraction * len(names)))), len(names) - 2)
    return np.isin(groups, rng.choice(names, count, replace=False)) if count > 0 else np.zeros(len(groups), bool)


def check_converging(name: str, epoch: int, train_loss: float, val_loss: float | None, model: nn.Module,
                     fix: str, unit: str = "epoch") -> None:
    """Raise :class:`DataError` if an epoch (or the ``unit`` numbered ``epoch``: a step) left a
    non-finite loss (``val_loss`` None: none held out) or weights, i.e. training diverged, so no NaN
    model or NaN predictions are ever written."""
    weights_ok = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    losses = [train_loss] + ([] if val_loss is None else [val_loss])
    if not (all(math.isfinite(x) for x in losses) and weights_ok):
        held = "" if val_loss is None else f", held-out {val_loss:g}"
        raise DataError(f"{name} training diverged at {unit} {epoch} (loss {train_loss:g}{held}, "
                        f"{'finite' if weights_ok else 'non-finite'} weights): {fix}.")


@torch.no_grad()
def mse(model: GCNV, z: torch.Tensor, y: torch.Tensor, rows: torch.Tensor, batch_size: int) -> float:
    model.eval()
    err = sum(float(((model(z[b])[0] - y[b]) ** 2).sum()) for b in rows.split(batch_size))
    return err / len(rows)


@torch.no_grad()
def predict(model: GCNV, z: np.ndarray, batch_size: int = 65536,
            device_name: str = TRAIN.device) -> tuple[np.ndarray, np.ndarray]:
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
    check_outputs(conf, hidden, start=0)
    return conf, hidden


def check_outputs(conf: np.ndarray, hidden: np.ndarray, start: int) -> None:
    """Raise :class:`DataError` if the model's outputs for rows ``start ...`` hold NaN or infinity."""
    bad = ~np.isfinite(conf) | ~np.isfinite(hidden).all(axis=1)
    if bad.any():
        raise DataError(f"The GCN-V model predicts NaN or infinite values (first at vertex {start + int(bad.argmax())}, "
                        f"{int(bad.sum())} in its block): it is broken; retrain it or check the checkpoint, and the "
                        f"features for huge values.")


@torch.no_grad()
def predict_graph(model: GCNV, x: np.ndarray, graph: SymmetricKnnGraph, hidden_out: NpyRows | None = None,
                  batch_size: int = CHUNK_ROWS, device_name: str = TRAIN.device) -> np.ndarray:
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
    silent = 0  # vertices no hidden unit responds to (all-zero hidden features: no direction to compare)
    blocks = graph.blocks(batch_size)
    for start, adj in tqdm(blocks, total=math.ceil(len(x) / batch_size), desc="gcn-v inference", unit="batch"):
        stop = start + adj.shape[0]
        z = np.concatenate([x[start:stop], neighbour_mean(row_normalized(adj), x)], axis=1)
        c, h = model(torch.from_numpy(z).to(dev))
        conf[start:stop] = c.cpu().numpy()
        h = h.cpu().numpy()
        check_outputs(conf[start:stop], h, start)  # before anything is written
        silent += int((h == 0).all(axis=1).sum())
        if hidden_out is not None:
            hidden_out.write(h)
    if silent:
        log.warning("%d of %d vertices have all-zero hidden features (no ReLU unit active): a kNN of the "
                    "hidden features cannot place them", silent, len(x))
    return conf


def save_checkpoint(model: nn.Module, path: str | Path, meta: dict) -> None:
    """Save as ``{"state_dict": ..., "meta": ...}`` (the layout the original project writes), atomically.

    Equal weights and meta give equal bytes: the archive is serialised in memory (its inner record
    name is then torch's fixed ``archive/``, not the temporary file's name) and written in one go."""
    buffer = io.BytesIO()
    torch.save({"state_dict": model.state_dict(), "meta": meta}, buffer)
    with atomic_output(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def checkpoint_error(path: Path, setting: str, problem: str, fix: str) -> DataError:
    """One sentence for a bad checkpoint: one the workflow trained (under results/) is rebuilt with the
    ``--forcerun`` of its training rule; a user's is to be checked."""
    if workflow_made(path) is not None and path.name == "model.pt":
        return DataError(f"Model {path} (trained by this workflow) {problem}: {rebuild_hint(path)}.")
    return DataError(f"Checkpoint {path} ({setting}) {problem}: {fix}.")


def read_checkpoint(path: str | Path, setting: str, fix: str) -> tuple[dict, dict]:
    """(state dict with any ``module.`` prefix dropped, meta or {}) of a torch checkpoint, checked:
    readable and every tensor finite. Raises :class:`DataError` naming the file; ``setting`` and
    ``fix`` are for a user's file (see :func:`checkpoint_error`)."""
    path = Path(path)
    if not path.is_file():
        raise checkpoint_error(path, setting, "does not exist", fix)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for unreadable files; its text may advise an unsafe load
        raise checkpoint_error(path, setting, f"is not a readable torch file of weights ({type(err).__name__} "
                                              f"from torch.load with weights_only)", fix) from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    state = {str(k).removeprefix("module."): v for k, v in state.items()
             if isinstance(v, torch.Tensor)} if isinstance(state, dict) else {}
    if not state:
        raise checkpoint_error(path, setting, "holds no state dict of weights", fix)
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise checkpoint_error(path, setting, f"has NaN or infinite weights ({', '.join(broken[:3])})", fix)
    meta = ckpt.get("meta") if isinstance(ckpt, dict) and "state_dict" in ckpt else None
    return state, meta if isinstance(meta, dict) else {}


def load_state(model: nn.Module, state: dict, path: Path, setting: str, fix: str) -> nn.Module:
    """``model.load_state_dict(state)``, a mismatch (missing, extra or misshapen weights) as :class:`DataError`."""
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        detail = " ".join(str(err).split())[:300]
        raise checkpoint_error(path, setting, f"does not fit the model ({detail})", fix) from None
    return model


def load_checkpoint(path: str | Path, dim: int | None = None) -> GCNV:
    """Load a GCN-V checkpoint: ours, or the original project's (a state dict, bare or under
    ``state_dict``, keys possibly prefixed ``module.``), for ``dim``-D features (any if None).

    Raises :class:`DataError` for a missing, truncated or corrupt file, one without GCN-V weights,
    with NaN weights or for features of another width: for a model the workflow trained
    (``results/<ds>/gcnv/model.pt``) the sentence says to rebuild it with ``--forcerun train_gcnv``,
    for a user's checkpoint to check the file."""
    path = Path(path)
    setting, fix = "methods.gcnv.checkpoint", "check the file, or point the config at a GCN-V checkpoint"
    state, _ = read_checkpoint(path, setting, fix)
    weight = state.get("conv1.weight")
    if weight is None or weight.ndim != 2:
        raise checkpoint_error(path, setting, "holds no GCN-V weights (no conv1.weight)", fix)
    two_d, nhid = weight.shape
    if dim is not None and two_d != 2 * dim:
        raise DataError(f"Checkpoint {path} expects {two_d // 2}-D features but the data is {dim}-D: use a model trained on features of this width.")
    return load_state(GCNV(two_d // 2, nhid), state, path, setting, fix)


def load_hidden(path: str | Path, n: int, nhid: int | None = None) -> np.ndarray:
    """GCN-V hidden features (``n`` x nhid, float32) from ``infer_gcnv.py``'s ``.npy``, checked
    (readable, shape, finite; :func:`ltc.io.load_array`) and L2-normalised; all-zero rows (a
    vertex no hidden unit responds to) stay zero instead of becoming NaN."""
    return unit_rows(load_array(path, "GCN-V hidden feature file", (n, nhid), mmap=True))
