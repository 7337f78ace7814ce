#!/usr/bin/env python
"""Score every proposal of a split: GCN-D's predicted IoU (--model), or with --labels the true IoU
(or IoP) with the majority identity, the upper bound of perfect scores (methods.gcnd.score: gt)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import DataError, cli, gcnd, proposals  # noqa: E402
from ltc.io import feature_shape, load_knn, read_features, read_labels, save_array  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    torch.set_num_threads(args.threads)
    if (args.model is None) == (args.labels is None):
        raise DataError("infer_gcnd.py takes either --model (GCN-D's scores) or --labels (the true scores), not both.")
    if args.labels is not None:
        labels = read_labels(args.labels)
        sets = [proposals.load(path, len(labels)) for path in args.proposals]
        scores = np.concatenate([gcnd.targets(s, labels)[0 if args.target == "iou" else 1] for s in sets])
        log.warning("scores are the true %s from the test labels %s (methods.gcnd.score: gt): an oracle, the upper "
                    "bound of GCN-D, not a result", args.target, args.labels)
    else:
        model = gcnd.load_checkpoint(args.model, args.dim)  # before the data is read
        n = feature_shape(args.features, args.dim)[0]
        sets = [proposals.load(path, n) for path in args.proposals]
        ids, dists = load_knn(args.knn)
        x = gcnd.normalized(read_features(args.features, args.dim))
        scores = gcnd.predict(model, x, ids, dists, sets, batch_size=args.batch_size, device_name=args.device)
    if len(scores):
        log.info("%d proposals: score mean %.4f, min %.4f, max %.4f", len(scores), scores.mean(), scores.min(),
                 scores.max())
    save_array(args.out, scores.astype(np.float32))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", help="GCN-D checkpoint (ours or the original project's)")
    p.add_argument("--labels", help="the split's labels: score by the true IoU instead (upper bound)")
    p.add_argument("--features")
    p.add_argument("--dim", type=int)
    p.add_argument("--knn", help="kNN .npz of the same split")
    p.add_argument("--proposals", nargs="+", required=True, help="proposal sets (.npz) of the split, in order")
    cli.setting_option(p, "--target", gcnd.DEFAULTS, "target")
    cli.setting_option(p, "--device", gcnd.DEFAULTS, "train.device")
    p.add_argument("--batch-size", type=int, default=256, help="proposals per batch")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="scores (.npy, one per proposal) to write")
    cli.run(main, p.parse_args())
