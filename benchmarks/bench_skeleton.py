#!/usr/bin/env python
"""Benchmark of the walking skeleton on synthetic MS1M-shaped data (not a test: run it by hand).

    python benchmarks/bench_skeleton.py                      # 100K and 584K, all kNN methods
    python benchmarks/bench_skeleton.py --sizes 100000 --methods ivf hnsw

Measures evaluate() on 584K labels, and for each size and kNN method (flat = exact, ivf, hnsw)
the wall time of index build + search (k=80) in a fresh process, its peak RSS, and recall@80
against exact search on a 1000-query sample (all 80, and those with cosine >= 0.4). Prints a table and writes JSON to benchmarks/out/.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ltc import knn  # noqa: E402
from ltc.io import read_features, write_features  # noqa: E402
from ltc.metrics import evaluate  # noqa: E402
from ltc.synthetic import make_split  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
MS1M_N, MS1M_IDS = 584013, 8573


def ms1m_like(path: Path, seed: int = 0) -> Path:
    """584K x 256 features of 8573 long-tailed identities (mean size 68), cached on disk.

    Identities are tighter than the demo's (same-identity cosine ~0.5-0.8, as for MS1M face features).
    """
    if not path.exists():
        rng = np.random.default_rng(seed)
        nuisance = np.linalg.qr(rng.standard_normal((256, 16)))[0]
        feats, _ = make_split(MS1M_IDS, 256, rng, nuisance=nuisance, mean_log_size=3.9, max_size=2000,
                              min_spread=0.5, max_spread=1.0, nuisance_share=0.3)
        write_features(path, feats[:MS1M_N])
    return path


def bench_evaluate() -> dict:
    rng = np.random.default_rng(0)
    gt = np.repeat(np.arange(MS1M_IDS), np.diff(np.linspace(0, MS1M_N, MS1M_IDS + 1).astype(int)))
    pred = np.where(rng.random(MS1M_N) < 0.1, rng.integers(0, 20000, MS1M_N), gt)
    start = time.perf_counter()
    evaluate(gt, pred)
    return {"n": MS1M_N, "seconds": round(time.perf_counter() - start, 3)}


def peak_rss_gib() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss it does not inherit the parent's)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 2**20  # kB -> GiB


def worker(features: str, n: int, method: str, k: int) -> None:
    """One kNN build + search in this process; prints a JSON line."""
    feats = read_features(features, 256)[:n]
    start = time.perf_counter()
    ids, _ = knn.knn_graph(feats, k, method, threads=2)
    seconds = time.perf_counter() - start
    recall = 1.0 if method == "flat" else knn.recall_at_k(ids, feats, k, sample=1000)
    recall_near = 1.0 if method == "flat" else knn.recall_at_k(ids, feats, k, sample=1000, min_similarity=0.4)
    peak = peak_rss_gib()
    print(json.dumps({"n": n, "method": method, "seconds": round(seconds, 1), "recall_at_k": round(recall, 4),
                      "recall_cos_0.4": round(recall_near, 4), "peak_rss_gib": round(peak, 2)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, MS1M_N])
    p.add_argument("--methods", nargs="+", default=["ivf", "hnsw", "flat"], choices=knn.METHODS)
    p.add_argument("--k", type=int, default=80)
    p.add_argument("--worker", nargs=3, metavar=("FEATURES", "N", "METHOD"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), args.worker[2], args.k)
        return
    OUT.mkdir(exist_ok=True)
    results = {"evaluate_584k": bench_evaluate(), "knn": []}
    print(f"evaluate on {MS1M_N} labels: {results['evaluate_584k']['seconds']} s", flush=True)
    features = ms1m_like(OUT / "ms1m_like_584k.bin")
    print(f"{'N':>8} {'method':>6} {'seconds':>8} {'recall@' + str(args.k):>10} {'rec(cos>=.4)':>12} {'peak RSS GiB':>12}",
          flush=True)
    for n in args.sizes:
        for method in args.methods:
            proc = subprocess.run([sys.executable, __file__, "--k", str(args.k), "--worker", str(features), str(n), method],
                                  capture_output=True, text=True, check=True)
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            results["knn"].append(row)
            print(f"{n:>8} {method:>6} {row['seconds']:>8} {row['recall_at_k']:>10} {row['recall_cos_0.4']:>12}"
                  f" {row['peak_rss_gib']:>12}", flush=True)
            (OUT / "skeleton.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
