#!/usr/bin/env python
"""method: auto: choose the method of best pairwise F on the labelled train split among the compared
methods whose threshold was chosen there (their threshold.json files); write the choice and its table."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, method_choice  # noqa: E402


def main(args):
    candidates = cli.method_pairs(args.candidate, "--candidate")
    left_out = cli.method_pairs(args.left_out, "--left-out")
    method_choice.choose(candidates, left_out, args.out)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--candidate", nargs="*", metavar="METHOD=threshold.json", help="in the comparison's order")
    p.add_argument("--left-out", nargs="*", metavar="METHOD=REASON", help="compared methods that are no candidate")
    p.add_argument("--out", required=True, help="method.json to write")
    cli.run(main, p.parse_args())
