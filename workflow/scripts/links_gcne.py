#!/usr/bin/env python
"""GCN-E links: each vertex's most connected more-confident neighbour (nearest one for the vertices GCN-E skips)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import cli, gcne  # noqa: E402
from ltc.io import load_knn, save_links  # noqa: E402
from ltc.knn import normalized  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    model = gcne.load_checkpoint(args.model)
    ids, dists = load_knn(args.knn)
    peer, sim = gcne.links(model, normalized(np.load(args.features, mmap_mode="r")), ids, dists,
                           np.load(args.confidence), th_sim=args.th_sim, ignore_ratio=args.ignore_ratio)
    save_links(args.out, peer, sim)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="GCN-E checkpoint from train_gcne.py")
    p.add_argument("--features", required=True, help="GCN-V hidden features (.npy)")
    p.add_argument("--knn", required=True, help="kNN .npz of those features")
    p.add_argument("--confidence", required=True, help="GCN-V confidences (.npy)")
    p.add_argument("--th-sim", type=float, default=0.0)
    p.add_argument("--ignore-ratio", type=float, default=0.8, help="least confident fraction left to GCN-V's rule")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="links (.npz: peer, similarity) to write")
    cli.run(main, p.parse_args())
