#!/usr/bin/env python
"""GCN-V links: each vertex's nearest kNN neighbour of higher predicted confidence, and their similarity.

The kNN file is streamed in chunks of rows: memory is the confidences, the links and one chunk.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, confidence  # noqa: E402
from ltc.io import iter_knn, knn_shape, save_links  # noqa: E402


def main(args):
    conf = confidence.load_confidence(args.confidence, knn_shape(args.knn)[0])
    save_links(args.out, *confidence.peaks_of_chunks(iter_knn(args.knn), conf))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--confidence", required=True, help="confidences (.npy) from infer_gcnv.py")
    p.add_argument("--knn", required=True, help="kNN .npz used for linking (features or GCN features)")
    p.add_argument("--out", required=True, help="links (.npz: peer, similarity) to write")
    cli.run(main, p.parse_args())
