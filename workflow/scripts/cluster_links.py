#!/usr/bin/env python
"""Cluster from links (GCN-V or GCN-E): keep links with similarity >= the threshold, take components."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import json  # noqa: E402
import logging  # noqa: E402

from ltc import cli, confidence, thresholds  # noqa: E402
from ltc.methods import registry  # noqa: E402
from ltc.io import load_links, write_labels  # noqa: E402


def main(args):
    method = registry.get(args.method)
    name = method.threshold_name(method.settings(json.loads(args.settings)))
    tau = thresholds.from_args(args, name)
    labels = confidence.link_to_peaks(*load_links(args.links), tau)
    logging.getLogger("ltc").info("%s %.4f: %d clusters over %d points", name, tau, labels.max() + 1, len(labels))
    cli.warn_if_degenerate(labels, args.method, f"methods.{args.method}.{name} = {tau:.4f}",
                         args.threshold_file)
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="links (.npz: peer, similarity)")
    thresholds.add_options(p)
    p.add_argument("--method", choices=registry.NAMES, required=True, help="the method whose links these are")
    p.add_argument("--settings", default="{}", help="JSON of the method's settings (config methods.<name>): which "
                   "setting is its threshold")
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
