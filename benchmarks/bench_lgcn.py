#!/usr/bin/env python
"""L-GCN training cost and inference throughput at 100K x 256 synthetic (not a test: run it by hand, minutes).

    python benchmarks/bench_lgcn.py [--n 100000] [--sample 2000] [--threads 2] [--no-train]

Writes an MS1M-shaped synthetic split (ltc.synthetic.make_split with the MS1M_SHAPE of bench_gcnv.py),
builds its exact kNN (k 80, faiss), and predicts the links of a sample of pivots with an L-GCN of
the original's layout (nhid 512; untrained weights: the cost does not depend on them) under the
default settings (methods.lgcn: k_at_hop [10, 5], active connection 5) and the original's MS1M
settings ([200, 10] = 79 hop-1 nodes with a k 80 kNN, 10). Prints, per setting, the mean subgraph size,
pivots per second (wall and CPU seconds: the cores may be shared), the peak RSS, and the time
extrapolated to MS1M part1_test's 584,013 pivots (links of one split; the workflow's auto threshold
also needs the train split's, 576K). First, unless --no-train, it trains an L-GCN on the split with
the default setting and the workflow's training settings (methods.lgcn.train: at most max_pivots pivots an epoch, early
stopping on held-out identities) and prints the epochs run, wall and CPU seconds and the peak RSS;
training samples pivots, so its cost barely grows with N.
"""
import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import ltc  # noqa: E402,F401  (before torch: MKL's reproducible mode)
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ltc import knn, lgcn  # noqa: E402
from ltc.synthetic import MS1M_SHAPE, make_split, nuisance_basis  # noqa: E402

MS1M_TEST = 584_013
SETTINGS = {"defaults": (lgcn.DEFAULTS.k_at_hop, lgcn.DEFAULTS.active_connection), "ms1m": ([200, 10], 10)}


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--sample", type=int, default=2000, help="pivots timed per setting")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-train", dest="train", action="store_false", help="inference throughput only")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    feats, labels = make_split(max(2, round(args.n / 68)), 256, rng, nuisance=nuisance_basis(256), **MS1M_SHAPE)
    feats, labels = np.ascontiguousarray(feats[:args.n], dtype=np.float32), labels[:args.n]
    ids, _ = knn.knn_graph(feats, 80, "flat", threads=args.threads)
    print(f"{len(feats)} x 256 synthetic, exact kNN k 80: {time.perf_counter() - start:.0f} s; "
          f"peak RSS {peak_rss_gib():.2f} GiB")
    model = lgcn.LGCN(256, 512)
    if args.train:  # the default setting's (the original's MS1M setting costs ~4x per pivot, see below)
        for name, (hops, active) in list(SETTINGS.items())[:1]:
            wall, cpu = time.perf_counter(), time.process_time()
            _, history = lgcn.train(feats, ids, labels, k_at_hop=hops, active_connection=active,
                                    device_name=args.device)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"training, {name} {hops}: {len(history)} epochs of {history[0]['pivots']} pivots, "
                  f"{wall:.0f} s wall, {cpu:.0f} CPU s; held-out accuracy {history[-1]['val_accuracy']:.4f}; "
                  f"peak RSS {peak_rss_gib():.2f} GiB", flush=True)
    pivots = np.random.default_rng(1).choice(len(feats), min(args.sample, len(feats)), replace=False)
    print(f"{'setting':<10} {'k_at_hop':<10} {'nodes/pivot':>11} {'pivots/s':>9} {'CPU s/pivot':>12} "
          f"{'584K wall h':>11} {'584K CPU h':>10} {'peak GiB':>9}")
    for name, (hops, active) in SETTINGS.items():
        clean = lgcn.clean_knn(ids, max(hops[0], hops[1], active))
        sizes = [len(lgcn.subgraphs(clean, pivots[i:i + 50], hops, active).nodes) for i in range(0, 200, 50)]
        wall, cpu = time.perf_counter(), time.process_time()
        lgcn.links(model, feats, ids, hops, active, device_name=args.device, max_cpu_nodes=None, pivots=pivots)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = len(pivots) / wall
        print(f"{name:<10} {str(hops):<10} {sum(sizes) / 200:>11.1f} {rate:>9.1f} {cpu / len(pivots):>12.4f} "
              f"{MS1M_TEST / rate / 3600:>11.2f} {MS1M_TEST * cpu / len(pivots) / 3600:>10.2f} {peak_rss_gib():>9.2f}")


if __name__ == "__main__":
    main()
