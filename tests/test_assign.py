"""Incremental clustering (ltc.incremental, ltc.assign, rule assign, ltc assign): hand-worked cases, the equality with a
full knn_cc rerun where theory says so, the API, the command line and the workflow's targets."""
import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import REPO, custom, snakemake, with_, workdir

import ltc
from ltc import DataError
from ltc import incremental as A
from ltc.graph import renumber
from ltc.knn import knn_graph
from ltc.methods import knn_cc

E = np.eye(8, dtype=np.float32)


def unit(v):
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def two_clusters():
    """Old faces: cluster 0 around e0 (3 faces), cluster 5 around e1 (3 faces)."""
    old = unit([E[0] + 0.1 * E[2], E[0], E[0] + 0.1 * E[3], E[1] + 0.1 * E[2], E[1], E[1] + 0.1 * E[3]])
    return old, np.array([0, 0, 0, 5, 5, 5])


def run(old, labels, new, threshold=0.9, k=6, **kw):
    ids, dists = A.search_new(old, new, k)
    return A.assign(labels, ids, dists, threshold, **kw)


def test_identical_face_joins_its_cluster_and_far_face_is_new():
    old, labels = two_clusters()
    result = run(old, labels, unit([old[4], E[6]]))
    assert result.labels.tolist() == [5, 6]  # old[4]'s cluster; a new cluster after the largest label 5
    assert result.joined.tolist() == [True, False]
    assert result.old_labels.tolist() == labels.tolist()
    assert result.summary()["new_clusters"] == 1


def test_two_close_new_faces_far_from_all_form_one_new_cluster():
    old, labels = two_clusters()
    new = unit([E[6], E[6] + 0.05 * E[7], E[7]])  # cos(first two) = 0.9988; the third far from all
    result = run(old, labels, new, threshold=0.9, k=8)
    assert result.labels.tolist() == [6, 6, 7]
    assert not result.joined.any()


def test_new_face_linked_through_another_new_face_joins_its_cluster():
    old, labels = two_clusters()
    a = unit(E[0] + 0.3 * E[6])      # cos to old[1] = 0.958
    b = unit(E[0] + 0.9 * E[6])      # cos to old[1] = 0.743 (< 0.9), to a = 0.93
    result = run(old, labels, np.stack([a, b]), threshold=0.9, k=8)
    assert result.labels.tolist() == [0, 0]


def test_a_bridge_keeps_the_clusters_apart_unless_merge():
    old, labels = two_clusters()
    bridge = unit(E[0] + 0.9 * E[1])  # cos 0.743 to cluster 0's e0, 0.669 to cluster 5's e1
    kept = run(old, labels, bridge[None], threshold=0.6, k=8)
    assert kept.labels.tolist() == [0] and kept.bridges == 1 and kept.merged == 0
    assert kept.old_labels.tolist() == labels.tolist()
    merged = run(old, labels, bridge[None], threshold=0.6, k=8, merge=True)
    assert merged.labels.tolist() == [0] and merged.merged == 1
    assert merged.old_labels.tolist() == [0] * 6  # both clusters now one, with the smaller label


def test_nearest_rule_links_only_the_most_similar_cluster():
    old, labels = two_clusters()
    bridge = unit(E[0] + 0.9 * E[1])
    result = run(old, labels, bridge[None], threshold=0.6, k=8, rule="nearest", merge=True)
    assert result.labels.tolist() == [0] and result.merged == 0 and result.bridges == 0


def test_touching_pairwise_by_hand():
    gt = np.array([0, 0, 1, 1, 1])
    pred = np.array([0, 0, 1, 1, 0])   # item 4 (new) put with items 0, 1
    new = np.array([False, False, False, True, True])
    # pairs touching items 3 or 4: (0,3) (1,3) (2,3) (0,4) (1,4) (2,4) (3,4)
    # same pred: (2,3) (0,4) (1,4) -> 3; same gt: (2,3) (2,4) (3,4) -> 3; both: (2,3) -> 1
    s = A.touching_pairwise(gt, pred, new)
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == pytest.approx(1 / 3)


def test_holdout_takes_whole_identities_and_single_faces():
    labels = np.repeat(np.arange(40), 10)
    mask = A.holdout(labels, 0.2, seed=1)
    per_identity = np.bincount(labels, weights=mask)
    assert mask.sum() == pytest.approx(80, abs=10)
    assert (per_identity == 10).sum() == 4  # 40 faces as whole identities
    assert ((per_identity > 0) & (per_identity < 10)).any()


def blobs(n_identities, per, dim=16, spread=0.15, seed=0):
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((n_identities, dim)))
    labels = np.repeat(np.arange(n_identities), per)
    return unit(centres[labels] + spread * rng.standard_normal((len(labels), dim))), labels


def test_knn_cc_equals_a_full_rerun_with_exact_knn_and_merge():
    feats, _ = blobs(12, 6, seed=3)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(feats))
    old, new = feats[order[:60]], feats[order[60:]]
    k, t = 20, 0.8
    ids, dists = knn_graph(np.concatenate([old, new]), k)
    assert ((1 - dists >= t).sum(axis=1) < k).all()  # no face has k neighbours above t: the theory's condition
    full = knn_cc.cluster(ids, dists, t)
    old_ids, old_dists = knn_graph(old, k)
    before = knn_cc.cluster(old_ids, old_dists, t)
    inc = run(old, before, new, threshold=t, k=k, merge=True)
    union = np.concatenate([inc.old_labels, inc.labels])
    assert renumber(union).tolist() == full.tolist()
    if inc.bridges == 0:  # without bridges keeping the clusters apart changes nothing
        kept = run(old, before, new, threshold=t, k=k)
        assert renumber(np.concatenate([kept.old_labels, kept.labels])).tolist() == full.tolist()


def test_choose_threshold_picks_a_cut_between_identities():
    feats, labels = blobs(30, 8, seed=1, spread=0.1)
    ids, dists = knn_graph(feats, 10)
    t = A.choose_threshold(ids, dists, labels, fraction=0.2)
    sims = feats @ feats.T
    same = labels[:, None] == labels[None, :]
    between = sims[~same].max()  # the most similar faces of two identities
    np.fill_diagonal(sims, -1)
    within = np.where(same, sims, -1).max(axis=1).min()  # the least any face is like its nearest same-identity face
    assert between < within  # well separated: every cut in (between, within] places each held-out face right
    assert between < t <= within + 1e-4


def test_api_assign_is_ltc_assign_and_follows_knn_cc():
    old, labels = two_clusters()
    new = unit([old[0], E[6]])
    result = ltc.assign(old, labels, new, method="knn_cc", threshold=0.9, knn=4)
    assert result.labels.tolist() == [0, 6]
    with pytest.raises(DataError, match="same width"):
        ltc.assign(old, labels, np.ones((2, 4), np.float32), threshold=0.9)
    with pytest.raises(DataError, match="train"):
        ltc.assign(old, labels, new)  # threshold auto without a train split


def test_ivf_and_hnsw_search_the_saved_index_with_the_new_rows():
    from ltc import knn
    feats, _ = blobs(10, 10, seed=2)
    old, new = feats[:90], feats[90:]
    exact_ids, _ = A.search_new(old, new, 5)
    for method in ("ivf", "hnsw"):
        index = knn.build_index(old, method, nlist=2, nprobe=2)  # every cell probed: exact
        ids, _ = A.search_new(old, new, 5, method, index)
        assert (ids[:, 0] == exact_ids[:, 0]).all(), method


def test_command_line_writes_the_outputs_and_refuses_bad_input(tmp_path):
    old, labels = two_clusters()
    np.save(tmp_path / "old.npy", old)
    np.save(tmp_path / "new.npy", unit([old[4], E[6]]))
    (tmp_path / "pred.meta").write_text("\n".join(map(str, labels)) + "\n")
    (tmp_path / "ids.txt").write_text("a.jpg\nb.jpg\n")
    cmd = [sys.executable, "-m", "ltc", "assign", "old.npy", "pred.meta", "new.npy", "--method", "knn_cc",
           "--threshold", "0.9", "--k", "4", "--ids", "ids.txt", "-o", "new.meta", "--tsv", "new.tsv",
           "--summary", "s.json"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "new.meta").read_text().split() == ["5", "6"]
    rows = [line.split("\t") for line in (tmp_path / "new.tsv").read_text().splitlines()[1:]]
    # cluster 5 is the run's clusters.tsv cluster 1 (sizes tie: by first item); the new one after both
    assert rows == [["0", "a.jpg", "1", "4", ""], ["1", "b.jpg", "2", "1", ""]]
    assert json.loads((tmp_path / "s.json").read_text())["joined_existing"] == 1
    proc = subprocess.run(cmd[:6] + ["pred.meta", "-o", "x.meta", "--threshold", "0.9"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.meta").exists()


def test_workflow_assigns_new_faces_without_touching_the_run(tmp_path):
    wd = workdir(tmp_path)
    feats, labels = blobs(8, 6, dim=8, seed=4, spread=0.1)
    base = custom(tmp_path, feats[:40], labels[:40])
    np.save(tmp_path / "new.npy", feats[40:])
    (tmp_path / "new.meta").write_text("\n".join(map(str, labels[40:])) + "\n")
    config = with_(base, datasets__mine__new={"features": str(tmp_path / "new.npy"),
                                                "labels": str(tmp_path / "new.meta")})
    snakemake(wd, "results/mine/knn_cc/pred_labels.meta", config=config)
    run_labels = (wd / "results/mine/knn_cc/pred_labels.meta").read_bytes()
    snakemake(wd, "results/mine/knn_cc/assigned/metrics.json", config=config)
    assert (wd / "results/mine/knn_cc/pred_labels.meta").read_bytes() == run_labels
    out = wd / "results/mine/knn_cc/assigned"
    assert len((out / "pred_labels.meta").read_text().split()) == 8
    assert (out / "old_labels.meta").read_bytes() == run_labels
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["new"]["pairwise"]["fscore"] > 0.9 and "union" in metrics
    proc = snakemake(wd, "results/mine/knn_cc/assigned/pred_labels.meta", "-n",
                     config=base, check=False)  # a dataset without new faces
    assert proc.returncode == 1 and "new.features" in proc.stderr + proc.stdout
