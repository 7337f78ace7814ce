#!/usr/bin/env python
"""Train GCN-D on a labelled split's proposals: each proposal's IoU (or IoP) with its majority identity
as the target, Adam on padded batches, early stopping on proposals of held-out identities (ltc.gcnd)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402
import logging  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import DataError, cli, gcnd, proposals  # noqa: E402
from ltc.io import load_knn, write_curve  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    torch.set_num_threads(args.threads)
    feats, labels = cli.train_split(args)
    if len(np.unique(labels)) < 2:
        raise DataError(f"Train label file {args.labels} has fewer than two identities, so GCN-D cannot learn from it: "
                        f"set methods.gcnd.checkpoint or methods.gcnd.model_from, or give the train split its real "
                        f"identity labels.")
    sets = [proposals.load(path, len(feats)) for path in args.proposals]
    ids, dists = load_knn(args.knn)
    pool = gcnd.Pool(gcnd.normalized(feats), ids, dists, sets)
    matched = [gcnd.majority(s, labels) for s in sets]  # (identity, IoU, IoP) of each proposal
    groups = np.concatenate([m[0] for m in matched])
    target = np.concatenate([m[1] if args.target == "iou" else m[2] for m in matched])
    log.info("%d train proposals, %s mean %.3f", len(pool), args.target, target.mean() if len(target) else float("nan"))
    model, curve = gcnd.train(pool, target, groups, hidden=json.loads(args.hidden),
                              dropout=args.dropout, lr=args.lr, weight_decay=args.weight_decay,
                              batch_size=args.batch_size, max_epochs=args.max_epochs, patience=args.patience,
                              val_fraction=args.val_fraction,
                              max_proposals=None if args.max_proposals in (None, "None", "null") else int(args.max_proposals),
                              seed=args.seed, device_name=args.device)
    gcnd.save_checkpoint(model, args.out, {"dim": args.dim, "hidden": model.hidden, "target": args.target,
                                           "epochs": len(curve), "proposals": len(pool)})
    write_curve(args.curve, curve, {"train_mse": "{:.6f}", "val_mse": "{:.6f}"})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    cli.add_train_split_options(p)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--proposals", nargs="+", required=True, help="proposal sets (.npz) of the split")
    p.add_argument("--hidden", default=json.dumps(list(gcnd.DEFAULTS.hidden)), help="widths, as JSON")
    cli.setting_option(p, "--dropout", gcnd.DEFAULTS, "dropout")
    cli.setting_option(p, "--target", gcnd.DEFAULTS, "target")
    for key in vars(gcnd.TRAIN):  # methods.gcnd.train
        if key != "max_proposals":
            cli.setting_option(p, "--" + key.replace("_", "-"), gcnd.DEFAULTS, f"train.{key}")
    p.add_argument("--max-proposals", default=None, help="proposals per epoch at most (default: all)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="checkpoint (.pt) to write")
    p.add_argument("--curve", required=True, help="loss curve (.tsv) to write")
    cli.run(main, p.parse_args())
