#!/usr/bin/env python
"""Write a seeded synthetic MS1M-like dataset (train and test splits) in the learn-to-cluster layout."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli  # noqa: E402
from ltc.io import write_features, write_labels  # noqa: E402
from ltc.synthetic import make_dataset  # noqa: E402


def main(args):
    splits = make_dataset(args.train_identities, args.test_identities, dim=args.dim, seed=args.seed)
    for which in ("train", "test"):
        feats, labels = splits[which]
        write_features(getattr(args, f"{which}_features"), feats)
        write_labels(getattr(args, f"{which}_labels"), labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    for which in ("train", "test"):
        p.add_argument(f"--{which}-features", required=True, help=f"{which} features (.bin) to write")
        p.add_argument(f"--{which}-labels", required=True, help=f"{which} labels (.meta) to write")
        p.add_argument(f"--{which}-identities", type=int, required=True, help=f"identities in the {which} split")
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    cli.run(main, p.parse_args())
