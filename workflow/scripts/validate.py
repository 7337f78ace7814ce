#!/usr/bin/env python
"""Validate one split (N x D float32 features, optional labels) and write a JSON summary."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli  # noqa: E402
from ltc.io import write_json  # noqa: E402
from ltc.validate import validate_split  # noqa: E402


def main(args):
    summary = validate_split(args.features, args.dim, args.labels)
    logging.getLogger("ltc").info("%s: %d x %d, labels: %s", args.features, summary["n"], summary["dim"],
                                  summary.get("identities", "none"))
    write_json(args.out, summary)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--features", required=True, help=".bin (raw float32) or .npy feature file")
    p.add_argument("--labels", help=".meta label file (one integer per line)")
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--out", required=True, help="summary JSON to write")
    cli.run(main, p.parse_args())
