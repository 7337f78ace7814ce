#!/usr/bin/env python
"""Build the approximate kNN index (ivf cells or an hnsw graph) of a feature file, for knn.py's shards."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, knn  # noqa: E402
from ltc.io import read_features  # noqa: E402


def main(args):
    knn.set_threads(args.threads)
    feats = read_features(args.features, args.dim)
    knn.save_index(args.out, knn.build_index(feats, args.method, **knn.index_options(args)))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    knn.add_arguments(p, methods=("ivf", "hnsw"))
    p.add_argument("--out", required=True, help="index file to write")
    cli.run(main, p.parse_args())
