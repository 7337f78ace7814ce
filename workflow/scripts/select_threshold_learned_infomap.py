#!/usr/bin/env python
"""Choose learned_infomap's min_prob on a labelled split: out-of-fold link probabilities (the identities
in folds, each fold's links predicted by a classifier fit on the others'), Infomap at each candidate,
best pairwise F, plot (ltc.learned_links)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

from threadpoolctl import threadpool_limits  # noqa: E402

from ltc import cli, learned_links  # noqa: E402


def main(args):
    graph, labels = learned_links.labelled_graph(args)
    with threadpool_limits(args.threads):
        prob = learned_links.out_of_fold(graph, labels, args.folds, **learned_links.train_options(args),
                                         source=args.labels)
    cut, _ = learned_links.sweeper(graph, prob, **learned_links.infomap_options(args))
    learned_links.choose_min_prob(cut, labels, args.out, args.plot, args.labels)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--knn", required=True, help="kNN .npz of the labelled split")
    cli.add_truth_options(p)
    learned_links.add_options(p, graph=True, train=True, folds=True, infomap=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True, help="JSON with the chosen min_prob and the sweep")
    p.add_argument("--plot", required=True, help="PNG of F-score versus min_prob")
    cli.run(main, p.parse_args())
