#!/usr/bin/env python
"""Train learned_infomap's link classifier on a labelled split's kNN links: scale-free features of each
link, gradient-boosted trees of "same identity" on a seeded sample of them (ltc.learned_links)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from threadpoolctl import threadpool_limits  # noqa: E402

from ltc import cli, learned_links  # noqa: E402


def main(args):
    graph, labels = learned_links.labelled_graph(args)
    with threadpool_limits(args.threads):
        clf = learned_links.fit(graph, labels, **learned_links.train_options(args), source=args.labels)
    learned_links.save_model(args.out, clf, {"k": args.k, "shared_k": args.shared_k, "top": args.top,
                                                "links_per_point": graph.n_edges / graph.n})


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the labelled split")
    cli.add_truth_options(p)
    learned_links.add_options(p, graph=True, train=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="model (.pkl) to write")
    cli.run(main, p.parse_args())
