#!/usr/bin/env python
"""Cluster a split with one of the original learn-to-cluster baselines (or Infomap); write one
predicted label per line. The method's settings come as JSON (the config's methods.<name>)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ltc import DataError, cli, thresholds  # noqa: E402
from ltc.io import load_knn, read_features, read_labels, write_labels  # noqa: E402
from ltc.metrics import noise_as_singletons  # noqa: E402
from ltc.methods import registry  # noqa: E402

log = logging.getLogger("ltc")


def resolved_settings(args) -> dict:
    """The settings with the threshold and ``n_clusters`` made numbers."""
    spec = registry.get(args.method)
    settings = json.loads(args.settings)
    name = spec.threshold_name(spec.settings(settings))
    if name:
        if args.threshold_value is None and args.threshold_file is None:
            raise DataError(f"{args.method} needs --threshold-value or --threshold-file for its {name}.")
        settings[name] = thresholds.from_args(args, name)
    if spec.n_clusters and settings.get("n_clusters", "auto") == "auto":
        if not args.labels:
            raise DataError(f"{args.method}: n_clusters is 'auto' (the true identity count) but no labels were "
                            f"given: pass --labels or set methods.{args.method}.n_clusters to a number.")
        truth = noise_as_singletons(read_labels(args.labels), args.noise_label)  # noise items: one cluster each
        settings["n_clusters"] = int(len(np.unique(truth)))
        log.info("n_clusters = %d (the identities in %s)", settings["n_clusters"], args.labels)
    return settings


def main(args):
    settings = resolved_settings(args)
    ids = dists = feats = None
    if args.knn:
        ids, dists = load_knn(args.knn)
    if args.features:
        if not args.dim:
            raise DataError("--features needs --dim (the feature width).")
        feats = read_features(args.features, args.dim)
    n = len(ids) if ids is not None else len(feats) if feats is not None else None
    auto = registry.get(args.method).n_clusters and json.loads(args.settings).get("n_clusters", "auto") == "auto"
    if auto and n is not None and settings["n_clusters"] > n:
        raise DataError(f"{args.method}: n_clusters is auto, the {settings['n_clusters']} identities of {args.labels}, "
                        f"but the split has only {n} points: give the split one label per point, or set "
                        f"methods.{args.method}.n_clusters to a number from 1 to {n}.")
    start = time.perf_counter()
    labels = registry.run(args.method, settings, ids=ids, dists=dists, feats=feats, threads=args.threads)
    shown = {k: v for k, v in settings.items() if k != "max_points"}
    log.info("%s %s: %d clusters over %d points in %.1f s", args.method, json.dumps(shown, sort_keys=True),
             labels.max() + 1 if len(labels) else 0, len(labels), time.perf_counter() - start)
    spec = registry.get(args.method)
    decisive = [key for key in (spec.threshold_name(spec.settings(settings)), "bandwidth", "min_cluster_size")
                if key and key in settings]
    cli.warn_if_degenerate(labels, args.method, " / ".join(f"methods.{args.method}.{key} = {settings[key]}" for key in decisive)
                           or "its settings", args.threshold_file)
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--method", required=True, choices=registry.NAMES)
    p.add_argument("--settings", default="{}", help="JSON of the method's settings (config methods.<name>)")
    p.add_argument("--knn", help=".npz kNN file (for the methods on the kNN graph)")
    p.add_argument("--features", help="feature file (.bin or .npy), for the methods on the features")
    p.add_argument("--dim", type=int, help="feature width")
    p.add_argument("--threshold-value", type=float, help="the method's threshold, a number")
    p.add_argument("--threshold-file", help="threshold.json choosing the method's threshold on a labelled split")
    p.add_argument("--labels", help="labels whose identity count is n_clusters when it is 'auto'")
    p.add_argument("--noise-label", type=int, help="a label meaning no identity (evaluation.noise_label): each such item its own")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
