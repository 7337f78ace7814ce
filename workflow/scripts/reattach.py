#!/usr/bin/env python
"""Re-attach isolated points (ltc/reattach.py): each singleton of a method's predicted clustering joins
its nearest neighbour's cluster when their cosine similarity is at least a threshold.

  python workflow/scripts/reattach.py choose --knn TRAIN_KNN.npz --labels TRAIN.meta --out threshold.json
  python workflow/scripts/reattach.py apply --pred pred_labels.meta --knn TEST_KNN.npz \\
      --threshold-file threshold.json --out reattached.meta --summary reattach.json

`choose` picks the threshold on a labelled split (the lowest similarity from which a point's nearest
neighbour is of its identity with probability >= 0.5); `apply` takes it from that file or a number.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import argparse  # noqa: E402
import logging  # noqa: E402

import numpy as np  # noqa: E402

from ltc import cli, reattach  # noqa: E402
from ltc.graph import renumber  # noqa: E402
from ltc.io import read_labels, write_json, write_labels  # noqa: E402

log = logging.getLogger("ltc.reattach")


def choose(args):
    peer, sim = reattach.nearest_in_file(args.knn)
    reattach.choose_on_split(peer, sim, cli.truth(args), args.labels, args.out, args.setting)


def apply(args):
    threshold = reattach.read_threshold(args.threshold_file) if args.threshold_file else args.threshold_value
    pred = renumber(read_labels(args.pred))
    peer, sim = reattach.nearest_in_file(args.knn)
    labels, attached = reattach.reattach(pred, peer, sim, threshold)
    before, after = np.bincount(pred), np.bincount(labels)
    summary = {"threshold": threshold, "attached": int(attached.sum()),
               "singletons_before": int((before == 1).sum()), "singletons_after": int((after == 1).sum()),
               "clusters_before": len(before), "clusters_after": len(after)}
    log.info("threshold %s: %d of %d singletons re-attached; %d clusters -> %d", threshold, summary["attached"],
             summary["singletons_before"], summary["clusters_before"], summary["clusters_after"])
    write_labels(args.out, labels)
    if args.summary:
        write_json(args.summary, summary)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("choose", help="choose the threshold on a labelled split")
    c.add_argument("--knn", required=True, help="kNN .npz of the labelled split")
    cli.add_truth_options(c)
    c.add_argument("--setting", default="reattach.threshold", help="config key of the threshold, for messages")
    c.add_argument("--out", required=True, help="threshold.json to write")
    c.set_defaults(main=choose)
    a = sub.add_parser("apply", help="re-attach the singletons of a clustering")
    a.add_argument("--pred", required=True, help="predicted labels (.meta) of the split")
    a.add_argument("--knn", required=True, help="kNN .npz of the same split")
    group = a.add_mutually_exclusive_group(required=True)
    group.add_argument("--threshold-value", type=float, help="the threshold, a cosine similarity")
    group.add_argument("--threshold-file", help="threshold.json written by `choose`")
    a.add_argument("--out", required=True, help="re-attached labels (.meta) to write")
    a.add_argument("--summary", help="JSON of what was re-attached")
    a.set_defaults(main=apply)
    args = p.parse_args()
    cli.run(args.main, args)
