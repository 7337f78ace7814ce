"""Re-attaching isolated points (ltc/reattach.py, workflow/rules/reattach.smk): hand-worked graphs with
known re-attachments, the train-side threshold on a hand-made case, and a tiny workflow run."""
import dataclasses
import json

import numpy as np
import pytest
import yaml

from helpers import REPO, TINY, snakemake, with_, workdir
from ltc import DataError, reattach
from ltc.io import load_knn, read_labels, save_knn

# A 10-point kNN graph (K = 3, self first, rows sorted, -1 missing), cosine similarities:
# 0-1 .95, 0-2 .9, 1-2 .9 | 3-1 .8, 3-4 .3 | 4-5 .7 | 5-6 .75 | 6-7 .9 | 7-8 .4 | 9 alone
ROWS = [
    [(0, 1.0), (1, 0.95), (2, 0.9)],
    [(1, 1.0), (0, 0.95), (2, 0.9)],
    [(2, 1.0), (0, 0.9), (1, 0.9)],
    [(3, 1.0), (1, 0.8), (4, 0.3)],
    [(4, 1.0), (5, 0.7), (3, 0.3)],
    [(5, 1.0), (6, 0.75), (4, 0.7)],
    [(6, 1.0), (7, 0.9), (5, 0.75)],
    [(7, 1.0), (6, 0.9), (8, 0.4)],
    [(8, 1.0), (7, 0.4), (-1, None)],
    [(9, 1.0), (-1, None), (-1, None)],
]
# A method's clustering of it: {0, 1, 2} and {6, 7}; 3, 4 (noise, -1), 5, 8 and 9 alone
PRED = np.array([7, 7, 7, 3, -1, 9, 2, 2, 5, 4])


def graph():
    ids = np.array([[i for i, _ in row] for row in ROWS], dtype=np.int64)
    dists = np.array([[1.0 - s if s is not None else np.inf for _, s in row] for row in ROWS], dtype=np.float32)
    return ids, dists


def test_nearest_skips_itself_and_missing_and_takes_the_first_of_a_tie():
    peer, sim = reattach.nearest(*graph())
    assert peer.tolist() == [1, 0, 0, 1, 5, 6, 7, 6, 7, -1]  # 2: 0 and 1 tie at .9, 0 comes first in the row
    np.testing.assert_allclose(sim[:9], [0.95, 0.95, 0.9, 0.8, 0.7, 0.75, 0.9, 0.9, 0.4], atol=1e-6)
    assert sim[9] == -np.inf
    # unsorted rows, itself not first, rows of a block starting at row 5
    peer, sim = reattach.nearest(np.array([[-1, 5, 3, 8], [6, 2, 6, -1]]), np.array([[0, 0, 0.4, 0.2], [0, 0.1, 0, 0]]), 5)
    assert peer.tolist() == [8, 2] and np.allclose(sim, [0.8, 0.9])


@pytest.mark.parametrize("threshold, expected", [
    (0.5, [0, 0, 0, 0, 1, 1, 1, 1, 2, 3]),   # 3 -> {0,1,2}; 4 -> 5 -> {6,7} (a chain of singletons); 8 (.4) stays
    (0.72, [0, 0, 0, 0, 1, 2, 2, 2, 3, 4]),  # 4's link (.7) is too weak now: 4 stays, 5 (.75) still joins {6,7}
    (0.39, [0, 0, 0, 0, 1, 1, 1, 1, 1, 2]),  # 8 joins {6,7} too; 9 has no neighbour
    (None, [0, 0, 0, 1, 2, 3, 4, 4, 5, 6]),  # off: the clustering renumbered, noise 4 a singleton
])
def test_singletons_join_their_nearest_neighbours_cluster(threshold, expected):
    labels, attached = reattach.reattach(PRED, *reattach.nearest(*graph()), threshold)
    assert labels.tolist() == expected and labels.dtype == np.int64
    assert np.flatnonzero(attached).tolist() == {0.5: [3, 4, 5], 0.72: [3, 5], 0.39: [3, 4, 5, 8], None: []}[threshold]


def test_two_clusters_are_never_merged_and_a_short_graph_is_refused():
    # 2 (alone) is nearest to 1 and 3 is nearest to 2: {0,1} and {3,4} must stay apart? 3 is not alone, so yes
    ids = np.array([[0, 1], [1, 0], [2, 1], [3, 2], [4, 3]])
    dists = np.array([[0, 0.1], [0, 0.1], [0, 0.1], [0, 0.05], [0, 0.1]], dtype=np.float32)
    labels, _ = reattach.reattach(np.array([0, 0, 1, 2, 2]), *reattach.nearest(ids, dists), 0.0)
    assert labels.tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(DataError, match="kNN graph has 4 rows"):
        reattach.reattach(np.zeros(5, int), np.zeros(4, int), np.zeros(4), 0.5)


def test_threshold_is_where_the_nearest_neighbour_becomes_more_likely_right_than_wrong():
    # pool-adjacent-violators by hand: 0, 0, (1, 0) -> .5, .5, then 1, 1: from 0.3 on p >= .5
    sims = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert reattach.choose_threshold(sims, np.array([0, 0, 1, 0, 1, 1], bool)) == pytest.approx(0.3)
    assert reattach.choose_threshold(sims[:3], np.array([1, 0, 0], bool)) is None  # pooled: 1/3 everywhere
    assert reattach.choose_threshold(sims[:3], np.array([0, 1, 0], bool)) == pytest.approx(0.2)  # 0, then .5, .5
    assert reattach.choose_threshold(np.zeros(0), np.zeros(0, bool)) is None


def test_threshold_chosen_on_a_labelled_split_and_written(tmp_path):
    # nearest neighbours of the hand graph, identities [0,0,0,1,2,2,3,3,4,5]: same identity at .95 .95 .9 | .8 no,
    # .7 yes, .75 no | .9 .9 yes | .4 no -> fitted 0 at .4, 1/3 on .7-.8 (pooled), 1 from .9: threshold .9
    labels = np.array([0, 0, 0, 1, 2, 2, 3, 3, 4, 5])
    path = tmp_path / "threshold.json"
    save_knn(tmp_path / "knn.npz", *graph())
    peer, sim = reattach.nearest_in_file(tmp_path / "knn.npz", chunk_rows=4)  # in blocks of rows, as of a large file
    assert peer.tolist() == reattach.nearest(*graph())[0].tolist()
    chosen = reattach.choose_on_split(peer, sim, labels, "train.meta", path)
    saved = json.loads(path.read_text())
    assert chosen == pytest.approx(0.9, abs=1e-6) and saved["threshold"] == chosen
    assert saved["points"] == 9 and saved["same_identity"] == pytest.approx(6 / 9) and saved["split"] == "train.meta"
    assert [round(r["probability"], 4) for r in saved["curve"]] == [0, 0.3333, 0.3333, 0.3333, 1, 1]
    assert reattach.read_threshold(path) == chosen
    with pytest.raises(DataError, match="no identity has two faces"):
        reattach.choose_on_split(*reattach.nearest(*graph()), np.arange(10), "train.meta", path)
    with pytest.raises(DataError, match="holds no chosen re-attach threshold"):
        reattach.read_threshold(tmp_path / "missing.json")


def test_config_repeats_the_settings_defaults():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert dataclasses.asdict(reattach.Settings()) == config["reattach"]


def reference(pred, ids, dists, threshold):
    """Plain-loop re-attachment, for the workflow's output: singletons in order, union-find."""
    _, inv, counts = np.unique(pred, return_inverse=True, return_counts=True)
    parent = list(range(len(counts)))

    def root(c):
        while parent[c] != c:
            c = parent[c]
        return c
    for i in range(len(pred)):
        if counts[inv[i]] != 1:
            continue
        row = [(d, j) for j, d in zip(ids[i], dists[i]) if j >= 0 and j != i]
        if row:
            d, j = min(row, key=lambda t: t[0])
            if 1 - d >= threshold:
                parent[root(inv[i])] = root(inv[j])
    return np.array([root(c) for c in inv])


def same_partition(a, b):
    pairs = {(x, y) for x, y in zip(a, b)}
    return len(pairs) == len(set(a)) == len(set(b))


def test_workflow_scores_and_compares_a_method_with_and_without_reattach(tmp_path):
    wd = workdir(tmp_path)
    config = with_(TINY, compare=["knn_cc"], reattach={"methods": ["knn_cc"], "threshold": "auto"},
                   methods__knn_cc__threshold=0.9)  # a strict link threshold: singletons to re-attach
    snakemake(wd, "results/demo/comparison.tsv", config=config)
    rows = (wd / "results/demo/comparison.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows[1:3]] == ["knn_cc", "knn_cc+reattach"]
    summary = json.loads((wd / "results/demo/knn_cc+reattach/reattach.json").read_text())
    threshold = json.loads((wd / "results/demo/reattach/threshold.json").read_text())["threshold"]
    assert summary["threshold"] == threshold and summary["attached"] > 0
    pred = read_labels(wd / "results/demo/knn_cc/pred_labels.meta")
    ids, dists = load_knn(next((wd / "results/demo/knn/test").glob("faiss_k_*.npz")))
    got = read_labels(wd / "results/demo/knn_cc+reattach/pred_labels.meta")
    assert same_partition(got, reference(pred, ids, dists, threshold))
    metrics = json.loads((wd / "results/demo/knn_cc+reattach/metrics.json").read_text())
    assert metrics["method"] == "knn_cc+reattach" and metrics["n_clusters"] == summary["clusters_after"]
    assert "reattach_knn_cc" in rows[2] and "select_threshold_reattach" in rows[2]  # its cost steps


def test_a_number_needs_no_train_split_and_auto_without_one_says_what_to_set(tmp_path):
    wd = workdir(tmp_path)
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((40, 8)).astype(np.float32)
    (wd / "mine.bin").write_bytes(feats.tobytes())
    (wd / "mine.meta").write_text("\n".join(str(i // 4) for i in range(40)) + "\n")
    config = {"knn": {"k": 5}, "method": "knn_cc", "methods": {"knn_cc": {"threshold": 0.5}},
              "reattach": {"methods": ["knn_cc"], "threshold": "auto"},
              "datasets": {"mine": {"dim": 8, "test": {"features": "mine.bin", "labels": "mine.meta"}}}}
    proc = snakemake(wd, "-n", "results/mine/knn_cc+reattach/metrics.json", config=config, check=False)
    assert proc.returncode and "no labelled train split to choose reattach.threshold" in proc.stderr + proc.stdout
    config["datasets"]["mine"]["reattach"] = {"threshold": 0.8}
    snakemake(wd, "-n", "results/mine/knn_cc+reattach/metrics.json", config=config)
