#!/usr/bin/env python
"""Incremental clustering (ltc.incremental): give the new faces of datasets.<ds>.new the clusters of a run.

  assign.py choose --knn TRAIN_KNN --labels TRAIN.meta --out threshold.json --plot sweep.png
      the nearest-cluster threshold, chosen by holding out train faces (rule select_threshold_assign)
  assign.py assign --features TEST --new NEW --dim D --pred RUN/pred_labels.meta --method M ... --out DIR/...
      the new faces' labels, the existing items' labels after assignment, clusters.tsv, assign.json
  assign.py evaluate --new-labels NEW.meta --pred DIR/pred_labels.meta [--labels TEST.meta --old DIR/old_labels.meta]
      metrics.json of the new faces (and of the labelled union)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402
import logging  # noqa: E402

from ltc import DataError, cli, thresholds  # noqa: E402
from ltc import incremental  # noqa: E402
from ltc.io import load_knn, read_features, read_labels, write_json  # noqa: E402

log = logging.getLogger("ltc.assign")


def choose(args):
    ids, dists = load_knn(args.knn)
    incremental.choose_threshold(ids, dists, cli.truth(args), rule=args.rule, merge=args.merge,
                                 fraction=args.holdout, seed=args.seed, json_path=args.out, plot_path=args.plot,
                                 source=args.labels)


def run_assign(args):
    from ltc import knn
    from ltc.clusters import read_ids

    old, new = read_features(args.features, args.dim), read_features(args.new, args.dim)
    labels = read_labels(args.pred)
    if len(labels) != len(old):
        raise DataError(f"{args.pred} has {len(labels)} labels but {args.features} has {len(old)} rows: rebuild the "
                        f"run's labels (snakemake --forcerun on {args.pred}).")
    settings = json.loads(args.settings)
    rule = incremental.link_rule(args.method, settings)
    value = thresholds.from_args(args, rule[0] if rule else "threshold")
    cosine = rule[1](value) if rule else value
    knn.set_threads(args.threads)
    index = knn.load_index(args.index, args.knn_method) if args.index else None
    ids, dists = incremental.search_new(old, new, args.k, args.knn_method, index, batch_size=args.batch_size)
    result = incremental.assign(labels, ids, dists, cosine, rule="links" if rule else "nearest", merge=args.merge)
    new_ids = read_ids(args.ids, len(new), args.ids_setting) if args.ids else None
    incremental.write_outputs(result, args.out, old_labels_out=args.old_out, tsv=args.tsv, summary=args.summary,
                              ids=new_ids, meta={"method": args.method, "knn": args.knn_method, "k": args.k,
                                                 # the method's own threshold (its linking rule), or the
                                                 # nearest-cluster rule's cosine (datasets.<ds>.new.threshold)
                                                 "threshold_setting": f"{args.method}.{rule[0]}" if rule else "new.threshold",
                                                 "threshold": value})
    summary = result.summary()
    log.info("%s, %s rule at cosine %.4f: %d of %d new faces joined existing clusters, %d form %d new clusters, "
             "%d bridges, %d merged", args.method, summary["rule"], cosine, summary["joined_existing"], len(new),
             summary["faces_in_new_clusters"], summary["new_clusters"], summary["bridges"], summary["merged_clusters"])


def evaluate(args):
    new_gt, pred = read_labels(args.new_labels), read_labels(args.pred)
    if len(new_gt) != len(pred):
        raise DataError(f"Label file {args.new_labels} has {len(new_gt)} labels but {args.pred} has {len(pred)}: give "
                        f"datasets.<ds>.new.labels one label per new face, in the order of its features.")
    old_gt = read_labels(args.labels) if args.labels else None
    old = read_labels(args.old) if args.old else None
    result = incremental.Assignment(pred, old if old is not None else pred[:0], pred >= 0, 0, 0)
    if old_gt is not None and len(old_gt) != len(result.old_labels):
        raise DataError(f"Label file {args.labels} has {len(old_gt)} labels but {args.old} has "
                        f"{len(result.old_labels)}: both label the clustered test split.")
    scores = incremental.scores(new_gt, result, old_gt)
    write_json(args.out, {"method": args.method, **scores})
    log.info("new faces: pairwise F %.4f%s", scores["new"]["pairwise"]["fscore"],
             f", union {scores['union']['pairwise']['fscore']:.4f}" if old_gt is not None else "")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("choose", help="the nearest-cluster threshold on a labelled split")
    c.add_argument("--knn", required=True, help="kNN .npz of the labelled train split")
    cli.add_truth_options(c)
    c.add_argument("--rule", choices=incremental.RULES, default="nearest")
    c.add_argument("--merge", action="store_true")
    c.add_argument("--holdout", type=float, default=incremental.DEFAULTS.holdout)
    c.add_argument("--seed", type=int, default=incremental.DEFAULTS.seed)
    c.add_argument("--out", required=True, help="threshold.json to write")
    c.add_argument("--plot", required=True, help="PNG of the sweep")
    c.set_defaults(func=choose)
    a = sub.add_parser("assign", help="assign the new faces")
    a.add_argument("--features", required=True, help="features of the clustered split")
    a.add_argument("--new", required=True, help="features of the new faces")
    a.add_argument("--dim", type=int, required=True)
    a.add_argument("--pred", required=True, help="the run's pred_labels.meta")
    a.add_argument("--method", required=True)
    a.add_argument("--settings", default="{}", help="the method's config settings (JSON)")
    thresholds.add_options(a)
    a.add_argument("--merge", action="store_true")
    a.add_argument("--k", type=int, required=True)
    a.add_argument("--knn-method", default="flat")
    a.add_argument("--index", help="the run's saved ivf/hnsw index")
    a.add_argument("--batch-size", type=int, default=65536)
    a.add_argument("--threads", type=int)
    a.add_argument("--ids", help="ids of the new faces")
    a.add_argument("--ids-setting", default="datasets.<ds>.new.ids")
    a.add_argument("--out", required=True)
    a.add_argument("--old-out", required=True)
    a.add_argument("--tsv", required=True)
    a.add_argument("--summary", required=True)
    a.set_defaults(func=run_assign)
    e = sub.add_parser("evaluate", help="scores of the assignment")
    e.add_argument("--new-labels", required=True)
    e.add_argument("--pred", required=True)
    e.add_argument("--labels", help="true labels of the clustered split")
    e.add_argument("--old", help="old_labels.meta of the assignment")
    e.add_argument("--method")
    e.add_argument("--out", required=True)
    e.set_defaults(func=evaluate)
    args = p.parse_args()
    cli.run(args.func, args)
