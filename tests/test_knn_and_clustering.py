"""kNN search against brute force, the kNN file format, and the threshold + components method by hand."""
import numpy as np
import pytest

from ltc.graph import components, knn_edges
from ltc.io import load_knn, save_knn
from ltc import knn
from ltc.knn import knn_graph, recall_at_k
from ltc.methods import knn_cc
from ltc.synthetic import make_dataset


@pytest.fixture(scope="module")
def feats():
    return make_dataset(40, 5, dim=32, seed=3)["train"][0] * 3.0  # not unit norm: knn must normalise


def test_flat_is_exact(feats):
    k = 12
    ids, dists = knn_graph(feats, k, "flat", batch_size=100)
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    sims = unit @ unit.T
    expected = np.sort(1 - sims, axis=1)[:, :k]
    np.testing.assert_allclose(dists, expected, atol=1e-5)
    np.testing.assert_allclose(1 - sims[np.arange(len(ids))[:, None], ids], dists, atol=1e-5)
    assert (np.diff(dists, axis=1) >= 0).all()


@pytest.mark.parametrize("method,params", [("ivf", {"nlist": 8, "nprobe": 4}), ("hnsw", {"ef_search": 64})])
def test_approximate_methods_recall(feats, method, params):
    ids, _ = knn_graph(feats, 10, method, **params)
    assert recall_at_k(ids, feats, 10, sample=200) > 0.9


def test_ivf_is_exact_within_the_probed_cells(feats):
    cells = knn.build_index(feats, "ivf", nlist=8, nprobe=3)
    ids, dists = knn.search(feats, 10, "ivf", cells, batch_size=50)
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    own = cells.probes[:, 0]
    for q in range(0, len(feats), 7):  # brute force over the members of the query's probed cells
        members = np.flatnonzero(np.isin(own, cells.probes[q]))
        sims = unit[members] @ unit[q]
        np.testing.assert_allclose(1 - dists[q], np.sort(sims)[::-1][:10], atol=1e-5)
        assert set(ids[q]) <= set(members)


def test_shard_rows_are_whole_batches():
    assert [knn.shard_rows(10, 2, s, 3) for s in range(2)] == [range(0, 6), range(6, 10)]
    assert [len(knn.shard_rows(10, 5, s, 3)) for s in range(5)] == [0, 3, 3, 3, 1]  # 4 batches, 5 shards
    assert knn.shard_rows(10, 1, 0, 64) == range(0, 10)


@pytest.mark.parametrize("method,params", [("flat", {}), ("ivf", {"nlist": 8, "nprobe": 3}), ("hnsw", {})])
def test_sharded_search_is_identical(feats, method, params, tmp_path):
    ids, dists = knn_graph(feats, 10, method, batch_size=16, **params)
    index = None
    if method != "flat":  # shards search a saved and reloaded index, as the workflow's jobs do
        knn.save_index(tmp_path / "index", knn.build_index(feats, method, batch_size=16, **params))
        index = knn.load_index(tmp_path / "index", method)
    parts = [knn.search(feats, 10, method, index, knn.shard_rows(len(feats), 3, s, 16), 16) for s in range(3)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), ids)
    np.testing.assert_array_equal(np.concatenate([p[1] for p in parts]), dists)


def test_recall_of_exact_search_is_one(feats):
    ids, _ = knn_graph(feats, 10, "flat")
    assert recall_at_k(ids, feats, 10, sample=100) == 1.0


def test_knn_file_is_original_format(tmp_path):
    ids = np.array([[0, 2, -1], [1, 0, 2], [2, 1, 0]])
    dists = np.array([[0.0, 0.2, np.inf], [0.0, 0.3, 0.4], [0.0, 0.1, 0.5]], dtype=np.float32)
    save_knn(tmp_path / "faiss_k_3.npz", ids, dists)
    data = np.load(tmp_path / "faiss_k_3.npz")["data"]
    assert data.shape == (3, 2, 3)
    np.testing.assert_array_equal(data[:, 0, :], ids)
    back_ids, back_dists = load_knn(tmp_path / "faiss_k_3.npz")
    np.testing.assert_array_equal(back_ids, ids)
    np.testing.assert_array_equal(back_dists, dists)


# A graph small enough to work by hand: 6 points, k = 3 (self first), dists = 1 - cosine.
IDS = np.array([[0, 1, 2], [1, 0, 4], [2, 0, 3], [3, 2, 5], [4, 1, 5], [5, -1, -1]])
DISTS = np.array([[0, .1, .3], [0, .1, .45], [0, .3, .5], [0, .5, .6], [0, .45, .7], [0, np.inf, np.inf]])


def test_edges_above_threshold():
    src, dst, sim = knn_edges(IDS, DISTS, 0.6)  # similarity >= 0.6 means distance <= 0.4
    assert sorted(zip(src.tolist(), dst.tolist(), sim.round(6).tolist())) == [
        (0, 1, 0.9), (0, 2, 0.7), (1, 0, 0.9), (2, 0, 0.7)]


@pytest.mark.parametrize("threshold,expected", [
    (0.95, [0, 1, 2, 3, 4, 5]),   # no link: all singletons
    (0.9, [0, 0, 1, 2, 3, 4]),    # 0-1
    (0.7, [0, 0, 0, 1, 2, 3]),    # + 0-2
    (0.55, [0, 0, 0, 1, 0, 2]),   # + 1-4 (0.55) ; 2-3 is 0.5: below
    (0.5, [0, 0, 0, 0, 0, 1]),    # + 2-3; 5 has no neighbours at all
    (0.3, [0, 0, 0, 0, 0, 0]),    # + 3-5 (0.4), 4-5 (0.3)
])
def test_knn_cc_by_hand(threshold, expected):
    assert knn_cc.cluster(IDS, DISTS, threshold).tolist() == expected


def test_knn_cc_from_a_file_in_blocks_equals_the_whole_graph(tmp_path):
    save_knn(tmp_path / "hand.npz", IDS, DISTS.astype(np.float32))
    for threshold in (0.9, 0.55, 0.3):  # blocks of 2 rows: links cross blocks both ways
        assert (knn_cc.cluster_file(tmp_path / "hand.npz", threshold, chunk_rows=2).tolist()
                == knn_cc.cluster(IDS, DISTS, threshold).tolist())
    ids, dists = knn_graph(make_dataset(30, 30, dim=16, seed=3)["test"][0], 10)
    save_knn(tmp_path / "random.npz", ids, dists)
    np.testing.assert_array_equal(knn_cc.cluster_file(tmp_path / "random.npz", 0.5, chunk_rows=37),
                                  knn_cc.cluster(ids, dists, 0.5))


def test_components_are_numbered_by_first_point():
    assert components(5, np.array([4, 1]), np.array([3, 4])).tolist() == [0, 1, 2, 1, 1]


def test_spanning_forest_by_hand():
    """Square 0-1-2-3-0 with weights 1, 2, 3, 4 and a pendant 4-5 (weight 5): the minimum forest drops
    the heaviest square edge (3-0, 4); the maximum one drops the lightest (0-1, 1); a duplicate pair
    keeps its better weight."""
    from ltc.graph import spanning_forest
    src = np.array([0, 1, 2, 3, 4, 1])
    dst = np.array([1, 2, 3, 0, 5, 0])
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 9.0])  # 1-0 again with weight 9
    s, d, fw = spanning_forest(6, src, dst, w)
    assert sorted(zip(np.minimum(s, d).tolist(), np.maximum(s, d).tolist(), fw.tolist())) == [
        (0, 1, 1.0), (1, 2, 2.0), (2, 3, 3.0), (4, 5, 5.0)]
    s, d, fw = spanning_forest(6, src, dst, w, largest=True)
    assert sorted(zip(np.minimum(s, d).tolist(), np.maximum(s, d).tolist(), fw.tolist())) == [
        (0, 1, 9.0), (0, 3, 4.0), (2, 3, 3.0), (4, 5, 5.0)]
    # the very same pair twice (0 -> 1 at 1 and at 9): a sparse matrix would add them; the best is kept
    s, d, fw = spanning_forest(6, np.r_[src, 0], np.r_[dst, 1], np.r_[w, 9.0])
    assert sorted(zip(np.minimum(s, d).tolist(), np.maximum(s, d).tolist(), fw.tolist())) == [
        (0, 1, 1.0), (1, 2, 2.0), (2, 3, 3.0), (4, 5, 5.0)]


def test_forest_cuts_give_the_components_of_all_links():
    """knn_cc's sweep (cuts of the spanning forest) equals connected components of every link >= t."""
    rng = np.random.default_rng(3)
    feats = rng.standard_normal((400, 8)).astype(np.float32)
    ids, dists = knn.search(feats, 10, "flat")
    dists = np.round(dists, 2)  # many ties
    cluster_at, sims = knn_cc.sweeper(ids, dists)
    src, dst, all_sims = knn_edges(ids, dists, -np.inf)
    for t in np.quantile(sims, np.linspace(0, 1, 25)):
        keep = all_sims >= t
        np.testing.assert_array_equal(cluster_at(t), components(len(ids), src[keep], dst[keep]))
