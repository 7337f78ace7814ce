#!/usr/bin/env python
"""Cluster from links (GCN-V or GCN-E): keep links with similarity >= the threshold, take components."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli, confidence, thresholds  # noqa: E402
from ltc.io import load_links, write_labels  # noqa: E402


def main(args):
    tau = thresholds.given(args.threshold, args.name)
    labels = confidence.link_to_peaks(*load_links(args.links), tau)
    logging.getLogger("ltc").info("%s %.4f: %d clusters over %d points", args.name, tau, labels.max() + 1, len(labels))
    cli.warn_if_degenerate(labels, args.method, f"methods.{args.method}.{args.name} = {tau:.4f}")
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="links (.npz: peer, similarity)")
    p.add_argument("--threshold", required=True, help="a number, or a JSON file from select_threshold_links.py")
    p.add_argument("--name", choices=["tau_0", "tau"], default="tau_0")
    p.add_argument("--method", choices=["gcnv", "gcne"], default="gcnv", help="the method whose links these are (for messages)")
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
