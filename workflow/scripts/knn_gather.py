#!/usr/bin/env python
"""Merge the query shards written by knn.py (in shard order) into one kNN file, with recall@k stats.

The shards are streamed into the merged file, never held whole.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import numpy as np  # noqa: E402

from ltc import DataError, cli, knn  # noqa: E402
from ltc.io import iter_knn, knn_shape, read_features, save_knn_chunks, write_json  # noqa: E402


def main(args):
    shapes = [knn_shape(path) for path in args.shards]
    n, k = sum(rows for rows, _ in shapes), shapes[0][1]
    feats = read_features(args.features, args.dim)
    if n != len(feats) or any(width != k for _, width in shapes):
        raise DataError(f"kNN shards {', '.join(args.shards)} hold {n} rows (widths {sorted({w for _, w in shapes})}) "
                        f"but {args.features} has {len(feats)} rows: rebuild them with "
                        f"`snakemake --cores N --forcerun knn_shard {args.out}`.")
    sample = knn.recall_rows(n, args.recall_sample, args.seed)
    found = np.empty((len(sample), k), dtype=np.int64)

    def rows_in_order():
        offset = 0
        for path, (rows, _) in zip(args.shards, shapes):
            for start, ids, dists in iter_knn(path, n_ids=n):  # checked: ids name rows of all N
                first = offset + start
                picked = (sample >= first) & (sample < first + len(ids))
                found[picked] = ids[sample[picked] - first]
                yield ids, dists
            offset += rows

    save_knn_chunks(args.out, n, k, rows_in_order(), n_ids=n)
    write_json(args.stats, knn.summary(found, sample, feats, args.method, k, shards=len(args.shards)))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("shards", nargs="+", help="shard .npz files, in shard order")
    p.add_argument("--features", required=True, help="the features searched (for recall@k)")
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--method", choices=knn.METHODS, required=True)
    p.add_argument("--out", required=True, help=".npz kNN file to write")
    p.add_argument("--stats", required=True, help="JSON with the shard count and recall@k to write")
    p.add_argument("--recall-sample", type=int, default=knn.DEFAULTS.recall_sample,
                   help="queries for recall@k (approximate methods; 0: none)")
    p.add_argument("--seed", type=int, default=knn.DEFAULTS.seed)
    cli.run(main, p.parse_args())
