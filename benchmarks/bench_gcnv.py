#!/usr/bin/env python
"""GCN-V at MS1M scale on synthetic data (not a test: run it by hand, it takes tens of minutes).

    python benchmarks/bench_gcnv.py [--knn ivf] [--cores 2]

Writes MS1M-shaped synthetic splits (train 576K, test 584K, 256-D, 8573 identities each, the
identity sizes and tightness of bench_skeleton.py) under benchmarks/out/gcnv/, runs the workflow on
them (validate, kNN, train_gcnv, infer_gcnv, links_gcnv, select_threshold_links, cluster_links, evaluate) and
prints each rule's wall time and peak RSS from Snakemake's benchmark files, plus the totals asked for:
inference + clustering with and without the test kNN, and training.
"""
import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc.io import write_features, write_labels  # noqa: E402
from ltc.synthetic import make_split  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "gcnv"
SPLITS = {"train": ("ms1m_synth_train", 576_494, 1), "test": ("ms1m_synth_test", 584_013, 2)}


def write_splits() -> None:
    for name, n, seed in SPLITS.values():
        if (OUT / "data" / "labels" / f"{name}.meta").exists():
            continue
        rng = np.random.default_rng(seed)
        nuisance = np.linalg.qr(np.random.default_rng(0).standard_normal((256, 16)))[0]
        feats, labels = make_split(8573, 256, rng, nuisance=nuisance, mean_log_size=3.9, max_size=2000,
                                   min_spread=0.5, max_spread=1.0, nuisance_share=0.3)
        write_features(OUT / "data" / "features" / f"{name}.bin", feats[:n])
        write_labels(OUT / "data" / "labels" / f"{name}.meta", labels[:n])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--knn", default="ivf", choices=["flat", "ivf", "hnsw"])
    p.add_argument("--cores", type=int, default=2)
    args = p.parse_args()
    write_splits()
    ds = "ms1m_synth"
    config = {"datasets": {ds: {"dim": 256, "data_dir": str(OUT / "data"),
                                "train": {"name": SPLITS["train"][0]}, "test": {"name": SPLITS["test"][0]},
                                "knn": {"method": args.knn},
                                "methods": {"gcnv": {"tau_0": "auto"}}}}}
    (OUT / "config.yaml").write_text(yaml.safe_dump(config))
    subprocess.run(["snakemake", "--cores", str(args.cores), f"results/{ds}/gcnv/metrics.json",
                    "--configfile", str(OUT / "config.yaml")], cwd=REPO, check=True)
    rows = {}
    for tsv in sorted((REPO / "results" / ds / "benchmarks").glob("*.tsv")):
        with open(tsv) as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        rows[tsv.stem] = (float(row["s"]), float(row["max_rss"]) / 1024)
    print(f"{'rule':<40} {'seconds':>9} {'peak RSS GiB':>13}")
    for name, (s, rss) in rows.items():
        print(f"{name:<40} {s:>9.1f} {rss:>13.2f}")
    tag = {"flat": "faiss"}.get(args.knn, args.knn)
    stages = ("infer_gcnv_test", "links_gcnv_test", "cluster_gcnv")
    infer = sum(rows[s][0] for s in stages)
    print(f"inference + clustering on the test split, kNN excluded: {infer:.1f} s, "
          f"peak {max(rows[s][1] for s in stages):.2f} GiB")
    print(f"... kNN included ({args.knn}): {infer + rows[f'knn_test_{tag}_k_80'][0]:.1f} s")
    print(f"training (to early stop): {rows['train_gcnv'][0]:.1f} s, peak {rows['train_gcnv'][1]:.2f} GiB")
    metrics = json.loads((REPO / "results" / ds / "gcnv" / "metrics.json").read_text())
    print("test pairwise F %.4f, BCubed F %.4f, NMI %.4f" % (
        metrics["pairwise"]["fscore"], metrics["bcubed"]["fscore"], metrics["nmi"]))


if __name__ == "__main__":
    main()
