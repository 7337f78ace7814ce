#!/usr/bin/env python
"""Cluster L-GCN's links: pairs pooled (mean), links >= th kept, components above maxsz split at a
rising threshold (ltc.lgcn.cluster)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from ltc import cli, lgcn, thresholds  # noqa: E402
from ltc.io import write_labels  # noqa: E402


def main(args):
    th = thresholds.from_args(args, "th")
    labels = lgcn.cluster(*lgcn.load_links(args.links), th, args.maxsz, args.step)
    logging.getLogger("ltc").info("th %.4f: %d clusters over %d points", th, labels.max() + 1, len(labels))
    cli.warn_if_degenerate(labels, "lgcn", f"methods.lgcn.th = {th:.4f}", args.threshold_file)
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--links", required=True, help="L-GCN links (.npz: peer, prob)")
    thresholds.add_options(p)
    cli.setting_option(p, "--maxsz", lgcn.DEFAULTS, "maxsz")
    cli.setting_option(p, "--step", lgcn.DEFAULTS, "step")
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
