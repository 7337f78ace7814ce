#!/usr/bin/env python
"""Train GCN-V on a labelled split: supervised confidence targets from its kNN graph, then the training
recipe of methods.gcnv.train.recipe (mini-batch Adam, or the original's full-graph SGD)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import torch  # noqa: E402

from ltc import DataError, cli, confidence, gcn  # noqa: E402
from ltc.io import load_knn, write_curve  # noqa: E402
from ltc.methods.gcnv import learning_rate  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    feats, labels = cli.train_split(args)
    confidence.check_train_labels(labels, args.labels, "gcnv")  # before the kNN and the graph are read
    lr = learning_rate(args.recipe, args.lr)  # a number, or auto: the recipe's own
    ids, dists = load_knn(args.knn)
    if len(ids) != len(feats):
        raise DataError(f"kNN file {args.knn} has {len(ids)} rows but {args.features} has {len(feats)}: "
                        f"both must come from the same split (delete the kNN file so it is rebuilt).")
    target = confidence.supervised_confidence(ids, dists, labels)
    z = gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, args.th_sim))
    model, curve = gcn.train(z, target, labels, nhid=args.nhid, recipe=args.recipe, lr=lr,
                             weight_decay=args.weight_decay, batch_size=args.batch_size, max_epochs=args.max_epochs,
                             patience=args.patience, val_fraction=args.val_fraction, steps=args.steps,
                             momentum=args.momentum, seed=args.seed, device_name=args.device)
    done = {"steps": curve[-1]["step"]} if args.recipe == "original" else {"epochs": len(curve)}
    gcn.save_checkpoint(model, args.out, {"dim": args.dim, "nhid": args.nhid, "th_sim": args.th_sim,
                                          "recipe": args.recipe, "lr": lr, **done, "k": ids.shape[1]})
    # minibatch: epoch, train_mse, val_mse, seconds; original: step, train_mse, lr, seconds
    write_curve(args.curve, curve, {"train_mse": "{:.6f}", "val_mse": "{:.6f}", "lr": "{:g}"})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    cli.add_train_split_options(p)
    p.add_argument("--knn", required=True, help="kNN .npz of the same split")
    for path in ("th_sim", "nhid", *(f"train.{key}" for key in vars(gcn.TRAIN))):  # methods.gcnv
        cli.setting_option(p, "--" + path.rpartition(".")[2].replace("_", "-"), gcn.DEFAULTS, path)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="checkpoint (.pt) to write")
    p.add_argument("--curve", required=True, help="loss curve (.tsv) to write")
    cli.run(main, p.parse_args())
