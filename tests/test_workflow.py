"""The Snakemake workflow end to end on tiny data: outputs, reruns, errors, downloads."""
import json

import numpy as np
import pytest

from helpers import TINY, TINY_GCNV, custom, dataset_archive, planned_jobs, sha256, snakemake, with_, workdir
from ltc.io import load_knn

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    wd = workdir(tmp_path_factory.mktemp("demo"))
    snakemake(wd, config=TINY)
    return wd


def test_default_target_scores_the_demo(demo):
    text = (demo / "results/demo/fscore.txt").read_text()
    assert "method: knn_cc" in text and "pairwise" in text and "bcubed" in text and "nmi" in text
    metrics = json.loads((demo / "results/demo/metrics.json").read_text())
    assert set(metrics) == {"pairwise", "bcubed", "nmi", "n_clusters", "method"}
    assert set(metrics["pairwise"]) == {"precision", "recall", "fscore"}
    assert metrics == json.loads((demo / "results/demo/knn_cc/metrics.json").read_text())
    assert 0 < metrics["pairwise"]["fscore"] <= 1
    ids, dists = load_knn(demo / "results/demo/knn/test/faiss_k_10.npz")
    assert ids.shape[1] == 10 and (np.diff(dists, axis=1) >= 0).all()
    for log in ("validate_test", "knn_test_faiss_k_10", "cluster_knn_cc", "evaluate_knn_cc"):
        assert (demo / f"results/demo/logs/{log}.log").exists()
        assert (demo / f"results/demo/benchmarks/{log}.tsv").exists()


def test_rerun_only_what_a_change_touches(demo):
    assert planned_jobs(demo, TINY) == {}
    assert planned_jobs(demo, with_(TINY, methods__knn_cc__threshold=0.6)) == {
        "cluster_knn_cc": 1, "evaluate": 1, "default_method_scores": 1, "all": 1}
    assert planned_jobs(demo, with_(TINY, knn__k=12)) == {
        "knn_shard": 1, "knn": 1, "cluster_knn_cc": 1, "evaluate": 1, "default_method_scores": 1, "all": 1}
    assert planned_jobs(demo, with_(TINY, knn__ivf__nprobe=3)) == {}  # not used by the flat index
    assert planned_jobs(demo, with_(TINY, methods__knn_cc__threshold="auto")) == {
        "select_threshold_knn_cc": 1, "knn_shard": 1, "knn": 1, "validate": 1, "cluster_knn_cc": 1, "evaluate": 1,
        "default_method_scores": 1, "all": 1}  # the train split's kNN is built to choose the threshold


def test_gcnv_thresholds_do_not_retrain(demo):
    snakemake(demo, config=TINY_GCNV)
    for rel in ("model.pt", "train_curve.tsv", "threshold.json", "threshold_sweep.png", "pred_labels.meta",
                "metrics.json", "fscore.txt"):
        assert (demo / "results/demo/gcnv" / rel).exists(), rel
    assert "method: gcnv" in (demo / "results/demo/fscore.txt").read_text()
    assert planned_jobs(demo, TINY_GCNV) == {}
    assert planned_jobs(demo, with_(TINY_GCNV, datasets__demo__methods__gcnv__tau_0=0.5)) == {
        "cluster_links": 1, "evaluate": 1, "default_method_scores": 1, "all": 1}
    retrain = planned_jobs(demo, with_(TINY_GCNV, methods__gcnv__nhid=8))
    assert retrain["train_gcnv"] == 1 and retrain["infer_gcnv"] == 2


def test_two_runs_give_identical_outputs(demo, tmp_path):
    other = workdir(tmp_path)
    for wd in (demo, other):
        snakemake(wd, "results/demo/gcnv/pred_labels.meta", config=TINY_GCNV)
    snakemake(other, config=TINY)
    for rel in ("data/features/demo_test.bin", "data/labels/demo_test.meta", "results/demo/knn_cc/pred_labels.meta",
                "results/demo/gcnv/test/confidence.npy", "results/demo/gcnv/pred_labels.meta"):
        assert (demo / rel).read_bytes() == (other / rel).read_bytes(), rel
    for a, b in zip(load_knn(demo / "results/demo/knn/test/faiss_k_10.npz"),
                    load_knn(other / "results/demo/knn/test/faiss_k_10.npz")):
        np.testing.assert_array_equal(a, b)


def test_sharded_knn_is_identical_and_a_shard_change_rebuilds_the_knn(demo):
    one_shard = with_(TINY, knn__batch_size=64)  # 450 test rows: 8 search batches
    snakemake(demo, config=one_shard)
    before = load_knn(demo / "results/demo/knn/test/faiss_k_10.npz")
    sharded = with_(one_shard, knn__shards=3)
    jobs = planned_jobs(demo, sharded)
    assert jobs["knn_shard"] == 3 and jobs["knn"] == 1  # per split: nothing upstream of the kNN reruns
    assert set(jobs) == {"knn_shard", "knn", "cluster_knn_cc", "evaluate", "default_method_scores", "all"}
    proc = snakemake(demo, config=sharded)
    assert proc.stderr.count("rule knn_shard:") == 3
    for a, b in zip(before, load_knn(demo / "results/demo/knn/test/faiss_k_10.npz")):
        np.testing.assert_array_equal(a, b)
    assert json.loads((demo / "results/demo/knn/test/faiss_k_10.json").read_text())["shards"] == 3
    assert not list((demo / "results/demo/knn/test/shards").glob("*.npz"))  # shards are temporary
    # the file does not depend on the shard count: without the input-set trigger a change reruns nothing
    assert planned_jobs(demo, one_shard, "--rerun-triggers", "mtime", "params", "code", "software-env") == {}
    snakemake(demo, config=TINY)  # back to the defaults for the other tests


def test_precomputed_knn_in_data_dir_is_used(demo):
    pre = demo / "data/knns/demo_test/faiss_k_11.npz"
    pre.parent.mkdir(parents=True)
    ids, dists = load_knn(demo / "results/demo/knn/test/faiss_k_10.npz")
    from ltc.io import save_knn
    save_knn(pre, ids[:, :10], dists[:, :10])  # any readable file of that name is used as it is
    jobs = planned_jobs(demo, with_(TINY, knn__k=11))
    assert "knn" not in jobs and jobs["cluster_knn_cc"] == 1


def test_approximate_knn_logs_recall(demo):
    snakemake(demo, "results/demo/knn/test/ivf_k_10.npz", config=with_(TINY, knn__method="ivf"))
    stats = json.loads((demo / "results/demo/knn/test/ivf_k_10.json").read_text())
    assert 0.5 < stats["recall_at_k"] <= 1
    assert "recall@10" in (demo / "results/demo/logs/knn_test_ivf_k_10.log").read_text()


@pytest.mark.parametrize("change,needle", [
    ({"knn": {"k": "many"}}, "config knn.k is 'many', but it must be an integer >= 1"),
    ({"knn": {"neighbours": 5}}, "config key knn.neighbours is not a setting of the workflow"),
    ({"dataset": "nope"}, "'dataset: nope' is not one of the configured datasets"),
])
def test_bad_config_is_one_clear_error(tmp_path, change, needle):
    proc = snakemake(workdir(tmp_path), "-n", config=change, check=False)
    assert proc.returncode != 0 and needle in proc.stderr + proc.stdout


def test_custom_dataset_runs(tmp_path):
    wd = workdir(tmp_path)
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((4, 8))
    labels = np.repeat(np.arange(4), 10)
    config = custom(tmp_path, centres[labels] + 0.05 * rng.standard_normal((40, 8)), labels)
    snakemake(wd, "results/mine/fscore.txt", config=config)
    assert json.loads((wd / "results/mine/metrics.json").read_text())["pairwise"]["fscore"] == 1.0


@pytest.mark.parametrize("break_it,needle", [
    (lambda f, l: (f.write_bytes(f.read_bytes()[:-5]), l), "not a multiple of dim*4"),
    (lambda f, l: (f, l.write_text("1\n2\n")), "has 2 labels but feature file"),
])
def test_bad_input_stops_before_anything_is_built(tmp_path, break_it, needle):
    wd = workdir(tmp_path)
    config = custom(tmp_path, np.ones((40, 8)), np.zeros(40, int))
    break_it(tmp_path / "mine.bin", tmp_path / "mine.meta")
    proc = snakemake(wd, "results/mine/fscore.txt", config=config, check=False)
    assert proc.returncode != 0 and needle in proc.stderr
    assert not (wd / "results/mine/validate").exists() or not list((wd / "results/mine/validate").iterdir())
    assert not (wd / "results/mine/knn").exists()


def test_gcne_runs_on_gcnv_features(demo):
    config = with_(TINY_GCNV, methods__gcne={"k": 12, "nhid": 8, "train": {"max_epochs": 2}},
                   datasets__demo__methods__gcne__nhid=8)
    snakemake(demo, "results/demo/gcne/fscore.txt", config=config)
    assert json.loads((demo / "results/demo/gcne/metrics.json").read_text())["method"] == "gcne"
    assert (demo / "results/demo/knn_gcn_features/train/faiss_k_12.npz").exists()
    assert planned_jobs(demo, with_(config, datasets__demo__methods__gcne__tau=0.7),
                        "results/demo/gcne/fscore.txt") == {"cluster_links": 1, "evaluate": 1}


def test_gcnv_model_from_another_dataset(demo):
    snakemake(demo, "results/demo/gcnv/model.pt", config=TINY_GCNV)
    config = with_(TINY_GCNV, datasets__other={"dim": 256, "test": {"name": "demo_test"}},
                   datasets__other__methods={"gcnv": {"model_from": "demo"}})
    jobs = planned_jobs(demo, config, "results/other/gcnv/fscore.txt")
    assert "train_gcnv" not in jobs and "select_threshold_links" not in jobs and jobs["infer_gcnv"] == 1


def test_gcnv_without_train_split_says_what_to_set(tmp_path):
    # tau_0 given: an 'auto' threshold (the default) would be refused first, for want of a train split too
    config = with_(custom(tmp_path, np.ones((40, 8)), np.zeros(40, int)), method="gcnv", methods__gcnv__tau_0=0.65)
    proc = snakemake(workdir(tmp_path), "-n", "results/mine/fscore.txt", config=config, check=False)
    assert proc.returncode != 0 and "no train split to train GCN-V on" in proc.stdout + proc.stderr


def test_unlabelled_test_split_gives_clusters_only(tmp_path):
    wd = workdir(tmp_path)
    config = custom(tmp_path, np.random.default_rng(0).standard_normal((30, 8)), np.zeros(30, int))
    config["datasets"]["mine"]["test"]["labels"] = None
    proc = snakemake(wd, "-n", "results/mine/fscore.txt", config=config, check=False)
    assert proc.returncode != 0 and "unlabelled test split" in proc.stderr + proc.stdout
    snakemake(wd, "results/mine/knn_cc/pred_labels.meta", config=config)
    assert len((wd / "results/mine/knn_cc/pred_labels.meta").read_text().split()) == 30


def archive_config(url, digest):
    provides = ["features/toy_train.bin", "labels/toy_train.meta", "features/toy_test.bin", "labels/toy_test.meta"]
    return {"knn": {"k": 5}, "method": "knn_cc", "methods": {"knn_cc": {"threshold": 0.5}}, "datasets": {"toy": {
        "dim": 8, "data_dir": "data/toy", "train": {"name": "toy_train"}, "test": {"name": "toy_test"},
        "archives": {"data": {"url": url, "file": "toy.tar.gz", "sha256": digest, "provides": provides}}}}}


def test_download_rule_from_loopback_server(tmp_path, file_server):
    wd = workdir(tmp_path)
    archive, members = dataset_archive(n=5000)  # large enough that a 64 KiB block lands before the cut
    file_server.files["/toy.tar.gz"] = archive
    file_server.cut_after["/toy.tar.gz"] = len(archive) // 3
    config = archive_config(f"{file_server.url}/toy.tar.gz", sha256(archive))
    snakemake(wd, "results/toy/fscore.txt", config=config)
    assert (wd / "data/toy/features/toy_test.bin").read_bytes() == members["data/features/toy_test.bin"]
    assert (wd / "results/toy/fscore.txt").exists()
    assert any(r for _, r in file_server.requests)  # the cut-off transfer was resumed with a Range request


def test_download_rule_checksum_mismatch(tmp_path, file_server):
    wd = workdir(tmp_path)
    archive, _ = dataset_archive()
    file_server.files["/toy.tar.gz"] = archive
    proc = snakemake(wd, "results/toy/fscore.txt", config=archive_config(f"{file_server.url}/toy.tar.gz", "ab" * 32),
                     check=False)
    assert proc.returncode != 0 and "Checksum mismatch" in proc.stderr
    assert not (wd / "data/toy/features").exists() and not (wd / "data/toy/archives/toy.tar.gz").exists()


def test_missing_data_without_download_is_one_clear_error(tmp_path):
    wd = workdir(tmp_path)
    config = {"datasets": {"mine": {"dim": 8, "test": {"name": "mine_test"}}}}
    proc = snakemake(wd, "-n", "results/mine/fscore.txt", config=config, check=False)
    assert proc.returncode != 0
    assert "data/labels/mine_test.meta of dataset 'mine' does not exist" in proc.stderr + proc.stdout
