#!/usr/bin/env python
"""Benchmark of the knn_cc threshold sweep (not a test: run it by hand).

    python benchmarks/bench_sweep.py                 # 576K x 256 train-like split, k = 80, IVF kNN
    python benchmarks/bench_sweep.py --n 100000

On a synthetic MS1M-shaped split (features and kNN cached in benchmarks/out/sweep/) it runs the
same 101-candidate sweep of ``ltc.thresholds.sweep`` twice: once clustering all kNN links >= t
at each candidate (the sweep before the spanning forest), once cutting the links' maximum
spanning forest (``knn_cc.sweeper``), and checks that both give the same table. The floor is one
clustering of the whole graph (one connected-components pass over all links). Prints wall and CPU
seconds (this process, all threads) and ratios; writes JSON to benchmarks/out/sweep/.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ltc import knn, thresholds  # noqa: E402
from ltc.graph import components, knn_edges  # noqa: E402
from ltc.io import load_knn, save_knn  # noqa: E402
from ltc.methods import knn_cc  # noqa: E402
from ltc.synthetic import make_split  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "sweep"


def data(n: int, k: int, seed: int = 0):
    """(ids, dists, labels) of a cached n-point MS1M-shaped split (mean identity size 68) and its IVF kNN."""
    OUT.mkdir(parents=True, exist_ok=True)
    knn_path, labels_path = OUT / f"knn_{n}_k{k}.npz", OUT / f"labels_{n}.npy"
    if not knn_path.exists():
        rng = np.random.default_rng(seed)
        nuisance = np.linalg.qr(rng.standard_normal((256, 16)))[0]
        feats, labels = make_split(max(2, n // 68), 256, rng, nuisance=nuisance, mean_log_size=3.9, max_size=2000,
                                   min_spread=0.5, max_spread=1.0, nuisance_share=0.3)
        feats, labels = feats[:n], labels[:n]
        ids, dists = knn.knn_graph(feats, k, "ivf" if n > 200_000 else "flat")
        save_knn(knn_path, ids, dists)
        np.save(labels_path, labels)
    ids, dists = load_knn(knn_path)
    return ids, dists, np.load(labels_path)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=576_000)
    p.add_argument("--k", type=int, default=80)
    args = p.parse_args()
    ids, dists, labels = data(args.n, args.k)
    n = len(ids)

    def all_links():
        src, dst, sims = knn_edges(ids, dists, -np.inf)
        return (lambda t: components(n, src[sims >= t], dst[sims >= t])), sims

    (cluster_all, sims), build_all, build_all_cpu = timed(all_links)
    candidates = thresholds.candidates(sims)
    _, floor, floor_cpu = timed(lambda: cluster_all(float(np.median(sims))))
    (_, before), before_s, before_cpu = timed(lambda: thresholds.sweep(cluster_all, labels, candidates))
    (cluster_forest, _), build_forest, build_forest_cpu = timed(lambda: knn_cc.sweeper(ids, dists))
    (_, after), after_s, after_cpu = timed(lambda: thresholds.sweep(cluster_forest, labels, candidates))
    assert before == after, "the forest's sweep differs from the whole graph's"
    result = {
        "n": n, "k": args.k, "links": int(len(sims)), "candidates": int(len(candidates)),
        "floor (one clustering of all links)": {"wall_s": floor, "cpu_s": floor_cpu},
        "before: all links per candidate": {"wall_s": round(build_all + before_s, 2), "cpu_s": round(build_all_cpu + before_cpu, 2)},
        "after: spanning forest (build + cuts)": {"wall_s": round(build_forest + after_s, 2),
                                                   "cpu_s": round(build_forest_cpu + after_cpu, 2),
                                                   "forest_build_wall_s": build_forest},
    }
    result["speed-up (cpu)"] = round(result["before: all links per candidate"]["cpu_s"] / result["after: spanning forest (build + cuts)"]["cpu_s"], 2)
    result["after / floor (cpu)"] = round(result["after: spanning forest (build + cuts)"]["cpu_s"] / max(floor_cpu, 1e-9), 2)
    print(json.dumps(result, indent=2))
    (OUT / f"sweep_{n}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
