#!/usr/bin/env python
"""Choose GCN-D's th_pos on the labelled train split: de-overlap its scored proposals keeping those
scoring >= each candidate, best pairwise F, plot (ltc.gcnd.sweeper, ltc.thresholds.choose). The file
also records the fraction of train proposals kept (ltc.gcnd.kept_fraction), which is what the test
split's de-overlap applies: GCN-D scores the proposals it was trained on higher."""
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, gcnd, proposals, thresholds  # noqa: E402
from ltc.io import knn_shape, load_array  # noqa: E402


def main(args):
    gt = cli.truth(args)
    n = knn_shape(args.knn)[0]
    whole = proposals.concatenate([proposals.load(path, n) for path in args.proposals])
    scores = load_array(args.scores, "GCN-D score file", (len(whole),))
    cut, values = gcnd.sweeper(whole, scores)
    th_pos = thresholds.choose(cut, gt, values, "th_pos", args.out, args.plot, args.labels, setting="methods.gcnd.th_pos",
                               extra=lambda t: {"kept_fraction": gcnd.kept_fraction(scores, t)})
    logging.getLogger("ltc").info("th_pos %.4f keeps %d of %d train proposals", th_pos, int((scores >= th_pos).sum()),
                                  len(scores))


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the train split (its row count is the point count)")
    p.add_argument("--proposals", nargs="+", required=True, help="the train split's proposal sets (.npz), in order")
    p.add_argument("--scores", required=True, help="their scores (.npy), one per proposal")
    cli.add_truth_options(p)
    p.add_argument("--out", required=True, help="JSON with the chosen th_pos and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus th_pos")
    cli.run(main, p.parse_args())
