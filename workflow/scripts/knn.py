#!/usr/bin/env python
"""Build the cosine kNN graph of a feature file with faiss and save it as knns/NAME/<tag>_k_<k>.npz."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the ltc package beside the workflow

import logging  # noqa: E402
import time  # noqa: E402

from ltc import cli, knn  # noqa: E402
from ltc.io import read_features, save_knn, write_json  # noqa: E402

log = logging.getLogger("ltc")


def main(args):
    feats = read_features(args.features, args.dim)
    start = time.perf_counter()
    ids, dists = knn.knn_graph(feats, args.k, args.method, threads=args.threads, batch_size=args.batch_size,
                               nlist=args.nlist, nprobe=args.nprobe, hnsw_m=args.hnsw_m,
                               ef_construction=args.ef_construction, ef_search=args.ef_search, seed=args.seed)
    stats = {"method": args.method, "k": args.k, "n": len(ids), "seconds": round(time.perf_counter() - start, 3)}
    if args.method != "flat" and args.recall_sample:
        stats["recall_at_k"] = knn.recall_at_k(ids, feats, args.k, args.recall_sample, args.seed)
        log.info("%s recall@%d on %d sampled queries: %.4f", args.method, args.k,
                 min(args.recall_sample, len(ids)), stats["recall_at_k"])
    save_knn(args.out, ids, dists)
    if args.stats:
        write_json(args.stats, stats)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--features", required=True)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--k", type=int, default=80)
    p.add_argument("--method", choices=knn.METHODS, default="flat")
    p.add_argument("--out", required=True, help=".npz kNN file to write")
    p.add_argument("--stats", help="JSON with timing (and recall@k for approximate methods)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=65536, help="rows added / searched per batch")
    p.add_argument("--nlist", default="auto", help="ivf: number of cells, or 'auto'")
    p.add_argument("--nprobe", type=int, default=16, help="ivf: cells scanned per query")
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--ef-construction", type=int, default=40)
    p.add_argument("--ef-search", type=int, default=100)
    p.add_argument("--recall-sample", type=int, default=1000, help="queries for recall@k (approximate methods)")
    p.add_argument("--seed", type=int, default=0)
    cli.run(main, p.parse_args())
