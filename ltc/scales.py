"""One table of the methods over test sets of growing size (the MS-Celeb-1M benchmark protocol).

A dataset with ``test_scales`` is clustered once per scale (dataset ``<ds>/<scale>``; every scale
learns from the base's train split), and each scale has its comparison table
(``results/<ds>/<scale>/comparison.tsv``, :mod:`ltc.report`). This module puts those tables side
by side: a long TSV (one line per scale and method), a Markdown page (methods down, scales across:
pairwise / BCubed F-score, then time and peak memory) and a plot of F-score and time against the
number of test points.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ltc.io import write_text
from ltc.report.plots import colors, pyplot, save_png
from ltc.report.rows import COLUMNS, SHARED_NAME
from ltc.report.tables import format_memory, format_time, read_tsv, tsv_cell


@dataclass
class Scale:
    """One test scale: its name, its test split's size and the rows of its comparison table."""
    name: str
    points: int
    identities: int | None
    rows: list[dict]


def read_scale(name: str, comparison: str | os.PathLike, validation: str | os.PathLike) -> Scale:
    """A scale from its comparison table and the validation summary of its test split."""
    summary = json.loads(Path(validation).read_text())
    identities = (summary.get("identities") or {}).get("n_identities")
    return Scale(name, summary["n"], identities, read_tsv(comparison))


def methods_in_order(scales: Sequence[Scale]) -> list[str]:
    """Every method row of the scales, in first-seen order, then the shared kNN graph's if any scale
    has one (none where the kNN files were given, not built)."""
    seen = dict.fromkeys(r["method"] for s in scales for r in s.rows if r["method"] != SHARED_NAME)
    shared = any(r["method"] == SHARED_NAME for s in scales for r in s.rows)
    return [*seen, *([SHARED_NAME] if shared else [])]


def scored_methods(scales: Sequence[Scale]) -> list[str]:
    return [m for m in methods_in_order(scales) if m != SHARED_NAME]


def row_of(scale: Scale, method: str) -> dict | None:
    return next((r for r in scale.rows if r["method"] == method), None)


def write_long_tsv(scales: Sequence[Scale], path: str | os.PathLike) -> None:
    """One line per scale and method: the scale, its test size, then the comparison table's columns."""
    header = ["scale", "test_points", "identities", *COLUMNS]
    lines = ["\t".join(header)]
    for s in scales:
        for r in s.rows:
            cells = [s.name, str(s.points), "" if s.identities is None else str(s.identities)]
            cells += [tsv_cell(r[c]) for c in COLUMNS]
            lines.append("\t".join(cells))
    write_text(path, "\n".join(lines) + "\n")


def _heading(s: Scale) -> str:
    return f"{s.name} ({s.points:,})"


def _table(scales: Sequence[Scale], methods: Sequence[str], cell) -> list[str]:
    """Methods down, scales across; ``cell(row or None, scale)`` fills a cell."""
    lines = ["| method | " + " | ".join(_heading(s) for s in scales) + " |",
             "|---|" + "---:|" * len(scales)]
    for m in methods:
        lines.append(f"| {m} | " + " | ".join(cell(row_of(s, m), s) for s in scales) + " |")
    return lines


def _scores(row: dict | None, best: dict) -> str:
    """``pairwise F / BCubed F``, each in bold where it is the scale's best."""
    if row is None or row.get("pairwise_fscore") is None:
        return "-"
    return " / ".join(f"**{row[c]:.4f}**" if row[c] == best[c] else f"{row[c]:.4f}"
                      for c in ("pairwise_fscore", "bcubed_fscore"))


def _best(scale: Scale) -> dict:
    scored = [r for r in scale.rows if r.get("pairwise_fscore") is not None]
    return {c: max((r[c] for r in scored), default=None) for c in ("pairwise_fscore", "bcubed_fscore")}


def _costs(row: dict | None) -> str:
    if row is None:
        return "-"
    return f"{format_time(row['wall_time_s'])} / {format_memory(row['peak_rss_mb'])}"


def format_markdown(scales: Sequence[Scale], dataset: str) -> str:
    methods = methods_in_order(scales)
    lines = [f"# Clustering at growing test scales: `{dataset}`", "",
             "| scale | test points | identities |", "|---|---:|---:|"]
    lines += [f"| {s.name} | {s.points:,} | {'?' if s.identities is None else f'{s.identities:,}'} |" for s in scales]
    lines += ["", "## Pairwise F-score / BCubed F-score (best of each scale in bold)", ""]
    lines += _table(scales, scored_methods(scales), lambda row, scale: _scores(row, _best(scale)))
    lines += ["", "## Time (s) / peak memory (MB)", ""]
    lines += _table(scales, methods, lambda row, scale: _costs(row))
    lines += ["", "Each scale is clustered with what was learned once on the train split of "
              f"`{dataset}` (trained models, `auto` thresholds); that training is not in the times, which "
              "add up each method's own steps on the test set (see each scale's `comparison.md`). "
              + (f"*{SHARED_NAME}* is the kNN graph of the test features, which every method uses."
                 if SHARED_NAME in methods else "")]
    return "\n".join(lines) + "\n"


def write_markdown(scales: Sequence[Scale], dataset: str, path: str | os.PathLike) -> None:
    write_text(path, format_markdown(scales, dataset))


def plot(scales: Sequence[Scale], path: str | os.PathLike) -> None:
    """Pairwise F-score and wall time of each method against the number of test points (log axes)."""
    plt = pyplot()
    methods = methods_in_order(scales)
    palette = colors(scored_methods(scales))
    fig, (score_ax, time_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in methods:
        points = [(s.points, row_of(s, m)) for s in scales if row_of(s, m) is not None]
        x = [n for n, _ in points]
        shared = m == SHARED_NAME
        style = {"color": "0.35", "linestyle": ":"} if shared else {"color": palette[m]}
        if not shared:
            score_ax.plot(x, [r["pairwise_fscore"] for _, r in points], marker="o", label=m, **style)
        times = [(n, r["wall_time_s"]) for n, r in points if r["wall_time_s"]]
        if times:
            time_ax.plot(*zip(*times), marker="o", label=m, **style)
    score_ax.set_ylabel("pairwise F-score")
    low, high = score_ax.get_ylim()
    score_ax.set_ylim(max(0.0, low - 0.05), min(1.0, high + 0.02))
    time_ax.set_ylabel("wall time (s), log scale")
    time_ax.set_yscale("log")
    for ax in (score_ax, time_ax):
        ax.set_xscale("log")
        ax.set_xlabel("test points (log scale)")
        ax.grid(color="0.9")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    time_ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    save_png(fig, path)
