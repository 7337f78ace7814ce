#!/usr/bin/env python
"""Where GCN-E's time goes (not a test: run it by hand).

    python benchmarks/bench_gcne.py                  # 20K vertices, 512-D, k = 160 (GCN-E's default)
    python benchmarks/bench_gcne.py --n 50000 --threads 2

On synthetic unit features standing in for GCN-V's hidden features (an MS1M-shaped split, mean
identity size 68) with random GCN-V confidences (so each vertex's candidates, its more-confident
neighbours, are as many as a real confidence order gives: uniform between 0 and k), it times, for
the vertices GCN-E decides for: building every padded subgraph (``ltc.gcne.subgraphs``), one
inference pass (``ltc.gcne.links``, subgraph construction included) and one training epoch
(``ltc.gcne.train`` with max_epochs 1). The floor of inference is the arithmetic of the model on the
real candidates only (no padding): the GEMMs of four graph convolutions and the classifier, timed
as one batch of bare torch matrix products of the same total size in this run. Prints wall and CPU
seconds (this process, all threads), the padding (slots computed per real candidate) and ratios;
writes JSON to benchmarks/out/gcne/.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ltc  # noqa: E402,F401  (MKL's reproducible mode before torch)
import torch  # noqa: E402

from ltc import gcne, knn  # noqa: E402
from ltc.graph import symmetric_graph  # noqa: E402
from ltc.synthetic import make_split  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "gcne"


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


def floor_seconds(counts: np.ndarray, dim: int, nhid: int) -> tuple[float, float]:
    """(wall, CPU) s of bare GEMMs doing GCN-E's arithmetic on the real candidates only: per vertex
    with c candidates, the four convolutions' c x c by c x d aggregations and c x 2d by 2d x out
    products, then the classifier; done as a few large torch.mm/bmm calls of the same flop count."""
    half = nhid // 2
    rows = int(counts.sum())
    sq = int((counts.astype(np.int64) ** 2).sum())
    c = max(1, int(np.sqrt(sq / max(1, len(counts)))))  # aggregation flops as equal blocks of the same sum of squares
    blocks = max(1, len(counts))
    widths = [(dim, nhid), (nhid, nhid), (nhid, half), (half, half)]
    x = [torch.randn(rows, 2 * i) for i, _ in widths]
    w = [torch.randn(2 * i, o) for i, o in widths]
    a = torch.randn(blocks, c, c)
    b = [torch.randn(blocks, c, i) for i, _ in widths]
    head = torch.randn(half, half)

    def run():  # the tensors exist beforehand: only the products are timed
        for xi, wi, bi in zip(x, w, b):
            torch.bmm(a, bi)
            h = torch.mm(xi, wi)
        torch.mm(h, head)
    _, wall, cpu = timed(run)
    return wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--k", type=int, default=160)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-train", action="store_true", help="skip the training epoch")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    nuisance = np.linalg.qr(rng.standard_normal((args.dim, 16)))[0]
    feats, labels = make_split(max(2, args.n // 68), args.dim, rng, nuisance=nuisance, mean_log_size=3.9,
                               max_size=2000, min_spread=0.5, max_spread=1.0, nuisance_share=0.3)
    feats, labels = np.ascontiguousarray(feats[:args.n], dtype=np.float32), labels[:args.n]
    (ids, dists), knn_wall, knn_cpu = timed(lambda: knn.knn_graph(feats, args.k, "flat", threads=args.threads))
    confidence = rng.random(len(feats)).astype(np.float32)
    mask, decide = gcne.gcne_vertices(ids, confidence, gcne.DEFAULTS.ignore_ratio.test)
    vertices = np.flatnonzero(decide)
    counts = mask[vertices].sum(axis=1)
    graph = symmetric_graph(ids, dists, gcne.DEFAULTS.th_sim)
    model = gcne.GCNE(args.dim, gcne.DEFAULTS.nhid)

    def build_all():
        for start in range(0, len(vertices), 256):
            gcne.subgraphs(vertices[start:start + 256], ids, mask, graph, feats)
    _, sub_wall, sub_cpu = timed(build_all)
    _, inf_wall, inf_cpu = timed(lambda: gcne.links(model, feats, ids, dists, confidence))
    floor_wall, floor_cpu = floor_seconds(counts, args.dim, gcne.DEFAULTS.nhid)
    report = {"n": len(feats), "dim": args.dim, "k": args.k, "threads": args.threads, "gcne_vertices": len(vertices),
              "mean_candidates": round(float(counts.mean()), 1), "knn": [knn_wall, knn_cpu],
              "subgraphs": [sub_wall, sub_cpu], "inference": [inf_wall, inf_cpu], "floor": [floor_wall, floor_cpu],
              "inference_over_floor_cpu": round(inf_cpu / max(floor_cpu, 1e-9), 2)}
    if not args.no_train:
        _, tr_wall, tr_cpu = timed(lambda: gcne.train(feats, ids, dists, confidence, labels, max_epochs=1))
        report["train_epoch"] = [tr_wall, tr_cpu]
    for key, value in report.items():
        print(f"{key:>26}: {value}" + ("  (wall s, CPU s)" if isinstance(value, list) else ""))
    (OUT / f"gcne_{args.n}_{args.dim}_{args.k}.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
