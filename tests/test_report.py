"""The comparison of methods (ltc/report/, rule compare, target results/<ds>/all) and the HTML report."""
import base64
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from ltc import DataError, report, thresholds
from ltc.io import write_json, write_labels
from ltc.metrics import evaluate
from helpers import REPO, TINY_GCNV, planned_jobs, snakemake, with_, workdir

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
METHODS = ["knn_cc", "cc", "gcnv", "gcne"]


def bench(folder, stem, *rows):
    """A Snakemake benchmark file with one line per (seconds, max_rss MB) row."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.tsv").write_text(HEADER + "".join(f"{s}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t0\t0\n" for s, rss in rows))


@pytest.fixture
def benchmarks(tmp_path):
    d = tmp_path / "benchmarks"
    bench(d, "select_threshold_knn_cc", (2.0, 100))
    bench(d, "cluster_knn_cc", (1.0, 50), (3.0, 150))  # benchmarked twice: mean time, largest memory
    bench(d, "evaluate_knn_cc", (100, 9999))  # scoring: never counted
    bench(d, "cluster_cc", (7, 700))  # method "cc", not knn_cc's
    bench(d, "train_gcnv", (10, 500))
    bench(d, "infer_gcnv_test", (1, "NA"))  # memory not measured
    bench(d, "infer_gcnv_train", (1.5, 200))
    bench(d, "cluster_gcnv", (0.5, 40))
    bench(d, "train_gcne", (20, 800))
    bench(d, "cluster_gcne", (0.25, 30))
    bench(d, "knn_gcn_features_test_faiss_k_12", (3, 300))
    bench(d, "knn_gcn_features_test_faiss_k_99", (1000, 1000))  # another k: not this config's
    bench(d, "knn_test_faiss_k_10", (5, 400))
    bench(d, "knn_train_faiss_k_10", (6, 450))
    bench(d, "knn_shard_test_faiss_k_10.0-of-2", (1, 100))
    bench(d, "knn_shard_test_faiss_k_10.1-of-2", (2, 120))
    bench(d, "knn_shard_test_faiss_k_10.0-of-3", (500, 100))  # an older shard count
    bench(d, "knn_test_faiss_k_20", (100, 5000))  # another k
    return d


SHARED = ["knn_train_faiss_k_10", "knn_test_faiss_k_10", "knn_index_test_faiss", "knn_shard_test_faiss_k_10.*-of-2"]
GCNE_NEEDS = ["train_gcnv", "infer_gcnv_*", "knn_gcn_features_*_faiss_k_12"]


def test_owner_is_the_longest_method_named():
    assert report.owner("select_threshold_knn_cc", METHODS) == "knn_cc"
    assert report.owner("cluster_cc", METHODS) == "cc"
    assert report.owner("infer_gcnv_test", METHODS) == "gcnv"
    assert report.owner("knn_test_faiss_k_80", METHODS) is None
    assert report.owner("cluster_gcnv2", METHODS) is None  # whole parts only
    baselines = ["dbscan", "knn_dbscan", "kmeans", "mini_batch_kmeans"]
    assert report.owner("select_threshold_knn_dbscan", baselines) == "knn_dbscan"
    assert report.owner("cluster_dbscan", baselines) == "dbscan"
    assert report.owner("cluster_mini_batch_kmeans", baselines) == "mini_batch_kmeans"


def test_steps_time_and_memory_by_hand(benchmarks):
    def steps(method, needs=()):
        return [p.stem for p in report.method_steps(benchmarks, method, METHODS, needs, SHARED)]

    assert steps("knn_cc") == ["cluster_knn_cc", "select_threshold_knn_cc"]
    assert steps("gcnv") == ["cluster_gcnv", "infer_gcnv_test", "infer_gcnv_train", "train_gcnv"]
    assert steps("gcne", GCNE_NEEDS) == ["cluster_gcne", "infer_gcnv_test", "infer_gcnv_train",
                                         "knn_gcn_features_test_faiss_k_12", "train_gcne", "train_gcnv"]
    summary = report.summarize(report.method_steps(benchmarks, "knn_cc", METHODS, (), SHARED))
    assert summary == {"wall_time_s": 2.0 + 2.0, "peak_rss_mb": 150}
    summary = report.summarize(report.method_steps(benchmarks, "gcne", METHODS, GCNE_NEEDS, SHARED))
    assert summary["wall_time_s"] == pytest.approx(0.25 + 1 + 1.5 + 3 + 20 + 10) and summary["peak_rss_mb"] == 800
    shared = report.shared_row(benchmarks, SHARED)
    assert shared.steps == ["knn_shard_test_faiss_k_10.0-of-2", "knn_shard_test_faiss_k_10.1-of-2",
                            "knn_test_faiss_k_10", "knn_train_faiss_k_10"]
    assert (shared.wall_time_s, shared.peak_rss_mb) == (1 + 2 + 5 + 6, 450)
    assert report.summarize([]) == {"wall_time_s": None, "peak_rss_mb": None}


def test_row_counts_clusters_and_singletons(benchmarks):
    gt = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    pred = np.array([0, 0, 1, 2, 3, 3, 3, 7])  # clusters {0,0} {1} {2} {3,3,3} {7}: 5, of which 3 singletons
    metrics = evaluate(gt, pred)
    row = report.method_row("knn_cc", metrics, pred, report.method_steps(benchmarks, "knn_cc", METHODS, (), SHARED))
    assert (row.n_clusters, row.n_singletons) == (5, 3)
    assert row.scores["pairwise_fscore"] == metrics["pairwise"]["fscore"]
    assert row.scores["bcubed_recall"] == metrics["bcubed"]["recall"] and row.scores["nmi"] == metrics["nmi"]
    assert (row.wall_time_s, row.peak_rss_mb) == (4.0, 150)


def test_compare_writes_table_and_plots(tmp_path, benchmarks):
    gt = np.repeat(np.arange(6), [1, 2, 3, 5, 8, 13])
    preds = {"knn_cc": gt.copy(), "gcnv": np.arange(len(gt)), "cc": np.zeros_like(gt)}  # perfect, all apart, one
    for m, labels in preds.items():
        write_labels(tmp_path / f"{m}.meta", labels)
        write_json(tmp_path / f"{m}.json", evaluate(gt, labels))
    write_labels(tmp_path / "gt.meta", gt)
    # a threshold chosen by ltc.thresholds, whose file carries the sweep that the plot draws
    sims = np.linspace(0.1, 0.9, 9)
    thresholds.choose(lambda t: gt if t < 0.5 else np.arange(len(gt)), gt, sims, "tau_0",
                      tmp_path / "threshold.json", tmp_path / "sweep.png", "train")
    out = {k: tmp_path / "out" / name for k, name in [("tsv", "c.tsv"), ("md", "c.md"), ("html", "c.html"),
                                                      ("scores", "s.png"), ("sizes", "z.png"), ("sweeps", "w.png")]}
    rows = report.compare("toy", list(preds), [tmp_path / f"{m}.json" for m in preds],
                          [tmp_path / f"{m}.meta" for m in preds], tmp_path / "gt.meta", benchmarks, METHODS,
                          shared=SHARED, sweeps={"gcnv": tmp_path / "threshold.json"}, out=out)
    assert [r.method for r in rows] == ["knn_cc", "gcnv", "cc", report.SHARED_NAME]
    table = report.read_tsv(out["tsv"])
    assert list(table[0]) == report.COLUMNS
    assert [(r["method"], r["n_clusters"], r["n_singletons"]) for r in table[:3]] == [
        ("knn_cc", 6, 1), ("gcnv", 32, 32), ("cc", 1, 0)]
    assert table[0]["pairwise_fscore"] == 1.0 and table[0]["wall_time_s"] == 4.0 and table[0]["peak_rss_mb"] == 150
    assert table[3]["pairwise_fscore"] is None and table[3]["wall_time_s"] == 14
    md = out["md"].read_text()
    assert "| knn_cc | 1.0000 | 1.0000 | **1.0000** | 1.0000 |" in md and "*kNN graph (shared)*" in md
    assert "* cc: cluster_cc" in md and "32 true clusters" not in md and "32 items in 6 true clusters" in md
    html = out["html"].read_text()
    assert html.count("<tr>") == 2 + 3 and '<tr class="shared">' in html and 'class="best' in html
    assert [m[1] for m in re.finditer(r'<img src="([^"]+)"', html)] == ["s.png", "z.png", "w.png"]  # beside the page
    for key in ("scores", "sizes", "sweeps"):
        assert out[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.read_sweep(tmp_path / "threshold.json")["name"] == "tau_0"
    report.plot_sweeps({}, ["knn_cc"], tmp_path / "none.png")  # no threshold chosen on train: a note
    assert (tmp_path / "none.png").read_bytes()[:4] == b"\x89PNG"


# --- explicit cost steps (--steps) -----------------------------------------------------------------

STEPS_METHODS = ["knn_cc", "lgcn"]


@pytest.fixture
def lgcn(tmp_path):
    """Benchmarks of lgcn, whose step files do not carry its name, beside knn_cc's; metrics and labels of both."""
    d = tmp_path / "benchmarks"
    bench(d, "pivots_test", (4, 300))
    bench(d, "train_linkage", (2, 100), (3, 900))  # benchmarked twice: mean 2.5 s, largest 900 MB
    bench(d, "select_threshold_lgcn", (8, 50))  # carries lgcn's name, but lgcn's steps are named: not counted
    bench(d, "evaluate_lgcn", (100, 9999))  # scoring: never counted
    bench(d, "cluster_knn_cc", (1, 50))
    bench(d, "select_threshold_knn_cc", (2, 100))
    bench(d, "knn_test_faiss_k_10", (5, 400))  # shared
    gt = np.array([0, 0, 0, 1, 1, 2])
    preds = {"knn_cc": gt.copy(), "lgcn": np.array([0, 0, 1, 2, 2, 3])}  # lgcn: 4 clusters, 2 singletons
    for m, labels in preds.items():
        write_labels(tmp_path / f"{m}.meta", labels)
        write_json(tmp_path / f"{m}.json", evaluate(gt, labels))
    write_labels(tmp_path / "gt.meta", gt)
    return tmp_path


def compare_lgcn(wd, out=None, **options):
    return report.compare("toy", STEPS_METHODS, [wd / f"{m}.json" for m in STEPS_METHODS],
                          [wd / f"{m}.meta" for m in STEPS_METHODS], wd / "gt.meta", wd / "benchmarks",
                          STEPS_METHODS, shared=["knn_test_faiss_k_10"], out=out, **options)


def test_named_steps_count_exactly_their_files(lgcn):
    # by name, lgcn would own select_threshold_lgcn only (8 s, 50 MB)
    by_name = {r.method: r for r in compare_lgcn(lgcn)}
    assert (by_name["lgcn"].steps, by_name["lgcn"].wall_time_s, by_name["lgcn"].peak_rss_mb) == (
        ["select_threshold_lgcn"], 8.0, 50.0)
    rows = {r.method: r for r in compare_lgcn(lgcn, steps={"lgcn": ["pivots_test", "train_linkage"]})}
    assert rows["lgcn"].steps == ["pivots_test", "train_linkage"]
    assert (rows["lgcn"].wall_time_s, rows["lgcn"].peak_rss_mb) == (4 + 2.5, 900)
    assert (rows["lgcn"].n_clusters, rows["lgcn"].n_singletons) == (4, 2)
    assert rows["knn_cc"].steps == ["cluster_knn_cc", "select_threshold_knn_cc"]  # still by name
    assert (rows["knn_cc"].wall_time_s, rows["knn_cc"].peak_rss_mb) == (1 + 2, 100)
    assert (rows[report.SHARED_NAME].wall_time_s, rows[report.SHARED_NAME].peak_rss_mb) == (5, 400)
    # globs; scoring and the shared kNN graph are left out even when a pattern names them
    steps = report.method_steps(lgcn / "benchmarks", "lgcn", STEPS_METHODS, shared=["knn_test_faiss_k_10"],
                                steps=["pivots_*", "train_linkage", "evaluate_*", "knn_test_faiss_k_10"])
    assert [p.stem for p in steps] == ["pivots_test", "train_linkage"]


def run_compare(wd, *options):
    script = REPO / "workflow/scripts/compare.py"
    return subprocess.run([sys.executable, str(script), "--dataset", "toy", "--gt", str(wd / "gt.meta"),
                           "--methods", *STEPS_METHODS, "--metrics", *(str(wd / f"{m}.json") for m in STEPS_METHODS),
                           "--pred", *(str(wd / f"{m}.meta") for m in STEPS_METHODS),
                           "--benchmarks", str(wd / "benchmarks"), "--shared", "knn_test_faiss_k_10",
                           "--tsv", str(wd / "out.tsv"), *options], capture_output=True, text=True)


def test_compare_script_steps_option_gives_the_library_row(lgcn):
    proc = run_compare(lgcn, "--steps", "lgcn=pivots_*,train_linkage")
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = {r["method"]: r for r in report.read_tsv(lgcn / "out.tsv")}
    assert table["lgcn"]["steps"] == "pivots_test,train_linkage"
    assert (table["lgcn"]["wall_time_s"], table["lgcn"]["peak_rss_mb"]) == (6.5, 900)
    assert table["knn_cc"]["steps"] == "cluster_knn_cc,select_threshold_knn_cc" and table["knn_cc"]["wall_time_s"] == 3
    compare_lgcn(lgcn, out={"tsv": lgcn / "lib.tsv"}, steps={"lgcn": ["pivots_*", "train_linkage"]})
    assert (lgcn / "out.tsv").read_text() == (lgcn / "lib.tsv").read_text()


@pytest.mark.parametrize("options, message", [
    ({"steps": {"gcnv": ["pivots_test"]}}, "--steps names the method 'gcnv', which is not compared"),
    ({"needs": {"gcnv": ["pivots_test"]}}, "--needs names the method 'gcnv', which is not compared"),
    ({"sweeps": {"gcnv": "threshold.json"}}, "--sweep names the method 'gcnv', which is not compared"),
    ({"steps": {"lgcn": ["pivots_test", "train_linkgae"]}}, "benchmarks/train_linkgae.tsv matches the step"),
    ({"steps": {"lgcn": []}}, "--steps gives the method 'lgcn' no benchmark file stems"),
    ({"steps": {"lgcn": ["pivots_test"]}, "needs": {"lgcn": ["train_linkage"]}}, "given both --steps and --needs"),
])
def test_bad_step_options_stop_before_anything_is_written(lgcn, options, message):
    with pytest.raises(DataError, match=re.escape(message)):
        compare_lgcn(lgcn, out={"tsv": lgcn / "lib.tsv"}, **options)
    assert not (lgcn / "lib.tsv").exists()


@pytest.mark.parametrize("options, message", [
    (["--steps", "lgcn=pivots_test", "lgcn=train_linkage"], "--steps gives the method 'lgcn' twice"),
    (["--steps", "lgcn=nope_*"], "No benchmark file"),
    (["--metrics", "x.json"], "Give one metrics file (--metrics, 1 given)"),
])
def test_compare_script_bad_options_one_sentence(lgcn, options, message):
    proc = run_compare(lgcn, *options)
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (lgcn / "out.tsv").exists()


# --- the workflow: results/<ds>/all and the Snakemake report ---------------------------------------

# knn_cc's threshold chosen on train (its sweep is plotted), GCN-V's fixed (fewer jobs: no train-split links)
CONFIG = with_(TINY_GCNV, compare=["knn_cc", "gcnv"], methods__knn_cc__threshold="auto",
               datasets__demo__methods__gcnv__tau_0=0.6)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    wd = workdir(tmp_path_factory.mktemp("compare"))
    snakemake(wd, "results/demo/all", config=CONFIG)
    return wd


def report_json(html, name):
    """A ``var NAME = {...};`` object of the Snakemake report page."""
    return json.loads(re.search(rf"var {name} = (\{{.*?\}});\s*</script>", html, re.S).group(1))


def test_all_target_compares_the_methods(compared):
    res = compared / "results/demo"
    assert (res / "all").exists()
    table = report.read_tsv(res / "comparison.tsv")
    assert [r["method"] for r in table] == ["knn_cc", "gcnv", report.SHARED_NAME]
    for row in table[:2]:
        labels = np.loadtxt(res / row["method"] / "pred_labels.meta", dtype=int)
        assert row["n_singletons"] == (np.unique(labels, return_counts=True)[1] == 1).sum()
        assert row["wall_time_s"] > 0 and row["peak_rss_mb"] > 0
        metrics = json.loads((res / row["method"] / "metrics.json").read_text())
        assert row["pairwise_fscore"] == pytest.approx(metrics["pairwise"]["fscore"], abs=1e-6)
    assert "select_threshold_knn_cc" in table[0]["steps"] and "train_gcnv" in table[1]["steps"]
    assert {"knn_test_faiss_k_10", "knn_train_faiss_k_10"} <= set(table[2]["steps"].split(","))
    assert "| gcnv |" in (res / "comparison.md").read_text()
    for png in ("scores", "cluster_sizes", "threshold_sweeps"):
        assert (res / f"comparison/{png}.png").read_bytes()[:4] == b"\x89PNG"


def test_report_holds_the_table_and_plots(compared):
    snakemake(compared, "results/demo/all", "--report", "report.html", config=CONFIG)
    html = (compared / "report.html").read_text()
    results, categories = report_json(html, "results"), report_json(html, "categories")
    names = ["comparison.html", "comparison.tsv", "comparison/scores.png", "comparison/cluster_sizes.png",
             "comparison/threshold_sweeps.png"]
    assert sorted(categories["Comparison"]["demo"]) == sorted(f"results/demo/{n}" for n in names)
    table = results["results/demo/comparison.html"]
    page = base64.b64decode(table["data_uri"].split(",", 1)[1]).decode()
    assert "<table>" in page and "knn_cc" in page and "gcnv" in page and "kNN graph (shared)" in page
    assert "one row per method" in table["caption"]
    for n in names[2:]:
        assert results[f"results/demo/{n}"]["data_uri"].startswith("data:image/png;")


def test_compare_list_per_dataset_and_checked(compared):
    jobs = planned_jobs(compared, with_(CONFIG, datasets__demo__compare=["knn_cc"]), "results/demo/all")
    assert jobs == {"compare": 1, "compare_all": 1}  # only the table changes: nothing is retrained
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))  # the shipped list is valid
    for bad in (with_(config, compare=["knn_cc", "nope"]), with_(config, datasets__demo__compare=["nope"]),
                with_(config, compare=[])):
        with pytest.raises(WorkflowError, match="nope' is not one of|should be non-empty"):
            validate(bad, str(REPO / "workflow/schemas/config.schema.yaml"))
