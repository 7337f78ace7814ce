"""Check one split (features and optional labels) before anything is built from it.

The features are streamed in chunks of rows (plain file reads), so memory is one chunk and the
N row norms, whatever N.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from ltc import DataError
from ltc.io import CHUNK_ROWS, iter_features, read_labels


def chunked_row_norms(chunks, path: str | Path) -> np.ndarray:
    """L2 norm of every row of consecutive chunks of rows (first row, rows); raises DataError on
    NaN/Inf or all-zero rows."""
    parts = []
    for start, chunk in tqdm(chunks, desc="validate", unit="chunk", leave=False):
        chunk = np.asarray(chunk, dtype=np.float64)
        finite = np.isfinite(chunk).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite))
            raise DataError(f"Feature file {path} row {row} contains NaN or Inf: re-extract the features or drop that row (and its label).")
        parts.append(np.sqrt(np.einsum("ij,ij->i", chunk, chunk)))
    norms = np.concatenate(parts) if parts else np.empty(0)
    zero = norms == 0
    if zero.any():
        raise DataError(
            f"Feature file {path} row {int(np.argmax(zero))} is all zeros ({int(zero.sum())} such rows): "
            f"an all-zero row has no direction for cosine similarity; drop those rows (and their labels).")
    return norms


def size_distribution(labels: np.ndarray) -> dict:
    """Summary of identity sizes: count, singletons, min/median/mean/p90/max."""
    sizes = np.unique(labels, return_counts=True)[1]
    return {
        "n_identities": int(len(sizes)),
        "n_singletons": int((sizes == 1).sum()),
        "min": int(sizes.min()),
        "median": float(np.median(sizes)),
        "mean": float(sizes.mean()),
        "p90": float(np.percentile(sizes, 90)),
        "max": int(sizes.max()),
    }


def validate_split(features: str | Path, dim: int, labels: str | Path | None = None) -> dict:
    """Validate a split and return a JSON-able summary (N, D, identities, size distribution, norms).

    Raises :class:`DataError` (one sentence naming the file and the fix) on any violation.
    """
    norms = chunked_row_norms(iter_features(features, dim, CHUNK_ROWS), features)
    summary = {
        "features": str(features),
        "n": int(len(norms)),
        "dim": int(dim),
        "norm": {"min": float(norms.min()), "mean": float(norms.mean()), "max": float(norms.max())},
        "labels": None,
    }
    if labels is not None:
        lab = read_labels(labels)
        if len(lab) != len(norms):
            raise DataError(
                f"Label file {labels} has {len(lab)} labels but feature file {features} has {len(norms)} rows: "
                f"they must match one to one (check that both files belong to the same split).")
        summary["labels"] = str(labels)
        summary["identities"] = size_distribution(lab)
    return summary
