#!/usr/bin/env python
"""Train GCN-S on a labelled split's proposals: per member, whether it belongs to the proposal's
majority identity (or the seed's), on the proposals whose true IoP lies in methods.gcnd.segment.train_iop;
Adam on padded batches, early stopping on proposals of held-out identities (ltc.gcnd.train_segment)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import DataError, cli, gcnd, proposals  # noqa: E402
from ltc.io import load_knn, write_curve  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    feats, labels = cli.train_split(args)
    if len(np.unique(labels)) < 2:
        raise DataError(f"Train label file {args.labels} has fewer than two identities, so GCN-S cannot learn from it: "
                        f"set methods.gcnd.segment.checkpoint, or give the train split its real identity labels.")
    sets = [proposals.load(path, len(feats)) for path in args.proposals]
    ids, dists = load_knn(args.knn)
    pool = gcnd.Pool(gcnd.normalized(feats), ids, dists, sets)
    matched = [gcnd.majority(s, labels) for s in sets]  # (identity, IoU, IoP) of each proposal
    identity = np.concatenate([m[0] for m in matched])
    iop = np.concatenate([m[2] for m in matched])
    model, curve = gcnd.train_segment(pool, labels, identity, iop, seed_mode=args.seed_mode,
                                      train_iop=args.train_iop, hidden=json.loads(args.hidden), dropout=args.dropout,
                                      lr=args.lr, weight_decay=args.weight_decay, batch_size=args.batch_size,
                                      max_epochs=args.max_epochs, patience=args.patience, val_fraction=args.val_fraction,
                                      max_proposals=None if args.max_proposals in (None, "None", "null")
                                      else int(args.max_proposals), seed=args.seed, device_name=args.device)
    gcnd.save_checkpoint(model, args.out, {"dim": args.dim, "hidden": model.hidden, "seed": args.seed_mode,
                                           "epochs": len(curve), "proposals": len(pool)})
    write_curve(args.curve, curve, {"train_nll": "{:.6f}", "val_nll": "{:.6f}"})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    cli.add_train_split_options(p)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--proposals", nargs="+", required=True, help="proposal sets (.npz) of the split")
    p.add_argument("--hidden", default=json.dumps(list(gcnd.SEGMENT.hidden)), help="widths, as JSON")
    cli.setting_option(p, "--seed-mode", gcnd.DEFAULTS, "segment.seed", choices=("none", "random", "max_degree"))
    cli.setting_option(p, "--dropout", gcnd.DEFAULTS, "segment.dropout")
    p.add_argument("--train-iop", type=float, nargs=2, default=list(gcnd.SEGMENT.train_iop), metavar=("LO", "HI"),
                   help="train on the proposals whose true IoP lies in [LO, HI] (methods.gcnd.segment.train_iop)")
    for key in vars(gcnd.SEGMENT.train):  # methods.gcnd.segment.train
        if key != "max_proposals":
            cli.setting_option(p, "--" + key.replace("_", "-"), gcnd.DEFAULTS, f"segment.train.{key}")
    p.add_argument("--max-proposals", default=None, help="proposals per epoch at most (default: all)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="checkpoint (.pt) to write")
    p.add_argument("--curve", required=True, help="loss curve (.tsv) to write")
    cli.run(main, p.parse_args())
