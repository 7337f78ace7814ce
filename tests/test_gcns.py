"""GCN-S and derived proposal thresholds against hand-worked values: the keep mask's targets, the
cleaning before the de-overlap, the original's GCN-S checkpoint layout, thresholds from a hand-made
similarity list, and a tiny workflow run (ltc/gcnd.py, ltc/proposals.py, workflow/rules/method_gcnd.smk)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import REPO, TINY, planned_jobs, snakemake, with_, workdir
from ltc import DataError, gcnd, proposals
from ltc.io import save_array, save_knn, write_labels
from ltc.methods import gcnd as settings
from test_gcnd import graph, sets_of

# graph() (test_gcnd): with k = 3 its unordered links are 0-1 0.9, 0-9 0.5, 1-2 0.75, 2-3 0.95, 4-5 0.8,
# 4-6 0.3, 5-6 0.85, 7-8 0.99; with k = 2 (the first two columns) 0-1, 0-9, 2-3, 4-5, 5-6, 7-8.
LABELS = np.array([0, 0, 0, 0, 1, 1, 2, 3, 3, 4])  # same-identity links (k 3): 0-1, 1-2, 2-3, 4-5, 7-8


def test_quantile_thresholds_on_a_hand_made_similarity_list():
    """k 3: the 8 similarities sorted 0.3 0.5 0.75 0.8 0.85 0.9 0.95 0.99; the 0.5-quantile (linear, as
    numpy) sits at position 3.5: (0.8 + 0.85) / 2. k 2: 0.5 0.8 0.85 0.9 0.95 0.99, position 2.5: 0.875."""
    ids, dists = graph()
    assert proposals.derive_threshold(ids, dists, 3, "q0.5") == pytest.approx(0.825, abs=1e-6)
    assert proposals.derive_threshold(ids, dists, 3, "q0") == pytest.approx(0.3, abs=1e-6)
    assert proposals.derive_threshold(ids, dists, 3, "q1") == pytest.approx(0.99, abs=1e-6)
    assert proposals.derive_threshold(ids, dists, 2, "q0.5") == pytest.approx(0.875, abs=1e-6)


def test_recall_thresholds_keep_that_share_of_the_same_identity_links():
    """Same-identity similarities (k 3): 0.75 0.8 0.9 0.95 0.99. r0.6 is their 0.4-quantile, position
    1.6: 0.8 + 0.6 * 0.1 = 0.86, and links >= 0.86 keep 3 of the 5; r1 keeps them all (0.75)."""
    ids, dists = graph()
    assert proposals.derive_threshold(ids, dists, 3, "r0.6", LABELS) == pytest.approx(0.86, abs=1e-6)
    assert proposals.derive_threshold(ids, dists, 3, "r1", LABELS) == pytest.approx(0.75, abs=1e-6)
    with pytest.raises(DataError, match="needs the train split's labels"):
        proposals.derive_threshold(ids, dists, 3, "r0.6")
    for bad in ("x0.5", "q1.5", "q", "q 0.5"):
        with pytest.raises(DataError, match="methods.gcnd.proposals has th"):
            proposals.derived_spec(bad)
    assert proposals.derived_spec(0.7) is None and proposals.derived_spec("r0.25") == ("r", 0.25)


def test_derived_thresholds_through_the_scripts(tmp_path):
    """thresholds_gcnd.py records the train split's q0.5 (0.825) and r0.6 (0.86); proposals_gcnd.py reads
    them: at 0.86 (k 3) the links 0-1, 2-3, 7-8 (and 0.85 < 0.86 drops 5-6) make {0,1}, {2,3}, {7,8}."""
    ids, dists = graph()
    save_knn(tmp_path / "knn.npz", ids, dists)
    write_labels(tmp_path / "labels.meta", LABELS)
    script = REPO / "workflow/scripts"
    run = [sys.executable, str(script / "thresholds_gcnd.py"), "--knn", str(tmp_path / "knn.npz"), "--labels",
           str(tmp_path / "labels.meta"), "--k", "3", "3", "--th", "q0.5", "r0.6", "--out", str(tmp_path / "th.json")]
    subprocess.run(run, check=True, capture_output=True)
    rows = json.loads((tmp_path / "th.json").read_text())["thresholds"]
    assert [(r["k"], r["th"]) for r in rows] == [(3, "q0.5"), (3, "r0.6")]
    np.testing.assert_allclose([r["value"] for r in rows], [0.825, 0.86], atol=1e-6)
    out = tmp_path / "p.npz"
    subprocess.run([sys.executable, str(script / "proposals_gcnd.py"), "--knn", str(tmp_path / "knn.npz"), "--k", "3",
                    "--th", "r0.6", "--thresholds", str(tmp_path / "th.json"), "--minsz", "2", "--out", str(out)],
                   check=True, capture_output=True)
    found = proposals.load(out)
    assert [found.proposal(i).tolist() for i in range(len(found))] == [[0, 1], [2, 3], [7, 8]]
    assert found.th == pytest.approx(0.86, abs=1e-6)
    proc = subprocess.run([sys.executable, str(script / "proposals_gcnd.py"), "--knn", str(tmp_path / "knn.npz"),
                           "--k", "2", "--th", "r0.6", "--thresholds", str(tmp_path / "th.json"), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "has no th 'r0.6' for k 2" in proc.stderr and "Traceback" not in proc.stderr


def test_keep_mask_targets_are_the_majority_identitys_members():
    """{0,1,2,3}: labels 0 0 0 1, majority 0: keep 0, 1, 2; {4,5,6}: 1 1 2: keep 4, 5; {7,8,9}: 3 3 4: keep
    7, 8; {6,9}: one each of 2 and 4 (sizes 1 and 1): the tie goes to the smaller label, 2: keep 6."""
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 3, 3, 4])
    p = sets_of([[0, 1, 2, 3], [4, 5, 6], [7, 8, 9], [6, 9]], 10)
    keep = gcnd.member_targets(p, labels)
    assert keep.tolist() == [True, True, True, False, True, True, False, True, True, False, True, False]


def test_segmentation_batch_targets_with_and_without_a_seed():
    """The proposal {0,1,2,3} of labels 0 0 0 1 (padded beside {4,5}): without a seed the targets are the
    majority's members; with the max_degree seed (vertex 1 or 2: two links each, the first wins: 1) the
    seed's identity 0; a seed column marks row 1. Padding: IGNORE."""
    ids, dists = graph()
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 4])
    p = sets_of([[0, 1, 2, 3], [4, 5]], 10)
    pool = gcnd.Pool(np.eye(10, 4, dtype=np.float32), ids, dists, [p])
    identity = gcnd.majority(p, labels)[0]
    feats, _, target, _ = gcnd.segment_batch(pool, np.array([0, 1]), "none", None, labels, identity)
    assert feats.shape == (2, 4, 4)
    assert target.tolist() == [[1, 1, 1, 0], [1, 0, gcnd.IGNORE, gcnd.IGNORE]]  # {4,5}: 1 and 2 tie: 1
    feats, _, target, _ = gcnd.segment_batch(pool, np.array([0]), "max_degree", None, labels, identity)
    assert feats.shape == (1, 4, 5) and feats[0, :, 4].tolist() == [0, 1, 0, 0]
    assert target.tolist() == [[1, 1, 1, 0]]
    # the seed of {2,3,...}: a random seed on vertex 3 (label 1) would make only 3 positive
    rng = np.random.default_rng(0)
    feats, _, target, _ = gcnd.segment_batch(pool, np.array([0]), "random", rng, labels, identity)
    seed_row = int(np.flatnonzero(feats[0, :, 4])[0])
    assert target[0].tolist() == (labels[[0, 1, 2, 3]] == labels[seed_row]).astype(int).tolist()


def test_segmentation_cleans_proposals_before_the_de_overlap():
    """A = {0,1,2,3} (score 0.9), GCN-S keeps 0 and 3 (probabilities 0.9 0.2 0.1 0.7): kept fraction 0.5,
    in [0.1, 0.9], so A is cleaned to {0,3} and {1,2} becomes a proposal ranked last. B = {3,4,5} (0.5),
    all kept (fraction 1 > 0.9): unchanged, and 3 is A's. Labels by first point: {0,3} 0, {1,2} 1, {4,5} 2."""
    p = sets_of([[0, 1, 2, 3], [3, 4, 5]], 6)
    keep = np.array([0.9, 0.2, 0.1, 0.7, 0.95, 0.95, 0.95])
    scores = np.array([0.9, 0.5])
    assert gcnd.deoverlap(p, scores).tolist() == [0, 0, 0, 0, 1, 1]  # without GCN-S
    cleaned, order = gcnd.segment(p, scores, keep, (0.1, 0.9), 0.5, True)
    assert [cleaned.proposal(i).tolist() for i in range(len(cleaned))] == [[0, 3], [3, 4, 5], [1, 2]]
    assert order.tolist() == [0, -1, -2]
    assert gcnd.deoverlap(cleaned, order).tolist() == [0, 1, 1, 0, 2, 2]
    # keep_outlier false: 1 and 2 are in no proposal any more, singletons
    assert gcnd.deoverlap(*gcnd.segment(p, scores, keep, (0.1, 0.9), 0.5, False)).tolist() == [0, 1, 2, 0, 3, 3]
    # apply_iop [0.6, 0.9]: A's kept fraction 0.5 is outside: nothing is cleaned
    assert gcnd.deoverlap(*gcnd.segment(p, scores, keep, (0.6, 0.9), 0.5, True)).tolist() == [0, 0, 0, 0, 1, 1]
    # th_outlier 0.15: only 2 leaves A (kept fraction 0.75); A' = {0,1,3} still ranks first, {2} last
    assert gcnd.deoverlap(*gcnd.segment(p, scores, keep, (0.1, 0.9), 0.15, True)).tolist() == [0, 0, 1, 0, 2, 2]
    with pytest.raises(DataError, match="6 GCN-S probabilities and 2 scores for 2 proposals of 7 members"):
        gcnd.segment(p, scores, keep[:6])


def test_deoverlap_script_applies_the_probabilities(tmp_path):
    p = sets_of([[0, 1, 2, 3], [3, 4, 5]], 6)
    proposals.save(tmp_path / "p.npz", p)
    save_knn(tmp_path / "knn.npz", np.tile(np.arange(6)[:, None], (1, 2)), np.zeros((6, 2), np.float32))
    save_array(tmp_path / "scores.npy", np.array([0.9, 0.5], np.float32))
    save_array(tmp_path / "keep.npy", np.array([0.9, 0.2, 0.1, 0.7, 0.95, 0.95, 0.95], np.float32))
    out = tmp_path / "pred.meta"
    subprocess.run([sys.executable, str(REPO / "workflow/scripts/deoverlap_gcnd.py"), "--knn", str(tmp_path / "knn.npz"),
                    "--proposals", str(tmp_path / "p.npz"), "--scores", str(tmp_path / "scores.npy"), "--keep",
                    str(tmp_path / "keep.npy"), "--threshold-value", "-1", "--out", str(out)], check=True,
                   capture_output=True)
    assert np.loadtxt(out, dtype=int).tolist() == [0, 1, 1, 0, 2, 2]
    # th_pos 0.6 drops the second proposal (0.5) before the cleaning: 4, 5 alone; 3 stays in the first
    subprocess.run([sys.executable, str(REPO / "workflow/scripts/deoverlap_gcnd.py"), "--knn", str(tmp_path / "knn.npz"),
                    "--proposals", str(tmp_path / "p.npz"), "--scores", str(tmp_path / "scores.npy"), "--keep",
                    str(tmp_path / "keep.npy"), "--threshold-value", "0.6", "--out", str(out)], check=True,
                   capture_output=True)
    assert np.loadtxt(out, dtype=int).tolist() == [0, 1, 1, 0, 2, 3]


def original_gcns(path):
    """The original's GCN-S state dict (mmcv layout, DataParallel's module. prefix; stage seg with its seed
    column: 2-D features + 1 = 3 inputs), hidden [2]: W = [[1, 0], [0, 1], [1, 0]] (the seed adds 1 to
    unit 0), classifier rows [0, 0] and [1, -1] (logit 1 - logit 0 = h0 - h1), no bias."""
    state = {"module.layers.0.gc.weight": torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]),
             "module.classifier.weight": torch.tensor([[0.0, 0.0], [1.0, -1.0]]),
             "module.classifier.bias": torch.zeros(2)}
    torch.save({"meta": {"epoch": 30}, "state_dict": state, "optimizer": {"state": {}, "param_groups": []}}, path)


def test_original_layout_gcns_checkpoint_loads_and_segments_by_hand(tmp_path):
    """One proposal {0, 1}, features (1, 0) and (0, 1), link similarity 0.5: A = [[2/3, 1/3], [1/3, 2/3]].
    max_degree seed: a tie (one link each), the first: vertex 0, so X W = [(2, 0), (0, 1)]; A X W =
    [(4/3, 1/3), (2/3, 2/3)]; logit differences 1 and 0: probabilities sigmoid(1) and 0.5."""
    original_gcns(tmp_path / "pretrained_gcn_s_ms1m.pth")
    model = gcnd.load_gcns_checkpoint(tmp_path / "pretrained_gcn_s_ms1m.pth", dim=2, seed_mode="max_degree")
    assert model.hidden == [2] and model.dim == 3
    ids, dists = np.array([[0, 1], [1, 0]]), np.array([[0, 0.5], [0, 0.5]], dtype=np.float32)
    keep = gcnd.predict_keep(model, np.eye(2, dtype=np.float32), ids, dists, [sets_of([[0, 1]], 2, k=2)],
                             "max_degree", device_name="cpu")
    np.testing.assert_allclose(keep, [1 / (1 + np.exp(-1)), 0.5], rtol=1e-6)
    with pytest.raises(DataError, match="set methods.gcnd.segment.seed to random or max_degree"):
        gcnd.load_gcns_checkpoint(tmp_path / "pretrained_gcn_s_ms1m.pth", dim=2, seed_mode="none")
    with pytest.raises(DataError, match="does not fit the model"):  # GCN-D's loader: two outputs, not one
        gcnd.load_checkpoint(tmp_path / "pretrained_gcn_s_ms1m.pth")
    gcnd.save_checkpoint(gcnd.GCND(2, [2]), tmp_path / "gcnd.pt", {})
    with pytest.raises(DataError, match="holds no GCN-S weights"):
        gcnd.load_gcns_checkpoint(tmp_path / "gcnd.pt")


def test_training_learns_the_keep_mask_of_noisy_proposals():
    """Four groups of 6 (identities 0-3) linked only within (cosine 0.9; -1 across, no link), equal
    features, and proposals each of one group plus two members of the next: the max_degree seed is a
    member of the group (5 links against 1), and GCN-S learns to keep the members its seed's column
    reaches, on the held-out identity's proposals too (nothing else tells the members apart)."""
    labels = np.repeat(np.arange(4), 6)
    x = np.full((24, 4), 0.5, dtype=np.float32)
    same = labels[:, None] == labels[None, :]
    ids = np.argsort(~same, axis=1, kind="stable")  # own group first (itself first)
    dists = np.where(np.take_along_axis(same, ids, axis=1), 0.1, 2.0).astype(np.float32)
    lists = [sorted(set(range(6 * g, 6 * g + 6)) | {(6 * g + 6 + i) % 24 for i in (j, j + 1)}) for g in range(4)
             for j in range(0, 6, 2)]
    p = sets_of(lists, 24, k=24)
    pool = gcnd.Pool(x, ids, dists, [p])
    identity, _, iop = gcnd.majority(p, labels)
    torch.set_num_threads(1)
    model, curve = gcnd.train_segment(pool, labels, identity, iop, seed_mode="max_degree", hidden=[8], dropout=0.0,
                                      lr=0.02, max_epochs=40, patience=40, batch_size=3, device_name="cpu")
    assert len(curve) == 40 and curve[-1]["val_nll"] < 0.5 * curve[0]["val_nll"]
    keep = gcnd.predict_keep(model, x, ids, dists, [p], "max_degree", device_name="cpu")
    assert ((keep > 0.5) == gcnd.member_targets(p, labels)).all()


def test_segment_settings_are_checked():
    def params(**segment):
        return settings.Params(segment=settings.SegmentParams(**segment))

    settings.check(params())
    with pytest.raises(DataError, match="segment.seed is 'centre'"):
        settings.check(params(seed="centre"))
    with pytest.raises(DataError, match="segment.apply_iop is"):
        settings.check(params(apply_iop=[0.9, 0.1]))
    with pytest.raises(DataError, match="has th = 'p0.9'"):
        settings.check(settings.Params(proposals=[[80, "p0.9"]]))


TINY_GCNS = with_(TINY, methods__gcnd__proposals=[[10, "q0.6"], [10, 0.7], [5, "r0.6"]], methods__gcnd__hidden=[16],
                  methods__gcnd__train__max_epochs=3, methods__gcnd__segment__enabled=True,
                  methods__gcnd__segment__hidden=[16], methods__gcnd__segment__train__max_epochs=3)


def test_tiny_workflow_with_gcns_and_changing_its_application_retrains_nothing(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/gcnd/fscore.txt", config=TINY_GCNS)
    text = (wd / "results/demo/gcnd/fscore.txt").read_text()
    assert float(text.split("pairwise")[1].split("fscore")[1].split()[0]) > 0.3, text
    rows = json.loads((wd / "results/demo/gcnd/thresholds.json").read_text())["thresholds"]
    assert [(r["k"], r["th"]) for r in rows] == [(10, "q0.6"), (5, "r0.6")]
    assert (wd / "results/demo/gcnd/test/proposals/k_10_th_q0.6.npz").exists()
    assert (wd / "results/demo/gcnd/gcns/model.pt").exists()
    log = (wd / "results/demo/logs/deoverlap_gcnd.log").read_text()
    assert "GCN-S:" in log and "proposals cleaned" in log
    assert planned_jobs(wd, with_(TINY_GCNS, methods__gcnd__segment__th_outlier=0.3, methods__gcnd__segment__apply_iop=[0, 1]),
                        "results/demo/gcnd/fscore.txt") == {"deoverlap_gcnd": 1, "evaluate": 1}
    assert planned_jobs(wd, with_(TINY_GCNS, methods__gcnd__segment__enabled=False), "results/demo/gcnd/fscore.txt") == {
        "deoverlap_gcnd": 1, "evaluate": 1}
