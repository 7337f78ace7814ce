"""GCN-V / GCN-E never give a silently wrong answer (issue 10): identical twins stay together (ties in
confidence broken by index), degenerate train labels stop with one sentence, every intermediate file
is checked (with the rebuild command that works), diverged training stops, checkpoints are byte-stable."""
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ltc import DataError, confidence, gcn, gcne
from ltc.io import load_links, rebuild_hint, save_array, save_knn, save_links, workflow_made, write_features, write_labels
from ltc.knn import knn_graph
from ltc.synthetic import make_dataset

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"

# Six vertices, k = 3 (self or twin first); 1 and 4 are the same photo twice (distance 0, equal confidence)
# and the peak of identity {0, 1, 2, 4}; {3, 5} is another identity.
TWIN_IDS = np.array([[0, 1, 4], [1, 4, 0], [2, 4, 1], [3, 5, 2], [4, 1, 0], [5, 3, 2]])
TWIN_DISTS = np.array([[0, .1, .1], [0, 0, .1], [0, .2, .2], [0, .1, .6], [0, 0, .1], [0, .1, .7]])
TWIN_CONF = np.array([.5, .9, .6, .8, .9, .3])


def run_script(name, *args):
    return subprocess.run([sys.executable, str(SCRIPTS / name), *map(str, args)], capture_output=True, text=True)


def one_sentence_error(proc, *needles):
    """The script failed with one ERROR line holding every needle, and no traceback."""
    assert proc.returncode == 1, proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


# --- ties: the order (confidence, then lower index) -------------------------------------------------

def test_twins_link_by_hand():
    # v0 -> 1 (.5 < .9, nearest); v1: 4 is equal and has the larger index, 0 is lower: the root;
    # v2 -> 4 (first above it in its row, .8); v3: 5 and 2 are lower: a root; v4 -> 1 (equal, 1 < 4: sim 1);
    # v5 -> 3 (.9). The old strict rule left 4 without a peak: clusters {0, 1}, {2, 4}, {3, 5}.
    peak, sim = confidence.peaks(TWIN_IDS, TWIN_DISTS, TWIN_CONF)
    assert peak.tolist() == [1, -1, 4, -1, 1, 3]
    np.testing.assert_allclose(sim, [.9, -np.inf, .8, -np.inf, 1.0, .9])
    assert confidence.cluster(TWIN_IDS, TWIN_DISTS, TWIN_CONF, 0.5).tolist() == [0, 0, 0, 1, 0, 1]
    # at tau .85 the .8 link of v2 goes, the twins (similarity 1) stay together
    assert confidence.cluster(TWIN_IDS, TWIN_DISTS, TWIN_CONF, 0.85).tolist() == [0, 0, 1, 2, 0, 2]
    # streamed in chunks of rows: the same
    chunks = [(0, TWIN_IDS[:2], TWIN_DISTS[:2]), (2, TWIN_IDS[2:], TWIN_DISTS[2:])]
    assert confidence.peaks_of_chunks(chunks, TWIN_CONF)[0].tolist() == [1, -1, 4, -1, 1, 3]


def test_order_is_strict_total_and_ranks_ties_by_index():
    conf = np.array([.2, .5, .5, .1, .5])
    i, j = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    above = confidence.higher(conf[i], i, conf[j], j)
    assert not above.diagonal().any()  # never above itself
    assert ((above | above.T) == ~np.eye(5, dtype=bool)).all() and not (above & above.T).any()  # total, antisymmetric
    # ranks, lowest first: 3 (.1), 0 (.2), then the .5 ties by descending index: 4, 2, 1
    assert confidence.order_rank(conf).tolist() == [1, 4, 3, 0, 2]


def test_gcne_candidates_and_ignored_follow_the_same_order():
    mask = gcne.candidate_sets(TWIN_IDS, TWIN_CONF)
    # rows as in test_twins_link_by_hand: v4's twin 1 is its one candidate, v1 has none
    assert mask.tolist() == [[False, True, True], [False] * 3, [False, True, True], [False] * 3,
                             [False, True, False], [False, True, True]]
    # all confidences equal: the least confident half is the larger indices
    _, decide = gcne.gcne_vertices(np.array([[0, 1], [1, 0], [2, 3], [3, 2]]), np.ones(4), 0.5)
    ranks = confidence.order_rank(np.ones(4))
    assert ranks.tolist() == [3, 2, 1, 0] and not decide.any()


def test_gcne_links_a_duplicate_directly():
    # v4's one candidate is its twin; make v0 (two candidates, nearest at distance 0) a duplicate of 1 too:
    # it links to 1 whatever the model says, with similarity 1
    dists = TWIN_DISTS.copy()
    dists[0, 1] = 0.0
    torch.manual_seed(0)
    peer, sim = gcne.links(gcne.GCNE(6, 4), np.eye(6, dtype=np.float32), TWIN_IDS, dists, TWIN_CONF, ignore_ratio=0.0)
    assert peer[0] == 1 and sim[0] == 1.0 and peer[4] == 1 and sim[4] == 1.0 and peer[1] == -1


def duplicated(n_ids=40, dim=32, seed=2):
    feats, labels = make_dataset(n_ids, 2, dim=dim, seed=seed)["test"]
    return np.concatenate([feats, feats]), np.concatenate([labels, labels]), len(feats)


@pytest.mark.parametrize("tau", [0.3, 0.6, 0.8, 0.95])
def test_duplicated_dataset_keeps_every_twin_together(tau):
    """Every row twice: GCN-V (random model; the twins' confidences are equal or differ by float noise)
    and GCN-E never put the two copies in different clusters (the strict rule split 3-14 of 25 pairs)."""
    feats, _, n = duplicated()
    ids, dists = knn_graph(feats, 10)
    torch.manual_seed(0)
    z = gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, 0.0))
    conf, hidden = gcn.predict(gcn.GCNV(32, 16), z, device_name="cpu")
    labels = confidence.cluster(ids, dists, conf, tau)
    assert (labels[:n] == labels[n:]).all()
    exact = conf[:n] == conf[n:]
    assert exact.any()  # the case that split: exactly equal confidences
    forced = np.concatenate([conf[:n], conf[:n]])  # every twin pair exactly tied
    labels = confidence.cluster(ids, dists, forced, tau)
    assert (labels[:n] == labels[n:]).all()
    # GCN-E on the hidden features, untrained model
    unit = hidden / np.linalg.norm(hidden, axis=1, keepdims=True)
    hids, hdists = knn_graph(unit, 12)
    torch.manual_seed(1)
    peer, sim = gcne.links(gcne.GCNE(16, 8), unit, hids, hdists, conf, ignore_ratio=0.0)
    labels = confidence.link_to_peaks(peer, sim, tau)
    assert (labels[:n] == labels[n:]).all()


# --- degenerate train labels -----------------------------------------------------------------------

@pytest.mark.parametrize("labels,needle", [
    (np.zeros(12, int), "has 1 identity"),
    (np.arange(12), "has no identity with two or more"),
    (np.array([], int), "has 0 identities"),
])
def test_untrainable_labels_are_one_sentence(labels, needle):
    for method, fix in (("gcnv", "methods.gcnv.checkpoint"), ("gcne", "methods.gcne.model_from")):
        with pytest.raises(DataError, match=needle) as err:
            confidence.check_train_labels(labels, "data/labels/x_train.meta", method)
        assert "data/labels/x_train.meta" in str(err.value) and fix in str(err.value) and "real" in str(err.value)
    confidence.check_train_labels(np.array([0, 0, 1]), "ok.meta")  # two identities, one pair: fine


@pytest.mark.parametrize("n_ids,val_fraction,held", [(2, 0.1, 0), (3, 0.1, 1), (5, 0.1, 1), (5, 0.5, 2),
                                                     (4, 0.9, 2), (30, 0.1, 3), (30, 0.0, 1)])
def test_held_out_identities(n_ids, val_fraction, held):
    # at least one identity held out, at least two left to train on; none of two (no early stopping)
    groups = np.repeat(np.arange(n_ids) * 7, 3)
    mask = gcn.held_out_groups(groups, val_fraction, np.random.default_rng(0))
    assert len(np.unique(groups[mask])) == held and len(np.unique(groups[~mask])) == n_ids - held
    assert all(mask[groups == g].all() or not mask[groups == g].any() for g in np.unique(groups))


def test_held_out_errors():
    with pytest.raises(DataError, match="fewer than two identities"):
        gcn.held_out_groups(np.zeros(5), 0.1, np.random.default_rng(0))
    with pytest.raises(DataError, match=r"val_fraction 1.0 is not in \[0, 1\)"):
        gcn.held_out_groups(np.arange(5), 1.0, np.random.default_rng(0))


def small_train(n_ids=2, seed=1):
    feats, labels = make_dataset(n_ids, 2, dim=16, seed=seed)["train"]
    ids, dists = knn_graph(feats, 6)
    target = confidence.supervised_confidence(ids, dists, labels)
    return feats, labels, ids, dists, target, gcn.gcn_input(feats, gcn.normalized_adjacency(ids, dists, 0.0))


def test_two_identities_train_without_early_stopping():
    feats, labels, ids, dists, target, z = small_train(2)
    assert len(np.unique(labels)) == 2
    model, curve = gcn.train(z, target, labels, nhid=8, max_epochs=4, patience=1, batch_size=8, device_name="cpu")
    assert len(curve) == 4 and all(np.isnan(row["val_mse"]) for row in curve)
    conf, hidden = gcn.predict(model, z, device_name="cpu")
    unit = np.maximum(hidden, 0) + 1e-3
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    hids, hdists = knn_graph(unit, 6)
    _, curve = gcne.train(unit, hids, hdists, conf, labels, ignore_ratio=0.0, nhid=8, max_epochs=3, patience=1)
    assert len(curve) == 3


def test_gcne_without_subgraphs_is_one_sentence():
    feats, labels, ids, dists, target, z = small_train(3)
    with pytest.raises(DataError, match="nothing to learn from: lower methods.gcne.ignore_ratio.train"):
        gcne.train(feats, ids, dists, target, labels, ignore_ratio=1.0, nhid=8, max_epochs=1)


def test_diverging_training_stops_with_a_sentence():
    feats, labels, ids, dists, target, z = small_train(4)
    with pytest.raises(DataError, match=r"GCN-V training diverged at epoch \d+ .*lower methods.gcnv.train.lr \(now 1e\+30\)"):
        gcn.train(z, target, labels, nhid=8, lr=1e30, max_epochs=5, batch_size=8, device_name="cpu")


def test_model_predicting_nan_writes_nothing(tmp_path):
    from ltc.graph import SymmetricKnnGraph
    from ltc.io import npy_row_writer
    feats, labels, ids, dists, target, z = small_train(2)
    save_knn(tmp_path / "knn.npz", ids, dists)
    model = gcn.GCNV(16, 4)
    with torch.no_grad():
        model.conv1.bias.fill_(3e38)  # finite weights and hidden features, infinite confidences
        model.classifier[0].weight.fill_(10.0)
    with pytest.raises(DataError, match="predicts NaN or infinite values"):
        gcn.predict(model, z, device_name="cpu")
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    with pytest.raises(DataError, match="predicts NaN or infinite values"):
        with npy_row_writer(tmp_path / "hidden.npy", (len(feats), 4)) as out:
            gcn.predict_graph(model, unit.astype(np.float32), SymmetricKnnGraph(tmp_path / "knn.npz", 0.0), out,
                              device_name="cpu")
    assert not (tmp_path / "hidden.npy").exists()


@pytest.mark.parametrize("labels", [np.zeros(40, int), np.arange(40)])
def test_train_scripts_refuse_placeholder_labels(tmp_path, labels):
    feats, _ = make_dataset(20, 2, dim=16, seed=3)["train"]
    feats = feats[:40]
    ids, dists = knn_graph(feats, 5)
    write_features(tmp_path / "f.bin", feats)
    write_labels(tmp_path / "train.meta", labels[:len(feats)])
    save_knn(tmp_path / "knn.npz", ids, dists)
    proc = run_script("train_gcnv.py", "--features", tmp_path / "f.bin", "--dim", 16, "--labels", tmp_path / "train.meta",
                      "--knn", tmp_path / "knn.npz", "--device", "cpu", "--out", tmp_path / "model.pt",
                      "--curve", tmp_path / "curve.tsv")
    one_sentence_error(proc, f"Train label file {tmp_path / 'train.meta'}", "methods.gcnv.checkpoint")
    assert not (tmp_path / "model.pt").exists()
    save_array(tmp_path / "conf.npy", np.zeros(len(feats), np.float32))
    save_array(tmp_path / "hidden.npy", feats)
    proc = run_script("train_gcne.py", "--features", tmp_path / "hidden.npy", "--knn", tmp_path / "knn.npz",
                      "--confidence", tmp_path / "conf.npy", "--labels", tmp_path / "train.meta",
                      "--out", tmp_path / "gcne.pt", "--curve", tmp_path / "gcne.tsv")
    one_sentence_error(proc, f"Train label file {tmp_path / 'train.meta'}", "methods.gcne.model_from")
    assert not (tmp_path / "gcne.pt").exists()


# --- intermediate files ------------------------------------------------------------------------------

def test_rebuild_hint_names_the_file_to_force():
    assert rebuild_hint("results/demo/gcnv/test/confidence.npy") == (
        "rebuild it with `snakemake --cores N --forcerun results/demo/gcnv/test/confidence.npy` (add your target, if any)")
    assert "--forcerun results/ms1m_bench/9/gcne/test/links.npz`" in rebuild_hint(
        "/x/results/ms1m_bench/9/gcne/test/links.npz")
    assert rebuild_hint("/home/me/conf.npy") == "re-create it with the script that wrote it"
    assert workflow_made("/home/me/models/model.pt") is None
    assert workflow_made("/home/me/results/model.pt") is None  # results/<ds>/... only


def truncated(path):
    path.write_bytes(path.read_bytes()[:-7])


@pytest.mark.parametrize("break_it,needle", [
    (truncated, "is truncated or corrupt"),
    (lambda p: save_array(p, np.full(6, np.nan, np.float32)), "holds 6 NaN or infinite values"),
    (lambda p: save_array(p, np.zeros(5, np.float32)), "holds shape (5,), not (6)"),
    (lambda p: save_array(p, np.zeros((6, 2), np.float32)), "holds shape (6, 2), not (6)"),
    (lambda p: p.write_bytes(b"junk"), "is truncated or corrupt"),
    (lambda p: p.unlink(), "does not exist"),
])
def test_confidence_file_is_checked(tmp_path, break_it, needle):
    path = tmp_path / "results/demo/gcnv/test/confidence.npy"
    path.parent.mkdir(parents=True)
    save_array(path, TWIN_CONF.astype(np.float32))
    np.testing.assert_array_equal(confidence.load_confidence(path, 6), TWIN_CONF.astype(np.float32))
    break_it(path)
    with pytest.raises(DataError) as err:
        confidence.load_confidence(path, 6)
    message = str(err.value)
    assert message.startswith(f"GCN-V confidence file {path} ") and needle in message
    assert message.endswith("--forcerun results/demo/gcnv/test/confidence.npy` (add your target, if any).")
    assert "\n" not in message


def test_hidden_features_are_checked_and_zero_rows_stay_zero(tmp_path):
    path = tmp_path / "h.npy"
    save_array(path, np.array([[3, 4], [0, 0], [1, 0]], np.float32))
    np.testing.assert_allclose(gcn.load_hidden(path, 3), [[.6, .8], [0, 0], [1, 0]])
    with pytest.raises(DataError, match=r"holds shape \(3, 2\), not \(4, any\)"):
        gcn.load_hidden(path, 4)
    save_array(path, np.array([[3, np.inf]], np.float32))
    with pytest.raises(DataError, match="GCN-V hidden feature file .* holds 1 NaN or infinite values"):
        gcn.load_hidden(path, 1)
    save_array(path, np.zeros((50, 8), np.float32))
    truncated(path)
    with pytest.raises(DataError, match="is truncated or corrupt"):
        gcn.load_hidden(path, 50)


def test_links_file_is_checked(tmp_path):
    path = tmp_path / "results/demo/gcnv/test/links.npz"
    save_links(path, np.array([1, -1, 0]), np.array([.5, -np.inf, .5]))
    peer, sim = load_links(path, 3)
    assert peer.tolist() == [1, -1, 0] and sim[1] == -np.inf
    with pytest.raises(DataError, match="does not hold 4 integer peers"):
        load_links(path, 4)
    save_links(path, np.array([1, 3, 0]), np.array([.5, .5, .5]))
    with pytest.raises(DataError, match=r"peers outside \[-1, 3\)"):
        load_links(path)
    save_links(path, np.array([1, 2, 0]), np.array([.5, np.nan, .5]))
    with pytest.raises(DataError, match="non-finite similarities"):
        load_links(path)
    save_links(path, np.array([1, -1, 0]), np.array([.5, -np.inf, .5]))
    truncated(path)
    with pytest.raises(DataError, match="Links file .* is truncated or corrupt .*--forcerun results/demo/gcnv/test/links.npz"):
        load_links(path)


def test_peaks_refuse_nan_confidences():
    with pytest.raises(DataError, match="2 of the 6 confidences are NaN"):
        confidence.peaks_of_chunks([(0, TWIN_IDS, TWIN_DISTS)], np.array([.5, np.nan, .6, .8, np.nan, .3]))


def test_truncated_model_ours_or_the_users(tmp_path):
    ours = tmp_path / "results/demo/gcnv/model.pt"
    gcn.save_checkpoint(gcn.GCNV(6, 4), ours, {"dim": 6, "nhid": 4})
    gcn.load_checkpoint(ours, 6)
    truncated(ours)
    with pytest.raises(DataError) as err:
        gcn.load_checkpoint(ours, 6)
    assert str(err.value).startswith(f"Model {ours} (trained by this workflow) is not a readable torch file")
    assert str(err.value).endswith("--forcerun results/demo/gcnv/model.pt` (add your target, if any).")
    user = tmp_path / "downloads/latest.pth"
    user.parent.mkdir()
    user.write_bytes(ours.read_bytes())
    with pytest.raises(DataError, match=r"^Checkpoint .*latest.pth \(methods.gcnv.checkpoint\) is not a readable "
                                        r"torch file .*: check the file"):
        gcn.load_checkpoint(user, 6)
    with pytest.raises(DataError, match="does not exist"):
        gcn.load_checkpoint(tmp_path / "missing.pth")
    # NaN weights, and weights of the wrong shape, are refused too
    model = gcn.GCNV(6, 4)
    with torch.no_grad():
        model.classifier[0].weight[0, 0] = float("nan")
    gcn.save_checkpoint(model, user, {})
    with pytest.raises(DataError, match=r"has NaN or infinite weights \(classifier.0.weight\)"):
        gcn.load_checkpoint(user)
    state = gcn.GCNV(6, 4).state_dict()
    state["classifier.2.weight"] = torch.zeros(1, 3)
    torch.save(state, user)
    with pytest.raises(DataError, match="does not fit the model"):
        gcn.load_checkpoint(user)


def test_gcne_checkpoint_checks(tmp_path):
    ours = tmp_path / "results/demo/gcne/model.pt"
    gcn.save_checkpoint(gcne.GCNE(8, 4), ours, {"dim": 8, "nhid": 4})
    assert isinstance(gcne.load_checkpoint(ours, 8), gcne.GCNE)
    with pytest.raises(DataError, match="expects 8-D GCN-V features but they are 16-D"):
        gcne.load_checkpoint(ours, 16)
    truncated(ours)
    with pytest.raises(DataError, match=r"trained by this workflow.*--forcerun results/demo/gcne/model.pt"):
        gcne.load_checkpoint(ours)
    torch.save({"state_dict": gcne.GCNE(8, 4).state_dict()}, ours)  # the original's layout: dims from conv1.weight
    assert gcne.load_checkpoint(ours, 8).conv1.weight.shape == (16, 4)
    torch.save({"state_dict": {"classifier.2.bias": torch.zeros(2)}}, ours)
    with pytest.raises(DataError, match="has no meta dim and nhid"):
        gcne.load_checkpoint(ours)


def test_links_scripts_stop_on_a_broken_confidence_file(tmp_path):
    ids, dists = TWIN_IDS, TWIN_DISTS.astype(np.float32)
    save_knn(tmp_path / "knn.npz", ids, dists)
    conf = tmp_path / "results/demo/gcnv/test/confidence.npy"
    conf.parent.mkdir(parents=True)
    save_array(conf, np.full(6, np.nan, np.float32))
    proc = run_script("links_gcnv.py", "--confidence", conf, "--knn", tmp_path / "knn.npz", "--out", tmp_path / "l.npz")
    one_sentence_error(proc, f"GCN-V confidence file {conf} holds 6 NaN", "--forcerun results/demo/gcnv/test/confidence.npy")
    assert not (tmp_path / "l.npz").exists()
    save_array(conf, TWIN_CONF.astype(np.float32))
    save_array(tmp_path / "hidden.npy", np.eye(6, dtype=np.float32)[:5])
    gcn.save_checkpoint(gcne.GCNE(6, 4), tmp_path / "gcne.pt", {"dim": 6, "nhid": 4})
    proc = run_script("links_gcne.py", "--model", tmp_path / "gcne.pt", "--features", tmp_path / "hidden.npy",
                      "--knn", tmp_path / "knn.npz", "--confidence", conf, "--out", tmp_path / "l.npz")
    one_sentence_error(proc, "GCN-V hidden feature file", "holds shape (5, 6), not (6, any)")
    save_array(tmp_path / "hidden.npy", np.eye(6, dtype=np.float32))
    proc = run_script("links_gcne.py", "--model", tmp_path / "gcne.pt", "--features", tmp_path / "hidden.npy",
                      "--knn", tmp_path / "knn.npz", "--confidence", conf, "--ignore-ratio", 0, "--out", tmp_path / "l.npz")
    assert proc.returncode == 0, proc.stderr
    peer, _ = load_links(tmp_path / "l.npz", 6)
    assert peer[4] == 1 and peer[1] == -1 and peer[3] == -1  # the twin links to its twin


# --- determinism -------------------------------------------------------------------------------------

def test_checkpoint_bytes_depend_only_on_the_weights(tmp_path):
    torch.manual_seed(0)
    model = gcn.GCNV(6, 4)
    gcn.save_checkpoint(model, tmp_path / "a/model.pt", {"dim": 6})
    gcn.save_checkpoint(model, tmp_path / "b/other_name.pt", {"dim": 6})
    again = gcn.GCNV(6, 4)
    again.load_state_dict(model.state_dict())
    gcn.save_checkpoint(again, tmp_path / "c/model.pt", {"dim": 6})
    data = (tmp_path / "a/model.pt").read_bytes()
    assert data == (tmp_path / "b/other_name.pt").read_bytes() == (tmp_path / "c/model.pt").read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "archive/data.pkl" in names and all(name.startswith("archive/") for name in names)
    loaded = gcn.load_checkpoint(tmp_path / "b/other_name.pt", 6)
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    assert not list((tmp_path / "a").glob(".*.tmp"))


# --- through the workflow ------------------------------------------------------------------------------

def test_workflow_duplicated_photos_and_the_rebuild_command(tmp_path):
    """Every photo imported twice (train and test): GCN-V's clusters never split a twin pair. Then a
    truncated confidence.npy stops the run with one sentence, and the command it gives rebuilds it."""
    from helpers import snakemake, workdir
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    data = make_dataset(30, 30, dim=32, seed=5)
    splits, sizes = {}, {}
    for split, (feats, labels) in data.items():
        write_features(tmp_path / f"{split}.bin", np.concatenate([feats, feats]))
        write_labels(tmp_path / f"{split}.meta", np.concatenate([labels, labels]))
        splits[split] = {"features": str(tmp_path / f"{split}.bin"), "labels": str(tmp_path / f"{split}.meta")}
        sizes[split] = len(feats)
    config = {"knn": {"k": 10}, "method": "gcnv",
              "methods": {"gcnv": {"nhid": 16, "tau_0": 0.5, "train": {"max_epochs": 3}}},
              "datasets": {"dup": {"dim": 32, **splits}}}
    snakemake(wd, "results/dup/gcnv/fscore.txt", config=config)
    n = sizes["test"]
    pred = np.loadtxt(wd / "results/dup/gcnv/pred_labels.meta", dtype=int)
    assert len(pred) == 2 * n and (pred[:n] == pred[n:]).all() and pred.max() > 0
    conf_file = wd / "results/dup/gcnv/test/confidence.npy"
    truncated(conf_file)
    proc = snakemake(wd, "--forcerun", "links_gcnv", "results/dup/gcnv/fscore.txt", config=config, check=False)
    log = (wd / "results/dup/logs/links_gcnv_test.log").read_text()
    assert proc.returncode != 0 and "Traceback" not in log and f"confidence file {conf_file.relative_to(wd)}" in log
    command = log.split("`snakemake ")[1].split("`")[0].split()
    assert command == ["--cores", "N", "--forcerun", "results/dup/gcnv/test/confidence.npy"]
    snakemake(wd, *command[2:], "results/dup/gcnv/fscore.txt", config=config)  # the helper gives --cores 2
    assert len(confidence.load_confidence(conf_file, 2 * n)) == 2 * n
    assert (wd / "results/dup/gcnv/pred_labels.meta").read_text() == "\n".join(map(str, pred)) + "\n"


# --- exact duplicates: any number of copies of a photo is one cluster --------------------------------

# Eight vertices, k = 3: 0..5 are the same photo six times; every copy's kNN lists the same three
# "hub" copies 0, 1, 2 (3, 4, 5 are not in their own rows), and the hubs have the lower confidences.
# 6 and 7 are another identity near 3.
HUB_IDS = np.array([[0, 1, 2], [1, 0, 2], [2, 0, 1], [0, 1, 2], [0, 1, 2], [0, 1, 2], [6, 7, 3], [7, 6, 3]])
HUB_DISTS = np.array([[0, 0, 0]] * 6 + [[0, .1, .5], [0, .1, .5]])
HUB_CONF = np.array([.2, .3, .4, .9, .8, .7, .6, .5])


def goes_up_the_order(peak, conf):
    """Every link goes to a vertex above its source (so the links form a forest)."""
    v = np.flatnonzero(peak >= 0)
    return bool(confidence.higher(conf[peak[v]], peak[v], conf[v], v).all())


def test_duplicate_copies_beyond_k_are_one_cluster_by_hand():
    # the row-by-row rule: 0 -> 1, 1 -> 2, 2 has only lower copies, 3, 4, 5 see only lower hubs: four roots,
    # the six copies in four clusters at any tau; 6 -> 3 (.9 > .6, similarity .5), 7 -> 6 (similarity .9)
    peak, sim = confidence.peaks(HUB_IDS, HUB_DISTS, HUB_CONF)
    assert peak.tolist() == [1, 2, -1, -1, -1, -1, 3, 6]
    assert confidence.link_to_peaks(peak, sim, 0.5).tolist() == [0, 0, 0, 1, 2, 3, 1, 1]
    assert confidence.link_to_peaks(peak, sim, 0.95).tolist() == [0, 0, 0, 1, 2, 3, 4, 5]
    # joined: the group {0..5} is collapsed onto its top, 3 (.9), which keeps its own peak (none)
    peak, sim = confidence.peaks_of_chunks([(0, HUB_IDS, HUB_DISTS)], HUB_CONF)
    assert peak.tolist() == [3, 3, 3, -1, 3, 3, 3, 6]
    np.testing.assert_array_equal(sim, np.array([1, 1, 1, -np.inf, 1, 1, .5, .9], np.float32))
    assert goes_up_the_order(peak, HUB_CONF)
    assert confidence.link_to_peaks(peak, sim, 0.5).tolist() == [0] * 8
    assert confidence.link_to_peaks(peak, sim, 0.85).tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert confidence.link_to_peaks(peak, sim, 1.0).tolist() == [0, 0, 0, 0, 0, 0, 1, 2]
    # streamed in chunks that cut the group: the same links
    chunks = [(0, HUB_IDS[:2], HUB_DISTS[:2]), (2, HUB_IDS[2:5], HUB_DISTS[2:5]), (5, HUB_IDS[5:], HUB_DISTS[5:])]
    assert confidence.peaks_of_chunks(chunks, HUB_CONF)[0].tolist() == [3, 3, 3, -1, 3, 3, 3, 6]
    # all copies equally confident: the top is the lowest index, 0 (the hubs' own links to 0 stay)
    tied = np.array([.5] * 6 + [.6, .4])
    peak, sim = confidence.peaks_of_chunks(chunks, tied)
    assert peak.tolist() == [-1, 0, 0, 0, 0, 0, -1, 6] and goes_up_the_order(peak, tied)


@pytest.mark.parametrize("tau", [0.5, 0.99, 1.0])
def test_all_rows_identical_are_one_cluster(tau):
    n, k = 50, 5
    rng = np.random.default_rng(3)
    # every row lists the same five copies 0..4 at distance 0, confidence rising with the index: the old
    # rule links 0 -> 1 -> 2 -> 3 -> 4 and leaves 4 and all of 5..49 (only lower copies listed) as roots
    ids, dists = np.tile(np.arange(k), (n, 1)), np.zeros((n, k), np.float32)
    conf = np.arange(n, dtype=np.float32) / n
    peak, sim = confidence.peaks(ids, dists, conf)
    assert confidence.link_to_peaks(peak, sim, tau).max() + 1 == 46
    assert confidence.cluster(ids, dists, conf, tau).tolist() == [0] * n
    conf = rng.permutation(n).astype(np.float32) / n
    assert confidence.cluster(ids, dists, conf, tau).tolist() == [0] * n
    # the kNN of 50 identical unit rows as the workflow builds it (float32 distances near 0)
    feats = np.tile(rng.standard_normal((1, 32)).astype(np.float32), (n, 1))
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    ids, dists = knn_graph(feats, k)
    assert confidence.cluster(ids, dists, conf, tau).tolist() == [0] * n
    peak, _ = confidence.peaks_of_chunks([(0, ids, dists)], conf)
    top = int(np.argmax(conf))
    assert peak[top] == -1 and (np.delete(peak, top) == top).all()


def reference_peak_clusters(ids, dists, conf, tau):
    """The plain rule, one vertex at a time: link to the nearest kNN neighbour with (confidence, -index)
    above its own, if the similarity is >= tau; clusters = components (numbered by first vertex)."""
    n = len(ids)
    parent = list(range(n))

    def root(v):
        while parent[v] != v:
            v = parent[v]
        return v
    for v in range(n):
        for u, d in zip(ids[v], dists[v]):
            if u >= 0 and (conf[u], -u) > (conf[v], -v):
                if 1.0 - d >= tau:
                    parent[root(v)] = root(int(u))
                break
    labels, seen = [], {}
    for v in range(n):
        labels.append(seen.setdefault(root(v), len(seen)))
    return labels


@pytest.mark.parametrize("seed", [0, 1])
def test_without_duplicates_the_labels_are_the_plain_rule(seed):
    feats, _ = make_dataset(12, 12, dim=16, seed=seed)["test"]
    ids, dists = knn_graph(feats, 8)
    conf = np.random.default_rng(seed).random(len(feats)).astype(np.float32)
    conf[::7] = conf[0]  # some exact ties in confidence too
    assert (dists[:, 1:] > confidence.DUPLICATE_DISTANCE).all()  # no exact duplicates
    chunks = [(s, ids[s:s + 13], dists[s:s + 13]) for s in range(0, len(ids), 13)]
    peak, sim = confidence.peaks_of_chunks(chunks, conf)
    ref_peak, ref_sim = confidence.peaks(ids, dists, conf)
    np.testing.assert_array_equal(peak, ref_peak)
    np.testing.assert_array_equal(sim, ref_sim.astype(np.float32))
    for tau in (0.0, 0.5, 0.8, 0.95):
        assert confidence.link_to_peaks(peak, sim, tau).tolist() == reference_peak_clusters(ids, dists, conf, tau)


def test_duplicate_pairs_skip_self_and_missing():
    ids = np.array([[5, 6, -1], [6, 5, 7]])
    dists = np.array([[0, 1e-7, 0], [0, 2e-6, 0]])
    src, dst = confidence.duplicate_pairs(ids, dists, row_offset=5)
    assert src.tolist() == [5, 6] and dst.tolist() == [6, 7]
    assert src.dtype == dst.dtype == np.int64


def test_workflow_forty_copies_of_a_face_are_one_cluster(tmp_path):
    """One test face imported 40 times among ~300 faces, k = 10 (group much larger than k): GCN-V puts
    all 40 copies (and the face) in one cluster."""
    from helpers import snakemake, workdir
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    data = make_dataset(15, 8, dim=32, seed=8)
    feats, labels = data["test"]
    copies = 40
    data["test"] = (np.concatenate([feats, np.repeat(feats[:1], copies, axis=0)]),
                    np.concatenate([labels, np.repeat(labels[:1], copies)]))
    splits = {}
    for split, (f, lab) in data.items():
        write_features(tmp_path / f"{split}.bin", f)
        write_labels(tmp_path / f"{split}.meta", lab)
        splits[split] = {"features": str(tmp_path / f"{split}.bin"), "labels": str(tmp_path / f"{split}.meta")}
    config = {"knn": {"k": 10}, "method": "gcnv",
              "methods": {"gcnv": {"nhid": 16, "tau_0": 0.5, "train": {"max_epochs": 3}}},
              "datasets": {"dup": {"dim": 32, **splits}}}
    snakemake(wd, "results/dup/gcnv/fscore.txt", config=config)
    pred = np.loadtxt(wd / "results/dup/gcnv/pred_labels.meta", dtype=int)
    n = len(feats)
    assert 250 < n + copies < 400 and len(pred) == n + copies
    assert len(set(pred[n:])) == 1 and pred[0] == pred[n] and pred.max() > 0


def test_gcne_keeps_copies_beyond_k_in_one_cluster():
    """GCN-E on the hub example: copies whose nearest candidate is no duplicate are joined too."""
    peer, sim = gcne.links(gcne.GCNE(8, 4), np.eye(8, dtype=np.float32), HUB_IDS, HUB_DISTS.astype(np.float32),
                           HUB_CONF, ignore_ratio=0.0)
    labels = confidence.link_to_peaks(peer, sim, 0.5)
    assert len(set(labels[:6].tolist())) == 1
