"""GCN-V pieces on a graph small enough to work by hand, checkpoint loading, training determinism,
and the streamed inference against the whole-matrix formula."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ltc import DataError, confidence, gcn, thresholds
from ltc.graph import SymmetricKnnGraph
from ltc.io import load_links, npy_row_writer, save_knn, write_features
from ltc.knn import knn_graph
from ltc.synthetic import make_dataset

# 4 vertices, k = 3 (self first), labels 0 0 1 1; dists = 1 - cosine
IDS = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0], [3, 2, 1]])
DISTS = np.array([[0, .2, .4], [0, .2, .5], [0, .1, .45], [0, .1, .5]])
LABELS = np.array([0, 0, 1, 1])


def test_supervised_confidence_by_hand():
    # v0: 1 + .8 - .6 = 1.2; v1: 1 + .8 - .5 = 1.3; v2: 1 + .9 - .55 = 1.35; v3: 1 + .9 - .5 = 1.4
    expected = np.array([1.2, 1.3, 1.35, 1.4]) / 1.4
    np.testing.assert_allclose(confidence.supervised_confidence(IDS, DISTS, LABELS), expected, rtol=1e-6)


def test_missing_neighbours_do_not_count():
    ids = np.array([[0, 1, -1], [1, 0, -1]])
    dists = np.array([[0, .5, np.inf], [0, .5, np.inf]])
    np.testing.assert_allclose(confidence.supervised_confidence(ids, dists, np.array([3, 4])), [1, 1])


def test_peaks_by_hand():
    conf = np.array([1.2, 1.3, 1.35, 1.4])
    peak, sim = confidence.peaks(IDS, DISTS, conf)
    # v0 -> 1 (nearest, higher); v1 -> 3 (0 is lower); v2 -> 3; v3 is the top: no peak
    assert peak.tolist() == [1, 3, 3, -1]
    np.testing.assert_allclose(sim[:3], [.8, .5, .9])
    assert sim[3] == -np.inf


def test_equal_confidence_ties_break_by_index():
    # (was: equal confidence is never higher, so nothing links; that rule splits identical twins, issue 10
    # case 7.) Now j is above i if conf_j > conf_i or (equal and j < i): v0 is the top; v1 -> 0 (nearest
    # above it); v2's row 3, 0: 3 is below 2, so v2 -> 0; v3's row 2, 1: 2 is above, v3 -> 2.
    peak, _ = confidence.peaks(IDS, DISTS, np.ones(4))
    assert peak.tolist() == [-1, 0, 0, 2]


@pytest.mark.parametrize("tau,expected", [
    (0.95, [0, 1, 2, 3]),
    (0.85, [0, 1, 2, 2]),   # 2-3 (.9)
    (0.8, [0, 0, 1, 1]),    # + 0-1 (.8, inclusive)
    (0.5, [0, 0, 0, 0]),    # + 1-3 (.5)
])
def test_linking_threshold_by_hand(tau, expected):
    conf = np.array([1.2, 1.3, 1.35, 1.4])
    assert confidence.cluster(IDS, DISTS, conf, tau).tolist() == expected


def test_adjacency_by_hand():
    # th_sim .58 keeps 0->1 .8, 0->2 .6, 1->0 .8, 2->3 .9, 3->2 .9 (2->0 .55 and the .5 edges are dropped);
    # symmetric by the larger weight (2-0 comes back as .6), self-loops 1, rows normalised.
    adj = gcn.normalized_adjacency(IDS, DISTS, 0.58).toarray()
    expected = np.array([[1, .8, .6, 0], [.8, 1, 0, 0], [.6, 0, 1, .9], [0, 0, .9, 1]])
    np.testing.assert_allclose(adj, expected / expected.sum(1, keepdims=True), rtol=1e-6)


def test_gcn_input_is_features_and_neighbour_mean():
    feats = np.array([[3, 0], [0, 2], [1, 1], [0, -5]], dtype=np.float32)
    adj = gcn.normalized_adjacency(IDS, DISTS, 0.58)
    z = gcn.gcn_input(feats, adj)
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    np.testing.assert_allclose(z, np.hstack([unit, adj.toarray() @ unit]), rtol=1e-5, atol=1e-6)


def original_layout_state(dim=6, nhid=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    shapes = {"conv1.weight": (2 * dim, nhid), "conv1.bias": (nhid,), "classifier.0.weight": (nhid, nhid),
              "classifier.0.bias": (nhid,), "classifier.1.weight": (nhid,), "classifier.2.weight": (1, nhid),
              "classifier.2.bias": (1,)}
    return {name: torch.randn(shape, generator=g) for name, shape in shapes.items()}


def test_original_checkpoint_loads_and_predicts(tmp_path):
    state = original_layout_state()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}, "meta": {"epoch": 80000}},
               tmp_path / "latest.pth")
    model = gcn.load_checkpoint(tmp_path / "latest.pth", dim=6)
    z = np.random.default_rng(0).standard_normal((7, 12)).astype(np.float32)
    conf, hidden = gcn.predict(model, z, device_name="cpu")
    s = {k: v.numpy().astype(np.float64) for k, v in state.items()}
    h = np.maximum(z @ s["conv1.weight"] + s["conv1.bias"], 0)
    u = h @ s["classifier.0.weight"].T + s["classifier.0.bias"]
    u = np.where(u > 0, u, s["classifier.1.weight"] * u)
    np.testing.assert_allclose(hidden, h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(conf, (u @ s["classifier.2.weight"].T + s["classifier.2.bias"]).ravel(), rtol=1e-4, atol=1e-5)
    torch.save(state, tmp_path / "bare.pth")  # a bare state dict loads too
    assert gcn.load_checkpoint(tmp_path / "bare.pth").conv1.weight.shape == (12, 5)


def test_checkpoint_errors(tmp_path):
    torch.save(original_layout_state(dim=6), tmp_path / "m.pth")
    with pytest.raises(DataError, match="expects 6-D features but the data is 8-D"):
        gcn.load_checkpoint(tmp_path / "m.pth", dim=8)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="not a readable torch file"):
        gcn.load_checkpoint(tmp_path / "junk.pth")
    torch.save({"weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(DataError, match="no GCN-V weights"):
        gcn.load_checkpoint(tmp_path / "other.pth")


def test_sweep_picks_best_pairwise_f():
    conf = np.array([1.2, 1.3, 1.35, 1.4])
    peak, sim = confidence.peaks(IDS, DISTS, conf)
    chosen, table = thresholds.sweep(lambda t: confidence.link_to_peaks(peak, sim, t), LABELS, np.array([.5, .8, .85, .95]))
    assert chosen == 0.8 and [round(r["fscore"], 4) for r in table] == [0.5, 1.0, 0.6667, 0.0]


def test_training_learns_and_is_deterministic():
    feats, labels = make_dataset(30, 2, dim=32, seed=1)["train"]
    ids, dists = knn_graph(feats, 10)
    target = confidence.supervised_confidence(ids, dists, labels)
    z = gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, 0.0))
    runs = [gcn.train(z, target, nhid=16, max_epochs=8, batch_size=64, seed=3, device_name="cpu") for _ in range(2)]
    (model, curve), (again, _) = runs
    assert curve[-1]["train_mse"] < curve[0]["train_mse"]
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values()):
        assert torch.equal(a, b), name


def brute_force_knn(feats, k):
    """Exact kNN by cosine (self first), as the workflow's kNN files hold it: (ids, 1 - cosine)."""
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    sims = unit @ unit.T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return ids, (1.0 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)


def whole_matrix_reference(model, feats, ids, dists, th_sim):
    """The original whole-matrix inference, written out densely: W[i, j] = similarity of the kNN edge
    i -> j if >= th_sim (self and missing neighbours dropped), symmetric by the larger direction,
    self-loops 1, rows normalised; then the model on [X, A X]."""
    n = len(ids)
    w = np.zeros((n, n))
    for i in range(n):
        for j, d in zip(ids[i], dists[i]):
            if j >= 0 and j != i and 1.0 - d >= th_sim:
                w[i, j] += 1.0 - d
    w = np.maximum(w, w.T)
    np.fill_diagonal(w, 1.0)
    x = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    z = np.hstack([x, (w / w.sum(1, keepdims=True)) @ x]).astype(np.float32)
    return gcn.predict(model, z, device_name="cpu")


@pytest.mark.parametrize("th_sim", [0.0, 0.5])
def test_streamed_inference_equals_whole_matrix(tmp_path, th_sim):
    feats, _ = make_dataset(12, 2, dim=16, seed=4)["train"]
    ids, dists = brute_force_knn(feats, 6)
    ids[3, 5], dists[3, 5] = -1, np.inf  # a missing neighbour
    write_features(tmp_path / "f.bin", feats)
    save_knn(tmp_path / "knn.npz", ids, dists)
    torch.manual_seed(0)
    model = gcn.GCNV(16, 8)
    graph = SymmetricKnnGraph(tmp_path / "knn.npz", th_sim, chunk_rows=5)
    x = gcn.read_normalized(tmp_path / "f.bin", 16, chunk_rows=7)
    with npy_row_writer(tmp_path / "hidden.npy", (len(feats), 8)) as out:
        conf = gcn.predict_graph(model, x, graph, out, batch_size=7, device_name="cpu")
    ref_conf, ref_hidden = whole_matrix_reference(model, feats, ids, dists, th_sim)
    np.testing.assert_allclose(conf, ref_conf, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "hidden.npy"), ref_hidden, rtol=1e-5, atol=1e-6)
    # and the in-memory path (training's) agrees with both
    z = gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, th_sim))
    np.testing.assert_allclose(gcn.predict(model, z, device_name="cpu")[0], conf, rtol=1e-5, atol=1e-6)


def test_infer_and_links_scripts_stream(tmp_path):
    """infer_gcnv.py and links_gcnv.py on files: the whole-matrix reference, then peaks of it."""
    scripts = Path(__file__).resolve().parents[1] / "workflow" / "scripts"
    feats, _ = make_dataset(10, 2, dim=16, seed=5)["train"]
    ids, dists = brute_force_knn(feats, 5)
    write_features(tmp_path / "f.bin", feats)
    save_knn(tmp_path / "knn.npz", ids, dists)
    torch.manual_seed(1)
    model = gcn.GCNV(16, 8)
    gcn.save_checkpoint(model, tmp_path / "model.pt", {})
    run = [sys.executable, str(scripts / "infer_gcnv.py"), "--model", str(tmp_path / "model.pt"),
           "--features", str(tmp_path / "f.bin"), "--dim", "16", "--knn", str(tmp_path / "knn.npz"),
           "--device", "cpu", "--batch-size", "9", "--confidence", str(tmp_path / "conf.npy"),
           "--gcn-features", str(tmp_path / "hidden.npy")]
    subprocess.run(run, check=True, capture_output=True)
    ref_conf, ref_hidden = whole_matrix_reference(model, feats, ids, dists, 0.0)
    conf = np.load(tmp_path / "conf.npy")
    np.testing.assert_allclose(conf, ref_conf, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "hidden.npy"), ref_hidden, rtol=1e-5, atol=1e-6)
    subprocess.run([sys.executable, str(scripts / "links_gcnv.py"), "--confidence", str(tmp_path / "conf.npy"),
                    "--knn", str(tmp_path / "knn.npz"), "--out", str(tmp_path / "links.npz")],
                   check=True, capture_output=True)
    peer, sim = load_links(tmp_path / "links.npz")
    ref_peer, ref_sim = confidence.peaks(ids, dists, conf)
    assert peer.tolist() == ref_peer.tolist()
    np.testing.assert_array_equal(sim, ref_sim.astype(np.float32))
