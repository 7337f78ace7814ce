#!/usr/bin/env python
"""Write a seeded synthetic MS1M-like dataset (train and test splits) in the learn-to-cluster layout.

Both splits are drawn (so each is the same whether the other is written or not); only the splits whose
files are given are written (the workflow leaves out a split that the user gives as files of their own).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli  # noqa: E402
from ltc.io import write_features, write_labels  # noqa: E402
from ltc.synthetic import make_dataset  # noqa: E402


def main(args):
    wanted = [which for which in ("train", "test") if getattr(args, f"{which}_features")]
    splits = make_dataset(args.train_identities, args.test_identities, dim=args.dim, seed=args.seed)
    for which in wanted:
        feats, labels = splits[which]
        write_features(getattr(args, f"{which}_features"), feats)
        write_labels(getattr(args, f"{which}_labels"), labels)
        logging.getLogger("ltc").info("%s split: %d x %d -> %s, %s", which, *feats.shape,
                                      getattr(args, f"{which}_features"), getattr(args, f"{which}_labels"))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    for which in ("train", "test"):
        p.add_argument(f"--{which}-features", help=f"{which} features (.bin) to write (with --{which}-labels)")
        p.add_argument(f"--{which}-labels", help=f"{which} labels (.meta) to write (with --{which}-features)")
        p.add_argument(f"--{which}-identities", type=int, required=True, help=f"identities in the {which} split")
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    for which in ("train", "test"):
        if bool(getattr(args, f"{which}_features")) != bool(getattr(args, f"{which}_labels")):
            p.error(f"--{which}-features and --{which}-labels go together")
    if not (args.train_features or args.test_features):
        p.error("give the files of at least one split (--train-features/--train-labels or --test-...)")
    cli.run(main, args)
