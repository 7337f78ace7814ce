"""The comparison table in its formats: TSV (and reading it back), Markdown and a self-contained
HTML page, with the number formats and footnotes they share."""
from __future__ import annotations

import csv
import html
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ltc.io import write_text
from ltc.report.rows import COLUMNS, COSTS, COUNTS, SCORES, Row, cluster_sizes


def tsv_cell(value) -> str:
    """A value as a TSV cell: empty for ``None``, floats to 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.3e}"
    return str(value)


def write_tsv(rows: Sequence[Row], path: str | os.PathLike) -> None:
    """One line per row, columns :data:`COLUMNS`; empty cells where a value does not apply."""
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(tsv_cell(row.values()[c]) for c in COLUMNS) for row in rows]
    write_text(path, "\n".join(lines) + "\n")


def read_tsv(path: str | os.PathLike) -> list[dict]:
    """The comparison table back as dicts (counts as ints, other numbers as floats, empty cells as ``None``)."""
    counts = {c for c, _ in COUNTS}

    def value(column, text):
        if column in ("method", "steps"):
            return text
        return None if not text else int(text) if column in counts else float(text)

    with open(path, newline="") as f:
        return [{k: value(k, v) for k, v in r.items()} for r in csv.DictReader(f, delimiter="\t")]


HIGHLIGHTED = ("pairwise_fscore", "bcubed_fscore", "nmi")  # precision or recall alone is no ranking


def _best(rows: Sequence[Row]) -> dict:
    """The best (highest) value over the methods of each highlighted score column."""
    methods = [r for r in rows if not r.shared]
    return {c: max(r.scores[c] for r in methods) for c in HIGHLIGHTED} if methods else {}


def format_time(seconds: float | None) -> str:
    """Seconds for the table: ``12.3``, ``205 (3m 25s)``, ``7300 (2h 01m)``; ``n/a`` if unknown."""
    if seconds is None:
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f}"
    m, s = divmod(round(seconds), 60)
    return f"{seconds:.0f} ({m}m {s:02d}s)" if m < 60 else f"{seconds:.0f} ({m // 60}h {m % 60:02d}m)"


def format_seconds(seconds: float | None) -> str:
    """Seconds with their unit: ``12.3 s``, ``205 s (3m 25s)``; ``n/a`` if unknown."""
    if seconds is None:
        return "n/a"
    text = format_time(seconds)
    return text.replace(" (", " s (", 1) if "(" in text else f"{text} s"


def format_memory(mb: float | None) -> str:
    """Megabytes for the table: ``1,234``; ``n/a`` if unknown."""
    return "n/a" if mb is None else f"{mb:,.0f}"


def _cells(row: Row, best: dict) -> list[tuple[str, bool]]:
    """(text, is best) of a row's table cells, in table order."""
    out = [(row.method, False)]
    for column, _, _ in SCORES:
        value = row.scores.get(column)
        out.append(("" if value is None else f"{value:.4f}", value is not None and value == best.get(column)))
    out += [("" if row.n_clusters is None else f"{row.n_clusters:,}", False),
            ("" if row.n_singletons is None else f"{row.n_singletons:,}", False),
            (format_time(row.wall_time_s), False), (format_memory(row.peak_rss_mb), False)]
    return out


HEADINGS = ["method", *(h for _, h, _ in SCORES), *(h for _, h in COUNTS), *(h for _, h in COSTS)]


def describe_truth(gt: np.ndarray) -> str:
    """The context line of a table: how many items and true clusters the ``(n,)`` true labels hold."""
    sizes = cluster_sizes(gt)
    return (f"{len(gt):,} items in {len(sizes):,} true clusters ({int((sizes == 1).sum()):,} singletons, "
            f"largest {int(sizes.max()) if len(sizes) else 0:,})")


def notes() -> list[str]:
    """The table's footnotes: how to read the columns and which steps each row's costs add up."""
    out = ["Scores are on the labelled test split; thresholds set to `auto` were chosen on the train split. "
           "The best F-scores and NMI are in bold. Methods given a number of clusters (k-means, mini-batch "
           "k-means, spectral) with `n_clusters: auto`, the default, are told the test split's true number of "
           "identities: an oracle the other methods do not get.",
           "Time is the summed wall time of the steps counted for the method, peak memory the largest peak "
           "resident memory of those steps (Snakemake benchmark files). Scoring is not counted; the kNN graph "
           "of the features, which every method uses, is its own row and is not included in the methods' figures."]
    out.append("Steps counted (benchmark files under the dataset's `benchmarks/`):")
    return out


def steps_text(row: Row) -> str:
    return ", ".join(row.steps) if row.steps else "none found"


def format_markdown(rows: Sequence[Row], dataset: str, truth: str) -> str:
    """The comparison as a Markdown document: heading, context line, table, notes."""
    best = _best(rows)
    lines = [f"# Clustering methods compared on `{dataset}`", "", f"Test split: {truth}.", "",
             "| " + " | ".join(HEADINGS) + " |",
             "|---|" + "---:|" * (len(HEADINGS) - 1)]
    for row in rows:
        cells = [f"**{t}**" if b else t for t, b in _cells(row, best)]
        if row.shared:
            cells[0] = f"*{cells[0]}*"
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"{n}\n" for n in notes()]
    lines += [f"* {r.method}: {steps_text(r)}" for r in rows]
    return "\n".join(lines) + "\n"


CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2937;
       margin: 24px; font-size: 14px; }
h1 { font-size: 20px; margin: 0 0 6px 0; }
p.context { color: #4b5563; margin: 0 0 16px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e5e7eb; white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; text-align: right; border-bottom: 2px solid #d1d5db; }
th.group { text-align: center; border-bottom: 1px solid #d1d5db; }
td { text-align: right; }
td:first-child, th:first-child { text-align: left; }
td.best { font-weight: 700; background: #dcfce7; }
tr.shared td { color: #6b7280; font-style: italic; background: #fafafa; }
tr:hover td { background: #f9fafb; }
td.sep, th.sep { border-left: 1px solid #d1d5db; }
ul.notes { color: #4b5563; max-width: 1100px; padding-left: 18px; }
ul.notes li { margin-bottom: 4px; }
code { background: #f3f4f6; padding: 0 3px; border-radius: 3px; }
"""


def format_html(rows: Sequence[Row], dataset: str, truth: str, plots: Sequence[str] = ()) -> str:
    """The comparison as an HTML page (inline CSS, no scripts), for a browser and the Snakemake report;
    ``plots``: the comparison's images as paths relative to the page, shown below the table (the
    Snakemake report shows them as items of their own, where these links do not resolve)."""
    best = _best(rows)
    e = html.escape
    # grouped header: method | pairwise (3) | BCubed (3) | NMI | clusters, singletons | time, memory
    groups = [("", 1), ("pairwise", 3), ("BCubed", 3), ("", 1), ("predicted", 2), ("cost", 2)]
    sub = ["method", "P", "R", "F", "P", "R", "F", "NMI", "clusters", "singletons", "time (s)", "peak memory (MB)"]
    seps = {1, 4, 7, 8, 10}  # columns that start a group
    head1 = "".join(f'<th class="group{" sep" if i else ""}" colspan="{n}">{e(g)}</th>'
                    for i, (g, n) in enumerate(groups))
    head2 = "".join(f'<th class="{"sep" if i in seps else ""}">{e(h)}</th>' for i, h in enumerate(sub))
    body = []
    for row in rows:
        tds = []
        for i, (text, is_best) in enumerate(_cells(row, best)):
            cls = " ".join(c for c in ("best" if is_best else "", "sep" if i in seps else "") if c)
            tds.append(f'<td class="{cls}">{e(text)}</td>' if cls else f"<td>{e(text)}</td>")
        body.append(f'<tr class="shared">{"".join(tds)}</tr>' if row.shared else f"<tr>{''.join(tds)}</tr>")
    *general, steps_heading = notes()
    steps = "".join(f"<li><b>{e(r.method)}</b>: {e(steps_text(r))}</li>" for r in rows)
    items = "".join(f"<li>{_md_code(e(n))}</li>" for n in general)
    items += f"<li>{_md_code(e(steps_heading))}<ul>{steps}</ul></li>"
    figures = "".join(f'<figure><a href="{e(p)}"><img src="{e(p)}" alt="{e(Path(p).stem)}" style="max-width:100%">'
                      f'</a><figcaption>{e(Path(p).stem)}</figcaption></figure>' for p in plots)
    figures = f"<h2>Plots</h2>{figures}" if figures else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Clustering methods compared on {e(dataset)}</title><style>{CSS}</style></head><body>"
            f"<h1>Clustering methods compared on <code>{e(dataset)}</code></h1>"
            f'<p class="context">Test split: {e(truth)}.</p>'
            f"<table><thead><tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f'<ul class="notes">{items}</ul>{figures}</body></html>\n')


def _md_code(text: str) -> str:
    """`x` -> <code>x</code> in already escaped text."""
    parts = text.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
