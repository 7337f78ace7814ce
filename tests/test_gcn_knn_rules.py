"""The kNN of GCN-V's hidden features goes through the same index / shard / gather rules (knn.smk) as the
kNN of the input features, and gives the file that one knn.py job on the same features gives."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, TINY_GCNV, snakemake, with_, workdir
from ltc.io import load_knn

GCNE = with_(TINY_GCNV, methods__gcne={"k": 12, "nhid": 8, "train": {"max_epochs": 2}},
             datasets__demo__methods__gcne__nhid=8)
SHARDED = with_(GCNE, knn__shards=2, knn__batch_size=64)  # 450 rows a split: 8 search batches, 4 a shard
IVF = with_(SHARDED, knn__method="ivf", knn__ivf={"nlist": 4, "nprobe": 2})
HIDDEN = "results/demo/knn_gcn_features"  # the hidden features' kNN folder


def planned_outputs(proc) -> dict:
    """Rule -> the outputs of its jobs, from a dry run's (-n) job list."""
    out = {}
    for rule, output in re.findall(r"^rule (\w+):\n(?:.*\n)*?\s+output: (.*)$", proc.stdout, re.M):
        out.setdefault(rule, []).append(output)
    return out


def test_dry_run_shards_the_hidden_feature_knn(tmp_path):
    proc = snakemake(workdir(tmp_path), "-n", "results/demo/gcne/pred_labels.meta", config=SHARDED)
    jobs = planned_outputs(proc)
    assert "knn_gcn_features" not in jobs and "rule knn_gcn_features" not in proc.stdout
    hidden_shards = sorted(o for o in jobs["knn_shard"] if o.startswith(HIDDEN))
    assert hidden_shards == [f"{HIDDEN}/{split}/shards/faiss_k_12.{i}-of-2.npz"  # GCN-E's k, both splits
                             for split in ("test", "train") for i in (0, 1)]
    assert sorted(o.split(",")[0] for o in jobs["knn"] if o.startswith(HIDDEN)) == [
        f"{HIDDEN}/test/faiss_k_12.npz", f"{HIDDEN}/train/faiss_k_12.npz"]
    # the input features' kNN keeps its paths: 2 shards a split, k = knn.k
    assert sorted(o for o in jobs["knn_shard"] if not o.startswith(HIDDEN)) == [
        f"results/demo/knn/{split}/shards/faiss_k_10.{i}-of-2.npz" for split in ("test", "train") for i in (0, 1)]
    assert "knn_index" not in jobs  # exact search: no index


def test_dry_run_gcnv_use_gcn_feat_links_on_the_hidden_feature_knn(tmp_path):
    config = with_(IVF, datasets__demo__methods__gcnv={"use_gcn_feat": True, "tau": 0.8})
    jobs = planned_outputs(snakemake(workdir(tmp_path), "-n", "results/demo/gcnv/pred_labels.meta", config=config))
    # tau given: no threshold is chosen on the train split, so only the test split's hidden features are searched
    assert set(jobs["knn_index"]) == {f"{HIDDEN}/test/ivf.index", "results/demo/knn/test/ivf.index",
                                      "results/demo/knn/train/ivf.index"}  # GCN-V trains on the input kNN
    assert sorted(o for o in jobs["knn_shard"] if o.startswith(HIDDEN)) == [
        f"{HIDDEN}/test/shards/ivf_k_10.{i}-of-2.npz" for i in (0, 1)]  # knn.k neighbours
    assert jobs["links_gcnv"] == ["results/demo/gcnv/test/links.npz"]


@pytest.fixture(scope="module")
def gcne_run(tmp_path_factory):
    wd = workdir(tmp_path_factory.mktemp("gcn_knn"))
    # the hidden features' kNN of both splits (GCN-E's k), as GCN-E's own rules would ask for it
    return wd, snakemake(wd, f"{HIDDEN}/train/ivf_k_12.npz", f"{HIDDEN}/test/ivf_k_12.npz", config=IVF)


def one_job_knn(wd: Path, split: str, options: list[str]) -> tuple:
    """What the former rule knn_gcn_features ran: knn.py on the whole file in one job, index built in it."""
    out = wd / f"one_job_{split}.npz"
    cmd = [sys.executable, str(REPO / "workflow/scripts/knn.py"), "--features", str(wd / f"results/demo/gcnv/{split}/gcn_features.npy"),
           "--dim", "16", "--k", "12", *options, "--recall-sample", "1000", "--threads", "2",
           "--out", str(out), "--stats", str(out.with_suffix(".json")), "--log", str(out.with_suffix(".log"))]
    subprocess.run(cmd, check=True, capture_output=True)
    return load_knn(out), json.loads(out.with_suffix(".json").read_text())


def test_sharded_ivf_knn_of_hidden_features_equals_one_knn_py_job(gcne_run):
    wd, proc = gcne_run
    assert proc.stderr.count("rule knn_index:") == 4  # an index per feature set and split
    assert len(re.findall(r"output: results/demo/knn_gcn_features/\w+/shards/", proc.stderr)) == 4  # 2 a split
    options = ["--method", "ivf", "--nlist", "4", "--nprobe", "2", "--batch-size", "64", "--seed", "0"]
    for split in ("train", "test"):
        (ids, dists), stats = one_job_knn(wd, split, options)
        got_ids, got_dists = load_knn(wd / f"{HIDDEN}/{split}/ivf_k_12.npz")
        hidden = np.load(wd / f"results/demo/gcnv/{split}/gcn_features.npy", mmap_mode="r")
        assert hidden.shape[1] == 16 and ids.shape == (len(hidden), 12)  # nhid; every row of the split
        np.testing.assert_array_equal(got_ids, ids)
        np.testing.assert_array_equal(got_dists, dists)
        got_stats = json.loads((wd / f"{HIDDEN}/{split}/ivf_k_12.json").read_text())
        assert got_stats["shards"] == 2 and got_stats["recall_at_k"] == stats["recall_at_k"]
        assert not list((wd / f"{HIDDEN}/{split}/shards").glob("*.npz"))  # shards are temporary


def test_hidden_feature_knn_logs_and_benchmarks_name_gcn_features(gcne_run):
    wd, _ = gcne_run
    bench = sorted(p.name for p in (wd / "results/demo/benchmarks").glob("knn_gcn_features*"))
    assert bench == sorted([f"knn_gcn_features_{s}_ivf_k_12.tsv" for s in ("train", "test")]
                           + [f"knn_gcn_features_index_{s}_ivf.tsv" for s in ("train", "test")]
                           + [f"knn_gcn_features_shard_{s}_ivf_k_12.{i}-of-2.tsv" for s in ("train", "test") for i in (0, 1)])
    logs = {p.name for p in (wd / "results/demo/logs").glob("knn_gcn_features*")}
    assert {"knn_gcn_features_test_ivf_k_12.log", "knn_gcn_features_index_test_ivf.log",
            "knn_gcn_features_test_ivf_k_12.1-of-2.log"} <= logs
    # the input features' kNN keeps its names
    assert (wd / "results/demo/benchmarks/knn_index_test_ivf.tsv").exists()
    assert (wd / "results/demo/benchmarks/knn_shard_test_ivf_k_10.1-of-2.tsv").exists()


def test_comparison_counts_the_hidden_feature_knn_steps_for_gcne(gcne_run):
    wd, _ = gcne_run
    proc = snakemake(wd, "-n", "-p", "--forcerun", "compare", "results/demo/comparison.tsv",
                     config=with_(IVF, compare=["gcne"]))
    needs = re.search(r"--steps .*?'?gcne=([^' ]+)", proc.stdout)[1].split(",")
    counted = {Path(p).name for glob in needs for p in (wd / "results/demo/benchmarks").glob(f"{glob}.tsv")}
    hidden = {p.name for p in (wd / "results/demo/benchmarks").glob("knn_gcn_features*")}
    assert len(hidden) == 8 and hidden <= counted  # index, 2 shards and merge, of both splits
    assert not any(name.startswith(("knn_index_", "knn_shard_", "knn_t")) for name in counted)  # the shared kNN


def test_exact_knn_of_hidden_features_equals_one_knn_py_job(gcne_run):
    wd, _ = gcne_run
    snakemake(wd, f"{HIDDEN}/test/faiss_k_12.npz", config=with_(IVF, knn__method="flat"))  # batches of 64, 2 shards
    (ids, dists), _ = one_job_knn(wd, "test", ["--method", "flat"])  # the old rule gave flat no batch size: 65536
    got_ids, got_dists = load_knn(wd / f"{HIDDEN}/test/faiss_k_12.npz")
    # other query batch sizes (64 against 2048 rows a GEMM) may take other BLAS kernels (OpenBLAS's
    # small-matrix paths), which round the last bit differently: equal up to that, and the same
    # neighbours but where two of them tie to within it
    np.testing.assert_allclose(got_dists, dists, rtol=0, atol=1e-6)
    swapped = got_ids != ids
    assert swapped.mean() < 0.01
    for r, c in zip(*np.nonzero(swapped)):
        assert got_ids[r, c] in ids[r] or abs(dists[r, -1] - dists[r, c]) < 1e-6, (r, c)
    assert (ids[:, 0] == np.arange(len(ids))).mean() > 0.9  # each point's nearest is (nearly always) itself


def test_no_rule_file_runs_knn_py_outside_knn_smk():
    files = [REPO / "Snakefile", *sorted((REPO / "workflow/rules").glob("*.smk"))]
    runs_knn = [p.name for p in files if re.search(r"""script\(\s*["']knn(_index|_gather)?\.py["']""", p.read_text())]
    assert runs_knn == ["knn.smk"]
    assert not any(re.search(r"^rule knn_gcn_features\b", p.read_text(), re.M) for p in files)
