#!/usr/bin/env python
"""learned_infomap's cost: its workflow steps on the demo, and its link features + prediction throughput
at 100K x 256 synthetic (not a test: run it by hand, minutes).

    python benchmarks/bench_learned_infomap.py [--n 100000] [--threads 2] [--skip-demo] [--demo-dir DIR]

1. The demo: ``snakemake --cores THREADS results/demo/learned_infomap/fscore.txt`` in a scratch copy of
   the workflow (or ``--demo-dir``, a copy where it already ran); prints the pairwise F and each rule's
   Snakemake benchmark row (wall s, CPU s, peak RSS MiB).
2. Throughput: an MS1M-shaped synthetic split (ltc.synthetic.make_split with MS1M_SHAPE), its exact kNN
   (k 80, faiss), the link graph, a classifier fit on a sample of its links (the default settings, at most
   ``max_train_edges``), then features + predicted probability of every link, timed (wall and CPU
   seconds: the cores may be shared) and extrapolated to MS1M part1_test (584,013 points x 80 links), and
   one Infomap run on the links of probability >= 0.5.
"""
import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ltc import knn, learned_links  # noqa: E402
from ltc.synthetic import MS1M_SHAPE, make_split, nuisance_basis  # noqa: E402

MS1M_TEST = 584_013
RULES = ("train_learned_infomap", "select_threshold_learned_infomap", "cluster_learned_infomap")


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def timed(fn, *args, **kwargs):
    """(result, wall s, CPU s) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def demo(threads: int, where: Path | None) -> None:
    if where is None:
        where = Path(tempfile.mkdtemp(prefix="bench_learned_infomap_"))
        for name in ("Snakefile", "config.yaml", "workflow", "profiles", "envs", "ltc"):
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, where / name)
        subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(threads),
                        "results/demo/learned_infomap/fscore.txt"], cwd=where, check=True, capture_output=True)
    print(f"demo ({where}):", (where / "results/demo/learned_infomap/fscore.txt").read_text().splitlines()[2])
    print(f"{'rule':<34} {'wall s':>7} {'CPU s':>7} {'peak RSS MiB':>13}")
    for rule in RULES:
        header, row = (where / f"results/demo/benchmarks/{rule}.tsv").read_text().splitlines()[:2]
        values = dict(zip(header.split("\t"), row.split("\t")))
        print(f"{rule:<34} {float(values['s']):>7.1f} {float(values['cpu_time']):>7.1f} "
              f"{float(values['max_rss']):>13.0f}")


def throughput(n: int, threads: int) -> None:
    rng = np.random.default_rng(0)
    (feats, labels), wall, _ = timed(make_split, max(2, round(n / 68)), 256, rng, nuisance=nuisance_basis(256),
                                     **MS1M_SHAPE)
    feats, labels = np.ascontiguousarray(feats[:n], dtype=np.float32), labels[:n]
    (ids, dists), wall, _ = timed(knn.knn_graph, feats, 80, "flat", threads=threads)
    print(f"{len(feats)} x 256 synthetic, exact kNN k 80: {wall:.0f} s; peak RSS {peak_rss_gib():.2f} GiB")
    graph, wall, cpu = timed(learned_links.link_graph, ids, dists)
    del feats
    print(f"link graph: {graph.n_edges} links, {wall:.1f} s wall, {cpu:.1f} CPU s")
    with threadpool_limits(threads):
        clf, wall, cpu = timed(learned_links.fit, graph, labels)
        sample = min(graph.n_edges, learned_links.TRAIN.max_train_edges or graph.n_edges)
        print(f"fit on {sample} links: {wall:.1f} s wall, {cpu:.1f} CPU s (MS1M's train fits this many too)")
        _, fwall, fcpu = timed(lambda: [graph.features(slice(s, s + learned_links.CHUNK_EDGES))
                                        for s in range(0, graph.n_edges, learned_links.CHUNK_EDGES)])
        prob, wall, cpu = timed(learned_links.predict, clf, graph)
    e = graph.n_edges
    ms1m = MS1M_TEST * 80
    print(f"features alone: {e / fwall:,.0f} links/s wall, {e / fcpu:,.0f} links/CPU s")
    print(f"features + predict: {e / wall:,.0f} links/s wall, {e / cpu:,.0f} links/CPU s; MS1M part1_test "
          f"({ms1m:,} links): {ms1m / e * wall / 60:.1f} min wall, {ms1m / e * cpu / 60:.1f} CPU min; "
          f"peak RSS {peak_rss_gib():.2f} GiB")
    labels_pred, wall, cpu = timed(learned_links.cluster, graph, prob, 0.5)
    print(f"Infomap at min_prob 0.5 ({int((prob >= 0.5).sum())} links): {wall:.1f} s wall, {cpu:.1f} CPU s, "
          f"{labels_pred.max() + 1} clusters; peak RSS {peak_rss_gib():.2f} GiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-demo", action="store_true")
    p.add_argument("--demo-dir", type=Path, help="a workflow copy where results/demo/learned_infomap/ already ran")
    args = p.parse_args()
    if not args.skip_demo:
        demo(args.threads, args.demo_dir)
    throughput(args.n, args.threads)


if __name__ == "__main__":
    main()
