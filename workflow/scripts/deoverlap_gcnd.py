#!/usr/bin/env python
"""De-overlap scored proposals into one label per point: the proposals scoring >= th_pos by descending
score, each point to the first proposal containing it, points in none as singletons (ltc.gcnd.deoverlap);
a th_pos chosen on the train split (--threshold-file) keeps the same fraction of these proposals;
with --keep, the proposals cleaned by GCN-S first (ltc.gcnd.segment)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402
import math  # noqa: E402

from ltc import cli, gcnd, proposals, thresholds  # noqa: E402
from ltc.graph import degenerate  # noqa: E402
from ltc.io import knn_shape, load_array, write_labels  # noqa: E402


def main(args):
    n = knn_shape(args.knn)[0]
    sets = [proposals.load(path, n) for path in args.proposals]
    whole = proposals.concatenate(sets)
    scores = load_array(args.scores, "GCN-D score file", (len(whole),))
    if args.threshold_file:  # chosen on the train split: keep the same fraction of proposals (ltc.gcnd.kept_fraction)
        fraction = thresholds.read_choice(args.threshold_file, "th_pos", "kept_fraction")
        th_pos = gcnd.th_pos_keeping(scores, fraction)
        logging.getLogger("ltc").info("th_pos %.4f: the best %.4f of these proposals, as chosen on the train split (%s)",
                                      th_pos, fraction, args.threshold_file)
    else:
        th_pos = float(args.threshold_value)
    keep = None
    if args.keep:  # GCN-S: each kept proposal's outliers removed (ltc.gcnd.sweeper)
        keep = load_array(args.keep, "GCN-S probability file", (len(whole.members),))
    cut, _ = gcnd.sweeper(whole, scores, keep, args.apply_iop, args.th_outlier, args.keep_outlier == "true")
    labels = cut(th_pos)
    logging.getLogger("ltc").info("%d proposals, %d scoring >= th_pos %.4f: %d clusters over %d points", len(whole),
                                  int((scores >= th_pos).sum()), th_pos, labels.max() + 1 if len(labels) else 0, n)
    if degenerate(labels) and th_pos > scores.min(initial=math.inf) and not degenerate(cut(-math.inf)):
        where = f"chosen on the train split ({args.threshold_file})" if args.threshold_file else "set in the config"
        cli.warn_if_degenerate(labels, "gcnd", "methods.gcnd.th_pos", advice=(
            f"th_pos {th_pos:.4f} ({where}) drops the proposals that would cluster these points; set "
            f"methods.gcnd.th_pos lower (-1 keeps every proposal)"))
    else:
        cli.warn_if_degenerate(labels, "gcnd", "methods.gcnd.proposals", advice=(
            "the proposals' thresholds (methods.gcnd.proposals) do not fit these features' similarities; give them "
            "as quantiles of the train split's (e.g. q0.8) or recalls of its same-identity links (e.g. r0.5)"))
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the split (its row count is the point count)")
    p.add_argument("--proposals", nargs="+", required=True, help="proposal sets (.npz), in the scores' order")
    p.add_argument("--scores", required=True, help="scores (.npy), one per proposal")
    thresholds.add_options(p)  # th_pos
    p.add_argument("--keep", help="GCN-S's probabilities (.npy, one per proposal member): clean the proposals first")
    p.add_argument("--apply-iop", type=float, nargs=2, default=list(gcnd.SEGMENT.apply_iop), metavar=("LO", "HI"),
                   help="with --keep: the proposals cleaned, by GCN-S's kept fraction (methods.gcnd.segment.apply_iop)")
    cli.setting_option(p, "--th-outlier", gcnd.DEFAULTS, "segment.th_outlier")
    p.add_argument("--keep-outlier", choices=("true", "false"), default=str(gcnd.SEGMENT.keep_outlier).lower(),
                   help="with --keep: removed members as a proposal of their own (methods.gcnd.segment.keep_outlier)")
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
