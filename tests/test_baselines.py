"""The learn-to-cluster baselines (and Infomap) on cases small enough to work out by hand, the size
limits, the `auto` threshold, and their rules on the workflow's tiny config."""
import json
import subprocess
import sys

import numpy as np
import pytest

from ltc import DataError
from ltc.io import read_labels, save_knn
from ltc.methods import (aro, chinese_whispers, dbscan, fast_hac, hdbscan, infomap, kmeans, knn_dbscan, meanshift,
                         mini_batch_kmeans, spectral)
from ltc.methods.registry import methods, sweeper
from ltc.methods.common import check_size, renumber, undirected_edges
from ltc import thresholds
from helpers import REPO, TINY, planned_jobs, snakemake, with_, workdir


def on_circle(degrees) -> np.ndarray:
    """Unit 2-D points at these angles: the chord between angles a and b is 2 sin(|a - b| / 2)."""
    rad = np.radians(np.asarray(degrees, dtype=float))
    return np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)


def exact_knn(x: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force kNN (self first) of unit rows: (ids, 1 - cosine), each row sorted."""
    sims = x @ x.T
    k = k or len(x)
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return order, (1.0 - np.take_along_axis(sims, order, axis=1)).astype(np.float32)


def knn_from_distances(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """kNN lists (K = N, self first, id -1 where the distance is inf) from a symmetric distance table."""
    d = d.copy()
    np.fill_diagonal(d, 0.0)
    order = np.argsort(d, axis=1, kind="stable")
    dists = np.take_along_axis(d, order, axis=1)
    return np.where(np.isfinite(dists), order, -1), dists.astype(np.float32)


# ---------------------------------------------------------------------------------------- helpers

def test_renumber_orders_by_first_point_and_splits_noise():
    assert renumber(np.array([7, 7, -1, 3, 7, -1])).tolist() == [0, 0, 1, 2, 0, 3]


def test_undirected_edges_once_each_way():
    ids = np.array([[0, 1, 2], [1, 0, -1], [2, 0, 1]])
    dists = np.array([[0, .1, .3], [0, .1, np.inf], [0, .3, .6]], dtype=np.float32)
    i, j, d = undirected_edges(ids, dists)
    assert list(zip(i.tolist(), j.tolist(), d.astype(float).round(3).tolist())) == [(0, 1, .1), (0, 2, .3), (1, 2, .6)]


def test_max_points_is_one_sentence_before_any_work():
    with pytest.raises(DataError) as err:
        meanshift.cluster(np.zeros((11, 2), dtype=np.float32), max_points=10)
    msg = str(err.value)
    assert "meanshift cannot cluster 11 points" in msg and "methods.meanshift.max_points" in msg
    assert msg.count(". ") == 0 and msg.endswith(".")
    check_size("spectral", 10, 10, "x")  # at the limit: fine
    check_size("spectral", 10**9, None, "x")  # no limit


# ----------------------------------------------------------------------------- k-means family

def test_kmeans_two_directions():
    # three points around 0 degrees, three around 90: two centroids, one per group
    x = on_circle([0, 5, 10, 80, 85, 90])
    assert kmeans.cluster(x, 2, seed=0, threads=1).tolist() == [0, 0, 0, 1, 1, 1]
    assert mini_batch_kmeans.cluster(x, 2, batch_size=3, seed=0).tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(DataError, match="n_clusters"):
        kmeans.cluster(x, 7)


# ----------------------------------------------------------------------------------- FastHAC

# 0, 30, 65 degrees and 150, 180: chords 0-1 = 2 sin 15 = 0.518, 1-2 = 2 sin 17.5 = 0.601,
# 0-2 = 2 sin 32.5 = 1.075, 3-4 = 0.518, 2-3 = 2 sin 42.5 = 1.351.
HAC_X = on_circle([0, 30, 65, 150, 180])


def test_fast_hac_single_chains_within_the_distance():
    ids, dists = exact_knn(HAC_X)
    # 0.72: the hops 0-1 and 1-2 are both short enough, so 0, 1, 2 chain; 3-4 too; 2-3 is too long
    assert fast_hac.cluster(distance=0.72, ids=ids, dists=dists).tolist() == [0, 0, 0, 1, 1]
    # 0.55: only the 0.518 hops
    assert fast_hac.cluster(distance=0.55, ids=ids, dists=dists).tolist() == [0, 0, 1, 2, 2]


def test_fast_hac_average_is_stricter():
    # average: {0, 1} merge at 0.518; point 2 is on average (1.075 + 0.601) / 2 = 0.838 away -> alone at 0.72
    assert fast_hac.cluster(distance=0.72, linkage="average", feats=HAC_X).tolist() == [0, 0, 1, 2, 2]
    assert fast_hac.cluster(distance=0.85, linkage="average", feats=HAC_X).tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(DataError, match="fast_hac cannot cluster 5 points"):
        fast_hac.cluster(distance=0.7, linkage="average", feats=HAC_X, max_points=4)


# ------------------------------------------------------------------------------------- DBSCAN

def dbscan_graph():
    """Two 4-cliques A = 0..3 and B = 5..8 (distance 0.1 inside), point 4 between them (0.18 to 3,
    0.12 to 5), point 9 alone (0.5 from 8)."""
    d = np.full((10, 10), np.inf)
    for group in (range(0, 4), range(5, 9)):
        for a in group:
            for b in group:
                d[a, b] = 0.1
    d[3, 4] = d[4, 3] = 0.18
    d[4, 5] = d[5, 4] = 0.12
    d[8, 9] = d[9, 8] = 0.5
    return knn_from_distances(d)


def test_knn_dbscan_core_border_noise():
    ids, dists = dbscan_graph()
    # eps 0.2, min_samples 4: clique members have >= 4 points within eps (themselves + 3): core; 4 has
    # only {4, 3, 5}: a border point, joining its nearest core neighbour 5 (0.12 < 0.18) -> B; 9 is noise
    assert knn_dbscan.cluster(ids, dists, 0.2, min_samples=4).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 2]
    # min_samples 1: every point is core, 4 links both cliques (components of links <= 0.2)
    assert knn_dbscan.cluster(ids, dists, 0.2, min_samples=1).tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    # th_sim 0.85 drops the 0.18 link (cosine 0.82) before anything else
    assert knn_dbscan.cluster(ids, dists, 0.2, 1, th_sim=0.85).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 2]


def test_dbscan_on_features():
    # chords: 10 degrees = 0.174 (within eps 0.3), 80 degrees = 1.29: {0, 1, 2}, {3, 4}, 5 alone (noise)
    x = on_circle([0, 10, 20, 100, 110, 220])
    assert dbscan.cluster(x, eps=0.3, min_samples=2).tolist() == [0, 0, 0, 1, 1, 2]
    with pytest.raises(DataError, match="use knn_dbscan"):
        dbscan.cluster(x, eps=0.3, max_points=5)


# ------------------------------------------------------------------------------------ HDBSCAN

def test_hdbscan_two_dense_groups_even_when_the_knn_graph_is_disconnected():
    # 12 points 1 degree apart around 0 and around 90: two dense groups far apart, each larger than
    # min_cluster_size. With K = 12 each group's kNN stays inside it (two components of the graph).
    x = on_circle(list(range(12)) + list(range(90, 102)))
    for k in (24, 12):
        ids, dists = exact_knn(x, k)
        assert hdbscan.cluster(ids, dists, min_cluster_size=5).tolist() == [0] * 12 + [1] * 12
    with pytest.raises(DataError, match="neighbours of the kNN graph"):
        hdbscan.cluster(ids, dists, min_cluster_size=12)


# --------------------------------------------------------------------------------- Mean shift

def test_meanshift_three_modes():
    # 5 points within 4 degrees, 4 within 3 degrees 90 away, one alone: each window (bandwidth 0.3 =
    # 17 degrees) holds exactly its group, every seed moves to its group's mean: three modes
    x = on_circle([0, 1, 2, 3, 4, 90, 91, 92, 93, 200])
    assert meanshift.cluster(x, bandwidth=0.3).tolist() == [0] * 5 + [1] * 4 + [2]


def test_greedy_suppression_matches_the_sequential_pass():
    from scipy import sparse

    def path(n):
        i = np.arange(n - 1)
        return sparse.csr_matrix((np.ones(2 * (n - 1), bool), (np.r_[i, i + 1], np.r_[i + 1, i])), shape=(n, n))
    # 0-1-2, priorities 1 3 2: 1 goes first and removes both others
    assert meanshift.greedy_suppression(path(3), np.array([1, 3, 2])).tolist() == [False, True, False]
    # 0-1-2-3, priorities 4 3 2 1: 0 removes 1; then 2 is the best left and removes 3
    assert meanshift.greedy_suppression(path(4), np.array([4, 3, 2, 1])).tolist() == [True, False, True, False]


# ----------------------------------------------------------------------------------- Spectral

def two_cliques(size=5, strong=0.1, weak=0.45):
    """kNN lists of two cliques 0..size-1 and size..2size-1 (distance ``strong`` inside) joined by one
    weak link between size-1 and size (distance ``weak``)."""
    n = 2 * size
    d = np.full((n, n), np.inf)
    d[:size, :size] = strong
    d[size:, size:] = strong
    d[size - 1, size] = d[size, size - 1] = weak
    return knn_from_distances(d)


def test_spectral_cuts_the_weak_link():
    ids, dists = two_cliques()
    assert spectral.cluster(ids, dists, n_clusters=2, n_components=2).tolist() == [0] * 5 + [1] * 5


# ------------------------------------------------------------------------------------------ ARO

# kNN lists (self first, K = 4) by hand: {0, 1, 2} and {3, 4, 5} list each other first.
ARO_IDS = np.array([[0, 1, 2, 3], [1, 0, 2, 4], [2, 1, 0, 5], [3, 4, 5, 0], [4, 3, 5, 1], [5, 4, 3, 2]])


def test_rank_order_distance_worked_example():
    a, b, dist = aro.rank_order_distances(ARO_IDS)
    got = {(int(i), int(j)): round(float(v), 4) for i, j, v in zip(a, b, dist)}
    # (0, 3): 3 is at rank 3 of 0's list, 0 at rank 3 of 3's. 0's ranks 1..3 = {1, 2, 3}: 1 and 2 are not
    # in 3's list -> d(0, 3) = 2; 3's ranks 1..3 = {4, 5, 0}: 4 and 5 not in 0's -> d(3, 0) = 2;
    # D = (2 + 2) / min(3, 3) = 4/3. Same for (1, 4) and (2, 5). Within each triple the lists agree: D = 0.
    assert got == {(0, 1): 0, (0, 2): 0, (1, 2): 0, (3, 4): 0, (3, 5): 0, (4, 5): 0,
                   (0, 3): 1.3333, (1, 4): 1.3333, (2, 5): 1.3333}
    assert aro.cluster(ARO_IDS, th_sim=0.0).tolist() == [0, 0, 0, 1, 1, 1]  # D <= 1
    assert aro.cluster(ARO_IDS, th_sim=-0.5).tolist() == [0] * 6             # D <= 1.5


def test_rank_order_distance_half_and_non_mutual():
    ids = np.array([[0, 2, 1, 4], [1, 3, 0, 2], [2, 0, 1, 3], [3, 1, 2, 4], [4, 3, 0, 2]])
    a, b, dist = aro.rank_order_distances(ids)
    got = {(int(i), int(j)): float(v) for i, j, v in zip(a, b, dist)}
    # (0, 1): ranks 2 and 2; 0's {2, 1} are both in 1's list; 1's {3, 0}: 3 is not in 0's -> (0 + 1) / 2
    assert got[(0, 1)] == 0.5
    # 0 and 4 list each other (ranks 3 and 2): they have a distance; 1 does not list 4: no distance
    assert (0, 4) in got and (1, 4) not in got


# ----------------------------------------------------------------------------- Chinese Whispers

def test_chinese_whispers_two_cliques_joined_by_a_weak_edge():
    # two 4-cliques (similarity 0.9) and one 0.61 edge 3-4 that passes th_sim 0.6: a clique member sees
    # 3 x 0.9 of its own class against at most 0.61 of the other, so each clique settles on one class
    ids, dists = two_cliques(size=4, strong=0.1, weak=0.39)
    for seed in range(5):
        assert chinese_whispers.cluster(ids, dists, th_sim=0.6, iters=20, seed=seed).tolist() == [0] * 4 + [1] * 4
    # th_sim 0.95 keeps no link: everyone alone
    assert chinese_whispers.cluster(ids, dists, th_sim=0.95).tolist() == list(range(8))


def test_best_class_ties_go_to_the_smaller_class():
    points, classes = chinese_whispers.best_class(3, np.array([0, 0, 0, 1]), np.array([2, 1, 2, 0]),
                                                  np.array([0.5, 1.0, 0.5, 0.3]))
    assert points.tolist() == [0, 1] and classes.tolist() == [1, 0]  # point 0: class 1 (1.0) ties class 2 (0.5 + 0.5)


# ------------------------------------------------------------------------------------- Infomap

def test_infomap_two_dense_groups():
    # a random walker stays mostly inside each 5-clique (one weak link out): two modules
    ids, dists = two_cliques(size=5, strong=0.1, weak=0.4)
    assert infomap.cluster(ids, dists, k=10, min_sim=0.5).tolist() == [0] * 5 + [1] * 5
    # links below min_sim are dropped: with 0.95 nobody has a link, everyone is alone
    assert infomap.cluster(ids, dists, k=10, min_sim=0.95).tolist() == list(range(10))


# --------------------------------------------------------------------------------- auto threshold

def test_auto_threshold_finds_the_true_partition(tmp_path):
    ids, dists = dbscan_graph()
    gt = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2])
    cluster_at, values = sweeper("knn_dbscan", {"min_samples": 4, "th_sim": -1.0}, ids=ids, dists=dists)
    eps = thresholds.choose(cluster_at, gt, values, "eps", tmp_path / "t.json", tmp_path / "t.png", "gt")
    # any eps in [0.1, 0.5) gives the true partition; the sweep keeps the middle of the best
    assert 0.1 <= eps < 0.5 and cluster_at(eps).tolist() == gt.tolist()
    assert json.loads((tmp_path / "t.json").read_text())["fscore"] == 1.0
    assert (tmp_path / "t.png").stat().st_size > 0


def test_every_baseline_with_a_threshold_has_a_sweeper():
    x = on_circle([0, 30, 65, 150, 180])
    ids, dists = exact_knn(x)
    settings = {"min_samples": 1, "iters": 5, "k": 5, "linkage": "single"}
    for name, spec in methods("baseline").items():
        if spec.threshold:
            own = {key: value for key, value in settings.items() if hasattr(spec.settings(), key)}  # unknown keys are refused
            cluster_at, values = sweeper(name, own, ids=ids, dists=dists, feats=x)
            assert len(values) and len(cluster_at(float(np.median(values)))) == 5, name


# ------------------------------------------------------------------------------ command line

def test_script_refuses_too_many_points_in_one_sentence(tmp_path):
    save_knn(tmp_path / "k.npz", *exact_knn(HAC_X))
    out = subprocess.run([sys.executable, str(REPO / "workflow/scripts/cluster_baseline.py"), "--method", "spectral",
                          "--settings", json.dumps({"n_clusters": 2, "max_points": 4}), "--knn", str(tmp_path / "k.npz"),
                          "--out", str(tmp_path / "p.meta")], capture_output=True, text=True)
    assert out.returncode == 1 and not (tmp_path / "p.meta").exists()
    assert "spectral cannot cluster 5 points" in out.stderr and "Traceback" not in out.stderr


# --------------------------------------------------------------------------------- workflow

# aro with a fixed threshold (set per dataset: the demo's config chooses it on train), knn_dbscan's eps
# chosen on train (demo config), kmeans with the true cluster count, meanshift refused (max_points)
TINY_BASELINES = with_(TINY, datasets__demo__methods__aro__th_sim=0.0, methods__meanshift__max_points=10)
TARGETS = ("results/demo/knn_dbscan/fscore.txt", "results/demo/kmeans/fscore.txt", "results/demo/aro/fscore.txt")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    wd = workdir(tmp_path_factory.mktemp("baselines"))
    proc = snakemake(wd, "--keep-going", *TARGETS, "results/demo/meanshift/pred_labels.meta", config=TINY_BASELINES,
                     check=False)
    return wd, proc


def test_baseline_rules_score_the_tiny_demo(tiny):
    wd, _ = tiny
    for name in ("knn_dbscan", "kmeans", "aro"):
        metrics = json.loads((wd / f"results/demo/{name}/metrics.json").read_text())
        assert metrics["method"] == name and 0 < metrics["pairwise"]["fscore"] <= 1
        assert (wd / f"results/demo/logs/cluster_{name}.log").exists()
        assert (wd / f"results/demo/benchmarks/cluster_{name}.tsv").exists()
    # kmeans with n_clusters auto: the test split's identity count
    labels = read_labels(wd / "data/labels/demo_test.meta")
    assert json.loads((wd / "results/demo/kmeans/metrics.json").read_text())["n_clusters"] == len(np.unique(labels))
    chosen = json.loads((wd / "results/demo/knn_dbscan/threshold.json").read_text())
    assert 0 <= chosen["eps"] <= 2 and (wd / "results/demo/knn_dbscan/threshold_sweep.png").exists()


def test_a_baseline_parameter_reruns_only_that_method(tiny):
    wd, _ = tiny
    changed = with_(TINY_BASELINES, datasets__demo__methods__aro__th_sim=0.2)
    assert planned_jobs(wd, changed, *TARGETS) == {"cluster_baseline": 1, "evaluate": 1}


def test_too_large_for_a_method_stops_with_its_sentence(tiny):
    wd, proc = tiny
    assert proc.returncode != 0
    log = (wd / "results/demo/logs/cluster_meanshift.log").read_text()
    assert "meanshift cannot cluster" in log and "methods.meanshift.max_points" in log
    assert not (wd / "results/demo/meanshift/pred_labels.meta").exists()
