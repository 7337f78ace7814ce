"""Vertex confidence (GCN-V, Yang et al. CVPR 2020) and clustering by linking to higher confidence.

* supervised confidence of a vertex (the GCN-V training target, "s_nbr"): over its kNN (itself
  included), the sum of similarities to same-label neighbours minus the sum to other-label ones,
  divided by the largest absolute value over all vertices;
* peak linking: each vertex links to its most similar kNN neighbour with strictly higher
  confidence, if their similarity is >= tau; clusters are the connected components.
"""
from __future__ import annotations

import numpy as np

from ltc.graph import components


def supervised_confidence(ids: np.ndarray, dists: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GCN-V target per vertex, in [-1, 1] (ids, dists: N x K kNN; labels: N ints)."""
    valid = ids >= 0
    sims = np.where(valid, 1.0 - dists.astype(np.float64), 0.0)
    same = labels[np.where(valid, ids, 0)] == labels[:, None]
    conf = np.where(same, sims, -sims).sum(axis=1)
    top = np.abs(conf).max()
    return (conf / top if top > 0 else conf).astype(np.float32)


def peaks(ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each vertex, its nearest kNN neighbour with strictly higher confidence.

    Rows of ``ids``/``dists`` must be sorted by distance. Returns (peak id or -1, similarity to it or -inf).
    """
    n = len(ids)
    safe = np.where(ids >= 0, ids, 0)
    higher = (ids >= 0) & (ids != np.arange(n)[:, None]) & (confidence[safe] > confidence[:, None])
    first = higher.argmax(axis=1)
    found = higher[np.arange(n), first]
    peak = np.where(found, ids[np.arange(n), first], -1)
    sim = np.where(found, 1.0 - dists[np.arange(n), first], -np.inf)
    return peak, sim


def link_to_peaks(peak: np.ndarray, peak_sim: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels: components of the edges vertex -> peak with similarity >= tau."""
    keep = (peak >= 0) & (peak_sim >= tau)
    return components(len(peak), np.flatnonzero(keep), peak[keep])


def cluster(ids: np.ndarray, dists: np.ndarray, confidence: np.ndarray, tau: float) -> np.ndarray:
    """Cluster labels from a kNN graph and per-vertex confidences."""
    return link_to_peaks(*peaks(ids, dists, confidence), tau)
