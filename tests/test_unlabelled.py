"""results/<ds>/all on a test split without labels: a summary (clusters, sizes, cost per method)."""
import csv

import numpy as np
import pytest
from helpers import custom, snakemake, with_, workdir

from ltc.clusters import format_summary, size_summary, summary_rows, write_summary


def bench(folder, stem, seconds, rss):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.tsv").write_text("s\th:m:s\tmax_rss\tmax_vms\n"
                                        f"{seconds}\t0:00:01\t{rss}\t1\n")


def test_size_summary_by_hand():
    # sizes: label 4 -> 3 items, 1 -> 2, 0 -> 1, 9 -> 1: median of (1, 1, 2, 3) = 1.5
    assert size_summary(np.array([4, 1, 4, 0, 1, 4, 9])) == {
        "n_items": 7, "n_clusters": 4, "largest": 3, "median_size": 1.5, "n_singletons": 2}


def test_summary_rows_costs_by_hand(tmp_path):
    b = tmp_path / "benchmarks"
    bench(b, "cluster_knn_cc", 1.5, 100)
    bench(b, "select_threshold_knn_cc", 2.5, 300)
    bench(b, "cluster_infomap", 4.0, 50)
    bench(b, "knn_test", 10.0, 700)
    bench(b, "evaluate_knn_cc", 99.0, 9999)  # scoring never counts
    (tmp_path / "a.meta").write_text("0\n0\n1\n")
    (tmp_path / "b.meta").write_text("0\n1\n2\n")
    rows = summary_rows(["knn_cc", "infomap"], [tmp_path / "a.meta", tmp_path / "b.meta"], b,
                        ["knn_cc", "infomap"], steps={"infomap": ["cluster_infomap"]}, shared=["knn_test"])
    knn_cc, infomap, shared = rows
    assert (knn_cc.wall_time_s, knn_cc.peak_rss_mb) == (4.0, 300)  # found by name: 1.5 + 2.5 s, max(100, 300) MB
    assert knn_cc.steps == ["cluster_knn_cc", "select_threshold_knn_cc"]
    assert (knn_cc.n_clusters, knn_cc.largest, knn_cc.median_size, knn_cc.n_singletons) == (2, 2, 1.5, 1)
    assert (infomap.wall_time_s, infomap.n_clusters, infomap.n_singletons) == (4.0, 3, 3)
    assert (shared.method, shared.wall_time_s, shared.peak_rss_mb, shared.n_clusters) == (
        "kNN graph (shared)", 10.0, 700, None)
    write_summary(rows, "mine", tsv=tmp_path / "s.tsv", md=tmp_path / "s.md")
    table = list(csv.DictReader(open(tmp_path / "s.tsv"), delimiter="\t"))
    assert table[0] == {"method": "knn_cc", "n_items": "3", "n_clusters": "2", "largest": "2", "median_size": "1.5",
                        "n_singletons": "1", "wall_time_s": "4", "peak_rss_mb": "300",
                        "steps": "cluster_knn_cc,select_threshold_knn_cc"}
    assert table[2]["n_clusters"] == "" and table[2]["wall_time_s"] == "10"
    assert "| knn_cc | 3 | 2 | 2 | 1.5 | 1 | 4.0 | 300 |" in format_summary(rows, "mine")


def test_summary_refuses_a_step_that_never_ran(tmp_path):
    from ltc import DataError
    bench(tmp_path / "b", "cluster_knn_cc", 1, 1)
    (tmp_path / "a.meta").write_text("0\n")
    with pytest.raises(DataError, match="cluster_nothing"):
        summary_rows(["knn_cc"], [tmp_path / "a.meta"], tmp_path / "b", ["knn_cc"], steps={"knn_cc": ["cluster_nothing"]})


def unlabelled(tmp_path):
    """Six points that knn_cc (cosine >= 0.5) and single-linkage FastHAC (distance <= 0.5) both cut into
    {0,1,2} {3,4} {5}; the test split has no labels and there is no train split."""
    rng = np.random.default_rng(0)
    axes = np.eye(8, dtype=np.float32)[[0, 0, 0, 1, 1, 2]]
    config = custom(tmp_path, axes + 0.01 * rng.standard_normal(axes.shape), [0] * 6)
    return with_(config, datasets__mine__test__labels=None, datasets__mine__compare=["knn_cc", "fast_hac"],
                 methods__fast_hac={"distance": 0.5})


def test_all_on_an_unlabelled_test_split_writes_a_summary(tmp_path):
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    old = [wd / "results/mine/fscore.txt", wd / "results/mine/knn_cc/metrics.json"]  # of an earlier labelled run
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old\n")
    proc = snakemake(wd, "results/mine/all", config=unlabelled(tmp_path))
    assert not (wd / "results/mine/comparison.tsv").exists()
    log = (wd / "results/mine/logs/summary.log").read_text()
    assert "results/mine/fscore.txt, results/mine/knn_cc/metrics.json: from an earlier run" in log, proc.stdout
    assert "**Old scores:** `results/mine/fscore.txt`, `results/mine/knn_cc/metrics.json` are from an earlier" in (
        wd / "results/mine/summary.md").read_text()
    rows = list(csv.DictReader(open(wd / "results/mine/summary.tsv"), delimiter="\t"))
    assert [r["method"] for r in rows] == ["knn_cc", "fast_hac", "kNN graph (shared)"]
    for row in rows[:2]:
        assert (row["n_items"], row["n_clusters"], row["largest"], row["median_size"], row["n_singletons"]) == (
            "6", "3", "3", "2", "1")
    bench_dir = wd / "results/mine/benchmarks"
    own = [p.stem for p in bench_dir.glob("*.tsv") if "knn_cc" in p.stem]
    assert rows[0]["steps"].split(",") == sorted(own) == ["cluster_knn_cc"]  # no threshold sweep: a fixed number
    seconds = float(next(csv.DictReader(open(bench_dir / "cluster_knn_cc.tsv"), delimiter="\t"))["s"])
    assert float(rows[0]["wall_time_s"]) == pytest.approx(seconds, rel=1e-5)
    assert rows[2]["steps"].startswith("knn_") and rows[2]["n_clusters"] == ""
    md = (wd / "results/mine/summary.md").read_text()
    assert "unlabelled test split" in md and "| fast_hac | 6 | 3 | 3 | 2 | 1 |" in md
    proc = snakemake(wd, "results/mine/comparison.tsv", config=unlabelled(tmp_path), check=False)
    assert proc.returncode != 0 and "unlabelled test split" in proc.stdout + proc.stderr


def test_all_on_a_labelled_test_split_still_compares(tmp_path):
    wd = workdir(tmp_path)
    config = with_(unlabelled(tmp_path), datasets__mine__test__labels=str(tmp_path / "mine.meta"))
    out = snakemake(wd, "-n", "results/mine/all", config=config).stdout
    assert "compare" in out and "summary" not in out.split("Job stats:")[1]


def test_all_with_an_unlabelled_test_scale_plans_its_summary(tmp_path):
    """A dataset with test scales, one of them without labels: that scale gets its summary (no scores, and
    no scale table, which compares scores); the labelled scale keeps its comparison and headline scores."""
    from ltc.synthetic import write_split

    wd = workdir(tmp_path)
    data = wd / "data"
    for name, seed in (("tr", 1), ("s1", 2), ("s2", 3)):
        write_split(data / "features" / f"{name}.bin", data / "labels" / f"{name}.meta", 10, dim=8, seed=seed)
    config = with_(unlabelled(tmp_path), method="knn_cc", datasets={"bench": {
        "dim": 8, "data_dir": str(data), "train": {"name": "tr"}, "compare": ["knn_cc"],
        "test_scales": {"1": {"name": "s1"}, "2": {"name": "s2", "labels": None}}}})
    out = snakemake(wd, "-n", "results/bench/all", config=config).stdout
    jobs = out.split("Job stats:")[1]
    assert "summary " in jobs and "compare " in jobs and "compare_scales" not in jobs
    assert "results/bench/2/summary.tsv" in out and "results/bench/1/comparison.tsv" in out
    assert "results/bench/2/fscore.txt" not in out and "results/bench/1/fscore.txt" in out


def test_without_a_train_split_every_auto_threshold_to_give_is_named(tmp_path):
    """No train split: the refusal names the threshold the target needs and every other 'auto' one the
    dataset's methods need, so one run lists all the settings to give (not one per run)."""
    wd = workdir(tmp_path)
    config = with_(custom(tmp_path, np.eye(8)[[0, 0, 1, 1]], [0, 0, 1, 1]), methods__knn_cc={"threshold": "auto"},
                   compare=["knn_cc", "infomap", "kmeans", "cdp"], methods__cdp={"th": 0.7})
    proc = snakemake(wd, "-n", "results/mine/knn_cc/fscore.txt", config=config, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode and "choose knn_cc's threshold on (it is 'auto')" in out, out
    assert "(and, for the other methods of this dataset, infomap.min_sim)" in out  # kmeans: none; cdp: a number
