"""GCN-E pieces by hand: candidate sets, which vertices GCN-E decides, subgraphs, links."""
import numpy as np
import torch

from ltc import gcne
from ltc.graph import symmetric_graph

# 5 vertices, k = 4 (self first); dists = 1 - cosine
IDS = np.array([[0, 1, 2, 3], [1, 0, 2, 4], [2, 1, 0, 3], [3, 2, 0, -1], [4, 1, 3, 2]])
DISTS = np.array([[0, .1, .2, .3], [0, .1, .15, .4], [0, .15, .2, .25], [0, .25, .3, np.inf], [0, .4, .5, .6]])
CONF = np.array([0.1, 0.5, 0.9, 0.3, 0.2])


def test_candidate_sets_by_hand():
    mask = gcne.candidate_sets(IDS, CONF)
    # v0 (.1): 1 (.5), 2 (.9), 3 (.3) higher; v1 (.5): 2; v2 (.9): none; v3 (.3): 2; v4 (.2): 1, 3, 2
    assert mask.tolist() == [[False, True, True, True], [False, False, True, False], [False] * 4,
                             [False, True, False, False], [False, True, True, True]]


def test_gcne_decides_for_confident_vertices_with_several_candidates():
    _, decide = gcne.gcne_vertices(IDS, CONF, ignore_ratio=0.0)
    assert decide.tolist() == [True, False, False, False, True]
    _, decide = gcne.gcne_vertices(IDS, CONF, ignore_ratio=0.2)  # the least confident (v0) is ignored
    assert decide.tolist() == [False, False, False, False, True]


def test_subgraph_by_hand():
    mask, _ = gcne.gcne_vertices(IDS, CONF, 0.0)
    graph = symmetric_graph(IDS, DISTS, 0.0)
    feats = np.eye(5, dtype=np.float32)
    cand, valid, x, adj = gcne.subgraphs(np.array([0, 1]), IDS, mask, graph, feats)
    # as wide as the widest subgraph (v0's 3 candidates), not k = 4
    assert cand.tolist() == [[1, 2, 3], [2, 0, 0]] and valid.tolist() == [[1, 1, 1], [1, 0, 0]]
    np.testing.assert_allclose(x[0, 0], feats[1] - feats[0])
    np.testing.assert_allclose(x[1, 1:], 0)
    # among 1, 2, 3: edges 1-2 (.85), 2-3 (.75), no 1-3; self-loops 1; rows normalised
    w = np.array([[1, .85, 0], [.85, 1, .75], [0, .75, 1]])
    np.testing.assert_allclose(adj[0], w / w.sum(1, keepdims=True), rtol=1e-6)
    assert adj[1, 1:].sum() == 0 and adj[1, :, 1:].sum() == 0 and adj[1, 0, 0] == 1


def test_padding_changes_no_real_candidates_output():
    """A subgraph padded wider (zero features, no edges) gives its real candidates the same logits:
    why a batch need only be as wide as its widest subgraph."""
    mask, _ = gcne.gcne_vertices(IDS, CONF, 0.0)
    graph = symmetric_graph(IDS, DISTS, 0.0)
    feats = np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32)
    torch.manual_seed(0)
    model = gcne.GCNE(5, 4).eval()
    _, valid, x, adj = gcne.subgraphs(np.array([1]), IDS, mask, graph, feats)  # one candidate: width 1
    assert valid.shape == (1, 1)
    wide_x, wide_adj = np.zeros((1, 4, 5), np.float32), np.zeros((1, 4, 4), np.float32)
    wide_x[:, :1], wide_adj[:, :1, :1] = x, adj
    with torch.no_grad():
        narrow = model(torch.from_numpy(x), torch.from_numpy(adj))
        wide = model(torch.from_numpy(wide_x), torch.from_numpy(wide_adj))
    torch.testing.assert_close(wide[:, :1], narrow)


def test_links_pick_the_most_connected_candidate():
    model = gcne.GCNE(5, 4)
    torch.manual_seed(0)
    peer, sim = gcne.links(model, np.eye(5, dtype=np.float32), IDS, DISTS, CONF, ignore_ratio=0.0)
    # v1, v3: single candidate 2; v2: none; v0, v4: one of their candidates, with its similarity
    assert peer[1] == 2 and peer[3] == 2 and peer[2] == -1 and sim[2] == -np.inf
    assert peer[0] in (1, 2, 3) and peer[4] in (1, 2, 3)
    row = list(IDS[0]).index(peer[0])
    assert np.isclose(sim[0], 1 - DISTS[0, row])
