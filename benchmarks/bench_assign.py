#!/usr/bin/env python
"""Incremental clustering (ltc.incremental) against a full rerun, on synthetic MS1M-shaped data (not a test).

    python benchmarks/bench_assign.py                  # 584K test faces, 1% of them new, ivf kNN (k 80)
    python benchmarks/bench_assign.py --n 100000 --knn flat

A test split of N faces (MS1M part1's shape: about 68 faces per identity, ltc.synthetic.MS1M_SHAPE) and
a train split of N/5 faces of other identities are written under benchmarks/out/assign/. A random
``--new`` fraction of the test faces is held back; the rest is "the run": its kNN (the saved index, as
the workflow keeps it) and knn_cc at the threshold chosen on the train split. Then the held-back faces
are assigned (the saved index searched with the new rows added, ltc.incremental.assign: knn_cc's linking rule,
merge off and on; the nearest-cluster rule at its train-chosen threshold), and, for comparison, the
whole test split is clustered again from scratch (index, kNN, knn_cc). Printed and written to
benchmarks/out/assign/report_<N>_<knn>.json: CPU and wall seconds of each step, pairwise F of both
against the truth (on the union, and over the pairs touching a new face), and the agreement of the
incremental partition with the full rerun's (pairwise F of one against the other).
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc import incremental, knn, thresholds  # noqa: E402
from ltc.io import read_features, read_labels, write_json  # noqa: E402
from ltc.methods import knn_cc  # noqa: E402
from ltc.metrics import contingency, evaluate, pairwise  # noqa: E402
from ltc.synthetic import MS1M_SHAPE, write_split  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "assign"
FACES_PER_IDENTITY = 68


class Clock:
    """CPU (all threads of the process) and wall seconds of named steps."""

    def __init__(self):
        self.steps = {}

    def __call__(self, name):
        clock = self

        class Step:
            def __enter__(self):
                self.cpu, self.wall = time.process_time(), time.perf_counter()

            def __exit__(self, *exc):
                clock.steps[name] = {"cpu_s": round(time.process_time() - self.cpu, 2),
                                     "wall_s": round(time.perf_counter() - self.wall, 2)}
                print(f"  {name}: {clock.steps[name]['wall_s']:.1f} s wall, {clock.steps[name]['cpu_s']:.1f} s CPU",
                      flush=True)
        return Step()


def data(n: int, seed: int):
    """(train feats, train labels, test feats, test labels), written once under OUT."""
    out = {}
    for name, points, offset in (("train", n // 5, 10 ** 7), ("test", n, 0)):
        features, labels = OUT / f"{name}_{n}.bin", OUT / f"{name}_{n}.meta"
        if not (features.exists() and labels.exists()):
            write_split(features, labels, max(2, points // FACES_PER_IDENTITY), seed=seed + (name == "test"),
                        n_points=points, label_offset=offset, **MS1M_SHAPE)
        out[name] = (read_features(features, 256), read_labels(labels))
    return (*out["train"], *out["test"])


def main(args):
    OUT.mkdir(parents=True, exist_ok=True)
    knn.set_threads(args.threads)
    clock = Clock()
    train_x, train_y, x, y = data(args.n, args.seed)
    rng = np.random.default_rng(args.seed)
    is_new = np.zeros(len(x), bool)
    is_new[rng.choice(len(x), int(round(args.new * len(x))), replace=False)] = True
    old_x, new_x = np.ascontiguousarray(x[~is_new]), np.ascontiguousarray(x[is_new])
    gt = np.concatenate([y[~is_new], y[is_new]])  # union order: old faces, then new ones
    touching = np.r_[np.zeros(len(old_x), bool), np.ones(len(new_x), bool)]
    params = {"nlist": "auto", "nprobe": args.nprobe}
    print(f"{len(old_x)} clustered + {len(new_x)} new faces, train {len(train_x)}; kNN {args.knn} k={args.k}", flush=True)

    def graph(feats):
        index = None if args.knn == "flat" else knn.build_index(feats, args.knn, **params)
        return index, knn.search(feats, args.k, args.knn, index)

    with clock("train: kNN + knn_cc threshold + nearest-rule threshold"):
        _, (tids, tdists) = graph(train_x)
        cut, sims = knn_cc.sweeper(tids, tdists)
        t_cc = thresholds.choose(cut, train_y, sims, "threshold", OUT / "knn_cc_threshold.json",
                                 OUT / "knn_cc_threshold.png", "synthetic train")
        t_near = incremental.choose_threshold(tids, tdists, train_y, source="synthetic train")
    with clock("run on the clustered faces: index + kNN"):
        index, (ids, dists) = graph(old_x)
    with clock("run on the clustered faces: knn_cc"):
        old_labels = knn_cc.cluster(ids, dists, t_cc)
    del ids, dists
    with clock("incremental: search the new faces"):
        new_ids, new_dists = incremental.search_new(old_x, new_x, args.k, args.knn, index)
    results = {}
    for name, rule, t, merge in (("links", "links", t_cc, False), ("links_merge", "links", t_cc, True),
                                 ("nearest", "nearest", t_near, False)):
        with clock(f"incremental: assign ({name})"):
            results[name] = incremental.assign(old_labels, new_ids, new_dists, t, rule=rule, merge=merge)
    del index
    with clock("full rerun: index + kNN"):
        _, (ids, dists) = graph(np.concatenate([old_x, new_x]))
    with clock("full rerun: knn_cc"):
        full = knn_cc.cluster(ids, dists, t_cc)
    n_above = int(((1 - dists) >= t_cc).sum(axis=1).max())
    del ids, dists

    report = {"n_clustered": len(old_x), "n_new": len(new_x), "knn": args.knn, "k": args.k, "nprobe": args.nprobe,
              "threads": args.threads, "knn_cc_threshold": t_cc, "nearest_threshold": t_near,
              "max_links_above_threshold_per_face": n_above, "steps": clock.steps,
              "full_rerun": {"pairwise_f_union": evaluate(gt, full)["pairwise"]["fscore"],
                             "pairwise_f_touching_new": incremental.touching_pairwise(gt, full, touching)["fscore"]}}
    for name, r in results.items():
        union = np.concatenate([r.old_labels, r.labels])
        report[name] = {**r.summary(), "pairwise_f_union": evaluate(gt, union)["pairwise"]["fscore"],
                        "pairwise_f_touching_new": incremental.touching_pairwise(gt, union, touching)["fscore"],
                        "agreement_with_full_rerun": pairwise(contingency(full, union))["fscore"],
                        "agreement_touching_new": incremental.touching_pairwise(full, union, touching)["fscore"]}
    rerun = sum(v["wall_s"] for k, v in clock.steps.items() if k.startswith("full rerun"))
    incr = {name: clock.steps["incremental: search the new faces"]["wall_s"] + clock.steps[f"incremental: assign ({name})"]["wall_s"]
            for name in results}
    report["speedup_wall"] = {name: round(rerun / max(s, 1e-9), 1) for name, s in incr.items()}
    path = OUT / f"report_{args.n}_{args.knn}.json"
    write_json(path, report)
    print(json.dumps({k: v for k, v in report.items() if k != "steps"}, indent=1))
    print(f"written {path}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=584_000, help="test faces (default MS1M part1's 584K)")
    p.add_argument("--new", type=float, default=0.01, help="fraction of them that is new (default 1%%)")
    p.add_argument("--knn", choices=knn.METHODS, default="ivf")
    p.add_argument("--k", type=int, default=80)
    p.add_argument("--nprobe", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    main(p.parse_args())
