#!/usr/bin/env python
"""GCN-S's probability that each member of every test proposal belongs to its proposal's identity
(ltc.gcnd.predict_keep), one float32 per member of the proposal sets in order; the de-overlap applies
them (deoverlap_gcnd.py --keep)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

import torch  # noqa: E402

from ltc import cli, gcnd, proposals  # noqa: E402
from ltc.io import feature_shape, load_knn, read_features, save_array  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    model = gcnd.load_gcns_checkpoint(args.model, args.dim, args.seed_mode)  # before the data is read
    n = feature_shape(args.features, args.dim)[0]
    sets = [proposals.load(path, n) for path in args.proposals]
    ids, dists = load_knn(args.knn)
    x = gcnd.normalized(read_features(args.features, args.dim))
    keep = gcnd.predict_keep(model, x, ids, dists, sets, args.seed_mode, args.seed, batch_size=args.batch_size,
                             device_name=args.device)
    if len(keep):
        logging.getLogger("ltc").info("%d proposal members: probability mean %.4f, %d at most 0.5", len(keep),
                                      keep.mean(), int((keep <= 0.5).sum()))
    save_array(args.out, keep)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="GCN-S checkpoint (ours or the original project's)")
    p.add_argument("--features", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--proposals", nargs="+", required=True, help="proposal sets (.npz) of the split, in order")
    cli.setting_option(p, "--seed-mode", gcnd.DEFAULTS, "segment.seed", choices=("none", "random", "max_degree"))
    cli.setting_option(p, "--seed", gcnd.DEFAULTS, "segment.train.seed")
    cli.setting_option(p, "--device", gcnd.DEFAULTS, "segment.train.device")
    p.add_argument("--batch-size", type=int, default=256, help="proposals per batch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="probabilities (.npy, one per proposal member) to write")
    cli.run(main, p.parse_args())
