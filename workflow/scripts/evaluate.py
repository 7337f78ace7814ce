#!/usr/bin/env python
"""Pairwise / BCubed precision, recall, F-score and NMI of predicted labels against ground truth.

By hand: ``python workflow/scripts/evaluate.py GT.meta PRED.meta`` prints the metrics as JSON;
``--noise-label -1`` scores every item labelled -1 as a singleton of its own (in the true labels; add
``--noise-in pred`` or ``both`` for a clusterer that marks noise points with that label).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402
import logging  # noqa: E402

from ltc import DataError, cli  # noqa: E402
from ltc.io import read_labels, write_json, write_text  # noqa: E402
from ltc.metrics import NOISE_IN, evaluate, format_report  # noqa: E402

log = logging.getLogger("ltc.evaluate")


def main(args):
    gt, pred = read_labels(args.gt), read_labels(args.pred)
    if len(gt) != len(pred):
        raise DataError(f"{args.pred} has {len(pred)} labels but {args.gt} has {len(gt)}: both must label the same items in the same order.")
    metrics = evaluate(gt, pred, noise_label=args.noise_label, noise_in=args.noise_in)
    metrics["method"] = args.method
    if args.noise_label is not None:
        counts = {"gt_items": int((gt == args.noise_label).sum()), "pred_items": int((pred == args.noise_label).sum())}
        metrics["noise"] = {"label": args.noise_label, "in": args.noise_in, **counts}
        files = {"gt": [args.gt], "pred": [args.pred], "both": [args.gt, args.pred]}[args.noise_in]
        if not any(counts[k] for k in {"gt": ["gt_items"], "pred": ["pred_items"]}.get(args.noise_in, counts)):
            log.warning("No item of %s carries the noise label %d (evaluation.noise_label): every label was "
                        "scored as a cluster.", " or ".join(map(str, files)), args.noise_label)
    if args.json_out:
        write_json(args.json_out, metrics)
    if args.txt_out:
        write_text(args.txt_out, format_report(metrics))
    if not (args.json_out or args.txt_out):
        print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("gt", help="ground-truth labels (.meta)")
    p.add_argument("pred", help="predicted labels (.meta)")
    p.add_argument("--method", default=None, help="method name recorded in the output")
    p.add_argument("--json-out", help="write metrics.json here")
    p.add_argument("--txt-out", help="write the human-readable fscore.txt here")
    p.add_argument("--noise-label", type=int, default=None,
                   help="a label scored as one singleton per item (e.g. -1 for unannotated faces); default: none")
    p.add_argument("--noise-in", choices=NOISE_IN, default="gt",
                   help="where --noise-label applies: the true labels (gt, default), the predictions or both")
    cli.run(main, p.parse_args())
