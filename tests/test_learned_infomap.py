"""learned_infomap: the link features of a hand-made kNN graph, the out-of-fold threshold choice, the model
file and a tiny workflow run (ltc/learned_links.py, ltc/methods/learned_infomap.py,
workflow/rules/method_learned_infomap.smk)."""
import json
import pickle

import numpy as np
import pytest

from helpers import TINY, planned_jobs, snakemake, with_, workdir
from ltc import DataError, learned_links
from ltc.methods import registry

# A 5-point kNN graph, K = 3, self first; point 4 misses its last neighbour.
IDS = np.array([
    [0, 1, 2],
    [1, 0, 3],
    [2, 0, 1],
    [3, 4, 1],
    [4, 3, -1],
])
SIMS = np.array([
    [1.0, 0.9, 0.5],
    [1.0, 0.9, 0.3],
    [1.0, 0.5, 0.4],
    [1.0, 0.8, 0.3],
    [1.0, 0.8, 0.0],
], dtype=np.float32)
DISTS = np.where(IDS >= 0, 1 - SIMS, np.inf).astype(np.float32)


def graph(k=3, shared_k=2, top=2):
    return learned_links.link_graph(IDS, DISTS, k, shared_k, top)


def test_the_links_are_each_points_true_neighbours_in_row_order():
    g = graph()
    assert list(zip(g.src.tolist(), g.dst.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 3), (2, 0), (2, 1), (3, 4),
                                                          (3, 1), (4, 3)]
    assert g.col.tolist() == [1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_each_feature_column_by_hand():
    """k 3, shared_k 2 (N(x) = x and its ids in columns 0-1: N0 {0,1}, N1 {0,1}, N2 {0,2}, N3 {3,4}, N4 {3,4}),
    top 2 (mean of the true neighbours in columns 0-1: the first neighbour's cosine 0.9, 0.9, 0.5, 0.8, 0.8),
    last = the smallest true neighbour's cosine (0.5, 0.3, 0.4, 0.3, 0.8)."""
    x = graph().features(slice(None))
    s = np.array([0.9, 0.5, 0.9, 0.3, 0.5, 0.4, 0.8, 0.3, 0.8])
    np.testing.assert_allclose(x[:, 0], s, rtol=1e-6)
    np.testing.assert_allclose(x[:, 1], np.array([1, 2, 1, 2, 1, 2, 1, 2, 1]) / 3)
    # 0 in 1's row: col 1; 0 in 2's: 1; 1 in 0's: 1; 1 in 3's: 2; 2 in 0's: 2; 2 in 1's: absent (4);
    # 3 in 4's: 1; 3 in 1's: 2; 4 in 3's: 1
    np.testing.assert_allclose(x[:, 2], np.array([1, 1, 1, 2, 2, 4, 1, 2, 1]) / 3)
    # |N0 & N1| = 2, |N0 & N2| = 1, |N1 & N0| = 2, |N1 & N3| = 0, |N2 & N0| = 1, |N2 & N1| = 1 (0), 3-4: 2
    np.testing.assert_allclose(x[:, 3], np.array([2, 1, 2, 0, 1, 1, 2, 0, 2]) / 3)
    mean = np.array([0.9, 0.9, 0.5, 0.8, 0.8])
    last = np.array([0.5, 0.3, 0.4, 0.3, 0.8])
    src = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4])
    dst = np.array([1, 2, 0, 3, 0, 1, 4, 1, 3])
    np.testing.assert_allclose(x[:, 4], s - mean[src], atol=1e-6)
    np.testing.assert_allclose(x[:, 5], s - mean[dst], atol=1e-6)
    np.testing.assert_allclose(x[:, 6], s - last[src], atol=1e-6)
    # point 4: mean 0.8 = last 0.8, so the denominator is 1e-6: (0.8 - 0.8) / 1e-6 = 0
    np.testing.assert_allclose(x[:, 7], (s - last[src]) / np.maximum(mean[src] - last[src], 1e-6), atol=1e-4)


def test_a_duplicate_kNN_entry_counts_once_and_a_row_without_neighbours_is_nan():
    ids = np.array([[0, 1, 1], [1, 0, -1], [2, -1, -1]])
    dists = np.array([[0, 0.1, 0.1], [0, 0.1, np.inf], [0, np.inf, np.inf]], dtype=np.float32)
    g = learned_links.link_graph(ids, dists, 3, 3, 2)
    assert g.sets.tolist()[0] == [-1, -1, 0, 1]  # {0, 1} once each
    x = g.features(np.array([0]))  # 0 -> 1 (column 1): N0 {0, 1}, N1 {0, 1}
    assert x[0, 3] == pytest.approx(2 / 4)
    assert np.isnan(g.mean_top[2]) and np.isnan(g.last[2])


def test_identity_folds_deal_identities_in_turn_and_keep_an_identity_together():
    labels = np.array([5, 5, 7, 9, 7, 11, 9, 5])
    fold = learned_links.identity_folds(labels, 2, seed=3)
    for label in np.unique(labels):
        assert len(set(fold[labels == label])) == 1
    assert sorted(np.bincount([fold[labels == label][0] for label in np.unique(labels)])) == [2, 2]


def blob_graph(identities=8, per=6, seed=0):
    """Points around orthogonal directions (one identity each) and their exact kNN (self first)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.eye(16)[:identities], per, axis=0) + 0.3 * rng.standard_normal((identities * per, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    dists = (1 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)
    return ids, np.maximum(dists, 0), np.repeat(np.arange(identities), per)


def test_out_of_fold_probabilities_come_from_a_model_that_never_saw_the_fold():
    ids, dists, labels = blob_graph()
    g = learned_links.link_graph(ids, dists, 10, 5, 3)
    prob = learned_links.out_of_fold(g, labels, 2, max_iter=20, seed=0)
    fold = learned_links.identity_folds(labels, 2, 0)
    held = fold[g.src] == 0
    clf = learned_links.fit(g, labels, np.flatnonzero(~held), max_iter=20, seed=0)
    np.testing.assert_allclose(prob[held], learned_links.predict(clf, g, np.flatnonzero(held)), rtol=1e-6)
    same = learned_links.same_identity(g, labels).astype(bool)
    assert prob[same].mean() > prob[~same].mean() + 0.3


def test_the_threshold_choice_on_a_tiny_case(tmp_path):
    """Identities {0, 1}, {2, 3}, {4}, {5}; mutual links 0-1 (p 0.9), 2-3 (p 0.5), 4-5 (p 0.3), each pair
    one Infomap module when kept. min_prob 0.6: {0,1} only: pairwise precision 1, recall 1/2 (F 2/3);
    0.4: {0,1}, {2,3}: F 1; 0.2: and {4,5}: precision 2/3, recall 1 (F 0.8). The best is 0.4."""
    ids = np.array([[0, 1], [1, 0], [2, 3], [3, 2], [4, 5], [5, 4]])
    g = learned_links.link_graph(ids, np.zeros((6, 2), dtype=np.float32), 2, 1, 1)
    prob = np.array([0.9, 0.9, 0.5, 0.5, 0.3, 0.3], dtype=np.float32)
    cut, _ = learned_links.sweeper(g, prob)
    gt = np.array([0, 0, 1, 1, 2, 3])
    chosen = learned_links.choose_min_prob(cut, gt, tmp_path / "t.json", tmp_path / "t.png", "train.meta",
                                           np.array([0.2, 0.4, 0.6]))
    assert chosen == 0.4
    saved = json.loads((tmp_path / "t.json").read_text())
    assert saved["name"] == "min_prob" and saved["min_prob"] == 0.4 and len(saved["sweep"]) == 3
    assert [round(r["fscore"], 4) for r in saved["sweep"]] == [0.8, 1.0, round(2 / 3, 4)]
    with pytest.raises(DataError, match="give each of the 6 faces an identity of its own"):
        learned_links.choose_min_prob(cut, np.arange(6), tmp_path / "u.json", tmp_path / "u.png", "train.meta")


def test_model_file_round_trips_and_a_foreign_one_is_refused(tmp_path):
    ids, dists, labels = blob_graph()
    g = learned_links.link_graph(ids, dists, 10, 5, 3)
    clf = learned_links.fit(g, labels, max_iter=10)
    learned_links.save_model(tmp_path / "model.pkl", clf, {"k": 10, "shared_k": 5, "top": 3})
    back, settings = learned_links.load_model(tmp_path / "model.pkl")
    assert settings == {"k": 10, "shared_k": 5, "top": 3}
    np.testing.assert_array_equal(learned_links.predict(back, g), learned_links.predict(clf, g))
    labels_one_step = registry.run("learned_infomap", {"min_prob": 0.5, "checkpoint": str(tmp_path / "model.pkl")},
                                   ids=ids, dists=dists)
    assert labels_one_step.max() + 1 <= 16
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    with pytest.raises(DataError, match="is not a learned_infomap link classifier"):
        learned_links.load_model(tmp_path / "other.pkl")
    (tmp_path / "cut.pkl").write_bytes((tmp_path / "model.pkl").read_bytes()[:50])
    with pytest.raises(DataError, match="cannot be read"):
        learned_links.load_model(tmp_path / "cut.pkl")
    with pytest.raises(DataError, match="set methods.learned_infomap.checkpoint"):
        registry.run("learned_infomap", {"min_prob": 0.5}, ids=ids, dists=dists)


def test_a_split_of_far_fewer_links_per_point_than_the_model_was_trained_on_warns(tmp_path, caplog):
    ids, dists, labels = blob_graph()
    g = learned_links.link_graph(ids, dists, 10, 5, 3)
    clf = learned_links.fit(g, labels, max_iter=10)
    learned_links.save_model(tmp_path / "model.pkl", clf, {"k": 10, "shared_k": 5, "top": 3,
                                                           "links_per_point": g.n_edges / g.n})
    _, settings = learned_links.load_model(tmp_path / "model.pkl")
    assert settings["links_per_point"] == g.n_edges / g.n
    learned_links.graph_of_model(settings, ids, dists)  # the train split itself: no warning
    assert "links each" not in caplog.text
    # the first 4 of those points, each with its 3 others as kNN (as a 4-face test split's file would be)
    small = np.tile(np.arange(4), (4, 1))
    small = np.array([np.roll(row, -i) for i, row in enumerate(small)])
    learned_links.graph_of_model(settings, small, np.zeros((4, 4), dtype=np.float32))
    assert "points have 3.0 kNN links each (4 points, 4 kNN columns)" in caplog.text
    assert "method: infomap" in caplog.text


def test_links_of_one_class_are_refused_in_one_sentence():
    ids, dists, _ = blob_graph()
    g = learned_links.link_graph(ids, dists, 10, 5, 3)
    with pytest.raises(DataError) as err:
        learned_links.fit(g, np.zeros(len(ids), dtype=np.int64))
    assert "no link classifier can be trained" in str(err.value) and str(err.value).count(". ") == 0
    assert "links two faces of one identity" in str(err.value) and "raise knn.k" in str(err.value)  # all same: k too small


TINY_LEARNED = with_(TINY, method="learned_infomap", methods__learned_infomap__k=10,
                     methods__learned_infomap__shared_k=5, methods__learned_infomap__train__max_iter=20)


def test_tiny_workflow_run_and_what_a_change_reruns(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/learned_infomap/fscore.txt", config=TINY_LEARNED)
    text = (wd / "results/demo/learned_infomap/fscore.txt").read_text()
    fscore = float(text.split("pairwise")[1].split("fscore")[1].split()[0])
    assert fscore > 0.5, text  # 25 test identities: well above the singletons' 0
    assert json.loads((wd / "results/demo/learned_infomap/threshold.json").read_text())["name"] == "min_prob"
    # Infomap's settings rerun the sweep and the clustering, never training
    assert planned_jobs(wd, with_(TINY_LEARNED, methods__learned_infomap__infomap__trials=2),
                        "results/demo/learned_infomap/fscore.txt") == {
        "select_threshold_learned_infomap": 1, "cluster_learned_infomap": 1, "evaluate": 1}
    # a checkpoint and a fixed min_prob skip training and the sweep
    (wd / "mine.pkl").write_bytes((wd / "results/demo/learned_infomap/model.pkl").read_bytes())
    changed = with_(TINY_LEARNED, methods__learned_infomap__checkpoint=str(wd / "mine.pkl"),
                    methods__learned_infomap__min_prob=0.5)
    assert planned_jobs(wd, changed, "results/demo/learned_infomap/fscore.txt") == {"cluster_learned_infomap": 1,
                                                                                   "evaluate": 1}
