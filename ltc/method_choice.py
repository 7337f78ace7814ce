"""``method: auto``: the method a dataset uses, chosen by its pairwise F on the labelled train split.

The candidates are the compared methods whose threshold is chosen on that train split: their
``threshold.json`` (:func:`ltc.thresholds.choose`) records the best train pairwise F, the score at
the threshold they then use on the test split. Methods without such a score are left out and said
so: a fixed threshold or no threshold (nothing was measured on train), or ``n_clusters: auto`` (told
the test split's true identity count: an oracle). A learned method is scored on the split it was
trained on, which may flatter it (on the demo GCN-V's train F is 0.814, its test F 0.819).
Ties go to the first candidate in the comparison's order.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ltc import DataError
from ltc.io import write_json

log = logging.getLogger(__name__)


def choose(candidates: dict[str, str | Path], left_out: dict[str, str], out: str | Path) -> str:
    """The method of best train pairwise F among ``candidates`` (method -> its threshold.json, in the
    comparison's order); ``left_out``: method -> why it is no candidate. Writes ``out`` (JSON: the
    choice, the table it was chosen from, the methods left out) and returns the method's name.
    Raises :class:`DataError` when there is no candidate or a threshold file has no score."""
    if not candidates:
        raise DataError("method: auto has no candidate: no compared method has its threshold chosen on a labelled "
                        "train split (set `method:` to a method name, or set thresholds to auto and give the "
                        "dataset a labelled train split).")
    table = []
    for method, path in candidates.items():
        try:
            saved = json.loads(Path(path).read_text())
            score = float(saved["fscore"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise DataError(f"Threshold file {path} of {method} holds no train F-score ({type(err).__name__}): "
                            f"rebuild it with --forcerun {path}.") from None
        table.append({"method": method, "train_pairwise_fscore": score, "threshold": saved.get("name"),
                      "value": saved.get(saved.get("name")), "split": saved.get("split"),
                      **({"warning": saved["warning"]} if "warning" in saved else {})})
    best = max(table, key=lambda row: row["train_pairwise_fscore"])  # max keeps the first of equals
    log.info("method: auto chose %s (train pairwise F %.4f) from %s", best["method"], best["train_pairwise_fscore"],
             ", ".join(f"{r['method']} {r['train_pairwise_fscore']:.4f}" for r in table))
    write_json(out, {"method": best["method"], "by": "pairwise F on the labelled train split",
                     "ties": "the first in the comparison's order", "candidates": table, "left_out": left_out})
    return best["method"]


def chosen(path: str | Path) -> str:
    """The method a ``method.json`` written by :func:`choose` names."""
    return json.loads(Path(path).read_text())["method"]
