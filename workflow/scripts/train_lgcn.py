#!/usr/bin/env python
"""Train L-GCN on a labelled split: every point a pivot, its instance pivot subgraph from the kNN graph,
Adam on "hop-1 node shares the pivot's identity", a seeded sample of pivots per epoch, early stopping on
pivots of held-out identities (ltc.lgcn)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import DataError, cli, lgcn  # noqa: E402
from ltc.io import knn_shape, load_knn, write_curve  # noqa: E402


def optional_int(value):
    """An int, or None for null/None (a setting whose null means no limit)."""
    return None if value in (None, "None", "null") else int(value)


def main(args):
    torch.set_num_threads(args.threads)
    feats, labels = cli.train_split(args)
    if len(np.unique(labels)) < 2:
        raise DataError(f"Train label file {args.labels} has fewer than two identities, so L-GCN cannot learn from it: "
                        f"set methods.lgcn.checkpoint or methods.lgcn.model_from, or give the train split its real "
                        f"identity labels.")
    hops = json.loads(args.k_at_hop)
    # the links of this split (and of a test split like it) follow: refuse before hours of training
    lgcn.check_cost(len(feats), hops, lgcn.device(args.device), optional_int(args.max_cpu_nodes),
                    knn_shape(args.knn)[1])
    ids, _ = load_knn(args.knn)
    if len(ids) != len(feats):
        raise DataError(f"kNN file {args.knn} has {len(ids)} rows but {args.features} has {len(feats)}: both must "
                        f"come from the same split (delete the kNN file so it is rebuilt).")
    model, curve = lgcn.train(feats, ids, labels, k_at_hop=hops, active_connection=args.active_connection,
                              nhid=args.nhid, lr=args.lr, weight_decay=args.weight_decay, batch_size=args.batch_size,
                              max_epochs=args.max_epochs, patience=args.patience, val_fraction=args.val_fraction,
                              max_pivots=optional_int(args.max_pivots), seed=args.seed, device_name=args.device)
    lgcn.save_checkpoint(model, args.out, {"dim": args.dim, "nhid": model.nhid, "k_at_hop": hops,
                                           "active_connection": args.active_connection, "epochs": len(curve)})
    write_curve(args.curve, curve, {"train_loss": "{:.6f}", "val_loss": "{:.6f}", "val_accuracy": "{:.4f}"})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    cli.add_train_split_options(p)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    p.add_argument("--k-at-hop", default=json.dumps(lgcn.DEFAULTS.k_at_hop), help="[hop 1, hop 2] counts, as JSON")
    cli.setting_option(p, "--active-connection", lgcn.DEFAULTS, "active_connection")
    cli.setting_option(p, "--nhid", lgcn.DEFAULTS, "nhid")
    for key in vars(lgcn.TRAIN):  # methods.lgcn.train
        if key != "max_pivots":
            cli.setting_option(p, "--" + key.replace("_", "-"), lgcn.DEFAULTS, f"train.{key}")
    p.add_argument("--max-pivots", default=lgcn.TRAIN.max_pivots, help="pivots per epoch at most (null: all)")
    p.add_argument("--max-cpu-nodes", default=lgcn.DEFAULTS.max_cpu_nodes, help="subgraph nodes of a split at most "
                   "on the CPU (null: no limit)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="checkpoint (.pt) to write")
    p.add_argument("--curve", required=True, help="loss curve (.tsv) to write")
    cli.run(main, p.parse_args())
