"""Re-attach isolated points: each singleton of a clustering joins the cluster of its nearest neighbour.

Infomap, Chinese Whispers and other link-based methods leave many points alone on weak embeddings
(the kNN links of a hard face fall below the method's threshold). Here a singleton of a method's
predicted clustering joins the cluster of its nearest neighbour in the kNN graph of the same split
when their cosine similarity is at least a threshold (:func:`reattach`); every other point keeps its
cluster. A singleton's neighbour may itself be a singleton: the two (and any chain of singletons
whose nearest neighbours lead into one cluster) end up together. Two clusters of several points are
never merged: only singletons are moved, each along one link. No paper's algorithm is followed: it is
the common post-processing of assigning left-over points to their nearest neighbour's cluster.

The threshold (config ``reattach.threshold``) is a cosine similarity, or ``auto``: chosen on the
labelled train split without running any clustering method there (:func:`choose_threshold`). Rule:
the lowest similarity from which a train point's nearest neighbour is of its own identity with
probability at least :data:`MIN_PROBABILITY` (0.5), the probability estimated as a non-decreasing
function of the similarity (isotonic regression, pool-adjacent-violators, of "same identity" on the
similarity of every train point to its nearest neighbour). Why 0.5: a singleton whose neighbour is of
its identity with probability p creates pairs that are true with probability about p (where the
neighbour's cluster is pure); pairwise F = 2TP / (2TP + FP + FN) rises when the added pairs' precision
exceeds F / 2 (each true pair adds 1 to TP and takes 1 from FN, each false one adds 1 to FP), so
p >= 0.5 gains for any F <= 1: attaching gains more true pairs than false ones in expectation. The
train points stand in for the test singletons: the choice conditions on the similarity only, not on
being left alone by a method (which would need the method's train-side clustering).

Conventions (:mod:`ltc.methods.common`): a kNN graph is ``(ids, dists)``, N x K, ``ids`` int64
(-1 missing), ``dists`` float32 cosine distances ``1 - similarity``; labels int64, numbered 0, 1, ...
in order of each cluster's first point.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.graph import components, renumber
from ltc.io import CHUNK_ROWS, iter_knn, knn_shape, rebuild_hint, write_json
from ltc.settings import setting

log = logging.getLogger(__name__)

MIN_PROBABILITY = 0.5  # a singleton is attached where its neighbour is more likely of its identity than not
CURVE_ROWS = 50  # rows of the estimated probability curve kept in threshold.json


@dataclass(frozen=True)
class Settings:
    """Re-attachment's settings (config ``reattach``, or ``datasets.<ds>.reattach``): their one default
    is here; config.yaml's global ``reattach`` entry repeats them and tests/test_reattach.py binds the two."""
    methods: list = setting([], "methods whose singletons are re-attached: results/<ds>/<method>+reattach/, "
                                "compared beside <method>; [] : off")
    threshold: float | str = setting("auto", "cosine similarity a singleton's nearest neighbour needs; auto: "
                                     "the lowest from which a train point's nearest neighbour is of its "
                                     "identity with probability >= 0.5", example=0.9)


def nearest(ids: np.ndarray, dists: np.ndarray, first_row: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest neighbour other than itself: (neighbour int64 N, -1 for none; cosine
    similarity float32 N, -inf for none). ``ids``/``dists`` are kNN rows (N x K) starting at row
    ``first_row``; missing neighbours (-1) and the point itself are skipped; ties go to the first in
    row order."""
    ids = np.asarray(ids)
    n = len(ids)
    if not ids.shape[1]:
        return np.full(n, -1, dtype=np.int64), np.full(n, -np.inf, dtype=np.float32)
    valid = (ids >= 0) & (ids != np.arange(first_row, first_row + n)[:, None])
    masked = np.where(valid, np.asarray(dists, dtype=np.float32), np.float32(np.inf))
    col = np.argmin(masked, axis=1)
    rows = np.arange(n)
    has = valid[rows, col]
    peer = np.where(has, ids[rows, col], -1).astype(np.int64)
    sim = np.where(has, 1.0 - masked[rows, col], -np.inf).astype(np.float32)
    return peer, sim


def nearest_in_file(path: str | os.PathLike, chunk_rows: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """:func:`nearest` of every row of a kNN file, read in row chunks (checked as :func:`ltc.io.iter_knn`
    checks it: :class:`ltc.DataError` for a malformed file)."""
    n, _ = knn_shape(path)
    peer, sim = np.full(n, -1, dtype=np.int64), np.full(n, -np.inf, dtype=np.float32)
    for start, ids, dists in iter_knn(path, chunk_rows):
        peer[start:start + len(ids)], sim[start:start + len(ids)] = nearest(ids, dists, start)
    return peer, sim


def reattach(labels: np.ndarray, peer: np.ndarray, sim: np.ndarray, threshold: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(labels int64 N, attached bool N): ``labels`` (int, N) with each singleton ``i`` whose nearest
    neighbour ``peer[i]`` (int64 N, -1 none) has cosine similarity ``sim[i]`` (N) >= ``threshold``
    joined to that neighbour's cluster (see the module docstring); ``attached`` marks those singletons.
    ``threshold`` None attaches nothing. A negative label (noise) is a singleton. Labels renumbered 0, 1, ... in order of each cluster's first
    point. Raises :class:`ltc.DataError` if the lengths differ."""
    labels = renumber(labels)  # a negative label (noise) is a singleton of its own
    n = len(labels)
    if len(peer) != n or len(sim) != n:
        raise DataError(f"The clustering has {n} labels but the split's kNN graph has {len(peer)} rows: "
                        f"re-attach with the kNN graph of the split that was clustered.")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    attached = (counts[inverse] == 1) & (peer >= 0)
    attached &= (sim >= threshold) if threshold is not None else False
    # points 0..n-1 and one node per cluster (n + cluster index): member -> cluster, singleton -> neighbour
    src = np.concatenate([np.arange(n), np.flatnonzero(attached)])
    dst = np.concatenate([n + inverse, peer[attached]])
    return components(n + len(counts), src, dst)[:n].astype(np.int64, copy=False), attached


def same_identity_curve(sim: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(similarities ascending, probability): the non-decreasing least-squares fit of ``same`` (bool N:
    a point's nearest neighbour is of its identity) on ``sim`` (N, its cosine similarity), by isotonic
    regression (sklearn's pool-adjacent-violators), at each distinct similarity."""
    from sklearn.isotonic import IsotonicRegression

    x = np.asarray(sim, dtype=np.float64)
    fit = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, np.asarray(same, dtype=np.float64))
    xs = np.unique(x)
    return xs, fit.predict(xs)


def choose_threshold(sim: np.ndarray, same: np.ndarray, min_probability: float = MIN_PROBABILITY) -> float | None:
    """The lowest similarity of ``sim`` (N, each train point's cosine to its nearest neighbour) whose
    fitted probability (:func:`same_identity_curve`) of ``same`` (bool N) is >= ``min_probability``,
    or None where none reaches it (then nothing is worth attaching). Points without a neighbour must
    be left out by the caller (a finite ``sim``)."""
    if not len(sim):
        return None
    xs, p = same_identity_curve(sim, same)
    above = p >= min_probability
    return float(xs[np.argmax(above)]) if above.any() else None


def _curve_rows(xs: np.ndarray, p: np.ndarray, sim: np.ndarray) -> list[dict]:
    """The fitted curve at up to CURVE_ROWS similarity quantiles, with the points at or above each."""
    picks = np.unique(np.quantile(np.arange(len(xs)), np.linspace(0, 1, min(CURVE_ROWS, len(xs)))).round().astype(int))
    above = len(sim) - np.searchsorted(np.sort(sim), xs[picks], side="left")
    return [{"similarity": round(float(xs[i]), 6), "probability": round(float(p[i]), 6), "points_at_or_above": int(a)}
            for i, a in zip(picks, above)]


def choose_on_split(peer: np.ndarray, sim: np.ndarray, labels: np.ndarray, source: str | os.PathLike,
                    json_path: str | os.PathLike, setting_name: str = "reattach.threshold") -> float | None:
    """Choose the threshold on a labelled split (its kNN graph's :func:`nearest` ``peer``/``sim`` and its
    ``labels``, int N, from the file ``source``) and write it as JSON: ``{"threshold": t or null, "name":
    "threshold", "setting", "split", "min_probability", "points", "same_identity", ["warning",]
    "curve": [{"similarity", "probability", "points_at_or_above"}, ...]}``; return it.

    Raises :class:`ltc.DataError` (before writing) when the labels have another length than the graph,
    or when no point of the split has a neighbour or no identity has two points (nothing to estimate)."""
    labels = np.asarray(labels)
    if len(labels) != len(peer):
        raise DataError(f"Train labels {source} hold {len(labels)} labels but the split's kNN graph has {len(peer)} "
                        f"rows: give the train split a label file with one label per face.")
    has = peer >= 0
    _, counts = np.unique(labels, return_counts=True)
    if not has.any() or not len(counts) or counts.max() < 2:
        raise DataError(f"Train labels {source} give no point a neighbour of its own identity to learn from (no "
                        f"identity has two faces, or the kNN graph has no links), so no {setting_name} can be "
                        f"chosen on them: give {setting_name} a number instead of auto (e.g. {setting_name}: 0.9).")
    same = labels[has] == labels[peer[has]]
    chosen = choose_threshold(sim[has], same)
    xs, p = same_identity_curve(sim[has], same)
    out = {"threshold": chosen, "name": "threshold", "setting": setting_name, "split": str(source),
           "min_probability": MIN_PROBABILITY, "points": int(has.sum()), "same_identity": float(same.mean())}
    if chosen is None:
        out["warning"] = (f"no similarity on {source} makes a point's nearest neighbour of its identity with "
                          f"probability >= {MIN_PROBABILITY} (at most {p.max():.3f}): nothing will be re-attached; "
                          f"give {setting_name} a number to attach anyway")
        log.warning("%s", out["warning"])
    else:
        log.info("%s = %.4f: from there a nearest neighbour is of the point's identity with probability >= %.2f "
                 "(%d of %d train points at or above; %.3f of all nearest neighbours are)", setting_name, chosen,
                 MIN_PROBABILITY, int((sim[has] >= chosen).sum()), int(has.sum()), float(same.mean()))
    write_json(json_path, {**out, "curve": _curve_rows(xs, p, sim[has])})
    return chosen


def read_threshold(path: str | os.PathLike) -> float | None:
    """The threshold :func:`choose_on_split` saved in ``path`` (None: attach nothing). Raises
    :class:`ltc.DataError` for a file that is missing, unreadable or holds no such choice."""
    path = Path(path)
    try:
        saved = json.loads(path.read_text())
        value = saved["threshold"]
        value = None if value is None else float(value)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"Threshold file {path} holds no chosen re-attach threshold ({type(err).__name__}): "
                        f"{rebuild_hint(path)}.") from None
    return value
