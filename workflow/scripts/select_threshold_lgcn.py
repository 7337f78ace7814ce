#!/usr/bin/env python
"""Choose L-GCN's threshold th on a labelled split's links: sweep, best pairwise F, plot (ltc.thresholds)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, lgcn, thresholds  # noqa: E402


def main(args):
    gt = cli.truth(args)
    peer, prob = lgcn.load_links(args.links, len(gt))
    cut, values = lgcn.sweeper(peer, prob, args.maxsz, args.step)
    thresholds.choose(cut, gt, values, "th", args.out, args.plot, args.labels, setting="methods.lgcn.th")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="L-GCN links (.npz) of the labelled split")
    cli.add_truth_options(p)
    cli.setting_option(p, "--maxsz", lgcn.DEFAULTS, "maxsz")
    cli.setting_option(p, "--step", lgcn.DEFAULTS, "step")
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
