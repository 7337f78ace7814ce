"""CDP, single model (Zhan et al., ECCV 2018, "Consensus-Driven Propagation in Massive Unlabeled Data
for Face Recognition"): the original learn-to-cluster project's ``CDP (single model, th=0.7)``
baseline (MS1M part1_test) and ``CDP (single model, k=2, th=0.5, maxsz=200)`` (DeepFashion).

With a single model there is no committee and no mediator: CDP's pair selection (XiaohangZhan/cdp,
source/cdp.py ``sample`` with an empty committee) keeps each point's links to its first ``k`` kNN
neighbours with cosine similarity strictly above ``th`` (no self-links, no missing neighbours),
each unordered pair once with the similarity of its first occurrence in row order. Its propagation
(source/graph.py ``graph_propagation``) takes the connected components of these pairs and splits
each component of more than ``max_size`` points at a rising threshold t <- t + (1 - t) ``step``,
starting from the smallest kept similarity, at most ``max_iter`` rounds:
:func:`ltc.graph.split_at_rising_threshold`, which says the rule in full. Points in no pair are
clusters of their own (the original labels them -1 and counts each as its own cluster when it
scores "singular kept"). The settings' defaults are the original's single-model configuration
(experiments/emore_u200k_single/config.yaml: k 15, max_sz 600, step 0.05, max_iter 100).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ltc import DataError
from ltc.graph import knn_pairs, split_at_rising_threshold
from ltc.methods.registry import Method, setting

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Params:
    """Settings of cdp (config ``methods.cdp``)."""
    k: int = setting(15, "first k kNN neighbours of each point (at most knn.k; CDP's single-model config: 15)")
    th: float | str = setting("auto", "kNN links with cosine > th are the pairs; 'auto': chosen on the labelled train "
                                      "split (the original, MS1M: 0.7)", example=0.7)
    max_size: int = setting(600, "points in a cluster at most: a larger component is split at a rising threshold")
    step: float = setting(0.05, "each splitting round raises the threshold t to t + (1 - t) * step (0 < step <= 1)")
    max_iter: int = setting(100, "splitting rounds at most; parts still above max_size then stay as they are")


def check(k: int, max_size: int, step: float, max_iter: int) -> None:
    """Refuse, with one sentence, settings outside their ranges (the config schema refuses them
    too; this guards library calls)."""
    for name, value, ok, want in (("k", k, k >= 1, "1 or more"), ("max_size", max_size, max_size >= 1, "1 or more"),
                                  ("step", step, 0 < step <= 1, "above 0 and at most 1"),
                                  ("max_iter", max_iter, max_iter >= 0, "0 or more")):
        if not ok:
            raise DataError(f"methods.cdp.{name} is {value}: set it to {want}.")


def pairs(ids: np.ndarray, dists: np.ndarray, k: int = Params.k) -> tuple[Callable, np.ndarray]:
    """(th -> (i, j, similarity) of CDP's pairs at ``th``, similarity of every pair at any th).

    ``ids``, ``dists``: the kNN graph (N x K, int64 ids with -1 missing, float32 dists = 1 - cosine).
    A pair {i, j}, i < j, is kept at ``th`` when one of its links among the first ``k`` neighbours
    has similarity > ``th`` (compared in float32, as the original's float32 arrays are); its
    similarity is that of its first such link in row order (the original's ``np.unique`` keeps the
    first). Returned i, j int64 and similarity float32, sorted by (i, j). The directed links are
    sorted by pair once, so each cut is O(links). A ``k`` above K uses all K columns, logged.
    """
    n, width = ids.shape
    if k > width:
        log.info("cdp: k = %d but the kNN graph has %d columns: using %d", k, width, width)
    lo, hi, sim, first = knn_pairs(ids, dists, min(int(k), width))

    def at(th: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        keep = first(sim > np.float32(th))
        return lo[keep], hi[keep], sim[keep]

    return at, at(-np.inf)[2]


def sweeper(ids: np.ndarray, dists: np.ndarray, k: int = Params.k, max_size: int = Params.max_size,
            step: float = Params.step, max_iter: int = Params.max_iter
            ) -> tuple[Callable[[float], np.ndarray], np.ndarray]:
    """(th -> labels (int64, N), similarity of every candidate pair): the pairs are found once, each
    cut selects those above th and propagates (:func:`cluster` at th). Raises :class:`DataError`
    for a setting outside its range."""
    check(k, max_size, step, max_iter)
    at, sims = pairs(ids, dists, k)
    n = len(ids)

    def cluster_at(th: float) -> np.ndarray:
        i, j, s = at(th)
        return split_at_rising_threshold(n, i, j, s, None, int(max_size), float(step), int(max_iter))

    return cluster_at, sims


def cluster(ids: np.ndarray, dists: np.ndarray, th: float, k: int = Params.k, max_size: int = Params.max_size,
            step: float = Params.step, max_iter: int = Params.max_iter) -> np.ndarray:
    """Labels (int64, N) of CDP (single model) on the kNN graph (``ids``, ``dists``: N x K, dists =
    1 - cosine): pairs of cosine > ``th`` among the first ``k`` neighbours, their components split
    above ``max_size`` points at a threshold rising by ``step``. Raises :class:`DataError` for a
    setting outside its range."""
    return sweeper(ids, dists, k, max_size, step, max_iter)[0](th)


METHOD = Method(
    "cdp", Params, "CDP (single model): kNN pairs above th, components split above max_size at a rising threshold",
    reads=frozenset({"knn"}), threshold="th",
    sweeper=lambda p, d: sweeper(d.ids, d.dists, p.k, p.max_size, p.step, p.max_iter))
