"""L-GCN: pivot subgraphs, the link clustering and checkpoints in the original's layout against
hand-worked values, and a tiny workflow run (ltc/lgcn.py, ltc/methods/lgcn.py, workflow/rules/method_lgcn.smk)."""
import math

import numpy as np
import pytest
import torch

from helpers import TINY, planned_jobs, snakemake, with_, workdir
from ltc import DataError, lgcn
from ltc.methods import registry

# A 6-vertex kNN graph (K = 4). Row 1 lists a duplicate (0) before itself; row 4 misses a neighbour.
IDS = np.array([
    [0, 1, 2, 3],
    [0, 1, 4, 2],
    [2, 3, 0, 5],
    [3, 2, 5, 1],
    [4, 1, -1, 5],
    [5, 3, 4, 2],
])


def dense(graphs, m):
    a = np.zeros((m, m))
    a[graphs.src, graphs.dst] = graphs.weight
    return a


def test_clean_knn_drops_self_and_missing_ids_wherever_they_are():
    assert lgcn.clean_knn(IDS).tolist() == [[1, 2, 3, -1], [0, 4, 2, -1], [3, 0, 5, -1], [2, 5, 1, -1],
                                           [1, 5, -1, -1], [3, 4, 2, -1]]


def test_pivot_subgraphs_nodes_features_and_adjacency_by_hand():
    """k_at_hop [2, 1], active_connection 2.
    pivot 0: hop 1 = {1, 2}; hop 2 = first neighbour of 1 (0) and of 2 (3): nodes 0, 1, 2, 3. Links to
    the first 2 neighbours inside: 0-1, 0-2 (from 0), 1-0 (1's 4 is outside), 2-3, 2-0, 3-2 (3's 5 is
    outside): edges {0-1, 0-2, 2-3}, degrees 2, 1, 2, 1.
    pivot 3: hop 1 = {2, 5}; hop 2 = {3} (first of both): nodes 2, 3, 5; links 2-3, 3-5: degrees 1, 2, 1."""
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    g = lgcn.subgraphs(lgcn.clean_knn(IDS), np.array([0, 3]), [2, 1], 2)
    assert g.nodes.tolist() == [0, 1, 2, 3, 2, 3, 5] and g.owner.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert g.hop1.tolist() == [[1, 2], [4, 6]] and g.peer.tolist() == [[1, 2], [2, 5]]
    np.testing.assert_array_equal(g.features(x), x[[0, 1, 2, 3, 2, 3, 5]] - x[[0, 0, 0, 0, 3, 3, 3]])
    want = np.zeros((7, 7))
    want[:4, :4] = [[0, 1 / 2, 1 / 2, 0], [1, 0, 0, 0], [1 / 2, 0, 0, 1 / 2], [0, 0, 1, 0]]
    want[4:, 4:] = [[0, 1, 0], [1 / 2, 0, 1 / 2], [0, 1, 0]]
    np.testing.assert_allclose(dense(g, 7), want, rtol=1e-6)
    np.testing.assert_allclose(g.adjacency(torch.device("cpu")).to_dense().numpy(), want, rtol=1e-6)
    labels = np.array([7, 7, 8, 8, 7, 8])
    assert g.edge_targets(labels).tolist() == [1, 0, 1, 1]  # 0~1 same, 0~2 not; 3~2, 3~5 same


def test_a_node_without_links_keeps_a_zero_row():
    """k_at_hop [1, 3], active_connection 1, pivot 0: hop 1 {1}, hop 2 {0, 4, 2}: links 0-1 (0's first),
    1-0 (1's first), 4-1 (4's first); 2's first is 3 (outside): node 2 is alone, a zero row."""
    g = lgcn.subgraphs(lgcn.clean_knn(IDS), np.array([0]), [1, 3], 1)
    assert g.nodes.tolist() == [0, 1, 2, 4]
    want = [[0, 1, 0, 0], [1 / 2, 0, 0, 1 / 2], [0, 0, 0, 0], [0, 1, 0, 0]]
    np.testing.assert_allclose(dense(g, 4), want, rtol=1e-6)


PEER = np.array([[1, 2], [0, 2], [0, 1], [4, -1], [3, 2]])
PROB = np.array([[0.9, 0.2], [0.7, 0.4], [0.3, 0.6], [0.8, np.nan], [0.6, 0.1]], dtype=np.float32)


def test_links_are_pooled_by_the_mean_of_both_directions():
    i, j, w, smallest = lgcn.pooled_pairs(PEER, PROB)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (1, 2), (2, 4), (3, 4)]
    np.testing.assert_allclose(w, [0.8, 0.25, 0.5, 0.1, 0.7], rtol=1e-6)
    assert smallest == pytest.approx(0.1)


@pytest.mark.parametrize("th, maxsz, want", [
    (0.0, 5, [0, 0, 0, 0, 0]),   # every link, 5 points <= maxsz: one cluster
    (0.0, 3, [0, 0, 1, 2, 2]),   # 5 > 3: t from the smallest link 0.1 to 0.1 + 0.9 * 0.5 = 0.55
    (0.4, 3, [0, 0, 0, 1, 1]),   # links >= 0.4: 0-1 (0.8), 1-2 (0.5), 3-4 (0.7); {0, 1, 2} is 3 <= 3
    (0.4, 2, [0, 0, 1, 2, 2]),   # {0, 1, 2} > 2: t from 0.4 to 0.7 keeps 0-1 only
])
def test_link_graph_to_labels_by_hand(th, maxsz, want):
    assert lgcn.cluster(PEER, PROB, th, maxsz=maxsz, step=0.5).tolist() == want


def original_layout(tmp_path):
    """The original's lgcn state dict (mmcv: meta, state_dict with DataParallel's module. prefix,
    optimizer) for 2-D features, nhid 2: bn0 the identity (mean 0, var 1), conv1 takes A x, conv2
    passes it on, conv3 sums it, conv4 passes it on, classifier 1 -> PReLU -> logits (0, h): the
    probability of a hop-1 node is sigmoid(sum of relu((A x) of that node))."""
    z = torch.zeros
    state = {"bn0.running_mean": z(2), "bn0.running_var": torch.ones(2), "bn0.num_batches_tracked": torch.tensor(7),
             "conv1.weight": torch.tensor([[0.0, 0], [0, 0], [1, 0], [0, 1]]), "conv1.bias": z(2),
             "conv2.weight": torch.tensor([[1.0, 0], [0, 1], [0, 0], [0, 0]]), "conv2.bias": z(2),
             "conv3.weight": torch.tensor([[1.0], [1], [0], [0]]), "conv3.bias": z(1),
             "conv4.weight": torch.tensor([[1.0], [0]]), "conv4.bias": z(1),
             "classifier.0.weight": torch.tensor([[1.0]]), "classifier.0.bias": z(1),
             "classifier.1.weight": torch.tensor([0.25]),
             "classifier.2.weight": torch.tensor([[0.0], [1.0]]), "classifier.2.bias": z(2)}
    path = tmp_path / "pretrained_lgcn_ms1m.pth"
    torch.save({"meta": {"epoch": 4, "iter": 100}, "state_dict": {f"module.{k}": v for k, v in state.items()},
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.01, "params": list(range(15))}]}}, path)
    return path


def test_original_layout_checkpoint_loads_and_predicts_by_hand(tmp_path):
    """Points (1, 0), (0, 1), (0.6, 0.8); kNN 0: 1, 2; 1: 2, 0; 2: 1, 0; k_at_hop [2, 1], active 1.
    Pivot 0: nodes 0, 1, 2, links 0-1, 1-2 (A rows [0 1 0], [1/2 0 1/2], [0 1 0]); features minus
    (1, 0): (0, 0), (-1, 1), (-0.4, 0.8). Node 1: A x = (-0.2, 0.4) -> 0.4; node 2: (-1, 1) -> 1.
    Pivot 1: the same nodes and links, features minus (0, 1); nodes 2 and 0 both aggregate node 1's
    (0, 0): probability 0.5."""
    model = lgcn.load_checkpoint(original_layout(tmp_path), dim=2)
    assert model.dim == 2 and model.nhid == 2
    x = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    ids = np.array([[0, 1, 2], [1, 2, 0], [2, 1, 0]])
    peer, prob = lgcn.links(model, x, ids, [2, 1], 1, device_name="cpu")
    assert peer[:2].tolist() == [[1, 2], [2, 0]]
    sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    np.testing.assert_allclose(prob[:2], [[sigmoid(0.4), sigmoid(1.0)], [0.5, 0.5]], rtol=1e-4)
    with pytest.raises(DataError, match="expects 2-D features but the data is 3-D"):
        lgcn.load_checkpoint(tmp_path / "pretrained_lgcn_ms1m.pth", dim=3)
    torch.save({"state_dict": {"conv1.weight": torch.ones(4, 2)}}, tmp_path / "gcnv.pth")
    with pytest.raises(DataError, match="no L-GCN weights"):
        lgcn.load_checkpoint(tmp_path / "gcnv.pth")


def test_our_checkpoint_round_trips_and_the_one_step_method_needs_one(tmp_path):
    model = lgcn.LGCN(4, 6)
    lgcn.save_checkpoint(model, tmp_path / "model.pt", {"dim": 4})
    back = lgcn.load_checkpoint(tmp_path / "model.pt", 4)
    for key, value in model.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)
    x = np.eye(4, dtype=np.float32)
    ids = np.array([[0, 1], [1, 0], [2, 3], [3, 2]])
    with pytest.raises(DataError, match="set methods.lgcn.checkpoint"):
        registry.run("lgcn", {"th": 0.0}, ids=ids, dists=np.zeros((4, 2), np.float32), feats=x)
    labels = registry.run("lgcn", {"th": 0.0, "k_at_hop": [1, 1], "active_connection": 1,
                                   "checkpoint": str(tmp_path / "model.pt"), "train": {"device": "cpu"}},
                          ids=ids, dists=np.zeros((4, 2), np.float32), feats=x)
    assert labels.tolist() == [0, 0, 1, 1]  # th 0: every link; two pairs


def test_a_cpu_run_above_the_node_limit_is_refused_in_one_sentence():
    with pytest.raises(DataError) as err:  # [200, 10] on a k 80 kNN: 1 + 79 + 79 * 10 = 870 nodes at most
        lgcn.check_cost(584013, [200, 10], torch.device("cpu"), 10 ** 8, k=80)
    message = str(err.value)
    assert "584013 pivot subgraphs" in message and f"{584013 * 870:,} nodes" in message and message.count(". ") == 0
    lgcn.check_cost(584013, [80, 10], torch.device("cuda"), 10 ** 8)  # no limit with CUDA
    lgcn.check_cost(584013, [80, 10], torch.device("cpu"), None)


TINY_LGCN = with_(TINY, method="lgcn", methods__lgcn__k_at_hop=[5, 3], methods__lgcn__active_connection=3,
                  methods__lgcn__nhid=16, methods__lgcn__train__max_epochs=2, methods__lgcn__train__max_pivots=200)


def test_tiny_workflow_run_and_what_a_change_reruns(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/lgcn/fscore.txt", config=TINY_LGCN)
    text = (wd / "results/demo/lgcn/fscore.txt").read_text()
    fscore = float(text.split("pairwise")[1].split("fscore")[1].split()[0])
    assert fscore > 0.3, text  # 25 test identities: well above the singletons' 0
    assert (wd / "results/demo/lgcn/threshold.json").exists()
    # clustering settings rerun the sweep and the clustering, never training or links
    assert planned_jobs(wd, with_(TINY_LGCN, methods__lgcn__maxsz=7), "results/demo/lgcn/fscore.txt") == {
        "select_threshold_lgcn": 1, "cluster_lgcn": 1, "evaluate": 1}
    # a checkpoint skips training; a fixed th skips the train split's links and the sweep
    (wd / "mine.pt").write_bytes((wd / "results/demo/lgcn/model.pt").read_bytes())
    changed = with_(TINY_LGCN, methods__lgcn__checkpoint=str(wd / "mine.pt"), methods__lgcn__th=0.5)
    assert planned_jobs(wd, changed, "results/demo/lgcn/fscore.txt") == {"links_lgcn": 1, "cluster_lgcn": 1,
                                                                         "evaluate": 1}
