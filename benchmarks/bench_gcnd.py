#!/usr/bin/env python
"""GCN-D (+ GCN-S) at MS1M scale on synthetic data (not a test: run it by hand; tens of minutes).

    python benchmarks/bench_gcnd.py [--scale 1.0] [--knn ivf] [--cores 2] [--segment] [--workdir DIR]
                                    [--max-proposals N] [--max-epochs N] [--keep-workflow]

Writes MS1M-shaped synthetic splits (at --scale 1: train 576K, test 584K, 256-D, 8573 identities each,
the generator settings of bench_gcnv.py; a smaller scale shrinks both counts) under
benchmarks/out/gcnd/, runs the workflow on them in a copy of the workflow (--workdir) up to GCN-D's
scores (thresholds_gcnd, proposals_gcnd per setting, train_gcnd, infer_gcnd, deoverlap_gcnd, with
--segment train_gcns and infer_gcns too, evaluate) with the config's methods.gcnd settings, and
prints each stage's wall time, CPU time and peak RSS from Snakemake's benchmark files, the
proposals per setting, and the test scores.
"""
import argparse
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc.io import write_features, write_labels  # noqa: E402
from ltc.synthetic import make_split  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "gcnd"
SPLITS = {"train": ("train", 576_494, 1), "test": ("test", 584_013, 2)}
IDENTITIES = 8573


def write_splits(data: Path, scale: float) -> dict:
    """The two splits' file stems (written once per scale)."""
    names = {}
    for split, (stem, n, seed) in SPLITS.items():
        name = f"gcnd_synth_{scale:g}_{stem}"
        names[split] = name
        if (data / "labels" / f"{name}.meta").exists():
            continue
        rng = np.random.default_rng(seed)
        nuisance = np.linalg.qr(np.random.default_rng(0).standard_normal((256, 16)))[0]
        feats, labels = make_split(max(2, round(IDENTITIES * scale)), 256, rng, nuisance=nuisance, mean_log_size=3.9,
                                   max_size=2000, min_spread=0.5, max_spread=1.0, nuisance_share=0.3)
        count = round(n * scale)
        write_features(data / "features" / f"{name}.bin", feats[:count])
        write_labels(data / "labels" / f"{name}.meta", labels[:count])
    return names


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="fraction of MS1M's split sizes and identity count")
    p.add_argument("--knn", default="ivf", choices=["flat", "ivf", "hnsw"])
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--segment", action="store_true", help="with GCN-S (methods.gcnd.segment.enabled)")
    p.add_argument("--workdir", type=Path, default=OUT / "wd", help="where the workflow copy runs")
    p.add_argument("--keep-workflow", action="store_true", help="run the workflow copy already in --workdir")
    p.add_argument("--max-proposals", type=int, default=None, help="methods.gcnd.train.max_proposals (default: all)")
    p.add_argument("--max-epochs", type=int, default=30, help="methods.gcnd.train.max_epochs")
    args = p.parse_args()
    names = write_splits(OUT / "data", args.scale)
    wd = args.workdir
    wd.mkdir(parents=True, exist_ok=True)
    for name in () if args.keep_workflow else ("Snakefile", "config.yaml", "workflow", "profiles", "envs", "ltc"):
        target = wd / name
        if target.is_dir():
            shutil.rmtree(target)
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, target)
    ds = f"gcnd_synth_{round(args.scale * 1000)}"  # dataset names: letters, digits, _
    config = {"datasets": {ds: {"dim": 256, "data_dir": str(OUT / "data"), "train": {"name": names["train"]},
                                "test": {"name": names["test"]}, "knn": {"method": args.knn},
                                "methods": {"gcnd": {"segment": {"enabled": args.segment},
                                                     "train": {"max_proposals": args.max_proposals,
                                                               "max_epochs": args.max_epochs}}}}}}
    (wd / "bench.yaml").write_text(yaml.safe_dump(config))
    subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores), f"results/{ds}/gcnd/metrics.json",
                    "--configfile", "bench.yaml"], cwd=wd, check=True)
    results = wd / "results" / ds
    print(f"{'stage':<44} {'wall s':>8} {'CPU s':>8} {'peak RSS GiB':>13}")
    for tsv in sorted((results / "benchmarks").glob("*gcn[ds]*.tsv")):
        with open(tsv) as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        print(f"{tsv.stem:<44} {float(row['s']):>8.1f} {float(row['cpu_time']):>8.1f} "
              f"{float(row['max_rss']) / 1024:>13.2f}")
    print("proposals per setting (split, file, count, vertices covered):")
    for path in sorted((results / "gcnd").glob("*/proposals/*.npz")):
        with np.load(path) as z:
            print(f"  {path.parent.parent.name:<6} {path.stem:<20} {len(z['offsets']) - 1:>8} "
                  f"{len(np.unique(z['members'])):>9} of {int(z['n'])} (th {float(z['th']):.4f})")
    metrics = json.loads((results / "gcnd" / "metrics.json").read_text())
    print("test pairwise F %.4f, BCubed F %.4f, NMI %.4f" % (
        metrics["pairwise"]["fscore"], metrics["bcubed"]["fscore"], metrics["nmi"]))


if __name__ == "__main__":
    main()
