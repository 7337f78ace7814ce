#!/usr/bin/env python
"""Cluster by kNN-threshold connected components; write one predicted label per line."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli, thresholds  # noqa: E402
from ltc.io import write_labels  # noqa: E402
from ltc.methods import knn_cc  # noqa: E402


def main(args):
    threshold = thresholds.from_args(args, knn_cc.METHOD.threshold_name())
    labels = knn_cc.cluster_file(args.knn, threshold)
    logging.getLogger("ltc").info("threshold %.4f: %d clusters over %d points", threshold, labels.max() + 1, len(labels))
    cli.warn_if_degenerate(labels, "knn_cc", f"methods.knn_cc.threshold = {threshold:.4f}", args.threshold_file)
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help=".npz kNN file")
    thresholds.add_options(p)  # the minimum cosine similarity of a link
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
