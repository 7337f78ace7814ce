#!/usr/bin/env python
"""GCN-V at MS1M 5.21M scale on synthetic data: every stage's time and peak memory (not a test).

    python benchmarks/bench_scale.py [--shards S] [--cores 2] [--knn ivf]    # the full benchmark (hours)
    python benchmarks/bench_scale.py --scale-down 50                         # a smoke run (minutes)

Writes MS1M-shaped synthetic splits (256-D; about 68 points per identity, as bench_gcnv.py) under
benchmarks/out/scale/data, streamed chunk by chunk (ltc.synthetic.write_split): a train split of
576,494 points / 8,573 identities, and test splits of 584,013 points (MS1M part1) and 5.21M points
(MS1M's 9 parts, about 76,600 identities). Two datasets share the train split:

* ``synth584k``: train -> kNN -> train_gcnv -> infer/links on train -> select_threshold (tau_0) ->
  test: kNN -> infer_gcnv -> links_gcnv -> cluster -> evaluate;
* ``synth5m``: test only, with ``synth584k``'s model and threshold (``model_from``):
  validate -> kNN -> infer_gcnv -> links_gcnv -> cluster -> evaluate.

Runs ``snakemake --cores N results/<ds>/gcnv/metrics.json`` for each, then prints one table of every
stage's wall time and peak RSS (Snakemake's benchmark files, results/<ds>/benchmarks/), the kNN's
recall@80 (results/<ds>/knn/test/*.json), the scores, and which stage dominates; the same goes to
benchmarks/out/scale/report.md. ``--scale-down F`` divides every size by F (datasets
``synth584k_divF``/``synth5m_divF``, report_divF.md), to check the script end to end.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltc.datasets import KNN_FILE_TAG  # noqa: E402
from ltc.report import read_benchmark  # noqa: E402
from ltc.synthetic import MS1M_SHAPE, write_split  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "scale"
#: split name -> (points, identities, seed, label offset); sizes of MS1M part0_train, part1_test, part9_test
SPLITS = {
    "scale_train": (576_494, 8_573, 1, 0),
    "scale_test584k": (584_013, 8_573, 2, 1_000_000),
    "scale_test5m": (5_210_000, 76_600, 3, 2_000_000),
}
#: pipeline order of the rules (benchmark file names start with these)
STAGES = ("synthesize", "validate", "knn", "train_gcnv", "infer_gcnv", "links_gcnv", "select_threshold",
          "cluster", "evaluate")


def write_splits(data: Path, scale_down: int, chunk_identities: int) -> dict[str, str]:
    """Write the three splits (skipping those already there); returns split key -> file name."""
    names = {}
    for key, (n, identities, seed, offset) in SPLITS.items():
        name = key if scale_down == 1 else f"{key}_div{scale_down}"
        names[key] = name
        features, labels = data / "features" / f"{name}.bin", data / "labels" / f"{name}.meta"
        if features.exists() and labels.exists():
            continue
        start = time.perf_counter()
        info = write_split(features, labels, max(2, identities // scale_down), dim=256, seed=seed,
                           n_points=n // scale_down, label_offset=offset, chunk_identities=chunk_identities,
                           **MS1M_SHAPE)
        print(f"wrote {name}: {info['n']} points, {info['identities']} identities "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return names


def write_config(path: Path, data: Path, names: dict, suffix: str, args) -> tuple[str, str]:
    small, large = f"synth584k{suffix}", f"synth5m{suffix}"
    knn = {"method": args.knn}
    if args.shards:
        knn["shards"] = args.shards  # the sharded kNN's setting (needs the config schema to know it)
    config = {"datasets": {
        small: {"dim": 256, "data_dir": str(data), "train": {"name": names["scale_train"]},
                "test": {"name": names["scale_test584k"]}, "knn": dict(knn), "methods": {"gcnv": {"tau_0": "auto"}}},
        large: {"dim": 256, "data_dir": str(data), "test": {"name": names["scale_test5m"]},
                "knn": dict(knn, **({"ivf": {"nprobe": args.nprobe_large}} if args.nprobe_large else {})),
                "methods": {"gcnv": {"model_from": small, "tau_0": "auto"}}},
    }}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return small, large


def stage_rank(name: str) -> tuple[int, str]:
    return next((i for i, stage in enumerate(STAGES) if name.startswith(stage)), len(STAGES)), name


def current(name: str, args) -> bool:
    """False for the benchmark file of a kNN run with another method or shard count (left from earlier runs)."""
    if not name.startswith("knn"):
        return True
    shards = re.search(r"\.\d+-of-(\d+)$", name)
    tag = KNN_FILE_TAG[args.knn]
    return f"_{tag}" in name and (not shards or int(shards.group(1)) == (args.shards or 1))


def stages(ds: str, args) -> list[tuple[str, float, float]]:
    """(rule, wall seconds, peak RSS GiB) of every current benchmark file of a dataset, in pipeline order."""
    rows = []
    for tsv in (REPO / "results" / ds / "benchmarks").glob("*.tsv"):
        if not current(tsv.stem, args):
            continue
        cost = read_benchmark(tsv)
        if cost["s"] is not None:
            rows.append((tsv.stem, cost["s"], (cost["max_rss"] or 0) / 1024))
    return sorted(rows, key=lambda r: stage_rank(r[0]))


def knn_recall(ds: str) -> str:
    found = []
    for stats in sorted((REPO / "results" / ds / "knn" / "test").glob("*.json")):
        info = json.loads(stats.read_text())
        recall = next((v for key, v in info.items() if key.startswith("recall")), None)
        found.append(f"{stats.stem}: {recall:.4f}" if isinstance(recall, (int, float)) else f"{stats.stem}: n/a")
    return ", ".join(found) or "n/a"


def json_or_none(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def report(datasets: list[str], args) -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    lines = [f"# GCN-V scale benchmark ({datetime.datetime.now():%Y-%m-%d %H:%M})", "",
             f"Machine: {os.cpu_count()} CPUs, {mem_gib:.0f} GiB RAM; snakemake --cores {args.cores}; "
             f"kNN {args.knn}" + (f", {args.shards} shards" if args.shards else "") + ".", "",
             "| dataset | split points | stage | wall s | peak RSS GiB |", "|---|---:|---|---:|---:|"]
    summary = []
    for ds in datasets:
        sizes = {split: json_or_none(REPO / "results" / ds / "validate" / f"{split}.json") for split in ("train", "test")}
        sizes = {split: f"{info['n']:,}" if info else "?" for split, info in sizes.items()}
        n = sizes["test"]
        rows = stages(ds, args)
        for name, seconds, rss in rows:
            split = "train" if "train" in name or name.startswith("select_threshold") else "test"
            lines.append(f"| {ds} | {sizes[split]} | {name} | {seconds:.1f} | {rss:.2f} |")
        if not rows:
            summary.append(f"* **{ds}**: no benchmark files (not run yet?)")
            continue
        total = sum(r[1] for r in rows)
        slowest = max(rows, key=lambda r: r[1])
        largest = max(rows, key=lambda r: r[2])
        knn_s = sum(r[1] for r in rows if r[0].startswith("knn"))
        metrics = json_or_none(REPO / "results" / ds / "gcnv" / "metrics.json")
        scores = ("pairwise F %.4f, BCubed F %.4f, NMI %.4f, %d clusters" % (
            metrics["pairwise"]["fscore"], metrics["bcubed"]["fscore"], metrics["nmi"], metrics["n_clusters"])
                  if metrics else "no metrics.json")
        summary.append(
            f"* **{ds}** ({n} test points): {total:.0f} s over {len(rows)} rules; dominated by "
            f"`{slowest[0]}` ({slowest[1]:.0f} s, {100 * slowest[1] / total:.0f}%; all kNN rules "
            f"{100 * knn_s / total:.0f}%); largest peak RSS `{largest[0]}` {largest[2]:.2f} GiB. "
            f"kNN recall@k: {knn_recall(ds)}. Test scores: {scores}.")
    return "\n".join(lines + [""] + summary) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", type=int, default=None, help="kNN query shards (config knn.shards); left out if not given")
    p.add_argument("--knn", default="ivf", choices=["flat", "ivf", "hnsw"])
    p.add_argument("--nprobe-large", type=int, default=None, help="ivf cells probed per query for synth5m (default: config)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--scale-down", type=int, default=1, help="divide every split's size by this (smoke runs)")
    p.add_argument("--chunk-identities", type=int, default=1000, help="identities per generator chunk")
    p.add_argument("--only", choices=["small", "large"], help="run only synth584k (small) or synth5m (large)")
    p.add_argument("--report-only", action="store_true", help="rebuild the table from existing results")
    args = p.parse_args()
    suffix = "" if args.scale_down == 1 else f"_div{args.scale_down}"
    data = OUT / ("data" + suffix)
    names = write_splits(data, args.scale_down, args.chunk_identities)
    config = OUT / f"config{suffix}.yaml"
    datasets = write_config(config, data, names, suffix, args)
    targets = {"small": datasets[:1], "large": datasets[1:]}.get(args.only, datasets)
    if not args.report_only:
        for ds in targets:
            # the target before --configfile, which takes several values
            subprocess.run(["snakemake", "--cores", str(args.cores), f"results/{ds}/gcnv/metrics.json",
                            "--configfile", str(config)], cwd=REPO, check=True)
    text = report(list(datasets), args)
    (OUT / f"report{suffix}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
