"""Choosing a clustering threshold on a labelled split: sweep candidates, keep the best pairwise F.

:func:`choose` is the one place every method's ``auto`` threshold is chosen (knn_cc, the baselines,
GCN-V's tau_0 / tau, GCN-E's tau). It refuses, with one sentence, train labels that cannot choose
anything (fewer than two identities, or no two faces of one identity: every cut then scores the same
or the most-linking one wins by default) and a train graph without any link to sweep over. Where a
choice is made but means little (one candidate value, every candidate scoring the same F, or a best
train F below :data:`LOW_FSCORE`), it logs a warning, writes it as ``"warning"`` in the JSON and marks
it on the plot.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ltc import DataError
from ltc.io import atomic_output, rebuild_hint, write_json
from ltc.methods import registry
from ltc.metrics import contingency, pairwise

log = logging.getLogger(__name__)

LOW_FSCORE = 0.05  # a best train pairwise F below this is no real choice: warn



def candidates(similarities: np.ndarray, n: int = 101) -> np.ndarray:
    """Thresholds at ``n`` quantiles of the finite link similarities (rounded to 4 decimals, unique,
    sorted): dense where the links are. Empty when no value is finite."""
    similarities = np.asarray(similarities, dtype=np.float64)
    finite = similarities[np.isfinite(similarities)]
    if not len(finite):
        return np.zeros(0)
    return np.unique(np.quantile(finite, np.linspace(0, 1, n)).round(4))


def sweep(cluster_at: Callable[[float], np.ndarray], gt: np.ndarray, thresholds: np.ndarray) -> tuple[float | None, list[dict]]:
    """Pairwise F of ``cluster_at(t)`` against ``gt`` for every threshold; returns (best threshold, table)
    with one ``{"threshold", "precision", "recall", "fscore"}`` row per threshold, in their order.

    Ties: the middle of the best plateau (:func:`best_of`); no thresholds: (None, []).
    """
    table = []
    for t in thresholds:
        start = time.perf_counter()
        scores = pairwise(contingency(gt, cluster_at(float(t))))
        table.append({"threshold": float(t), **scores})
        seconds = time.perf_counter() - start  # a slow sweep (a large split) logs its progress
        log.log(logging.INFO if seconds > 5 else logging.DEBUG, "threshold %.4f: pairwise F %.4f (%.1f s)", t,
                scores["fscore"], seconds)
    return best_of(table), table


def best_of(table: list[dict]) -> float | None:
    """The threshold of the table's best F, None for an empty table. Where several neighbouring
    thresholds tie for the best (a plateau: they give the same train clustering, as rank-order
    distances or a train split of few identities do), the middle one of the first such run in
    threshold order (the lower middle for an even run): the choice farthest from both edges."""
    if not table:
        return None
    rows = sorted(table, key=lambda row: row["threshold"])
    best = max(row["fscore"] for row in rows)
    first = next(i for i, row in enumerate(rows) if row["fscore"] == best)
    last = first
    while last + 1 < len(rows) and rows[last + 1]["fscore"] == best:
        last += 1
    return rows[(first + last) // 2]["threshold"]


def _fix(setting: str) -> str:
    example = registry.example(setting)  # the threshold's example value, quoted in a refusal
    return f"give {setting} a number instead of auto" + (f" (e.g. {setting}: {example})" if example is not None else "")


def check_labels(gt: np.ndarray, source: str | Path, name: str, setting: str) -> None:
    """Refuse, with one sentence naming ``source`` and the fix, train labels that cannot choose a threshold:
    fewer than two identities, or no identity with two faces (no same-identity pair)."""
    _, counts = np.unique(np.asarray(gt), return_counts=True)
    if len(counts) < 2:
        what = ("hold no faces" if not len(counts) else "hold a single face" if len(gt) == 1
                else f"give all {len(gt)} faces one identity")
    elif counts.max() < 2:
        what = f"give each of the {len(gt)} faces an identity of its own (no two faces of one identity)"
    else:
        return
    raise DataError(f"Train labels {source} {what}, so no {name} can be chosen on them: {_fix(setting)}, "
                    f"or provide real identity labels for the train split.")


def plot_sweep(table: list[dict], chosen: float, name: str, path: str | Path, warning: str | None = None) -> None:
    """PNG of pairwise precision, recall and F-score versus threshold, the chosen one marked (and the
    ``warning``, if any, written in red across the top)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [row["threshold"] for row in table]
    fig, ax = plt.subplots(figsize=(6, 4))
    marker = "o" if len(table) < 12 else None  # a sweep of one or a few points is still visible
    for key in ("precision", "recall", "fscore"):
        ax.plot(t, [row[key] for row in table], marker=marker, label=f"pairwise {key}")
    ax.axvline(chosen, color="k", linestyle="--", label=f"chosen {name} = {chosen:.4f}")
    if warning:
        ax.set_title("warning: " + warning, color="red", fontsize=7, wrap=True)
    ax.set_xlabel(name)
    ax.set_ylabel("score on the train split")
    ax.set_ylim(-0.05, 1.05)
    ax.legend()
    fig.tight_layout()
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


FEW_IDENTITIES = 4  # a train split of fewer identities (2 or 3) chooses a threshold that rarely transfers: warn


def _weak_choice(table: list[dict], best: dict, n_candidates: int, n_identities: int | None = None) -> str | None:
    """Why the sweep's choice means little, or None."""
    if n_candidates == 1:
        return (f"the train split's links give one candidate value only ({best['threshold']:.4f}), so "
                f"nothing was compared")
    if len({row["fscore"] for row in table}) == 1:
        return f"every one of the {len(table)} candidates scores the same pairwise F ({best['fscore']:.4f})"
    if best["fscore"] < LOW_FSCORE:
        return f"the best pairwise F on the train split is only {best['fscore']:.4f}"
    if n_identities is not None and n_identities < FEW_IDENTITIES:
        return (f"the train split has only {n_identities} identities, too few to tell a threshold that "
                f"separates identities from one that merely fits them")
    return None


def _edge_choice(table: list[dict], chosen: float) -> str | None:
    """Why a choice at the end of the searched range may not be the best, or None: with three or more
    candidates, the best is the smallest or largest searched and scores above its neighbour."""
    if len(table) < 3:
        return None
    for end, neighbour, side in ((table[0], table[1], "smallest"), (table[-1], table[-2], "largest")):
        if end["threshold"] == chosen and end["fscore"] > neighbour["fscore"]:
            return (f"it is the {side} value searched (from {table[0]['threshold']:.4f} to "
                    f"{table[-1]['threshold']:.4f}) and pairwise F still rises toward it "
                    f"({neighbour['fscore']:.4f} at {neighbour['threshold']:.4f}, {end['fscore']:.4f} here), so a value "
                    f"beyond it may score higher")
    return None


def choose(cluster_at: Callable[[float], np.ndarray], gt: np.ndarray, link_similarities: np.ndarray,
           name: str, json_path: str | Path, plot_path: str | Path, source: str | Path,
           setting: str | None = None, grid: np.ndarray | None = None, fine_grid: np.ndarray | None = None,
           extra: Callable[[float], dict] | None = None) -> float:
    """Sweep thresholds over the quantiles of ``link_similarities``, then finely around the best (or,
    with ``grid``, over exactly those candidates, e.g. probabilities 0.05 ... 0.95, and with
    ``fine_grid`` too, then over the candidates of ``fine_grid`` between the best's two neighbours in
    ``grid``: a coarse-to-fine search that finds the best of ``fine_grid`` where F rises to one peak
    and falls, at fewer clusterings); write
    the choice and the sweep as JSON (``{name: t, "fscore": f, "split": source, ["warning": why,]
    "sweep": [...]}``) and a plot; return the choice. The warning (also logged and drawn on the plot)
    says when the train split cannot choose (one candidate, one F for all, best F near 0, few
    identities) or when the choice is the smallest or largest value searched with F still rising
    toward it.

    ``gt``: the labels (int, N) of the split ``source`` (the label file, named in messages);
    ``setting``: the config key of the threshold, named in messages (default ``the <name> setting``);
    ``extra``: entries for the JSON derived from the choice (e.g. GCN-D's ``kept_fraction``).
    Raises :class:`DataError` (before writing anything) when ``gt`` cannot choose a threshold (see
    :func:`check_labels`), when the clustering has another length than ``gt``, or when there is no
    finite link value to sweep over.
    """
    setting = setting or f"the {name} setting"
    check_labels(gt, source, name, setting)
    gt = np.asarray(gt)

    def checked(t: float) -> np.ndarray:
        labels = cluster_at(t)
        if len(labels) != len(gt):
            raise DataError(f"Train labels {source} hold {len(gt)} labels but the split's graph has {len(labels)} "
                            f"points: give the train split a label file with one label per face.")
        return labels

    coarse = candidates(link_similarities) if grid is None else np.asarray(grid, dtype=np.float64)
    if not len(coarse):
        raise DataError(f"The train split labelled by {source} has no links (kNN or learned) to sweep {name} "
                        f"over, so no {name} can be chosen on it: {_fix(setting)}.")
    chosen, table = sweep(checked, gt, coarse)
    if grid is None or fine_grid is not None:
        i = int(np.searchsorted(coarse, chosen))  # refine between the best's neighbours on the coarse grid
        lo, hi = coarse[max(i - 1, 0)], coarse[min(i + 1, len(coarse) - 1)]
        if grid is None:
            fine = np.linspace(lo, hi, 21).round(4)
        else:
            fine = np.asarray(fine_grid, dtype=np.float64)
            fine = fine[(fine > lo) & (fine < hi)]
        _, refined = sweep(checked, gt, np.setdiff1d(fine, coarse))
        table = sorted(table + refined, key=lambda row: row["threshold"])
        chosen = best_of(table)
    best = next(row for row in table if row["threshold"] == chosen)
    warning = _weak_choice(table, best, len(coarse), len(np.unique(gt)))
    edge = None if warning else _edge_choice(table, chosen)
    log.info("%s = %.4f: pairwise F %.4f on %s", name, chosen, best["fscore"], source)
    out = {name: chosen, "name": name, "fscore": best["fscore"], "split": str(source)}  # the file names its setting
    if warning:
        warning = f"{name} = {chosen:.4f} is hardly a choice: {warning}; check the train labels {source} or {_fix(setting)}"
        log.warning("%s", warning)
        out["warning"] = warning
    elif edge:
        warning = f"{name} = {chosen:.4f} may not be the best: {edge}; compare values beyond it by setting {setting} by hand"
        log.warning("%s", warning)
        out["warning"] = warning
    write_json(json_path, {**out, **(extra(chosen) if extra else {}), "sweep": table})
    plot_sweep(table, chosen, name, plot_path, warning)
    return chosen


def read_choice(path: str | Path, name: str, entry: str | None = None) -> float:
    """The threshold ``name`` chosen by :func:`choose` and saved in ``path`` (its ``name`` entry must
    be ``name``), or with ``entry``, that number of the file instead (one a script added beside the
    choice, e.g. GCN-D's ``kept_fraction``). Raises :class:`DataError` for a file that is missing,
    unreadable, without the entry, or choosing another setting."""
    path = Path(path)
    try:
        saved = json.loads(path.read_text())
        value = float(saved[entry or name])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError(f"Threshold file {path} holds no {entry or 'chosen ' + name} ({type(err).__name__}): "
                        f"{rebuild_hint(path)}.") from None
    if saved.get("name", name) != name:
        raise DataError(f"Threshold file {path} chooses {saved['name']}, not {name}: {rebuild_hint(path)}.")
    return value


def add_options(parser) -> None:
    """The two ways a script is given its method's threshold: ``--threshold-value`` (a number from the
    config) or ``--threshold-file`` (a threshold.json that :func:`choose` wrote); exactly one."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--threshold-value", type=float, help="the threshold, a number")
    group.add_argument("--threshold-file", help="threshold.json choosing it on a labelled split")


def from_args(args, name: str) -> float:
    """The threshold setting ``name`` given by :func:`add_options`' options."""
    return read_choice(args.threshold_file, name) if args.threshold_file else float(args.threshold_value)
