#!/usr/bin/env python
"""Search the cosine kNN of a feature file (all rows, or one query shard) and save it as <tag>_k_<k>.npz.

Without --index an approximate index is built first; with --shard/--shards only that shard's rows
are searched (the knn_gather script merges the shards).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, knn  # noqa: E402
from ltc.io import read_features, save_knn, write_json  # noqa: E402


def main(args):
    knn.set_threads(args.threads)
    feats = read_features(args.features, args.dim)
    if args.method == "flat":
        index = None
    elif args.index:
        index = knn.load_index(args.index, args.method)
    else:
        index = knn.build_index(feats, args.method, **knn.index_options(args))
    rows = knn.shard_rows(len(feats), args.shards, args.shard, args.batch_size)
    ids, dists = knn.search(feats, args.k, args.method, index, rows, args.batch_size)
    save_knn(args.out, ids, dists, n_ids=len(feats))  # a shard's ids name all rows
    if args.stats:
        sample = knn.recall_rows(len(feats), args.recall_sample, args.seed)
        write_json(args.stats, knn.summary(ids[sample], sample, feats, args.method, args.k))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    knn.add_arguments(p)
    p.add_argument("--k", type=int, default=knn.DEFAULTS.k)
    p.add_argument("--out", required=True, help=".npz kNN file to write")
    p.add_argument("--index", help="index written by knn_index.py (ivf, hnsw); built here if not given")
    p.add_argument("--shard", type=int, default=0, help="which query shard to search (0-based)")
    p.add_argument("--shards", type=int, default=1, help="number of query shards")
    p.add_argument("--stats", help="JSON with recall@k (approximate methods; all rows only)")
    p.add_argument("--recall-sample", type=int, default=knn.DEFAULTS.recall_sample, help="queries for recall@k (approximate methods)")
    cli.run(main, p.parse_args())
