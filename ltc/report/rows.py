"""The rows of the comparison: :class:`Row`, one per method (scores, predicted clusters and
singletons, costs) and one for the kNN graph shared by every method (costs only), and the columns
they fill."""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ltc.report.costs import matching, summarize

SHARED_NAME = "kNN graph (shared)"
SCORES = [  # (TSV column, table heading, where in metrics.json)
    ("pairwise_precision", "pairwise P", ("pairwise", "precision")),
    ("pairwise_recall", "pairwise R", ("pairwise", "recall")),
    ("pairwise_fscore", "pairwise F", ("pairwise", "fscore")),
    ("bcubed_precision", "BCubed P", ("bcubed", "precision")),
    ("bcubed_recall", "BCubed R", ("bcubed", "recall")),
    ("bcubed_fscore", "BCubed F", ("bcubed", "fscore")),
    ("nmi", "NMI", ("nmi",)),
]
COUNTS = [("n_clusters", "clusters"), ("n_singletons", "singletons")]
COSTS = [("wall_time_s", "time (s)"), ("peak_rss_mb", "peak memory (MB)")]
COLUMNS = ["method", *(c for c, _, _ in SCORES), *(c for c, _ in COUNTS), *(c for c, _ in COSTS), "steps"]


@dataclass
class Row:
    """One line of the comparison: a method (with scores) or the shared kNN graph (costs only)."""
    method: str
    scores: dict = field(default_factory=dict)  # TSV column -> value (empty for the shared row)
    n_clusters: int | None = None
    n_singletons: int | None = None
    wall_time_s: float | None = None
    peak_rss_mb: float | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        return not self.scores

    def values(self) -> dict:
        return {"method": self.method, **{c: self.scores.get(c) for c, _, _ in SCORES},
                "n_clusters": self.n_clusters, "n_singletons": self.n_singletons,
                "wall_time_s": self.wall_time_s, "peak_rss_mb": self.peak_rss_mb, "steps": ",".join(self.steps)}


def cluster_sizes(labels: np.ndarray) -> np.ndarray:
    """Size of every cluster of a labelling: ``(n_clusters,)`` int64 counts for ``(n,)`` labels."""
    return np.unique(np.asarray(labels), return_counts=True)[1]


def method_row(method: str, metrics: dict, labels: np.ndarray, steps: Sequence[str | os.PathLike]) -> Row:
    """The comparison row of one method from its metrics (:func:`ltc.metrics.evaluate`), its ``(n,)``
    predicted labels and its benchmark files."""
    scores = {}
    for column, _, keys in SCORES:
        value = metrics
        for key in keys:
            value = value[key]
        scores[column] = float(value)
    sizes = cluster_sizes(labels)
    return Row(method=method, scores=scores, n_clusters=int(len(sizes)), n_singletons=int((sizes == 1).sum()),
               steps=[Path(p).stem for p in steps], **summarize(steps))


def shared_row(bench_dir: str | os.PathLike, patterns: Iterable[str]) -> Row | None:
    """The row of the shared kNN graph (benchmark files matching ``patterns``), ``None`` if there are none."""
    paths = matching(bench_dir, patterns)
    if not paths:
        return None
    return Row(method=SHARED_NAME, steps=[p.stem for p in paths], **summarize(paths))
