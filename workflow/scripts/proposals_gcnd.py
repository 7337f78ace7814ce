#!/usr/bin/env python
"""Cluster proposals of one (k, th) setting on a split's kNN graph (GCN-D's input): links to the first
k neighbours with cosine >= th, components, those above maxsz split at a rising threshold, parts below
minsz dropped (ltc.proposals). A derived th (q0.8, r0.5) is read from the train split's threshold file.
With --i1-k and --i1-sv-maxsz (and the split's --features), the original's second iteration instead:
the clusters of that (k, th) setting as super-vertices of their mean features, linked to their first
--i1-k super-vertices, parts of at most --i1-sv-maxsz of them (ltc.proposals.super_vertex_proposals)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import DataError, cli, proposals  # noqa: E402
from ltc.io import knn_shape, load_knn, read_features  # noqa: E402
from ltc.methods.gcnd import Params  # noqa: E402

DEFAULTS = Params()
#: the second iteration's shared settings (methods.gcnd.sv), as --i1-<name> options
I1 = tuple(vars(DEFAULTS.sv))


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
    second = args.i1_k is not None or args.i1_sv_maxsz is not None
    if second and (args.i1_k is None or args.i1_sv_maxsz is None or not args.features or args.dim is None):
        raise DataError("The second iteration needs --i1-k, --i1-sv-maxsz, --features and --dim together: give all "
                        "four, or none for the proposals of (k, th) themselves.")
    # the setting checked against the file's k before the graph is read
    knn_k = knn_shape(args.knn)[1]
    if second:
        settings = {key: getattr(args, f"i1_{key}") for key in I1}
        proposals.check_setting(args.k, th, args.step, 2, args.maxsz, knn_k, name="super_vertex", prefix="base_")
        proposals.check_super_vertex(args.i1_k, args.i1_sv_maxsz, **settings)
        feats = read_features(args.features, args.dim)
        ids, dists = load_knn(args.knn)
        found = proposals.super_vertex_proposals(ids, dists, feats, args.k, th, args.i1_k, args.i1_sv_maxsz,
                                                 base_step=args.step, base_maxsz=args.maxsz, **settings)
    else:
        proposals.check_setting(args.k, th, args.step, args.minsz, args.maxsz, knn_k)
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
    p.add_argument("--features", help="features of the split (.bin or .npy), for the second iteration")
    p.add_argument("--dim", type=int, help="feature width, for the second iteration")
    p.add_argument("--i1-k", type=int, help="second iteration: the super-vertices' first k kNN neighbours")
    p.add_argument("--i1-sv-maxsz", type=int, help="second iteration: super-vertices a part has at most")
    for name in I1:  # methods.gcnd.sv
        cli.setting_option(p, f"--i1-{name.replace('_', '-')}", DEFAULTS, f"sv.{name}")
    p.add_argument("--out", required=True, help="proposal set (.npz) to write")
    cli.run(main, p.parse_args())
