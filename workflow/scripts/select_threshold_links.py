#!/usr/bin/env python
"""Choose a link threshold (GCN-V's tau_0/tau, GCN-E's tau) on a labelled split: sweep, best pairwise F, plot."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from ltc import cli, confidence, thresholds  # noqa: E402
from ltc.io import load_links, read_labels  # noqa: E402

METHODS = ("gcnv", "gcne")


def main(args):
    # the method whose setting this is: given, or the results/<ds>/<method>/ folder of the output
    method = args.method or (Path(args.out).parent.name if Path(args.out).parent.name in METHODS else None)
    peer, sim = load_links(args.links)
    thresholds.choose(lambda t: confidence.link_to_peaks(peer, sim, t), read_labels(args.labels), sim,
                      args.name, args.out, args.plot, args.labels,
                      setting=f"methods.{method}.{args.name}" if method else None)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="links (.npz) of the labelled split")
    p.add_argument("--labels", required=True)
    p.add_argument("--name", choices=["tau_0", "tau"], required=True, help="which threshold this is")
    p.add_argument("--method", choices=METHODS, help="whose threshold (named in messages; default: the output's folder)")
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
