#!/usr/bin/env python
"""Scores of the workflow's methods on the real face embeddings in ../shared/data/real-faces.

    python benchmarks/real_faces.py celeba10k_aligned_dlib extyaleb_cropped_dlib
    python benchmarks/real_faces.py --compare celeba10k_aligned_dlib ...   # every method: results/<name>/all

Protocol (the data's README): identities split in halves with
``numpy.random.default_rng(0).permutation(np.unique(labels))`` (first half = train, rest = test);
exact kNN k=80; thresholds chosen on the train half only. The split files and results go to
benchmarks/out/real/ (never committed: research-use data). Prints a Markdown table.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc.io import read_features, read_labels, write_features, write_labels  # noqa: E402

SOURCE = REPO.parent / "shared" / "data" / "real-faces"
OUT = REPO / "benchmarks" / "out" / "real"


def split_halves(name: str) -> dict:
    """Write the train/test halves of one dataset; return its dataset config."""
    feats = read_features(SOURCE / name / "features" / f"{name}.bin", 128)
    labels = read_labels(SOURCE / name / "labels" / f"{name}.meta")
    ids = np.random.default_rng(0).permutation(np.unique(labels))
    train_ids = ids[: len(ids) // 2]
    config = {"dim": 128, "data_dir": str(OUT / "data")}
    for split, mask in (("train", np.isin(labels, train_ids)), ("test", ~np.isin(labels, train_ids))):
        stem = f"{name}_{split}"
        write_features(OUT / "data" / "features" / f"{stem}.bin", feats[mask])
        write_labels(OUT / "data" / "labels" / f"{stem}.meta", labels[mask])
        config[split] = {"name": stem}
    return config


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="+")
    p.add_argument("--methods", nargs="+", default=["knn_cc", "gcnv", "learned_infomap"])
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--compare", action="store_true",
                   help="run every method (results/<name>/all) and print each results/<name>/comparison.md")
    p.add_argument("--also", nargs="+", default=[], metavar="METHOD",
                   help="with --compare: methods compared beside config.yaml's compare list (e.g. gcnd lgcn)")
    args = p.parse_args()
    # only the datasets' files, as a newcomer writes it: every threshold is auto (chosen on the train half) by default
    config = {"datasets": {name: split_halves(name) for name in args.names}}
    if args.also:
        compare = yaml.safe_load((REPO / "config.yaml").read_text())["compare"]
        for name in args.names:
            config["datasets"][name]["compare"] = compare + [m for m in args.also if m not in compare]
    config_path = OUT / "real_faces.yaml"
    config_path.write_text(yaml.safe_dump(config))
    targets = [f"results/{n}/{m}/metrics.json" for n in args.names for m in args.methods]
    if args.compare:
        targets = [f"results/{n}/all" for n in args.names]
    subprocess.run(["snakemake", "--cores", str(args.cores), "--keep-going", *targets, "--configfile", str(config_path)],
                   cwd=REPO, check=True)
    if args.compare:
        for name in args.names:
            print((REPO / f"results/{name}/comparison.md").read_text())
        return
    print("| data | method | threshold (chosen on train) | pairwise F | BCubed F | NMI | clusters |")
    print("|---|---|---|---|---|---|---|")
    for name in args.names:
        for method in args.methods:
            m = json.loads((REPO / f"results/{name}/{method}/metrics.json").read_text())
            chosen = json.loads((REPO / f"results/{name}/{method}/threshold.json").read_text())
            threshold = chosen[chosen["name"]]
            print(f"| {name} | {method} | {threshold:.4f} | {m['pairwise']['fscore']:.3f} | "
                  f"{m['bcubed']['fscore']:.3f} | {m['nmi']:.3f} | {m['n_clusters']} |")


if __name__ == "__main__":
    main()
