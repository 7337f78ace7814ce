#!/usr/bin/env python
"""The MS-Celeb-1M benchmark protocol on synthetic data: test sets of 1, 3, 5, 7 and 9 parts (not a test).

    python benchmarks/bench_scale.py --scales 1 9 --nprobe 4          # 579K and 5.21M, GCN-V (an hour)
    python benchmarks/bench_scale.py --scale-down 10 --compare        # every scale and method, /10 (minutes)
    python benchmarks/bench_scale.py --nprobe 4 --compare knn_cc gcnv # full size, two methods, scale table

Writes MS1M-shaped synthetic data (256-D; about 68 points per identity, as bench_gcnv.py) under
benchmarks/out/scale/data, streamed chunk by chunk (ltc.synthetic.write_split): a train split of
576,494 points / 8,573 identities (MS1M part0_train) and nine parts of 578,889 points / 8,511
identities each; the test set of N parts (``partN_test``) is parts 1..N, as in the original, so
part1_test has 579K points and part9_test 5.21M (76,600 identities). Disk: 21 GB for all scales.

One dataset, ``synth_ms1m``, has the train split and the chosen scales as ``test_scales``, with the
kNN, methods and ``compare`` list of ``ms1m_bench`` in config.yaml, except that thresholds are chosen
on the train split (``auto``, as for the demo: MS1M's values do not suit synthetic features). It runs
``snakemake results/synth_ms1m/<scale>/gcnv/metrics.json`` per scale (``--compare [METHOD ...]``:
``results/synth_ms1m/all``, the compared methods and the scale table ``results/synth_ms1m/scales.md``),
then prints one table of every stage's wall time and peak RSS (Snakemake's benchmark files), the
kNN's recall@k, GCN-V's scores, and which stage dominates; the same goes to
benchmarks/out/scale/report.md. ``--scale-down F`` divides every size by F (dataset
``synth_ms1m_divF``, report_divF.md). ``--floors`` adds, for each test scale, a table of its stages
(wall s, Snakemake's cpu_time, each stage's arithmetic floor measured in the same run by
benchmarks/floors.py, and the ratio wall / floor).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from ltc.datasets import KNN_FILE_TAG  # noqa: E402
from ltc.io import atomic_output, feature_shape  # noqa: E402
from ltc.report import read_benchmark  # noqa: E402
from ltc.synthetic import MS1M_SHAPE, write_split  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "scale"
TRAIN = (576_494, 8_573)  # points, identities of MS1M part0_train
PART = (578_889, 8_511)  # one of the nine test parts: 5.21M points, 76.6K identities in all
SCALES = (1, 3, 5, 7, 9)
RAM_BYTES = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
#: pipeline order of the rules (benchmark file names start with these)
RECALL_SAMPLE = 1000  # knn.recall_sample: queries the kNN merge searches exactly
STAGES = ("synthesize", "validate", "knn", "train_gcnv", "infer_gcnv", "links_gcnv", "select_threshold",
          "cluster", "evaluate")


def write_data(data: Path, scales, scale_down: int, chunk_identities: int) -> None:
    """The train split, the parts the scales need, and each scale's test set (parts 1..N end to end);
    files already there are kept."""
    def split(name, n, identities, seed, offset):
        features, labels = data / "features" / f"{name}.bin", data / "labels" / f"{name}.meta"
        if not (features.exists() and labels.exists()):
            start = time.perf_counter()
            info = write_split(features, labels, max(2, identities // scale_down), dim=256, seed=seed,
                               n_points=n // scale_down, label_offset=offset, chunk_identities=chunk_identities,
                               **MS1M_SHAPE)
            print(f"wrote {name}: {info['n']} points, {info['identities']} identities "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        return features, labels

    split("part0_train", *TRAIN, seed=0, offset=0)
    parts = [split(f"part{i}", *PART, seed=i, offset=i * 1_000_000) for i in range(1, max(scales) + 1)]
    for n in scales:
        for kind, suffix in (("features", "bin"), ("labels", "meta")):
            target = data / kind / f"part{n}_test.{suffix}"
            if not target.exists():
                with atomic_output(target) as tmp, open(tmp, "wb") as out:
                    for part in parts[:n]:
                        with open(part[0 if kind == "features" else 1], "rb") as f:
                            shutil.copyfileobj(f, out, 1 << 24)


def write_config(path: Path, data: Path, dataset: str, args) -> None:
    """ms1m_bench's kNN settings and compare list (or --compare's methods), the demo's `auto` thresholds."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    bench, demo = config["datasets"]["ms1m_bench"], config["datasets"]["demo"]
    knn = dict(bench.get("knn", {}))
    if args.shards:
        knn["shards"] = args.shards
    if args.nprobe:
        knn["ivf"] = {"nprobe": args.nprobe}
    compare = args.compare or bench["compare"]
    methods = {m: v for m, v in demo["methods"].items() if m in compare}
    spec = {"dim": 256, "data_dir": str(data), "train": {"name": "part0_train"},
            "test_scales": {n: {"name": f"part{n}_test"} for n in args.scales},
            "knn": knn, "methods": methods, "compare": compare}
    path.write_text(yaml.safe_dump({"datasets": {dataset: spec}}, sort_keys=False))


def stage_rank(name: str) -> tuple[int, str]:
    return next((i for i, stage in enumerate(STAGES) if name.startswith(stage)), len(STAGES)), name


def current(name: str, args) -> bool:
    """False for the benchmark file of a kNN run with another method or shard count (left from earlier runs)."""
    if not name.startswith("knn"):
        return True
    shards = re.search(r"\.\d+-of-(\d+)$", name)
    tag = KNN_FILE_TAG["ivf"]
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
    for stats in sorted((REPO / "results" / ds / "knn").glob("*/*.json")):
        info = json.loads(stats.read_text())
        recall = next((v for key, v in info.items() if key.startswith("recall")), None)
        found.append(f"{stats.parent.name} {stats.stem}: {recall:.4f}" if isinstance(recall, (int, float))
                     else f"{stats.stem}: n/a")
    return ", ".join(found) or "n/a"


def floor_table(ds: str, data: Path, scale: int, args) -> list[str]:
    """Markdown rows: every test-side stage of ``ds`` with its floor (floors.py, measured now) and ratio."""
    import floors
    features, labels = data / "features" / f"part{scale}_test.bin", data / "labels" / f"part{scale}_test.meta"
    n = feature_shape(features, 256)[0]
    rates = floors.gemm_rates(args.cores)
    rate = max(rates.values()) * 1e9
    index = next((REPO / "results" / ds).glob("knn/test/ivf.index"), None)
    nlist, candidates = floors.ivf_candidates(index) if index else (None, None)
    flop = floors.knn_flop(n, 256, nlist, candidates) if index else {}
    floor_of = {"validate": floors.read_floor(features, 256),
                "knn_index": flop["index"] / rate if flop else None,
                "knn_shard": flop["scan"] / rate if flop else None,
                # the merge writes the kNN once and checks recall@k on a sample by exact search
                "knn_test": floors.write_floor(n, 80, OUT) + 2.0 * RECALL_SAMPLE * n * 256 / rate,
                "infer_gcnv": floors.gcnv_flop(n, 256, 512) / rate,
                "evaluate": floors.metrics_floor(labels)}
    lines = ["", f"### {ds}: stages against their floors", "",
             "GEMM rate " + ", ".join(f"{name} {r:.0f} GFLOP/s" for name, r in rates.items())
             + f" ({args.cores} threads, {' x '.join(map(str, floors.GEMM_SHAPE))} float32); "
             + (f"IVF: {nlist} cells, {candidates:,.0f} candidates per row. " if index else "")
             + "cpu_time is Snakemake's (it under-reports short jobs).", "",
             "| stage | wall s | cpu_time s | floor s | wall / floor |", "|---|---:|---:|---:|---:|"]
    total = floor_total = 0.0
    for tsv in sorted((REPO / "results" / ds / "benchmarks").glob("*.tsv"), key=lambda t: stage_rank(t.stem)):
        if not current(tsv.stem, args):
            continue
        cost = read_benchmark(tsv)
        wall, cpu = cost["s"], cost["cpu_time"] if cost["cpu_time"] is not None else float("nan")
        floor = next((v for prefix, v in floor_of.items() if tsv.stem.startswith(prefix)), None)
        total += wall
        floor_total += floor or 0.0
        lines.append(f"| {tsv.stem} | {wall:.1f} | {cpu:.1f} | " + (f"{floor:.2f} | {wall / floor:.1f}x |"
                                                               if floor else "– | – |"))
    lines.append(f"| **all** | **{total:.1f}** | | **{floor_total:.1f}** | **{total / floor_total:.1f}x** |")
    return lines


def json_or_none(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def report(base: str, args) -> str:
    mem_gib = RAM_BYTES / 2 ** 30
    lines = [f"# Scale benchmark ({datetime.datetime.now():%Y-%m-%d %H:%M})", "",
             f"Machine: {os.cpu_count()} CPUs, {mem_gib:.0f} GiB RAM; snakemake --cores {args.cores}; kNN ivf"
             + (f", nprobe {args.nprobe}" if args.nprobe else "") + (f", {args.shards} shards" if args.shards else "")
             + ". Rows of the base dataset are the train split's (training and threshold choice, once).", "",
             "| dataset | split points | stage | wall s | peak RSS GiB |", "|---|---:|---|---:|---:|"]
    summary = []
    for ds in [base, *(f"{base}/{n}" for n in args.scales)]:
        split = "train" if ds == base else "test"
        info = json_or_none(REPO / "results" / ds / "validate" / f"{split}.json")
        n = f"{info['n']:,}" if info else "?"
        rows = stages(ds, args)
        lines += [f"| {ds} | {n} | {name} | {seconds:.1f} | {rss:.2f} |" for name, seconds, rss in rows]
        if not rows:
            summary.append(f"* **{ds}**: no benchmark files (not run yet?)")
            continue
        total = sum(r[1] for r in rows)
        slowest = max(rows, key=lambda r: r[1])
        largest = max(rows, key=lambda r: r[2])
        knn_s = sum(r[1] for r in rows if r[0].startswith("knn"))
        metrics = json_or_none(REPO / "results" / ds / "gcnv" / "metrics.json")
        scores = ("GCN-V pairwise F %.4f, BCubed F %.4f, NMI %.4f, %d clusters" % (
            metrics["pairwise"]["fscore"], metrics["bcubed"]["fscore"], metrics["nmi"], metrics["n_clusters"])
                  if metrics else "")
        summary.append(
            f"* **{ds}** ({n} {split} points): {total:.0f} s over {len(rows)} rules; dominated by "
            f"`{slowest[0]}` ({slowest[1]:.0f} s, {100 * slowest[1] / total:.0f}%; all kNN rules "
            f"{100 * knn_s / total:.0f}%); largest peak RSS `{largest[0]}` {largest[2]:.2f} GiB. "
            f"kNN recall@k: {knn_recall(ds)}. {scores}")
    table = REPO / "results" / base / "scales.md"
    tail = ["", table.read_text()] if table.exists() else []
    if args.floors:
        data = OUT / ("data" + ("" if args.scale_down == 1 else f"_div{args.scale_down}"))
        for n in args.scales:
            tail += floor_table(f"{base}/{n}", data, n, args)
    return "\n".join(lines + [""] + summary + tail) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scales", type=int, nargs="+", default=list(SCALES), choices=SCALES,
                   help="test sets of this many parts (default: all five)")
    p.add_argument("--compare", nargs="*", metavar="METHOD",
                   help="run these methods (none named: ms1m_bench's compare list) and the scale table "
                        "(default: GCN-V alone, no table)")
    p.add_argument("--shards", type=int, default=None, help="kNN query shards (config knn.shards)")
    p.add_argument("--nprobe", type=int, default=None, help="ivf cells probed per query (default: config)")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--scale-down", type=int, default=1, help="divide every split's size by this (smoke runs)")
    p.add_argument("--chunk-identities", type=int, default=1000, help="identities per generator chunk")
    p.add_argument("--report-only", action="store_true", help="rebuild the table from existing results")
    p.add_argument("--floors", action="store_true", help="measure each test-side stage's floor in this run")
    args = p.parse_args()
    args.scales = sorted(set(args.scales))
    suffix = "" if args.scale_down == 1 else f"_div{args.scale_down}"
    data, config, base = OUT / ("data" + suffix), OUT / f"config{suffix}.yaml", f"synth_ms1m{suffix}"
    if not args.report_only:
        write_data(data, args.scales, args.scale_down, args.chunk_identities)
        write_config(config, data, base, args)
        targets = ([f"results/{base}/all"] if args.compare is not None
                   else [f"results/{base}/{n}/gcnv/metrics.json" for n in args.scales])
        # jobs side by side only while their declared memory fits in 85% of this machine's;
        # the targets first: --resources and --configfile take several values
        memory = f"mem_mb={int(0.85 * RAM_BYTES / 2 ** 20)}"
        subprocess.run(["snakemake", "--cores", str(args.cores), *targets, "--resources", memory,
                        "--configfile", str(config)], cwd=REPO, check=True)
    text = report(base, args)
    (OUT / f"report{suffix}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
