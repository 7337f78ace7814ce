#!/usr/bin/env python
"""Derive GCN-D's proposal thresholds from the labelled train split (ltc.proposals.derive_threshold):
each derived th of methods.gcnd.proposals (q<level>: a quantile of the first-k kNN links' similarities;
r<level>: the recall of the same-identity ones) as a cosine, written to a JSON file that the proposals of
both splits read (results/<ds>/gcnd/thresholds.json)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import DataError, cli, proposals  # noqa: E402
from ltc.io import knn_shape, load_knn, write_json  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    if len(args.k) != len(args.th):
        raise DataError(f"thresholds_gcnd.py got {len(args.k)} --k and {len(args.th)} --th values: give one k per th.")
    knn_k = knn_shape(args.knn)[1]
    for k, th in zip(args.k, args.th):
        proposals.derived_spec(th)
        proposals.check_setting(k, 0.0, 0.05, 3, 300, knn_k)
    ids, dists = load_knn(args.knn)
    labels = cli.truth(args)
    if len(labels) != len(ids):
        raise DataError(f"Label file {args.labels} has {len(labels)} labels but the kNN file {args.knn} {len(ids)} "
                        f"rows: give one label per feature row of the train split.")
    rows = []
    for k, th in zip(args.k, args.th):
        value = proposals.derive_threshold(ids, dists, k, th, labels)
        rows.append({"k": k, "th": th, "value": value})
        log.info("k=%d th=%s: cosine %.4f", k, th, value)
    write_json(args.out, {"split": "train", "knn": args.knn, "labels": args.labels, "thresholds": rows})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the train split")
    cli.add_truth_options(p)
    p.add_argument("--k", type=int, nargs="+", required=True, help="k of each derived setting")
    p.add_argument("--th", nargs="+", required=True, help="its derived th (q0.8, r0.5)")
    p.add_argument("--out", required=True, help="thresholds (.json) to write")
    cli.run(main, p.parse_args())
