#!/usr/bin/env python
"""Cluster proposals of one (k, th) setting on a split's kNN graph (GCN-D's input): links to the first
k neighbours with cosine >= th, components, those above maxsz split at a rising threshold, parts below
minsz dropped (ltc.proposals). A derived th (q0.8, r0.5) is read from the train split's threshold file."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import DataError, cli, proposals  # noqa: E402
from ltc.io import knn_shape, load_knn  # noqa: E402
from ltc.methods.gcnd import Params  # noqa: E402

DEFAULTS = Params()


def main(args):
    th = args.th
    if th[:1] in proposals.DERIVED:  # q0.8, r0.5: derived from the train split (thresholds_gcnd.py)
        proposals.derived_spec(th)
        if not args.thresholds:
            raise DataError(f"th {th!r} is derived from the train split: give its threshold file (--thresholds, "
                            f"results/<ds>/gcnd/thresholds.json).")
        th = proposals.read_threshold(args.thresholds, args.k, th)
    else:
        try:
            th = float(th)
        except ValueError:
            proposals.derived_spec(th)  # raises the one sentence for a th that is neither
    # the setting checked against the file's k before the graph is read
    proposals.check_setting(args.k, th, args.step, args.minsz, args.maxsz, knn_shape(args.knn)[1])
    ids, dists = load_knn(args.knn)
    found = proposals.basic_proposals(ids, dists, args.k, th, args.step, args.minsz, args.maxsz)
    proposals.save(args.out, found)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help=".npz kNN file of the split")
    p.add_argument("--k", type=int, required=True, help="first k kNN neighbours (one pair of methods.gcnd.proposals)")
    p.add_argument("--th", required=True, help="links with cosine similarity >= th: a number, or derived (q0.8, r0.5)")
    p.add_argument("--thresholds", help="the derived thresholds (.json of thresholds_gcnd.py), for a derived th")
    for name in ("step", "minsz", "maxsz"):  # methods.gcnd
        cli.setting_option(p, f"--{name}", DEFAULTS, name)
    p.add_argument("--out", required=True, help="proposal set (.npz) to write")
    cli.run(main, p.parse_args())
