#!/usr/bin/env python
"""Choose a baseline's threshold (fast_hac distance, dbscan / knn_dbscan eps, aro / chinese_whispers
th_sim, infomap min_sim) on a labelled split: sweep, keep the best pairwise F."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402

from ltc import DataError, cli, thresholds  # noqa: E402
from ltc.io import load_knn, read_features, read_labels  # noqa: E402
from ltc.methods.baselines import BASELINES, sweeper  # noqa: E402


def main(args):
    name = BASELINES[args.method].threshold
    if not name:
        raise DataError(f"{args.method} has no threshold to choose.")
    ids = dists = feats = None
    if args.knn:
        ids, dists = load_knn(args.knn)
    if args.features:
        feats = read_features(args.features, args.dim)
    cluster_at, values = sweeper(args.method, json.loads(args.settings), ids=ids, dists=dists, feats=feats)
    thresholds.choose(cluster_at, read_labels(args.labels), values, name, args.out, args.plot, args.labels,
                      setting=f"methods.{args.method}.{name}")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--method", required=True, choices=sorted(k for k, v in BASELINES.items() if v.threshold))
    p.add_argument("--settings", default="{}", help="JSON of the method's settings (config methods.<name>)")
    p.add_argument("--knn", help="kNN .npz of the labelled split")
    p.add_argument("--features", help="features of the labelled split (fast_hac with average linkage)")
    p.add_argument("--dim", type=int)
    p.add_argument("--labels", required=True)
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
