"""Degenerate and tiny data for every training-free method and for the shared threshold sweep
(issue 10, cases 5 and 6): train labels that cannot choose a threshold are refused in one sentence,
a sweep that chooses little warns, and every method clusters N = 1, 2, 3 and 29 points from a kNN
graph with fewer columns than the configured k or padded with -1 columns (K > N), with the right
answer where it can be worked out by hand."""
import json
import logging
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import yaml

from ltc import DataError, thresholds
from ltc.io import save_knn, write_labels
from ltc.methods import hdbscan, infomap, knn_cc, spectral
from ltc.methods.registry import example, get, run, sweeper
from ltc.metrics import bcubed, contingency, pairwise
from helpers import REPO, snakemake, workdir

DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text())["methods"]
# every training-free method; fast_hac twice (its two linkages run different code)
METHODS = ["knn_cc", "kmeans", "mini_batch_kmeans", "fast_hac", "fast_hac_average", "dbscan", "knn_dbscan",
           "hdbscan", "meanshift", "spectral", "aro", "chinese_whispers", "infomap", "cdp"]


def base(method: str) -> str:
    return "fast_hac" if method == "fast_hac_average" else method


def settings(method: str, n_clusters: int) -> dict:
    """The config's defaults for ``method``, an ``auto`` threshold as the original's published value
    (the threshold setting's ``example``, ltc.methods.registry), n_clusters given."""
    s = dict(DEFAULTS[base(method)])
    if method == "fast_hac_average":
        s["linkage"] = "average"
    key = threshold_key(method)
    if key and s.get(key) == "auto":
        s[key] = example(f"methods.{base(method)}.{key}")
    if "n_clusters" in s:
        s["n_clusters"] = n_clusters
    return s


def knn(x: np.ndarray, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact kNN (ids int64, 1 - cosine float32) of the rows of ``x``, every point's N entries (itself
    among them; a stable sort, so a duplicate may come before the point itself), then ``width`` - N
    columns of padding (-1, +inf) as a kNN file of K > N holds, or cut to ``width`` columns."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = x @ x.T
    ids = np.argsort(-sims, axis=1, kind="stable")
    dists = (1.0 - np.take_along_axis(sims, ids, axis=1)).astype(np.float32)
    n = len(x)
    width = width or n
    if width > n:
        ids = np.hstack([ids, np.full((n, width - n), -1)])
        dists = np.hstack([dists, np.full((n, width - n), np.inf, dtype=np.float32)])
    return ids[:, :width].astype(np.int64), dists[:, :width]


def points(kind: str, n: int) -> np.ndarray:
    """n points of a kind: random around a few identities, all identical, or mutually orthogonal."""
    if kind == "identical":
        return np.ones((n, 8), dtype=np.float32)
    if kind == "orthogonal":
        return np.eye(n, max(n, 2), dtype=np.float32)
    rng = np.random.default_rng(n)
    centres = rng.standard_normal((max(n // 5, 1), 16))
    return (centres[np.arange(n) % len(centres)] + 0.3 * rng.standard_normal((n, 16))).astype(np.float32)


def cluster(method: str, s: dict, ids, dists, x) -> np.ndarray:
    if method == "knn_cc":
        return knn_cc.cluster(ids, dists, float(s["threshold"]))
    return run(base(method), s, ids=ids, dists=dists, feats=x, threads=1)


def sweep_of(method: str, s: dict, ids, dists, x):
    if method == "knn_cc":
        return knn_cc.sweeper(ids, dists)
    return sweeper(base(method), s, ids=ids, dists=dists, feats=x)


def threshold_key(method: str) -> str | None:
    return get(base(method)).threshold_name()


def assert_labels(labels: np.ndarray, n: int) -> None:
    """int64, one per point, numbered 0 .. C-1 in order of first appearance."""
    assert labels.dtype == np.int64 and labels.shape == (n,)
    firsts = labels[np.sort(np.unique(labels, return_index=True)[1])]
    assert firsts.tolist() == list(range(len(firsts)))


def one_sentence(msg: str) -> bool:
    return msg.endswith(".") and not re.search(r"\.\s+[A-Z]", msg) and "\n" not in msg


# ------------------------------------------------------------------ every method, tiny inputs

@pytest.mark.parametrize("n", [1, 2, 3, 29])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_and_its_sweep_on_tiny_inputs(method, n, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    key = threshold_key(method)
    gt_pairs = np.arange(n) // 2  # identities of two faces (the last one alone when n is odd)
    for kind in ("random", "identical", "orthogonal"):
        x = points(kind, n)
        for width in (n, 80):  # N - 1 real neighbour columns; the configured k = 80 with -1 padding
            ids, dists = knn(x, width)
            s = settings(method, n_clusters=len(np.unique(gt_pairs)))
            case = f"{method} {kind} N={n} K={width}"
            assert_labels(cluster(method, s, ids, dists, x), n)
            if key is None:
                continue
            cluster_at, values = sweep_of(method, s, ids, dists, x)
            # labels that cannot choose a threshold: refused in one sentence naming the file and the setting
            for gt in ({np.zeros(n, int).tobytes(): np.zeros(n, int), np.arange(n).tobytes(): np.arange(n)}.values()):
                with pytest.raises(DataError) as err:
                    thresholds.choose(cluster_at, gt, values, key, tmp_path / "t.json", tmp_path / "t.png",
                                      "train.meta", setting=f"methods.{base(method)}.{key}")
                assert "train.meta" in str(err.value) and f"methods.{base(method)}.{key}" in str(err.value), case
                assert one_sentence(str(err.value)), case
                assert not (tmp_path / "t.json").exists()
            if n < 3:
                continue  # 1 or 2 faces: no labels with a same-identity pair and two identities
            try:
                chosen = thresholds.choose(cluster_at, gt_pairs, values, key, tmp_path / "t.json",
                                           tmp_path / "t.png", "train.meta")
            except DataError as err:  # nothing to sweep over: refused, said so
                assert "has no links" in str(err) and one_sentence(str(err)), case
                continue
            saved = json.loads((tmp_path / "t.json").read_text())
            assert saved[key] == chosen and (tmp_path / "t.png").stat().st_size > 0, case
            assert_labels(cluster(method, {**s, key: chosen}, ids, dists, x), n)
            (tmp_path / "t.json").unlink()


# Four unit points in two tight pairs at right angles: 0 and 5 degrees, 90 and 95 degrees. Within a
# pair cosine 0.9962 (Euclidean 0.0872); across cosine 0.087, 0 or -0.087 (Euclidean >= 1.35).
TWO_PAIRS = np.stack([np.cos(np.radians([0, 5, 90, 95])), np.sin(np.radians([0, 5, 90, 95]))], 1).astype(np.float32)
BY_HAND = {
    "knn_cc": {"threshold": 0.5},
    "kmeans": {"n_clusters": 2}, "mini_batch_kmeans": {"n_clusters": 2, "batch_size": 4},
    "fast_hac": {"distance": 0.7}, "fast_hac_average": {"distance": 0.7, "linkage": "average"},
    "dbscan": {"eps": 0.7, "min_samples": 2}, "knn_dbscan": {"eps": 0.25, "min_samples": 1, "th_sim": -1.0},
    "hdbscan": {"min_cluster_size": 2, "min_samples": 1}, "meanshift": {"bandwidth": 0.5},
    "spectral": {"n_clusters": 2, "n_components": 100},
    # K = 2: each lists its partner only, D = 0 inside a pair (with the complete lists every pair is
    # mutual and D = 0 everywhere: ARO needs K < N)
    "aro": {"th_sim": 0.0},
    "chinese_whispers": {"th_sim": 0.5}, "infomap": {"k": 50, "min_sim": 0.5}, "cdp": {"th": 0.5},
}


@pytest.mark.parametrize("width", [None, 80])
@pytest.mark.parametrize("method", METHODS)
def test_two_tight_orthogonal_pairs_are_two_clusters(method, width):
    real = 2 if method == "aro" else 4
    ids, dists = knn(TWO_PAIRS, real)
    if width:  # the same lists padded to the configured k
        ids = np.hstack([ids, np.full((4, width - real), -1)])
        dists = np.hstack([dists, np.full((4, width - real), np.inf, dtype=np.float32)])
    s = {**DEFAULTS[base(method)], **BY_HAND[method]}
    assert cluster(method, s, ids, dists, TWO_PAIRS).tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize("method", [m for m in METHODS if threshold_key(m)])
def test_auto_threshold_on_two_pairs_finds_them(method, tmp_path):
    """The sweep over the two pairs' links, with their true labels, chooses a cut between them: F = 1."""
    x = np.vstack([TWO_PAIRS, -TWO_PAIRS])  # 4 tight pairs at 0, 90, 180 and 270 degrees
    gt = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    ids, dists = knn(x, 3 if method == "aro" else None)
    s = {**DEFAULTS[base(method)], **BY_HAND[method]}
    cluster_at, values = sweep_of(method, s, ids, dists, x)
    key = threshold_key(method)
    chosen = thresholds.choose(cluster_at, gt, values, key, tmp_path / "t.json", tmp_path / "t.png", "gt")
    saved = json.loads((tmp_path / "t.json").read_text())
    assert cluster_at(chosen).tolist() == gt.tolist() and saved["fscore"] == 1.0 and "warning" not in saved


def test_identical_and_orthogonal_points_by_hand():
    same, apart = points("identical", 5), points("orthogonal", 5)
    for width in (5, 80):
        ids, dists = knn(same, width)  # the duplicates' lists do not start with the point itself
        for method in ("knn_cc", "fast_hac", "dbscan", "knn_dbscan", "chinese_whispers", "infomap", "aro",
                       "meanshift"):
            s = {**settings(method, 1), **BY_HAND[method]}
            assert cluster(method, s, ids, dists, same).tolist() == [0] * 5, method
        # similarity 0 between every two: a positive cut, or a radius below sqrt(2), leaves each alone
        ids, dists = knn(apart, width)
        for method in ("knn_cc", "fast_hac", "dbscan", "knn_dbscan", "chinese_whispers", "infomap", "meanshift"):
            s = {**settings(method, 5), **BY_HAND[method]}
            assert cluster(method, s, ids, dists, apart).tolist() == [0, 1, 2, 3, 4], method
        # k-means and spectral with as many clusters as points: one each (not asked of mini-batch k-means:
        # scikit-learn's random reassignment of small centres may put a centre on a point that has one)
        for method in ("kmeans", "spectral"):
            assert cluster(method, settings(method, 5), ids, dists, apart).tolist() == [0, 1, 2, 3, 4], method


# ------------------------------------------------------------------- method-specific limits

def test_n_clusters_above_n_is_refused_in_one_sentence():
    x = points("random", 3)
    ids, dists = knn(x, 80)
    for method in ("kmeans", "mini_batch_kmeans", "spectral"):
        with pytest.raises(DataError) as err:
            cluster(method, settings(method, 4), ids, dists, x)
        assert f"methods.{method}.n_clusters between 1 and 3" in str(err.value) and one_sentence(str(err.value))


def test_auto_n_clusters_above_n_names_the_label_file(tmp_path):
    x = points("random", 3)
    save_knn(tmp_path / "k.npz", *knn(x, 80))
    write_labels(tmp_path / "l.meta", np.arange(5))  # 5 identities for 3 points
    out = subprocess.run([sys.executable, str(REPO / "workflow/scripts/cluster_baseline.py"), "--method", "spectral",
                          "--settings", json.dumps({"n_clusters": "auto"}), "--knn", str(tmp_path / "k.npz"),
                          "--labels", str(tmp_path / "l.meta"), "--out", str(tmp_path / "p.meta")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and not (tmp_path / "p.meta").exists() and "Traceback" not in out.stderr
    assert "5 identities of" in out.stderr and "l.meta" in out.stderr and "only 3 points" in out.stderr


def test_spectral_with_fewer_points_than_components(caplog):
    caplog.set_level(logging.INFO)
    ids, dists = knn(TWO_PAIRS)
    assert spectral.cluster(ids, dists, n_clusters=2, n_components=100).tolist() == [0, 0, 1, 1]
    assert "n_components 100 lowered to 4" in caplog.text
    assert spectral.cluster(*knn(TWO_PAIRS[:1]), n_clusters=1).tolist() == [0]


def test_spectral_puts_each_unlinked_point_alone():
    # the two pairs plus points at 225 and 315 degrees. 225 has cosine <= 0 with every other point
    # (-0.71, -0.77, -0.71, -0.64 with the pairs, 0 with 315): no link of positive affinity, a cluster
    # of its own. 315 has cosine 0.71 and 0.64 with 0 and 5 degrees: it joins their pair. n_clusters 3
    # = that one alone + 2 clusters of the other five.
    x = np.vstack([TWO_PAIRS, [[-1.0, -1.0]], [[1.0, -1.0]]]).astype(np.float32)
    assert spectral.cluster(*knn(x), n_clusters=3).tolist() == [0, 0, 1, 1, 2, 0]


def test_hdbscan_on_fewer_points_than_its_sizes(caplog):
    caplog.set_level(logging.INFO)
    ids, dists = knn(TWO_PAIRS, 80)
    # min_cluster_size 10 > 4 points: every point is noise, a cluster of its own
    assert hdbscan.cluster(ids, dists, min_cluster_size=10).tolist() == [0, 1, 2, 3]
    # min_samples 10 > the 3 others of each point: lowered to 3, logged (then every core distance reaches
    # across to the other pair: no density contrast is left, HDBSCAN's answer is its own)
    assert_labels(hdbscan.cluster(ids, dists, min_cluster_size=2, min_samples=10), 4)
    assert "min_samples 10 lowered to 3" in caplog.text
    # min_samples 1 (the nearest other point): the two pairs
    assert hdbscan.cluster(ids, dists, min_cluster_size=2, min_samples=1).tolist() == [0, 0, 1, 1]
    # a kNN narrower than the data allows is the configuration's fault: knn.k
    narrow_ids, narrow_dists = knn(points("random", 29), 3)
    with pytest.raises(DataError, match="raise knn.k"):
        hdbscan.cluster(narrow_ids, narrow_dists, min_cluster_size=5)


def test_infomap_k_above_the_file_and_negative_min_sim(caplog):
    caplog.set_level(logging.INFO)
    ids, dists = knn(TWO_PAIRS)
    assert infomap.cluster(ids, dists, k=50, min_sim=0.5).tolist() == [0, 0, 1, 1]
    assert "k = 50 but the kNN graph has 4 columns: using 4" in caplog.text
    with pytest.raises(DataError) as err:
        infomap.cluster(ids, dists, min_sim=-0.2)
    assert "methods.infomap.min_sim to 0 or more" in str(err.value) and one_sentence(str(err.value))
    # the sweep offers no negative candidate: the links of cosine -0.087 are not among its values
    _, values = infomap.sweeper(ids, dists)
    assert values.min() >= 0 and sorted(set(np.round(values, 3))) == [0.0, 0.087, 0.996]


def test_dbscan_eps_zero_from_a_sweep_is_usable():
    # duplicates: the shortest link (the sweep's smallest candidate) has length 0
    x = np.vstack([np.ones((2, 2)), [[1.0, -1.0]]]).astype(np.float32)
    assert run("dbscan", {"eps": 0.0, "min_samples": 2}, feats=x).tolist() == [0, 0, 1]


def test_schema_says_infomap_min_sim_is_not_negative():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    min_sim = schema["$defs"]["methods"]["properties"]["infomap"]["properties"]["min_sim"]
    assert {"type": "number", "minimum": 0, "maximum": 1} in min_sim["oneOf"]


def test_knn_cc_file_with_padding_columns(tmp_path):
    ids, dists = knn(TWO_PAIRS, 80)
    save_knn(tmp_path / "k.npz", ids, dists)
    assert knn_cc.cluster_file(tmp_path / "k.npz", 0.5, chunk_rows=3).tolist() == [0, 0, 1, 1]


# ------------------------------------------------------------------- the sweep's warnings

def test_coarse_to_fine_grid_sweeps_every_other_candidate_then_the_best_ones_neighbours(tmp_path):
    """Points {0, 1}, {2, 3}. t in [0.35, 0.45]: both pairs (F 1); t in [0.25, 0.55]: one pair (precision 1,
    recall 1/2, F 2/3); else all alone (F 0). Coarse 0.1 0.3 0.5 0.7 0.9: 0, 2/3, 2/3, 0, 0, best the
    plateau's lower middle 0.3; its neighbours 0.1 and 0.5 bound the fine candidates 0.2 (F 0) and 0.4
    (F 1): 0.4 chosen after 7 of the 9 clusterings."""
    seen = []

    def cut(t):
        seen.append(round(t, 4))
        if 0.35 <= t <= 0.45:
            return np.array([0, 0, 1, 1])
        return np.array([0, 0, 1, 2]) if 0.25 <= t <= 0.55 else np.arange(4)

    grid = np.round(np.arange(1, 10) / 10, 4)
    chosen = thresholds.choose(cut, np.array([0, 0, 1, 1]), None, "t", tmp_path / "t.json", tmp_path / "t.png",
                               "train.meta", grid=grid[::2], fine_grid=grid)
    assert chosen == 0.4 and seen == [0.1, 0.3, 0.5, 0.7, 0.9, 0.2, 0.4]
    rows = json.loads((tmp_path / "t.json").read_text())["sweep"]
    assert [r["threshold"] for r in rows] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9]
    assert [round(r["fscore"], 4) for r in rows] == [0, 0, round(2 / 3, 4), 1, round(2 / 3, 4), 0, 0]


def test_a_choice_at_the_end_of_the_grid_with_f_still_rising_warns(tmp_path, caplog):
    """Pairs {0, 1} ... {6, 7} (4 identities). t >= 0.85: all four pairs (F 1); t in [0.5, 0.85): two pairs
    joined into one cluster of 4, the rest pairs (8 predicted pairs, 4 right: precision 1/2, recall 1, F 2/3);
    below 0.5 one cluster (precision 4/28, F 0.25). Grid 0.1 0.5 0.9: F 0.25, 2/3, 1, the best the largest searched,
    above its neighbour: warned, naming the range and both F values. On grid 0.1 0.5 0.9 0.95, with 0.95
    also F 1 (ties go to the lower), the best 0.9 is inside: no warning."""
    gt = np.repeat(np.arange(4), 2)

    def cut(t):
        if t >= 0.85:
            return gt
        return np.array([0, 0, 0, 0, 1, 1, 2, 2]) if t >= 0.5 else np.zeros(8, dtype=int)

    chosen = thresholds.choose(cut, gt, None, "t", tmp_path / "t.json", tmp_path / "t.png", "train.meta",
                               setting="methods.x.t", grid=np.array([0.1, 0.5, 0.9]))
    saved = json.loads((tmp_path / "t.json").read_text())
    assert chosen == 0.9 and [round(r["fscore"], 4) for r in saved["sweep"]] == [0.25, 0.6667, 1.0]
    assert "largest value searched (from 0.1000 to 0.9000)" in saved["warning"]
    assert "0.6667 at 0.5000, 1.0000 here" in saved["warning"] and "methods.x.t" in saved["warning"]
    assert any(r.levelno == logging.WARNING and "largest value searched" in r.getMessage() for r in caplog.records)
    chosen = thresholds.choose(cut, gt, None, "t", tmp_path / "u.json", tmp_path / "u.png", "train.meta",
                               grid=np.array([0.1, 0.5, 0.9, 0.95]))
    assert chosen == 0.9 and "warning" not in json.loads((tmp_path / "u.json").read_text())


def test_one_candidate_warns_in_log_json_and_plot(tmp_path, caplog):
    x = points("identical", 4)
    ids, dists = knn(x, 80)
    cluster_at, values = knn_cc.sweeper(ids, dists)
    chosen = thresholds.choose(cluster_at, np.array([0, 0, 1, 1]), values, "threshold", tmp_path / "t.json",
                               tmp_path / "t.png", "train.meta", setting="methods.knn_cc.threshold")
    saved = json.loads((tmp_path / "t.json").read_text())
    assert chosen == 1.0 and len(saved["sweep"]) == 1
    assert "one candidate value only" in saved["warning"] and "methods.knn_cc.threshold" in saved["warning"]
    assert any(r.levelno == logging.WARNING and "one candidate" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "t.png").stat().st_size > 0


def test_low_best_fscore_warns(tmp_path):
    # 30 same-identity pairs; the clustering is all apart above 0.5 (F = 0) and one cluster below
    # (precision = 60 / (60^2 - 60) = 1/59, recall 1: F = 2 (1/59) / (1 + 1/59) = 1/30)
    gt = np.arange(60) // 2
    chosen = thresholds.choose(lambda t: np.arange(60) if t > 0.5 else np.zeros(60, np.int64), gt,
                               np.linspace(0, 1, 11), "threshold", tmp_path / "t.json", tmp_path / "t.png", "gt")
    saved = json.loads((tmp_path / "t.json").read_text())
    assert 0.0 <= chosen <= 0.5 and saved["fscore"] == pytest.approx(1 / 30)  # the plateau's middle
    assert "best pairwise F on the train split is only 0.0333" in saved["warning"]


def test_flat_sweep_warns(tmp_path):
    gt = np.arange(8) // 2
    thresholds.choose(lambda t: np.arange(8), gt, np.linspace(0, 1, 11), "eps", tmp_path / "t.json",
                      tmp_path / "t.png", "gt")
    assert "scores the same pairwise F (0.0000)" in json.loads((tmp_path / "t.json").read_text())["warning"]


def test_no_links_is_refused(tmp_path):
    with pytest.raises(DataError, match="has no links"):
        thresholds.choose(lambda t: np.arange(4), np.array([0, 0, 1, 1]), np.array([np.inf, -np.inf]), "th_sim",
                          tmp_path / "t.json", tmp_path / "t.png", "gt", setting="methods.aro.th_sim")
    assert not (tmp_path / "t.json").exists()


def test_sweep_of_no_thresholds():
    assert thresholds.sweep(lambda t: np.zeros(3, np.int64), np.zeros(3), np.zeros(0)) == (None, [])


def test_labels_of_another_length_are_refused(tmp_path):
    with pytest.raises(DataError, match="hold 4 labels but the split's graph has 3 points"):
        thresholds.choose(lambda t: np.arange(3), np.array([0, 0, 1, 1]), np.array([0.5]), "tau", tmp_path / "t.json",
                          tmp_path / "t.png", "gt")


def test_degenerate_train_labels_script_says_what_to_do(tmp_path):
    """The issue's case: a 'pseudo meta' of one identity for every train face."""
    ids, dists = knn(points("random", 29), 80)
    save_knn(tmp_path / "k.npz", ids, dists)
    write_labels(tmp_path / "pseudo.meta", np.zeros(29, np.int64))
    out = subprocess.run([sys.executable, str(REPO / "workflow/scripts/select_threshold_knn_cc.py"), "--knn",
                          str(tmp_path / "k.npz"), "--labels", str(tmp_path / "pseudo.meta"), "--out",
                          str(tmp_path / "t.json"), "--plot", str(tmp_path / "t.png")], capture_output=True, text=True)
    assert out.returncode == 1 and not (tmp_path / "t.json").exists() and "Traceback" not in out.stderr
    line = out.stderr.strip().splitlines()[-1]
    assert "pseudo.meta" in line and "one identity" in line and "methods.knn_cc.threshold: 0.7" in line


def test_links_script_names_the_method_of_its_folder(tmp_path):
    from ltc.io import save_links
    save_links(tmp_path / "links.npz", np.arange(4), np.full(4, 0.9, np.float32))
    write_labels(tmp_path / "l.meta", np.arange(4))
    (tmp_path / "gcne").mkdir()
    out = subprocess.run([sys.executable, str(REPO / "workflow/scripts/select_threshold_links.py"), "--links",
                          str(tmp_path / "links.npz"), "--labels", str(tmp_path / "l.meta"),
                          "--out", str(tmp_path / "gcne/threshold.json"), "--plot", str(tmp_path / "gcne/t.png")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "methods.gcne.tau: 0.8" in out.stderr and "Traceback" not in out.stderr


# ----------------------------------------------------------------------- pairwise F, by hand

@pytest.mark.parametrize("gt,pred,expected", [
    # no same-identity pair and no predicted pair: every ratio 0/0, reported 0 (the original
    # learn-to-cluster code divides and gets NaN; its source, scikit-learn's Fowlkes-Mallows index,
    # gives 0 when there is no true positive pair)
    ([0, 1, 2, 3], [0, 1, 2, 3], (0.0, 0.0, 0.0)),
    # one identity, one cluster: 12 ordered pairs, all right
    ([0, 0, 0, 0], [0, 0, 0, 0], (1.0, 1.0, 1.0)),
    # no same-identity pair, everything merged: precision 0 / 12, recall 0 / 0 -> 0
    ([0, 1, 2, 3], [0, 0, 0, 0], (0.0, 0.0, 0.0)),
    # one identity, all apart: precision 0 / 0 -> 0, recall 0 / 12
    ([0, 0, 0, 0], [0, 1, 2, 3], (0.0, 0.0, 0.0)),
    # 2 + 2 true, 3 + 1 predicted: tp = (2^2 + 1 + 1) - 4 = 2, predicted 9 + 1 - 4 = 6, true 8 - 4 = 4
    ([0, 0, 1, 1], [0, 0, 0, 1], (1 / 3, 1 / 2, 0.4)),
])
def test_pairwise_without_pairs_does_not_divide_by_zero(gt, pred, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 0/0 in numpy would warn
        scores = pairwise(contingency(np.array(gt), np.array(pred)))
        bcubed(contingency(np.array(gt), np.array(pred)))
    assert (scores["precision"], scores["recall"], scores["fscore"]) == pytest.approx(expected)


# ------------------------------------------------------------------------------- workflow

def test_small_user_dataset_with_k_above_n_runs_every_method(tmp_path):
    """29 test / 55 train faces given as .npy + .meta, knn.k 80 (the default), every method compared,
    `auto` thresholds: `results/<ds>/all` finishes."""
    rng = np.random.default_rng(5)
    centres = rng.standard_normal((12, 16))
    splits = {}
    for split, n, first in (("train", 55, 0), ("test", 29, 6)):
        labels = first + np.arange(n) % 6
        feats = centres[labels] + 0.25 * rng.standard_normal((n, 16))
        np.save(tmp_path / f"{split}.npy", feats.astype(np.float32))
        write_labels(tmp_path / f"{split}.meta", labels)
        splits[split] = {"features": str(tmp_path / f"{split}.npy"), "labels": str(tmp_path / f"{split}.meta")}
    auto = {m: {k: "auto"} for m, k in (("knn_cc", "threshold"), ("fast_hac", "distance"), ("dbscan", "eps"),
                                        ("knn_dbscan", "eps"), ("aro", "th_sim"), ("chinese_whispers", "th_sim"),
                                        ("infomap", "min_sim"))}
    config = {"method": "knn_cc", "datasets": {"small": {
        "dim": 16, **splits, "methods": auto,
        "compare": ["knn_cc", "kmeans", "mini_batch_kmeans", "fast_hac", "dbscan", "knn_dbscan", "hdbscan",
                    "meanshift", "spectral", "aro", "chinese_whispers", "infomap"]}}}
    (tmp_path / "wd").mkdir()
    wd = workdir(tmp_path / "wd")
    proc = snakemake(wd, "results/small/all", config=config, check=False)
    assert proc.returncode == 0, proc.stderr[-6000:]
    for method in config["datasets"]["small"]["compare"]:
        metrics = json.loads((wd / f"results/small/{method}/metrics.json").read_text())
        # dbscan's min_samples and hdbscan's min_cluster_size (10) exceed the test identities (4 or 5
        # faces): every test face is noise, alone, F = 0 -- their definition, not a failure
        assert 0 < metrics["pairwise"]["fscore"] <= 1 or method in ("dbscan", "hdbscan"), method
    # K = 80 >= 55 train faces: every pair is in each other's lists, ARO's distances are all 0, one
    # candidate: chosen, with a warning in the log and the JSON
    aro = json.loads((wd / "results/small/aro/threshold.json").read_text())
    assert "one candidate value only" in aro["warning"] and "methods.aro.th_sim" in aro["warning"]
    log = (wd / "results/small/logs/select_threshold_aro.log").read_text()
    assert "one candidate value only" in log and "ARO needs knn.k below the number of points" in log
    for method in ("knn_cc", "fast_hac", "knn_dbscan", "chinese_whispers", "infomap"):
        assert json.loads((wd / f"results/small/{method}/threshold.json").read_text())["fscore"] == 1.0, method


def test_a_plateau_of_best_thresholds_gives_its_middle_and_few_identities_warn(tmp_path):
    """Three identities, perfectly separated by any threshold in [0.3, 0.9]: the middle is chosen
    (not the edge, 0.3, which a test split of more identities would cross), with a warning."""
    gt = np.repeat([0, 1, 2], 4)
    chosen = thresholds.choose(lambda t: gt if 0.3 <= t <= 0.9 else np.zeros(12, np.int64), gt,
                               np.linspace(0, 1, 11), "threshold", tmp_path / "t.json", tmp_path / "t.png", "gt")
    assert chosen == pytest.approx(0.6, abs=0.051)
    assert "only 3 identities" in json.loads((tmp_path / "t.json").read_text())["warning"]


def test_best_of_by_hand():
    table = [{"threshold": t, "fscore": f} for t, f in [(0.1, 0.5), (0.2, 0.9), (0.3, 0.9), (0.4, 0.9), (0.5, 0.2)]]
    assert thresholds.best_of(table) == 0.3
    assert thresholds.best_of(table[:3]) == 0.2  # an even run: its lower middle
    assert thresholds.best_of([{"threshold": 0.7, "fscore": 0.0}]) == 0.7
    assert thresholds.best_of([]) is None
