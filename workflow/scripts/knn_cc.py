#!/usr/bin/env python
"""Cluster by kNN-threshold connected components; write one predicted label per line."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging

from ltc import cli
from ltc.io import load_knn, write_labels
from ltc.methods import knn_cc


def main(args):
    ids, dists = load_knn(args.knn)
    labels = knn_cc.cluster(ids, dists, args.threshold)
    logging.getLogger("ltc").info("threshold %.4f: %d clusters over %d points", args.threshold, labels.max() + 1, len(labels))
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help=".npz kNN file")
    p.add_argument("--threshold", type=float, required=True, help="minimum cosine similarity of a link")
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
