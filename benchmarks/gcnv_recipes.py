#!/usr/bin/env python
"""GCN-V's training recipes side by side, over seeds (issue 15): pairwise F, BCubed F, NMI of GCN-V
(threshold ``auto``, chosen on the train half) and its training time, per dataset x recipe x seed.

    python benchmarks/gcnv_recipes.py                       # extyaleb, celeba10k, a small demo; seeds 0 1 2
    python benchmarks/gcnv_recipes.py --datasets extyaleb_cropped_dlib --recipes original --seeds 0
    python benchmarks/gcnv_recipes.py --table-only          # the table of what has been measured

Recipes (``methods.gcnv.train`` settings): ``minibatch`` (the default), ``minibatch_b256`` (the
same with batch_size 256), ``original`` (the original project's full-graph SGD, ``--steps`` steps).
Datasets: the real sets of ../shared/data/real-faces, split in identity halves as that README says
(benchmarks/real_faces.py), and ``demo`` (the synthetic generator with ``--demo-identities`` per
split; the shipped demo's 600 (14K faces a split) is too slow for the original recipe on 2 cores).

The workflow runs from a snapshot copy (benchmarks/out/recipes/workflow: others' edits of the
checkout do not change a series half-way), one Snakemake run at a time, ``--cores`` cores; each run's
metrics, chosen threshold, training benchmark and loss curve are kept in
benchmarks/out/recipes/runs/<dataset>/<recipe>/seed<N>/ (never committed: research-use data), and a
run already kept is not redone. ``--stop-after`` minutes: no run starts after that. Scores are
mean ± sample standard deviation over the seeds measured; ``train s`` is the train_gcnv rule's
wall time (its Snakemake benchmark) with ``--cores`` threads.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from real_faces import split_halves  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "recipes"
RECIPES = {"minibatch": {"recipe": "minibatch"},
           "minibatch_b256": {"recipe": "minibatch", "batch_size": 256},
           "original": {"recipe": "original"}}
SHORT = {"extyaleb_cropped_dlib": "extyaleb", "celeba10k_aligned_dlib": "celeba10k", "orl_att_dlib": "orl",
         "facescrub8_openface_var7": "facescrub8", "demo": "demo"}


def snapshot() -> Path:
    """A copy of the workflow and the package to run in (made once)."""
    wd = OUT / "workflow"
    if not (wd / "Snakefile").exists():
        wd.mkdir(parents=True, exist_ok=True)
        for name in ("Snakefile", "config.yaml", "workflow", "profiles", "envs", "ltc"):
            src = REPO / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, wd / name)
    return wd


def dataset_config(name: str, demo_identities: int) -> dict:
    if name == "demo":
        return {"dim": 256, "data_dir": str(OUT / "data"),
                "synthetic": {"seed": 0, "train_identities": demo_identities, "test_identities": demo_identities},
                "train": {"name": "rc_demo_train"}, "test": {"name": "rc_demo_test"}}
    return split_halves(name)


def run_one(wd: Path, name: str, recipe: str, seed: int, args) -> Path | None:
    """Run GCN-V on dataset ``name`` with ``recipe`` and ``seed``; the folder of its kept results."""
    keep = OUT / "runs" / name / recipe / f"seed{seed}"
    if (keep / "metrics.json").exists():
        return keep
    ds = "rc_" + SHORT.get(name, name)
    train = {**RECIPES[recipe], "seed": seed, "steps": args.steps, "device": "cpu"}
    config = {"dataset": ds, "method": "gcnv", "knn": {"k": 80},
              "datasets": {ds: {**dataset_config(name, args.demo_identities),
                                "methods": {"gcnv": {"train": train}}}}}
    (wd / "recipes.yaml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores), f"results/{ds}/gcnv/metrics.json",
                           "--rerun-incomplete", "--configfile", "recipes.yaml"], cwd=wd, capture_output=True, text=True)
    if proc.returncode:
        print(f"{name} {recipe} seed {seed}: snakemake failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
        return None
    keep.mkdir(parents=True, exist_ok=True)
    res = wd / "results" / ds
    for src in (res / "gcnv/metrics.json", res / "gcnv/threshold.json", res / "benchmarks/train_gcnv.tsv",
                res / "gcnv/train_curve.tsv"):
        shutil.copy(src, keep / src.name)
    print(f"{name} {recipe} seed {seed}: done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return keep


def read_run(folder: Path) -> dict:
    m = json.loads((folder / "metrics.json").read_text())
    chosen = json.loads((folder / "threshold.json").read_text())
    bench = (folder / "train_gcnv.tsv").read_text().splitlines()
    seconds = float(dict(zip(bench[0].split("\t"), bench[1].split("\t")))["s"])
    curve = (folder / "train_curve.tsv").read_text().splitlines()
    return {"pairwise": m["pairwise"]["fscore"], "bcubed": m["bcubed"]["fscore"], "nmi": m["nmi"],
            "train_s": seconds, "threshold": chosen[chosen["name"]], "curve_rows": len(curve) - 1}


def spread(values: list[float], digits: int = 3) -> str:
    """mean ± sample standard deviation (the mean alone for one value)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(names, recipes, seeds) -> str:
    lines = ["| data | recipe | seeds | pairwise F | BCubed F | NMI | train s | per seed (pairwise F) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in names:
        for recipe in recipes:
            runs = {s: read_run(OUT / "runs" / name / recipe / f"seed{s}") for s in seeds
                    if (OUT / "runs" / name / recipe / f"seed{s}" / "metrics.json").exists()}
            if not runs:
                continue
            col = {key: [r[key] for r in runs.values()] for key in ("pairwise", "bcubed", "nmi", "train_s")}
            per_seed = ", ".join(f"{s}: {r['pairwise']:.3f}" for s, r in runs.items())
            lines.append(f"| {SHORT.get(name, name)} | {recipe} | {len(runs)} | {spread(col['pairwise'])} | "
                         f"{spread(col['bcubed'])} | {spread(col['nmi'])} | {spread(col['train_s'], 0)} | {per_seed} |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["extyaleb_cropped_dlib", "celeba10k_aligned_dlib", "demo"])
    p.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=4000, help="full-graph steps of the original recipe")
    p.add_argument("--demo-identities", type=int, default=100, help="identities per split of the synthetic demo")
    p.add_argument("--cores", type=int, default=1)
    p.add_argument("--stop-after", type=float, default=None, help="minutes after which no run starts")
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args()
    if not args.table_only:
        wd, start = snapshot(), time.perf_counter()
        for seed in args.seeds:  # every dataset and recipe at one seed before the next seed
            for name in args.datasets:
                for recipe in args.recipes:
                    if args.stop_after is not None and time.perf_counter() - start > 60 * args.stop_after:
                        print("--stop-after reached: no more runs", file=sys.stderr)
                        print(table(args.datasets, args.recipes, args.seeds))
                        return
                    run_one(wd, name, recipe, seed, args)
    print(table(args.datasets, args.recipes, args.seeds))


if __name__ == "__main__":
    main()
