#!/usr/bin/env python
"""Choose the kNN-threshold method's similarity cut on a labelled split: sweep, keep the best pairwise F."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, thresholds  # noqa: E402
from ltc.io import load_knn  # noqa: E402
from ltc.methods import knn_cc  # noqa: E402


def main(args):
    cluster_at, link_sims = knn_cc.sweeper(*load_knn(args.knn))
    thresholds.choose(cluster_at, cli.truth(args), link_sims, knn_cc.METHOD.threshold_name(), args.out, args.plot, args.labels,
                      setting="methods.knn_cc.threshold")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the labelled split")
    cli.add_truth_options(p)
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
