#!/usr/bin/env python
"""Choose a one-step method's threshold (the setting its registry entry names: fast_hac's distance,
infomap's min_sim, ...) on a labelled split: sweep, keep the best pairwise F."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402

from ltc import DataError, cli, thresholds  # noqa: E402
from ltc.io import load_knn, read_features  # noqa: E402
from ltc.methods import registry  # noqa: E402


def main(args):
    method = registry.get(args.method)
    name = method.threshold_name(method.settings(json.loads(args.settings)))
    if not name:
        raise DataError(f"{args.method} has no threshold to choose.")
    ids = dists = feats = None
    if args.knn:
        ids, dists = load_knn(args.knn)
    if args.features:
        feats = read_features(args.features, args.dim)
    cluster_at, values = registry.sweeper(args.method, json.loads(args.settings), ids=ids, dists=dists, feats=feats)
    thresholds.choose(cluster_at, cli.truth(args), values, name, args.out, args.plot, args.labels,
                      setting=f"methods.{args.method}.{name}")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--method", required=True, choices=registry.NAMES)
    p.add_argument("--settings", default="{}", help="JSON of the method's settings (config methods.<name>)")
    p.add_argument("--knn", help="kNN .npz of the labelled split")
    p.add_argument("--features", help="features of the labelled split (fast_hac with average linkage)")
    p.add_argument("--dim", type=int)
    cli.add_truth_options(p)
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
