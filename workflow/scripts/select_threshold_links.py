#!/usr/bin/env python
"""Choose a link method's threshold (GCN-V's tau_0/tau, GCN-E's tau) on a labelled split: sweep, best
pairwise F, plot. Which setting is the threshold is the method's (ltc.methods.registry)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402

from ltc import DataError, cli, confidence, thresholds  # noqa: E402
from ltc.io import load_links  # noqa: E402
from ltc.methods import registry  # noqa: E402

def main(args):
    # the method: given, or the results/<ds>/<method>/ folder of the output
    name = args.method or Path(args.out).parent.name
    if name not in registry.NAMES or registry.get(name).rules != "links":
        raise DataError(f"--method is not given and the output's folder {Path(args.out).parent} names no method "
                        f"that clusters links: pass --method.")
    method = registry.get(name)
    setting = method.threshold_name(method.settings(json.loads(args.settings)))
    peer, sim = load_links(args.links)
    thresholds.choose(lambda t: confidence.link_to_peaks(peer, sim, t), cli.truth(args), sim,
                      setting, args.out, args.plot, args.labels, setting=f"methods.{name}.{setting}")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="links (.npz) of the labelled split")
    cli.add_truth_options(p)
    p.add_argument("--method", choices=registry.NAMES, help="whose threshold (default: the output's folder)")
    p.add_argument("--settings", default="{}", help="JSON of the method's settings (config methods.<name>): which "
                   "setting is its threshold")
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
