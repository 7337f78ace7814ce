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


def evaluate(gt: np.ndarray, pred: np.ndarray) -> dict:
    """All metrics for one prediction: ``{"pairwise": {...}, "bcubed": {...}, "nmi": x, "n_clusters": n}``."""
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
    return "\n".join(lines) + "\n"
