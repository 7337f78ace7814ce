"""Test sets of growing scale (datasets.<ds>.test_scales, the MS-Celeb-1M benchmark protocol):
one dataset per scale that learns once from the base's train split, and one table of them all."""
import json

import pytest
import yaml

from ltc import datasets, scales
from ltc.io import read_labels
from ltc.report import COLUMNS, SHARED_NAME
from ltc.synthetic import write_split
from helpers import REPO, TINY_GCNV, planned_jobs, snakemake, with_, workdir

DIM = 32
#: split name -> (identities, seed, label offset)
SPLITS = {"part0_train": (30, 1, 0), "part1_test": (20, 2, 1000), "part3_test": (45, 3, 2000), "part5_test": (60, 4, 3000)}


def bench_config(data, scales_):
    return with_(TINY_GCNV, datasets={"bench": {
        "dim": DIM, "data_dir": str(data), "train": {"name": "part0_train"},
        "test_scales": {s: {"name": f"part{s}_test"} for s in scales_},
        "compare": ["knn_cc", "gcnv"],
        "methods": {"knn_cc": {"threshold": "auto"}, "gcnv": {"tau_0": "auto"}}}})


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    wd = workdir(tmp_path_factory.mktemp("scales"))
    data = wd / "data" / "bench"
    for name, (identities, seed, offset) in SPLITS.items():
        write_split(data / "features" / f"{name}.bin", data / "labels" / f"{name}.meta", identities, dim=DIM,
                    seed=seed, label_offset=offset)
    config = bench_config(data, [1, 3])
    snakemake(wd, "results/bench/all", config=config)
    return wd, data, config


def test_each_scale_is_scored_with_what_the_train_split_taught_once(bench):
    wd, data, _ = bench
    for scale in ("1", "3"):
        assert "method: gcnv" in (wd / f"results/bench/{scale}/fscore.txt").read_text()
        for method in ("knn_cc", "gcnv"):
            assert (wd / f"results/bench/{scale}/{method}/metrics.json").exists()
        assert not (wd / f"results/bench/{scale}/gcnv/model.pt").exists()  # no training per scale
        assert not (wd / f"results/bench/{scale}/knn/train").exists()
    # learned once, on the base's train split: the model and both `auto` thresholds
    assert (wd / "results/bench/gcnv/model.pt").exists()
    assert (wd / "results/bench/gcnv/threshold.json").exists()
    assert (wd / "results/bench/knn_cc/threshold.json").exists()
    assert len(read_labels(data / "labels/part3_test.meta")) > len(read_labels(data / "labels/part1_test.meta"))


def test_the_table_holds_every_scale_and_method(bench):
    wd, data, _ = bench
    rows = read_tsv_rows(wd / "results/bench/scales.tsv")
    assert [(r["scale"], r["method"]) for r in rows] == [
        ("1", "knn_cc"), ("1", "gcnv"), ("1", SHARED_NAME), ("3", "knn_cc"), ("3", "gcnv"), ("3", SHARED_NAME)]
    for r in rows:
        labels = read_labels(data / f"labels/part{r['scale']}_test.meta")
        assert int(r["test_points"]) == len(labels)
        assert int(r["identities"]) == len(set(labels.tolist()))
        if r["method"] != SHARED_NAME:  # the scores are the scale's own metrics.json
            metrics = json.loads((wd / f"results/bench/{r['scale']}/{r['method']}/metrics.json").read_text())
            assert float(r["pairwise_fscore"]) == pytest.approx(metrics["pairwise"]["fscore"], abs=1e-5)
            assert float(r["bcubed_fscore"]) == pytest.approx(metrics["bcubed"]["fscore"], abs=1e-5)
            assert float(r["nmi"]) == pytest.approx(metrics["nmi"], abs=1e-5)
            assert float(r["wall_time_s"]) > 0
    md = (wd / "results/bench/scales.md").read_text()
    n1, n3 = (len(read_labels(data / f"labels/part{s}_test.meta")) for s in (1, 3))
    assert f"| method | 1 ({n1:,}) | 3 ({n3:,}) |" in md
    assert (wd / "results/bench/scales.png").stat().st_size > 0


def read_tsv_rows(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def test_a_new_scale_runs_only_its_own_test_side(bench):
    wd, data, config = bench
    assert planned_jobs(wd, config, "results/bench/all") == {}
    planned = planned_jobs(wd, bench_config(data, [1, 3, 5]), "results/bench/all")
    assert planned == {"validate": 1, "knn_shard": 1, "knn": 1, "cluster_knn_cc": 1, "infer_gcnv": 1,
                       "links_gcnv": 1, "cluster_links": 1, "evaluate": 2, "compare": 1, "compare_scales": 1,
                       "default_method_scores": 1, "compare_all": 2}


def test_the_base_has_no_test_split_of_its_own(bench):
    wd, _, config = bench
    proc = snakemake(wd, "-n", "results/bench/fscore.txt", config=config, check=False)
    assert proc.returncode != 0
    assert ("dataset 'bench' has test scales instead of a test split: ask for results/bench/<scale>/... "
            "(scales: 1, 3) or for their table, results/bench/scales.md.") in " ".join((proc.stdout + proc.stderr).split())


def test_a_scale_must_start_with_a_digit(bench):
    wd, data, config = bench
    bad = bench_config(data, [1])
    bad["datasets"]["bench"]["test_scales"] = {"knn": {"name": "part1_test"}}
    proc = snakemake(wd, "-n", config=bad, check=False)
    assert proc.returncode != 0 and "config key datasets.bench.test_scales.knn is not a valid name there" in proc.stdout + proc.stderr


def test_markdown_by_hand(tmp_path):
    def row(method, f=None, b=None, t=None, m=None):
        return {**dict.fromkeys(COLUMNS), "method": method, "pairwise_fscore": f, "bcubed_fscore": b,
                "wall_time_s": t, "peak_rss_mb": m}

    small = scales.Scale("1", 1000, 10, [row("a", 0.9, 0.8, 2.0, 100), row(SHARED_NAME, t=1.0, m=50)])
    large = scales.Scale("3", 3000, 30, [row("a", 0.7, 0.6, 90.0, 300), row("b", 0.5, 0.4, 5.0, 20),
                                         row(SHARED_NAME, t=4.0, m=70)])
    md = scales.format_markdown([small, large], "x")
    assert "| 1 | 1,000 | 10 |" in md and "| 3 | 3,000 | 30 |" in md
    assert "| a | **0.9000** / **0.8000** | **0.7000** / **0.6000** |" in md  # the best of each scale in bold
    assert "| b | - | 0.5000 / 0.4000 |" in md  # a method missing at one scale
    assert "| a | 2.0 / 100 | 90 (1m 30s) / 300 |" in md
    assert f"| {SHARED_NAME} | 1.0 / 50 | 4.0 / 70 |" in md
    assert f"| {SHARED_NAME} | -" not in md.split("## Time")[0]  # no scores row for the kNN graph
    given_knn = scales.Scale("1", 1000, 10, [dict(row("a", 0.9, 0.8, 2.0, 100), n_clusters=1234567)])
    md = scales.format_markdown([given_knn], "x")  # a given kNN file: no shared row, no note about it
    assert SHARED_NAME not in md
    scales.write_long_tsv([given_knn], tmp_path / "s.tsv")
    header, line = (tmp_path / "s.tsv").read_text().splitlines()
    assert dict(zip(header.split("\t"), line.split("\t")))["n_clusters"] == "1234567"  # whole, not 1.23457e+06 (read_tsv: ints)


def test_ms1m_bench_scales_come_from_its_archive():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"] = datasets.with_test_scales(config["datasets"])
    assert [d for d in config["datasets"] if d.startswith("ms1m_bench/")] == [f"ms1m_bench/{n}" for n in (1, 3, 5, 7, 9)]
    scale = config["datasets"]["ms1m_bench/5"]
    assert "train" not in scale and scale["scale_of"] == "ms1m_bench"
    assert scale["knn"] == config["datasets"]["ms1m_bench"]["knn"]
    assert datasets.split(config, "ms1m_bench/5", "test").features == "data/ms1m_bench/features/part5_test.bin"
    produced = datasets.produced_files(config, "ms1m_bench/5")
    assert produced["data/ms1m_bench/features/part5_test.bin"] == "archive data"
    assert produced["data/ms1m_bench/labels/part5_test.meta"] == "archive data"
    assert datasets.base_of(config, "ms1m_bench/5") == "ms1m_bench" and datasets.base_of(config, "ms1m") == "ms1m"

