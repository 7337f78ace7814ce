#!/usr/bin/env python
"""Train GCN-E on a labelled split, from GCN-V's hidden features, their kNN and GCN-V's confidences."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import ltc  # noqa: E402,F401  (before torch: it sets MKL's reproducible mode)
import torch  # noqa: E402

from ltc import DataError, cli, confidence, gcn, gcne  # noqa: E402
from ltc.io import knn_shape, load_knn, write_text  # noqa: E402


def main(args):
    torch.set_num_threads(args.threads)
    labels = cli.truth(args)
    confidence.check_train_labels(labels, args.labels, "gcne")
    n = knn_shape(args.knn)[0]
    if len(labels) != n:
        raise DataError(f"Label file {args.labels} has {len(labels)} labels but the kNN file {args.knn} has {n} rows: "
                        f"both must come from the same split.")
    feats = gcn.load_hidden(args.features, n)
    conf = confidence.load_confidence(args.confidence, n)
    ids, dists = load_knn(args.knn)
    model, curve = gcne.train(feats, ids, dists, conf, labels,
                              th_sim=args.th_sim, ignore_ratio=args.ignore_ratio, nhid=args.nhid, lr=args.lr,
                              weight_decay=args.weight_decay, batch_size=args.batch_size,
                              max_epochs=args.max_epochs, patience=args.patience,
                              val_fraction=args.val_fraction, seed=args.seed)
    gcn.save_checkpoint(model, args.out, {"dim": feats.shape[1], "nhid": args.nhid, "epochs": len(curve)})
    rows = ["epoch\ttrain_loss\tval_loss\tseconds"] + [
        f"{r['epoch']}\t{r['train_loss']:.6f}\t{r['val_loss']:.6f}\t{r['seconds']}" for r in curve]
    write_text(args.curve, "\n".join(rows) + "\n")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--features", required=True, help="GCN-V hidden features (.npy) of the train split")
    p.add_argument("--knn", required=True, help="kNN .npz of those features (k=160 in the paper)")
    p.add_argument("--confidence", required=True, help="GCN-V confidences (.npy) of the train split")
    cli.add_truth_options(p)
    cli.setting_option(p, "--ignore-ratio", gcne.DEFAULTS, "ignore_ratio.train")  # methods.gcne
    for path in ("th_sim", "nhid", *(f"train.{key}" for key in vars(gcne.TRAIN))):
        cli.setting_option(p, "--" + path.rpartition(".")[2].replace("_", "-"), gcne.DEFAULTS, path)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="checkpoint (.pt) to write")
    p.add_argument("--curve", required=True, help="loss curve (.tsv) to write")
    cli.run(main, p.parse_args())
