"""GCN-D: proposals, IoU targets, de-overlap and checkpoints against hand-worked values, and a tiny
workflow run (ltc/proposals.py, ltc/gcnd.py, ltc/methods/gcnd.py, workflow/rules/method_gcnd.smk)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import REPO, TINY, planned_jobs, snakemake, with_, workdir
from ltc import DataError, gcnd, proposals
from ltc.io import save_knn

# A 10-vertex kNN graph (K = 3, self first, -1 missing) with these links (cosine similarity):
# 0-1 0.9, 1-2 0.75, 2-3 0.95 | 4-5 0.8, 5-6 0.85, 4-6 0.3 | 7-8 0.99 | 9-0 0.5
ROWS = [
    [(0, 1.0), (1, 0.9), (9, 0.5)],
    [(1, 1.0), (0, 0.9), (2, 0.75)],
    [(2, 1.0), (3, 0.95), (1, 0.75)],
    [(3, 1.0), (2, 0.95), (-1, None)],
    [(4, 1.0), (5, 0.8), (6, 0.3)],
    [(5, 1.0), (6, 0.85), (4, 0.8)],
    [(6, 1.0), (5, 0.85), (4, 0.3)],
    [(7, 1.0), (8, 0.99), (-1, None)],
    [(8, 1.0), (7, 0.99), (-1, None)],
    [(9, 1.0), (0, 0.5), (-1, None)],
]


def graph():
    ids = np.array([[i for i, _ in row] for row in ROWS], dtype=np.int64)
    dists = np.array([[1.0 - s if s is not None else 2.0 for _, s in row] for row in ROWS], dtype=np.float32)
    return ids, dists


def as_lists(p):
    return [p.proposal(i).tolist() for i in range(len(p))]


def test_proposals_split_oversized_components_at_t_plus_one_minus_t_times_step():
    """th 0.75 keeps 0-1, 1-2 (0.75: >= is kept), 2-3, 4-5, 5-6, 7-8. {0,1,2,3} exceeds maxsz 3: the
    first threshold is the smallest kept similarity, 0.75, and one round raises it to
    0.75 + (1 - 0.75) * 0.5 = 0.875, which cuts 1-2 only: {0,1} and {2,3}. (The rule t + step would
    jump to 1.25 and cut every link, leaving singletons that minsz drops.)"""
    ids, dists = graph()
    p = proposals.basic_proposals(ids, dists, k=3, th=0.75, step=0.5, minsz=2, maxsz=3)
    assert as_lists(p) == [[0, 1], [2, 3], [4, 5, 6], [7, 8]]
    assert (p.k, p.th, p.step, p.minsz, p.maxsz, p.n) == (3, 0.75, 0.5, 2, 3, 10)


def test_proposals_minsz_maxsz_and_k():
    ids, dists = graph()
    # minsz 3 drops the pairs {0,1}, {2,3} and {7,8}
    assert as_lists(proposals.basic_proposals(ids, dists, 3, 0.75, 0.5, minsz=3, maxsz=3)) == [[4, 5, 6]]
    # maxsz 4: {0,1,2,3} is not split
    assert as_lists(proposals.basic_proposals(ids, dists, 3, 0.75, 0.5, 2, 4)) == [[0, 1, 2, 3], [4, 5, 6], [7, 8]]
    # k 2: the link 1-2 is only in the third column of rows 1 and 2, so it is gone
    assert as_lists(proposals.basic_proposals(ids, dists, 2, 0.75, 0.5, 2, 300)) == [[0, 1], [2, 3], [4, 5, 6], [7, 8]]
    # th 0.8 also drops 1-2 (0.75); th 0.3 adds 4-6 and 0-9: {0,1,2,3,9}
    assert as_lists(proposals.basic_proposals(ids, dists, 3, 0.3, 0.5, 2, 300)) == [[0, 1, 2, 3, 9], [4, 5, 6], [7, 8]]
    with pytest.raises(DataError, match="k = 4"):
        proposals.basic_proposals(ids, dists, 4, 0.75)
    with pytest.raises(DataError, match="minsz"):
        proposals.basic_proposals(ids, dists, 3, 0.75, minsz=1)


def test_proposal_files_round_trip_and_are_checked(tmp_path):
    ids, dists = graph()
    p = proposals.basic_proposals(ids, dists, 3, 0.75, 0.5, 2, 3)
    proposals.save(tmp_path / "p.npz", p)
    back = proposals.load(tmp_path / "p.npz", 10)
    assert as_lists(back) == as_lists(p) and back.k == 3 and back.th == 0.75
    with pytest.raises(DataError, match="of 10 vertices but the split has 11"):
        proposals.load(tmp_path / "p.npz", 11)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz is not a readable proposal set"):
        proposals.load(tmp_path / "bad.npz")


def sets_of(lists, n, k=3):
    sizes = [len(m) for m in lists]
    members = np.array([v for m in lists for v in m], dtype=np.int64)
    return proposals.Proposals(members, np.r_[0, np.cumsum(sizes)].astype(np.int64), n, k, 0.7, 0.05, 2, 300)


def test_iou_and_iop_targets_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 4]) + 10  # identity sizes: 10: 3, 11: 3, 12: 2, 13: 1, 14: 1
    p = sets_of([[0, 1, 2, 3], [4, 5, 6], [7, 8]], 10)
    identity, iou, iop = gcnd.majority(p, labels)
    # {0,1,2,3}: 3 of identity 10 (size 3): IoU 3 / (4 + 3 - 3), IoP 3 / 4
    # {4,5,6}: 2 of identity 11 ({3,4,5}): IoU 2 / (3 + 3 - 2), IoP 2 / 3
    # {7,8}: one each of 12 ({6,7}: IoU 1/3) and 13 ({8}: IoU 1 / (2 + 1 - 1)): the tie goes to the higher IoU
    assert identity.tolist() == [10, 11, 13]
    np.testing.assert_allclose(iou, [0.75, 0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(iop, [0.75, 2 / 3, 0.5], rtol=1e-6)
    np.testing.assert_allclose(gcnd.targets(p, labels)[0], iou)


def test_deoverlap_takes_proposals_best_first():
    """Scores A 0.5, B 0.9, C 0.7, D 0.1: B takes {2,3}, C {4,5} (3 is taken), A {0,1}, D nothing;
    6 is in no proposal: a singleton. Labels numbered by first point."""
    p = sets_of([[0, 1, 2], [2, 3], [3, 4, 5], [0, 1]], 7)
    labels = gcnd.deoverlap(p, np.array([0.5, 0.9, 0.7, 0.1]))
    assert labels.tolist() == [0, 0, 1, 1, 2, 2, 3] and labels.dtype == np.int64
    # equal scores: the earlier proposal first, as the original's stable sort: A {0,1,2}, B {3}, C {4,5}
    assert gcnd.deoverlap(p, np.array([0.5, 0.5, 0.5, 0.5])).tolist() == [0, 0, 0, 1, 2, 2, 3]
    with pytest.raises(DataError, match="3 scores for 4 proposals"):
        gcnd.deoverlap(p, np.zeros(3))


def test_deoverlap_drops_proposals_below_th_pos_and_th_pos_is_chosen_on_train(tmp_path):
    """Scores A 0.5, B 0.9, C 0.7, D 0.1 as above. th_pos 0.6 keeps B {2,3} and C {3,4,5} only: B takes
    {2,3}, C {4,5}; 0, 1 and 6 are singletons. th_pos 0.9: B alone. th_pos above every score: all
    singletons. Identities {0,1}, {2,3}, {4,5}, {6}: any th_pos <= 0.5 keeps A, which (with 2 taken by
    B) gives {0,1}: the true clustering, F 1; above 0.5, 0 and 1 fall apart. The sweep over the
    scores chooses a th_pos <= 0.5."""
    from ltc import thresholds

    p = sets_of([[0, 1, 2], [2, 3], [3, 4, 5], [0, 1]], 7)
    scores = np.array([0.5, 0.9, 0.7, 0.1])
    assert gcnd.deoverlap(p, scores, 0.6).tolist() == [0, 1, 2, 2, 3, 3, 4]
    assert gcnd.deoverlap(p, scores, 0.9).tolist() == [0, 1, 2, 2, 3, 4, 5]
    assert gcnd.deoverlap(p, scores, 0.95).tolist() == list(range(7))
    assert gcnd.deoverlap(p, scores, 0.1).tolist() == gcnd.deoverlap(p, scores).tolist() == [0, 0, 1, 1, 2, 2, 3]
    # A (0.5) holds 0, 1 and 2, but B (0.9) takes 2 first: with A kept (th_pos <= 0.5) {0,1} is a cluster
    gt = np.array([0, 0, 1, 1, 2, 2, 3])
    cut, values = gcnd.sweeper(p, scores)
    chosen = thresholds.choose(cut, gt, values, "th_pos", tmp_path / "t.json", tmp_path / "t.png", "train.meta",
                               setting="methods.gcnd.th_pos")
    assert cut(chosen).tolist() == gt.tolist() and chosen <= 0.5


def test_th_pos_carries_over_as_the_fraction_of_proposals_kept():
    """Train scores 0.9, 0.8, 0.8, 0.6, 0.2 (in-sample, higher): th_pos 0.8 keeps 3 of 5 (0.6). Test
    scores 0.5, 0.45, 0.4, 0.3, 0.1, 0.05: 0.6 of 6 is 3.6, so the best 4 (0.3 and above) are kept; the
    train's 0.8 would keep none of them. Fraction 1 keeps all (th_pos 0.05), 0 none (+inf); ties at the
    cut are kept (0.8, 0.8 for 2 of 5)."""
    train = np.array([0.9, 0.8, 0.8, 0.6, 0.2])
    test = np.array([0.1, 0.5, 0.3, 0.45, 0.05, 0.4])
    assert gcnd.kept_fraction(train, 0.8) == pytest.approx(0.6)
    assert gcnd.th_pos_keeping(test, 0.6) == 0.3 and (test >= 0.3).sum() == 4
    assert gcnd.th_pos_keeping(test, 1.0) == 0.05 and gcnd.th_pos_keeping(test, 0.0) == np.inf
    assert gcnd.th_pos_keeping(train, 0.4) == 0.8 and gcnd.kept_fraction(train, gcnd.th_pos_keeping(train, 0.4)) == 0.6
    assert gcnd.th_pos_keeping(test, gcnd.kept_fraction(test, 0.4)) == 0.4  # the inverse without ties


def test_deoverlap_script_blames_th_pos_when_it_drops_every_proposal(tmp_path):
    """Proposals {0,1,2} (0.4) and {3,4} (0.3) over 6 points: th_pos 0.5 keeps neither, so every point
    is a singleton; with every proposal kept they would cluster, so the warning names th_pos, not the
    proposals' thresholds. A th_pos chosen on train applies as its kept fraction (0.5: the best one)."""
    from ltc.io import read_labels

    save_knn(tmp_path / "knn.npz", np.zeros((6, 2), dtype=np.int64), np.zeros((6, 2), dtype=np.float32))
    proposals.save(tmp_path / "p.npz", sets_of([[0, 1, 2], [3, 4]], 6))
    np.save(tmp_path / "s.npy", np.array([0.4, 0.3], dtype=np.float32))
    (tmp_path / "t.json").write_text(json.dumps({"name": "th_pos", "th_pos": 0.9, "kept_fraction": 0.5}))
    script = [sys.executable, str(REPO / "workflow/scripts/deoverlap_gcnd.py"), "--knn", str(tmp_path / "knn.npz"),
              "--proposals", str(tmp_path / "p.npz"), "--scores", str(tmp_path / "s.npy")]
    proc = subprocess.run(script + ["--threshold-value", "0.5", "--out", str(tmp_path / "a.meta")],
                          capture_output=True, text=True, check=True)
    assert read_labels(tmp_path / "a.meta").tolist() == list(range(6))
    assert "methods.gcnd.th_pos" in proc.stderr and "th_pos 0.5000 (set in the config)" in proc.stderr
    assert "methods.gcnd.proposals" not in proc.stderr
    proc = subprocess.run(script + ["--threshold-file", str(tmp_path / "t.json"), "--out", str(tmp_path / "b.meta")],
                          capture_output=True, text=True, check=True)
    assert read_labels(tmp_path / "b.meta").tolist() == [0, 0, 0, 1, 2, 3] and "WARNING" not in proc.stderr


def test_graph_batch_pads_and_row_normalises():
    """Proposal {4,5,6} with k 3: links 4-5 0.8, 5-6 0.85, 4-6 0.3 and self-loops 1, rows divided
    by their sums; proposal {7,8} padded with an identity row and a zero feature row."""
    ids, dists = graph()
    p = sets_of([[4, 5, 6], [7, 8]], 10)
    x = np.eye(10, 4, dtype=np.float32)
    feats, adj = gcnd.graph_batch(x, ids, dists, p.members, p.offsets, np.array([3, 3]), np.array([0, 1]))
    raw = np.array([[1, 0.8, 0.3], [0.8, 1, 0.85], [0.3, 0.85, 1]])
    np.testing.assert_allclose(adj[0], raw / raw.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(adj[1], [[1 / 1.99, 0.99 / 1.99, 0], [0.99 / 1.99, 1 / 1.99, 0], [0, 0, 1]], rtol=1e-6)
    np.testing.assert_array_equal(feats[1, 2], 0)
    np.testing.assert_array_equal(feats[0, 0], x[4])


def test_original_layout_checkpoint_loads_and_scores_by_hand(tmp_path):
    """The original's dsgcn state dict (mmcv's layout: meta, state_dict with DataParallel's module.
    prefix, optimizer) for 2-D features, hidden [2, 1]: W1 = I, W2 = [1, 1]^T, classifier 2x + 0.5.
    One proposal {0, 1} with features (1, 0), (0, 1) and link similarity 0.5: A = [[2/3, 1/3],
    [1/3, 2/3]], layer 1: A X = A, layer 2: (A A) [1, 1]^T = [1, 1], max 1, score 2 * 1 + 0.5 = 2.5."""
    state = {"module.layers.0.gc.weight": torch.eye(2), "module.layers.1.gc.weight": torch.ones(2, 1),
             "module.classifier.weight": torch.tensor([[2.0]]), "module.classifier.bias": torch.tensor([0.5])}
    torch.save({"meta": {"epoch": 30, "iter": 100}, "state_dict": state,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": [0, 1, 2, 3]}]}},
               tmp_path / "pretrained_gcn_d_ms1m.pth")
    model = gcnd.load_checkpoint(tmp_path / "pretrained_gcn_d_ms1m.pth", dim=2)
    assert model.hidden == [2, 1] and model.dim == 2
    assert sorted(model.state_dict()) == ["classifier.bias", "classifier.weight", "layers.0.gc.weight",
                                          "layers.1.gc.weight"]
    ids, dists = np.array([[0, 1], [1, 0]]), np.array([[0, 0.5], [0, 0.5]], dtype=np.float32)
    x = np.eye(2, dtype=np.float32)
    scores = gcnd.predict(model, x, ids, dists, [sets_of([[0, 1]], 2, k=2)], device_name="cpu")
    np.testing.assert_allclose(scores, [2.5], rtol=1e-6)
    with pytest.raises(DataError, match="expects 2-D features but the data is 3-D"):
        gcnd.load_checkpoint(tmp_path / "pretrained_gcn_d_ms1m.pth", dim=3)
    torch.save({"state_dict": {"conv1.weight": torch.ones(4, 2)}}, tmp_path / "gcnv.pth")
    with pytest.raises(DataError, match="no GCN-D weights"):
        gcnd.load_checkpoint(tmp_path / "gcnv.pth")


def test_our_checkpoint_round_trips(tmp_path):
    model = gcnd.GCND(4, [3, 2])
    gcnd.save_checkpoint(model, tmp_path / "model.pt", {"dim": 4})
    back = gcnd.load_checkpoint(tmp_path / "model.pt", 4)
    for key, value in model.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)


def test_proposal_k_above_the_knn_files_is_refused_in_one_sentence(tmp_path):
    ids, dists = graph()
    save_knn(tmp_path / "knn.npz", ids, dists)
    out = tmp_path / "p.npz"
    proc = subprocess.run([sys.executable, str(REPO / "workflow/scripts/proposals_gcnd.py"), "--knn",
                           str(tmp_path / "knn.npz"), "--k", "5", "--th", "0.7", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and not out.exists()
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "methods.gcnd.proposals has k = 5" in lines[0] and "Traceback" not in proc.stderr


TINY_GCND = with_(TINY, methods__gcnd__proposals=[[10, 0.6], [10, 0.7], [5, 0.6]], methods__gcnd__hidden=[32, 16],
                  methods__gcnd__train__max_epochs=5)


def test_tiny_workflow_run_and_changing_the_score_reruns_no_training(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/gcnd/fscore.txt", config=TINY_GCND)
    text = (wd / "results/demo/gcnd/fscore.txt").read_text()
    fscore = float(text.split("pairwise")[1].split("fscore")[1].split()[0])
    assert fscore > 0.3, text  # 25 test identities: well above the singletons' 0
    labels = np.loadtxt(wd / "results/demo/gcnd/pred_labels.meta", dtype=np.int64)
    assert labels.min() == 0
    for split in ("train", "test"):
        assert len(list((wd / f"results/demo/gcnd/{split}/proposals").glob("k_*_th_*.npz"))) == 3
    chosen = json.loads((wd / "results/demo/gcnd/threshold.json").read_text())
    assert chosen["name"] == "th_pos" and 0 < chosen["kept_fraction"] <= 1
    # the upper bound (true IoU as the score, th_pos chosen on the train split's): no new proposals, no
    # training, no inference
    assert planned_jobs(wd, with_(TINY_GCND, methods__gcnd__score="gt"), "results/demo/gcnd/fscore.txt") == {
        "truth_gcnd": 2, "select_threshold_gcnd": 1, "deoverlap_gcnd": 1, "evaluate": 1}
    # a fixed th_pos: only the de-overlap and its evaluation rerun
    assert planned_jobs(wd, with_(TINY_GCND, methods__gcnd__th_pos=-1), "results/demo/gcnd/fscore.txt") == {
        "deoverlap_gcnd": 1, "evaluate": 1}


def test_one_step_cluster_needs_a_checkpoint_and_runs_with_one(tmp_path):
    from ltc.methods import registry

    rng = np.random.default_rng(0)
    x = np.repeat(np.eye(8)[:3], 6, axis=0) + 0.05 * rng.standard_normal((18, 8))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    sims = x @ x.T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :6]
    dists = (1 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)
    with pytest.raises(DataError, match="set methods.gcnd.checkpoint"):
        registry.run("gcnd", {}, ids=ids, dists=dists, feats=x)
    gcnd.save_checkpoint(gcnd.GCND(8, [4, 2]), tmp_path / "model.pt", {})
    labels = registry.run("gcnd", {"checkpoint": str(tmp_path / "model.pt"), "proposals": [[6, 0.9]], "th_pos": -1,
                                   "train": {"device": "cpu"}}, ids=ids, dists=dists, feats=x)
    # th 0.9 links only within the three tight groups of 6: each one proposal, whatever its score
    assert labels.tolist() == [0] * 6 + [1] * 6 + [2] * 6
