"""L2 normalisation of feature rows, the one place it is done: cosine similarity is the inner product
of unit rows for the kNN search, the GCNs and the baselines alike.

An all-zero row stays zero (similarity 0 to every row) instead of becoming NaN and spreading into
other rows' neighbour lists and into a model's inputs.
"""
from __future__ import annotations

import numpy as np

BLOCK_ROWS = 65536  # rows per block of :func:`unit_rows` (a memory map is never copied whole in float64)


def normalized(rows: np.ndarray) -> np.ndarray:
    """Float32 copy of ``rows`` (M x D) with unit L2 norm; all-zero rows stay zero."""
    rows = np.array(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    rows /= np.where(norms > 0, norms, 1)
    return rows


def unit_rows(feats: np.ndarray, batch: int = BLOCK_ROWS) -> np.ndarray:
    """:func:`normalized` of N x D features (an array or a memory map), block by block into one float32
    N x D array."""
    out = np.empty(feats.shape, dtype=np.float32)
    for start in range(0, len(feats), batch):
        out[start:start + batch] = normalized(feats[start:start + batch])
    return out
