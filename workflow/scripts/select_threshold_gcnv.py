#!/usr/bin/env python
"""Choose GCN-V's linking threshold on a labelled split: sweep, keep the best pairwise F, plot the sweep."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

import numpy as np  # noqa: E402

from ltc import cli, confidence, thresholds  # noqa: E402
from ltc.io import load_knn, read_labels, write_json  # noqa: E402


def main(args):
    conf = np.load(args.confidence)
    ids, dists = load_knn(args.knn)
    gt = read_labels(args.labels)
    peak, peak_sim = confidence.peaks(ids, dists, conf)
    chosen, table = thresholds.sweep(lambda t: confidence.link_to_peaks(peak, peak_sim, t), gt,
                                     thresholds.candidates(peak_sim))
    best = next(row for row in table if row["threshold"] == chosen)
    logging.getLogger("ltc").info("%s = %.4f: pairwise F %.4f on %s", args.name, chosen, best["fscore"], args.labels)
    write_json(args.out, {args.name: chosen, "fscore": best["fscore"], "split": args.labels, "sweep": table})
    thresholds.plot_sweep(table, chosen, args.name, args.plot)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--confidence", required=True, help="confidences (.npy) of the labelled split")
    p.add_argument("--knn", required=True, help="kNN .npz used for linking (features or GCN features)")
    p.add_argument("--labels", required=True)
    p.add_argument("--name", choices=["tau_0", "tau"], required=True, help="which threshold this is")
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
