#!/usr/bin/env python
"""GCN-E links: each vertex's most connected more-confident neighbour (nearest one for the vertices GCN-E skips)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import torch  # noqa: E402

from ltc import cli, confidence, gcn, gcne  # noqa: E402
from ltc.io import knn_shape, load_knn, save_links  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    n = knn_shape(args.knn)[0]
    feats = gcn.load_hidden(args.features, n)
    conf = confidence.load_confidence(args.confidence, n)
    model = gcne.load_checkpoint(args.model, dim=feats.shape[1])
    ids, dists = load_knn(args.knn)
    peer, sim = gcne.links(model, feats, ids, dists, conf, th_sim=args.th_sim, ignore_ratio=args.ignore_ratio)
    save_links(args.out, peer, sim)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="GCN-E checkpoint from train_gcne.py")
    p.add_argument("--features", required=True, help="GCN-V hidden features (.npy)")
    p.add_argument("--knn", required=True, help="kNN .npz of those features")
    p.add_argument("--confidence", required=True, help="GCN-V confidences (.npy)")
    cli.setting_option(p, "--th-sim", gcne.DEFAULTS, "th_sim")  # methods.gcne
    cli.setting_option(p, "--ignore-ratio", gcne.DEFAULTS, "ignore_ratio.test")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="links (.npz: peer, similarity) to write")
    cli.run(main, p.parse_args())
