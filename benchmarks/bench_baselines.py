#!/usr/bin/env python
"""Time and peak memory of every baseline (ltc.methods.registry) on synthetic MS1M-like data (not a
test: run it by hand; output in benchmarks/out/baselines/).

    python benchmarks/bench_baselines.py                                # 25K, 50K, 100K; every method
    python benchmarks/bench_baselines.py --sizes 100000 --methods aro infomap --no-limits

For each size N: N x 256 features of long-tailed identities (about 68 points each, as MS1M), their
exact kNN (k=80) built once, then each method in a fresh process with the config's defaults (the
original project's MS1M settings; n_clusters = the true identity count), under a memory cap
(RLIMIT_AS, like `ulimit -v`, default 8 GiB) and a wall-clock cap (default 10 minutes). Reports
wall and CPU seconds, peak resident memory (VmHWM), clusters and pairwise F; a method that refuses
the size (its max_points sentence), runs out of the memory cap or past the time cap says so. The
machine may be shared: wall times are upper bounds, CPU seconds are the steadier measure.
"""
import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc import DataError  # noqa: E402
from ltc.io import load_knn, read_features, read_labels, save_knn, write_features, write_labels  # noqa: E402
from ltc.methods import registry  # noqa: E402
from ltc.methods.registry import run  # noqa: E402

BASELINES = registry.methods("baseline")

OUT = REPO / "benchmarks" / "out" / "baselines"
K = 80
MS1M_LIKE = {"mean_log_size": 3.9, "max_size": 2000, "min_spread": 0.5, "max_spread": 1.0, "nuisance_share": 0.3}


def dataset(n: int, seed: int = 0) -> Path:
    """features.bin, labels.meta and faiss_k_80.npz of an n-point MS1M-like split, cached."""
    from ltc.knn import knn_graph
    from ltc.synthetic import make_split

    folder = OUT / f"n{n}"
    if not (folder / f"faiss_k_{K}.npz").exists():
        rng = np.random.default_rng(seed)
        nuisance = np.linalg.qr(rng.standard_normal((256, 16)))[0]
        feats, labels = make_split(int(n / 60) + 10, 256, rng, nuisance=nuisance, **MS1M_LIKE)
        feats, labels = feats[:n], labels[:n]
        assert len(feats) == n, "too few identities drawn"
        write_features(folder / "features.bin", feats)
        write_labels(folder / "labels.meta", labels)
        start = time.perf_counter()
        ids, dists = knn_graph(feats, K, "flat", threads=2)
        save_knn(folder / f"faiss_k_{K}.npz", ids, dists)
        (folder / "knn.json").write_text(json.dumps({"seconds": time.perf_counter() - start}))
    return folder


def settings_of(method: str, n_clusters: int, no_limits: bool) -> dict:
    s = dict(yaml.safe_load((REPO / "config.yaml").read_text())["methods"][method])
    if "n_clusters" in s:
        s["n_clusters"] = n_clusters
    if no_limits and "max_points" in s and not (method == "fast_hac" and s.get("linkage") == "single"):
        s["max_points"] = None
    return s


def worker(method: str, folder: Path, settings: dict, threads: int) -> None:
    """Run one method in this process; print one JSON line."""
    from ltc.metrics import evaluate

    gt = read_labels(folder / "labels.meta")
    use_knn, use_features = BASELINES[method].needs(BASELINES[method].settings(settings))
    ids = dists = feats = None
    if use_knn:
        ids, dists = load_knn(folder / f"faiss_k_{K}.npz")
    if use_features:
        feats = np.array(read_features(folder / "features.bin", 256))
    result = {}
    start = time.perf_counter()
    try:
        labels = run(method, settings, ids=ids, dists=dists, feats=feats, threads=threads)
        result["status"] = "ok"
        result["clusters"] = int(labels.max() + 1)
        result["pairwise_f"] = round(evaluate(gt, labels)["pairwise"]["fscore"], 4)
    except DataError as err:
        result["status"] = f"refused: {err}"
    except MemoryError:
        result["status"] = "out of memory"
    result["seconds"] = round(time.perf_counter() - start, 1)
    status = Path("/proc/self/status").read_text()
    result["peak_gib"] = round(int(status.split("VmHWM:")[1].split()[0]) / 2**20, 2)
    print(json.dumps(result), flush=True)


def measure(method: str, n: int, folder: Path, settings: dict, threads: int, mem_gib: float, timeout: int) -> dict:
    limit = int(mem_gib * 2**30)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    cmd = [sys.executable, __file__, "--worker", method, str(folder), json.dumps(settings), str(threads)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=cap)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if lines:
            result = json.loads(lines[-1])
        elif "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr or "Cannot allocate" in proc.stderr:
            result = {"status": f"out of memory ({mem_gib:g} GiB cap)"}
        else:
            result = {"status": f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"}
    except subprocess.TimeoutExpired:
        result = {"status": f"did not finish in {timeout // 60} min"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["wall_s"] = round(time.perf_counter() - start, 1)
    result["cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1)
    return {"method": method, "n": n, **result}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[25000, 50000, 100000])
    p.add_argument("--methods", nargs="+", default=list(BASELINES))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--mem-gib", type=float, default=8.0)
    p.add_argument("--timeout", type=int, default=600, help="seconds per method")
    p.add_argument("--no-limits", action="store_true", help="lift the methods' max_points (the caps still apply)")
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        method, folder, settings, threads = args.worker
        worker(method, Path(folder), json.loads(settings), int(threads))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results_path = OUT / "results.jsonl"
    for n in args.sizes:
        folder = dataset(n)
        n_clusters = len(np.unique(read_labels(folder / "labels.meta")))
        print(f"N={n}: {n_clusters} identities, kNN {json.loads((folder / 'knn.json').read_text())['seconds']:.0f} s",
              flush=True)
        for method in args.methods:
            row = measure(method, n, folder, settings_of(method, n_clusters, args.no_limits), args.threads,
                          args.mem_gib, args.timeout)
            print(json.dumps(row), flush=True)
            with results_path.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
