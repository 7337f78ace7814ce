"""Choosing a clustering threshold on a labelled split: sweep candidates, keep the best pairwise F."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ltc.io import atomic_output, write_json
from ltc.metrics import contingency, pairwise

log = logging.getLogger(__name__)


def candidates(similarities: np.ndarray, n: int = 101) -> np.ndarray:
    """Thresholds at ``n`` quantiles of the finite link similarities: dense where the links are."""
    finite = similarities[np.isfinite(similarities)]
    if not len(finite):
        return np.array([0.0])
    return np.unique(np.quantile(finite, np.linspace(0, 1, n)).round(4))


def sweep(cluster_at: Callable[[float], np.ndarray], gt: np.ndarray, thresholds: np.ndarray) -> tuple[float, list[dict]]:
    """Pairwise F of ``cluster_at(t)`` against ``gt`` for every threshold; returns (best threshold, table).

    Ties go to the smallest threshold among the best.
    """
    table = []
    for t in thresholds:
        scores = pairwise(contingency(gt, cluster_at(float(t))))
        table.append({"threshold": float(t), **scores})
    best = max(table, key=lambda row: (row["fscore"], -row["threshold"]))
    return best["threshold"], table


def plot_sweep(table: list[dict], chosen: float, name: str, path: str | Path) -> None:
    """PNG of pairwise precision, recall and F-score versus threshold, the chosen one marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [row["threshold"] for row in table]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in ("precision", "recall", "fscore"):
        ax.plot(t, [row[key] for row in table], label=f"pairwise {key}")
    ax.axvline(chosen, color="k", linestyle="--", label=f"chosen {name} = {chosen:.4f}")
    ax.set_xlabel(name)
    ax.set_ylabel("score on the train split")
    ax.legend()
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def choose(cluster_at: Callable[[float], np.ndarray], gt: np.ndarray, link_similarities: np.ndarray,
           name: str, json_path: str | Path, plot_path: str | Path, source: str) -> float:
    """Sweep thresholds over the quantiles of ``link_similarities``, then finely around the best; write
    the choice and the sweep as JSON (``{name: t, "fscore": f, "split": source, "sweep": [...]}``) and a plot; return the choice."""
    coarse = candidates(link_similarities)
    chosen, table = sweep(cluster_at, gt, coarse)
    i = int(np.searchsorted(coarse, chosen))  # refine between the best's neighbours on the coarse grid
    fine = np.setdiff1d(np.linspace(coarse[max(i - 1, 0)], coarse[min(i + 1, len(coarse) - 1)], 21).round(4), coarse)
    _, refined = sweep(cluster_at, gt, fine)
    table = sorted(table + refined, key=lambda row: row["threshold"])
    chosen = max(table, key=lambda row: (row["fscore"], -row["threshold"]))["threshold"]
    best = next(row for row in table if row["threshold"] == chosen)
    log.info("%s = %.4f: pairwise F %.4f on %s", name, chosen, best["fscore"], source)
    write_json(json_path, {name: chosen, "fscore": best["fscore"], "split": source, "sweep": table})
    plot_sweep(table, chosen, name, plot_path)
    return chosen


def read_choice(path: str | Path, name: str) -> float:
    """The threshold ``name`` chosen by :func:`choose` and saved in ``path``."""
    return float(json.loads(Path(path).read_text())[name])


def given(value: str, name: str) -> float:
    """A threshold given on a command line: a number, or a threshold.json saved by :func:`choose`."""
    return read_choice(value, name) if value.endswith(".json") else float(value)
