#!/usr/bin/env python
"""Choose GCN-V's linking threshold on a labelled split: sweep, keep the best pairwise F, plot the sweep."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import numpy as np  # noqa: E402

from ltc import cli, confidence, thresholds  # noqa: E402
from ltc.io import load_knn, read_labels  # noqa: E402


def main(args):
    ids, dists = load_knn(args.knn)
    peak, peak_sim = confidence.peaks(ids, dists, np.load(args.confidence))
    thresholds.choose(lambda t: confidence.link_to_peaks(peak, peak_sim, t), read_labels(args.labels), peak_sim,
                      args.name, args.out, args.plot, args.labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--confidence", required=True, help="confidences (.npy) of the labelled split")
    p.add_argument("--knn", required=True, help="kNN .npz used for linking (features or GCN features)")
    p.add_argument("--labels", required=True)
    p.add_argument("--name", choices=["tau_0", "tau"], required=True, help="which threshold this is")
    p.add_argument("--out", required=True, help="JSON with the chosen threshold and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus threshold")
    cli.run(main, p.parse_args())
