#!/usr/bin/env python
"""Check a precomputed kNN file (one the user put in the data folder) against its split's features and
write it as the workflow's own kNN file: rows == N, ids -1 or 0..N-1, finite cosine distances, rows
sorted by distance (sorted here if they are not), the original's ragged layout converted, width k.

The user's file is only read; consumers read the file written here, never the user's.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli, knn  # noqa: E402
from ltc.io import read_features  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    feats = read_features(args.features, args.dim)
    n = len(feats)
    stats = knn.import_knn(args.knn, args.out, n, args.k, features=f"the features {args.features}", feats=feats)
    log.info("precomputed kNN %s: %d rows of %d neighbours, written as %d", args.knn, n, stats["width"], args.k)
    if stats["sorted_rows"]:
        log.warning("precomputed kNN %s: %d of %d rows were not sorted by distance; sorted", args.knn,
                    stats["sorted_rows"], n)
    if stats["width"] < args.k:
        log.warning("precomputed kNN %s holds %d neighbours per row, fewer than k = %d: the rest are missing (id -1)",
                    args.knn, stats["width"], args.k)
    elif stats["width"] > args.k:
        log.info("precomputed kNN %s: the %d nearest of its %d neighbours per row are kept", args.knn, args.k, stats["width"])


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="the precomputed kNN .npz (read only)")
    p.add_argument("--features", required=True, help="the split's features, whose rows the kNN must have")
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--k", type=int, required=True, help="neighbours per row of the file to write")
    p.add_argument("--out", required=True, help="the workflow's kNN file to write")
    cli.run(main, p.parse_args())
