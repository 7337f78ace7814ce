#!/usr/bin/env python
"""Predict GCN-V vertex confidences (and the hidden GCN features) of a split."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

import torch  # noqa: E402

from ltc import cli, gcn  # noqa: E402
from ltc.io import load_knn, read_features, save_array  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    model = gcn.load_checkpoint(args.model, args.dim)
    feats = read_features(args.features, args.dim)
    ids, dists = load_knn(args.knn)
    z = gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, args.th_sim))
    conf, hidden = gcn.predict(model, z, device_name=args.device)
    logging.getLogger("ltc").info("confidence: mean %.4f, min %.4f, max %.4f", conf.mean(), conf.min(), conf.max())
    save_array(args.confidence, conf)
    save_array(args.gcn_features, hidden)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="GCN-V checkpoint (ours or the original project's)")
    p.add_argument("--features", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--th-sim", type=float, default=0.0)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--confidence", required=True, help="confidences (.npy, N) to write")
    p.add_argument("--gcn-features", required=True, help="hidden features (.npy, N x nhid) to write")
    cli.run(main, p.parse_args())
