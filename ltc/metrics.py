"""Clustering metrics with the definitions used by the learn-to-cluster papers.

All three are computed from the sparse contingency table ``n[i, j]`` = number of items with true
label i and predicted label j (row sums ``a_i`` = true cluster sizes, column sums ``b_j`` =
predicted cluster sizes, N items):

* pairwise (over unordered same-cluster pairs, counted as ordered pairs without self-pairs):
  precision = (sum n_ij^2 - N) / (sum b_j^2 - N), recall = (sum n_ij^2 - N) / (sum a_i^2 - N);
* BCubed (per-item averages): precision = sum n_ij^2 / b_j / N, recall = sum n_ij^2 / a_i / N;
* NMI = I(gt; pred) / ((H(gt) + H(pred)) / 2)  (arithmetic mean, as scikit-learn's default).

F is the harmonic mean of precision and recall. A ratio with a zero denominator (no pairs at
all: every true identity, or every predicted cluster, a single face) is reported as 0, as
scikit-learn does for the Fowlkes-Mallows index that the learn-to-cluster pairwise F is taken from
(that code divides anyway and gets NaN): a zero denominator means no true-positive pair, and no
warning or NaN is ever produced. So all-singleton labels score pairwise F 0 even against themselves.

Noise: a label that means "no identity" (e.g. ``-1`` for faces nobody annotated, or a clusterer's
noise points) may be scored as one singleton per item instead of as one big cluster
(:func:`noise_as_singletons`, ``evaluate(..., noise_label=-1, noise_in="gt")``): the items are relabelled
before the contingency table, so they count as pairs with no one.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def contingency(gt: np.ndarray, pred: np.ndarray) -> sparse.csr_matrix:
    """Sparse (n_gt_clusters x n_pred_clusters) count table; labels may be any integers."""
    gt = np.asarray(gt)
    pred = np.asarray(pred)
    if gt.ndim != 1 or gt.shape != pred.shape:
        raise ValueError(f"gt and pred must be 1-D of equal length, got shapes {gt.shape} and {pred.shape}")
    _, gi = np.unique(gt, return_inverse=True)
    _, pj = np.unique(pred, return_inverse=True)
    ones = np.ones(len(gt), dtype=np.int64)
    table = sparse.coo_matrix((ones, (gi, pj)), shape=(gi.max(initial=-1) + 1, pj.max(initial=-1) + 1))
    return table.tocsr()  # duplicates are summed


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def _fscore(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def _prf(precision: float, recall: float) -> dict:
    return {"precision": precision, "recall": recall, "fscore": _fscore(precision, recall)}


def pairwise(table: sparse.csr_matrix) -> dict:
    n = table.sum()
    nij = table.data.astype(np.float64)
    a = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    b = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    tp = nij @ nij - n
    return _prf(_ratio(tp, b @ b - n), _ratio(tp, a @ a - n))


def bcubed(table: sparse.csr_matrix) -> dict:
    coo = table.tocoo()
    n = coo.data.sum()
    nij = coo.data.astype(np.float64)
    a = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    b = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    return _prf(_ratio((nij ** 2 / b[coo.col]).sum(), n), _ratio((nij ** 2 / a[coo.row]).sum(), n))


def nmi(table: sparse.csr_matrix) -> float:
    coo = table.tocoo()
    n = float(coo.data.sum())
    if table.shape[0] == table.shape[1] == 1 or n == 0:
        return 1.0
    nij = coo.data.astype(np.float64)
    a = np.asarray(table.sum(axis=1), dtype=np.float64).ravel()
    b = np.asarray(table.sum(axis=0), dtype=np.float64).ravel()
    mi = (nij / n * (np.log(nij * n) - np.log(a[coo.row] * b[coo.col]))).sum()
    h_gt = -(a / n * np.log(a / n)).sum()
    h_pred = -(b / n * np.log(b / n)).sum()
    return _ratio(max(mi, 0.0), (h_gt + h_pred) / 2)


NOISE_IN = ("gt", "pred", "both")  #: where :func:`evaluate` applies ``noise_label``


def noise_as_singletons(labels: np.ndarray, noise_label: int | None) -> np.ndarray:
    """``(n,)`` int64 labels in which every item labelled ``noise_label`` is a singleton of its own.

    The other items keep their grouping (renumbered densely 0..m-1 in label order); the noise items get
    the new labels m, m+1, ... in item order. ``noise_label=None`` (or a label no item has) leaves the
    grouping as it is. Raises ``ValueError`` for labels that are not 1-D integers.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or labels.size == 0):
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype}{labels.shape}")
    labels = labels.astype(np.int64, copy=False)
    if noise_label is None:
        return labels
    noise = labels == noise_label
    if not noise.any():
        return labels
    _, dense = np.unique(labels[~noise], return_inverse=True)
    out = np.empty(len(labels), dtype=np.int64)
    out[~noise] = dense
    out[noise] = dense.max(initial=-1) + 1 + np.arange(int(noise.sum()), dtype=np.int64)
    return out


def evaluate(gt: np.ndarray, pred: np.ndarray, noise_label: int | None = None, noise_in: str = "gt") -> dict:
    """All metrics for one prediction: ``{"pairwise": {...}, "bcubed": {...}, "nmi": x, "n_clusters": n}``.

    ``gt`` and ``pred``: ``(n,)`` integer labels of the same items. ``noise_label``: a label scored as
    one singleton per item (:func:`noise_as_singletons`) in the true labels (``noise_in="gt"``, the
    default: a prediction's cluster that happens to carry the same number is left alone), the
    predictions (``"pred"``) or both (``"both"``); ``None``: every label is a cluster. ``n_clusters``
    counts the predicted clusters after that. Raises ``ValueError`` for another ``noise_in`` or labels
    of different shapes.
    """
    if noise_in not in NOISE_IN:
        raise ValueError(f"noise_in must be one of {', '.join(NOISE_IN)}, got {noise_in!r}")
    if noise_label is not None:
        if noise_in in ("gt", "both"):
            gt = noise_as_singletons(gt, noise_label)
        if noise_in in ("pred", "both"):
            pred = noise_as_singletons(pred, noise_label)
    table = contingency(gt, pred)
    return {
        "pairwise": pairwise(table),
        "bcubed": bcubed(table),
        "nmi": nmi(table),
        "n_clusters": int(table.shape[1]),
    }


def format_report(metrics: dict) -> str:
    """Human-readable summary used for ``fscore.txt``."""
    lines = [f"method: {metrics.get('method', '?')}", f"clusters: {metrics['n_clusters']}"]
    for name in ("pairwise", "bcubed"):
        m = metrics[name]
        lines.append(f"{name:<8} precision {m['precision']:.4f}  recall {m['recall']:.4f}  fscore {m['fscore']:.4f}")
    lines.append(f"nmi      {metrics['nmi']:.4f}")
    noise = metrics.get("noise")
    if noise:
        where = {"gt": "the true labels", "pred": "the predictions", "both": "the true labels and the predictions"}
        lines.append(f"noise    label {noise['label']} scored as one singleton per item in {where[noise['in']]} "
                     f"({noise['gt_items']} true, {noise['pred_items']} predicted items carry it)")
    return "\n".join(lines) + "\n"
