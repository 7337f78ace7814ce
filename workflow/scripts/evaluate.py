#!/usr/bin/env python
"""Pairwise / BCubed precision, recall, F-score and NMI of predicted labels against ground truth.

By hand: ``python workflow/scripts/evaluate.py GT.meta PRED.meta`` prints the metrics as JSON.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402

from ltc import DataError, cli  # noqa: E402
from ltc.io import read_labels, write_json, write_text  # noqa: E402
from ltc.metrics import evaluate, format_report  # noqa: E402


def main(args):
    gt, pred = read_labels(args.gt), read_labels(args.pred)
    if len(gt) != len(pred):
        raise DataError(f"{args.pred} has {len(pred)} labels but {args.gt} has {len(gt)}: both must label the same items in the same order.")
    metrics = evaluate(gt, pred)
    metrics["method"] = args.method
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
    cli.run(main, p.parse_args())
