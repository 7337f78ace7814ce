#!/usr/bin/env python
"""Cluster a split with learned_infomap: the trained classifier's probability of every kNN link, links
>= min_prob kept, Infomap weighted by the probability (ltc.learned_links)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402

from threadpoolctl import threadpool_limits  # noqa: E402

from ltc import cli, learned_links, thresholds  # noqa: E402
from ltc.io import load_knn, write_labels  # noqa: E402


def main(args):
    min_prob = thresholds.from_args(args, "min_prob")
    clf, settings = learned_links.load_model(args.model)
    graph = learned_links.graph_of_model(settings, *load_knn(args.knn))
    with threadpool_limits(args.threads):
        prob = learned_links.predict(clf, graph)
    labels = learned_links.cluster(graph, prob, min_prob, **learned_links.infomap_options(args))
    logging.getLogger("ltc").info("min_prob %.4f: %d of %d links kept, %d clusters over %d points", min_prob,
                                  int((prob >= min_prob).sum()), graph.n_edges, labels.max() + 1, len(labels))
    cli.warn_if_degenerate(labels, "learned_infomap", f"methods.learned_infomap.min_prob = {min_prob:.4f}",
                         args.threshold_file)
    write_labels(args.out, labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--model", required=True, help="trained link classifier (.pkl)")
    p.add_argument("--knn", required=True, help="kNN .npz of the split to cluster")
    thresholds.add_options(p)
    learned_links.add_options(p, infomap=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="predicted labels (.meta) to write")
    cli.run(main, p.parse_args())
