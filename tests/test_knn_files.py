"""kNN files are never trusted blindly: every read is checked (ids -1..N-1, finite distances, sorted
rows), a precomputed file is imported (checked against the features, sorted, the original's ragged
layout converted) before anything reads it, ids stay exact above float32's 2**24, and k > N works.
Expected values are worked by hand."""
import zipfile

import numpy as np
import pytest

from ltc import DataError, confidence, io, knn
from ltc.graph import SymmetricKnnGraph
from ltc.io import iter_knn, knn_shape, load_knn, save_knn
from ltc.methods import knn_cc
from helpers import custom, snakemake, with_, workdir

# 4 points, 3 neighbours each, rows deliberately out of order (row 1 is already sorted)
UNSORTED_IDS = np.array([[0, 2, 1], [1, 0, 3], [2, 0, 3], [3, 1, 2]])
UNSORTED_DISTS = np.array([[0.0, 0.5, 0.2], [0.0, 0.2, 0.3], [0.0, 0.5, 0.1], [0.0, 0.3, 0.1]], dtype=np.float32)
# the same rows sorted by distance, by hand
SORTED_IDS = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0], [3, 2, 1]])
SORTED_DISTS = np.array([[0.0, 0.2, 0.5], [0.0, 0.2, 0.3], [0.0, 0.1, 0.5], [0.0, 0.1, 0.3]], dtype=np.float32)


def new_workdir(tmp_path):
    """A copy of the workflow in tmp_path/wd, beside the test's data files in tmp_path."""
    (tmp_path / "wd").mkdir()
    return workdir(tmp_path / "wd")


def past_n_file(path):
    """A 4-row kNN whose row 2 names point 7: searched in a bigger set of features."""
    ids = SORTED_IDS.copy()
    ids[2, 2] = 7
    save_knn(path, ids, SORTED_DISTS)
    return path


# --- every consumer's reader refuses a bad file --------------------------------------------------

def test_ids_past_n_are_refused_by_every_consumer(tmp_path):
    (tmp_path / "results/d/knn").mkdir(parents=True)
    path = past_n_file(tmp_path / "results/d/knn/big.npz")  # a file the workflow made: --forcerun it
    needle = r"names neighbour ids up to 7 but its split has only 4 rows"
    readers = {
        "load_knn (train_gcnv, GCN-E, baselines, Infomap, knn_cc thresholds)": lambda: load_knn(path),
        "knn_cc.cluster_file (cluster_knn_cc)": lambda: knn_cc.cluster_file(path, 0.5),
        "SymmetricKnnGraph (infer_gcnv)": lambda: SymmetricKnnGraph(path, 0.0),
        "peaks_of_chunks (links_gcnv)": lambda: confidence.peaks_of_chunks(iter_knn(path), np.ones(4, np.float32)),
    }
    for name, read in readers.items():
        with pytest.raises(DataError, match=needle):
            read()
        with pytest.raises(DataError, match="--forcerun results/d/knn/big.npz"):
            read()


@pytest.mark.parametrize("value,needle", [
    (-2.0, "neighbour id -2, not -1 or a row number 0..3"),
    (1.5, "neighbour id 1.5, not -1 or a row number 0..3"),
    (np.nan, "neighbour id nan, not -1 or a row number 0..3"),
])
def test_ids_that_are_no_row_are_refused(tmp_path, value, needle):
    data = np.stack([SORTED_IDS, SORTED_DISTS], axis=1).astype(np.float32)
    data[1, 0, 2] = value
    np.savez(tmp_path / "k.npz", data=data)
    with pytest.raises(DataError, match=f"row 1 has {needle}"):
        load_knn(tmp_path / "k.npz")


def test_nan_distances_are_refused(tmp_path):
    dists = SORTED_DISTS.copy()
    dists[3, 1] = np.nan
    save_knn(tmp_path / "k.npz", SORTED_IDS, dists)
    with pytest.raises(DataError, match="row 3 has distance nan for neighbour 2, not a finite number"):
        load_knn(tmp_path / "k.npz")
    with pytest.raises(DataError, match="not a finite number"):  # the import refuses it too
        knn.import_knn(tmp_path / "k.npz", tmp_path / "out.npz", 4, 3)
    assert not (tmp_path / "out.npz").exists()


def test_damaged_compressed_file_is_one_sentence(tmp_path):
    ids = np.tile(np.arange(50), (50, 1))
    np.savez_compressed(tmp_path / "k.npz", data=np.stack([ids, np.sort(np.random.default_rng(0).random((50, 50)))],
                                                          axis=1).astype(np.float32))
    raw = bytearray((tmp_path / "k.npz").read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 64] = bytes(64)  # zero a stretch of the deflate stream
    (tmp_path / "k.npz").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=f"kNN file {tmp_path / 'k.npz'} is damaged at row 0 .*re-create it"):
        load_knn(tmp_path / "k.npz")


def test_missing_neighbours_may_have_any_distance_and_read_as_inf(tmp_path):
    ids, dists = SORTED_IDS.copy(), SORTED_DISTS.copy()
    ids[0, 2], dists[0, 2] = -1, np.nan  # a missing neighbour's distance means nothing
    save_knn(tmp_path / "k.npz", ids, dists)
    back_ids, back_dists = load_knn(tmp_path / "k.npz")
    assert back_ids[0, 2] == -1 and back_dists[0, 2] == np.inf
    np.testing.assert_array_equal(back_dists[1:], SORTED_DISTS[1:])


def test_unsorted_rows_are_refused_by_consumers_and_sorted_by_the_import(tmp_path):
    save_knn(tmp_path / "user.npz", UNSORTED_IDS, UNSORTED_DISTS)
    with pytest.raises(DataError, match="row 0 is not sorted by increasing distance"):
        load_knn(tmp_path / "user.npz")
    stats = knn.import_knn(tmp_path / "user.npz", tmp_path / "out.npz", 4, 3)
    assert stats == {"rows": 4, "sorted_rows": 3, "width": 3}
    ids, dists = load_knn(tmp_path / "out.npz")
    np.testing.assert_array_equal(ids, SORTED_IDS)
    np.testing.assert_array_equal(dists, SORTED_DISTS)


def test_import_keeps_a_good_file_byte_identical(tmp_path):
    save_knn(tmp_path / "user.npz", SORTED_IDS, SORTED_DISTS)
    knn.import_knn(tmp_path / "user.npz", tmp_path / "out.npz", 4, 3)
    assert (tmp_path / "out.npz").read_bytes() == (tmp_path / "user.npz").read_bytes()


def test_import_cuts_or_pads_to_k_and_moves_missing_last(tmp_path):
    ids, dists = SORTED_IDS.copy(), SORTED_DISTS.copy()
    ids[1, 1], dists[1, 1] = -1, np.inf  # a missing neighbour in the middle of a row
    save_knn(tmp_path / "user.npz", ids, dists)
    knn.import_knn(tmp_path / "user.npz", tmp_path / "two.npz", 4, 2)
    np.testing.assert_array_equal(load_knn(tmp_path / "two.npz")[0], [[0, 1], [1, 3], [2, 3], [3, 2]])
    knn.import_knn(tmp_path / "user.npz", tmp_path / "four.npz", 4, 4)
    back_ids, back_dists = load_knn(tmp_path / "four.npz")
    np.testing.assert_array_equal(back_ids, [[0, 1, 2, -1], [1, 3, -1, -1], [2, 3, 0, -1], [3, 2, 1, -1]])
    assert np.isinf(back_dists[:, 3]).all() and back_dists[1, 1] == np.float32(0.3)


def test_import_refuses_another_row_count_similarities_and_other_distances(tmp_path):
    save_knn(tmp_path / "user.npz", SORTED_IDS, SORTED_DISTS)
    with pytest.raises(DataError, match=r"has 4 rows but the split's features have 5: replace it"):
        knn.import_knn(tmp_path / "user.npz", tmp_path / "out.npz", 5, 3)
    save_knn(tmp_path / "sims.npz", SORTED_IDS, 1 - SORTED_DISTS)  # similarities, largest (itself: 1) first
    with pytest.raises(DataError, match="gives every point a distance of 1 to itself, so it holds similarities"):
        knn.import_knn(tmp_path / "sims.npz", tmp_path / "out.npz", 4, 3)
    save_knn(tmp_path / "others.npz", SORTED_IDS[:, 1:], 1 - SORTED_DISTS[:, 1:])  # without itself
    with pytest.raises(DataError, match="decrease along every row, so it holds similarities"):
        knn.import_knn(tmp_path / "others.npz", tmp_path / "out.npz", 4, 2)
    save_knn(tmp_path / "l2.npz", SORTED_IDS, 3 * SORTED_DISTS + 1)  # not 1 - cosine: up to 2.5
    with pytest.raises(DataError, match="not cosine distances 1 - similarity in"):
        knn.import_knn(tmp_path / "l2.npz", tmp_path / "out.npz", 4, 3)
    path = past_n_file(tmp_path / "big.npz")
    with pytest.raises(DataError, match="names neighbour ids up to 7 but its split has only 4 rows .*move it out"):
        knn.import_knn(path, tmp_path / "out.npz", 4, 3)
    assert not (tmp_path / "out.npz").exists()


# --- the original project's ragged layout -------------------------------------------------------

RAGGED = [  # (ids, dists) of different lengths, one row out of order, as its hnsw path saves them
    (np.array([0, 1], np.int32), np.array([0.0, 0.2], np.float32)),
    (np.array([1, 3, 0], np.int32), np.array([0.0, 0.4, 0.2], np.float32)),
    (np.array([2], np.int32), np.array([0.0], np.float32)),
    (np.array([3, 1], np.int32), np.array([0.0, 0.4], np.float32)),
]
RAGGED_IDS = [[0, 1, -1], [1, 0, 3], [2, -1, -1], [3, 1, -1]]  # by hand: sorted, padded with -1
RAGGED_DISTS = [[0.0, 0.2, np.inf], [0.0, 0.2, 0.4], [0.0, np.inf, np.inf], [0.0, 0.4, np.inf]]


@pytest.mark.parametrize("shape", ["rows x 2", "rows of pairs"])
def test_ragged_object_layout_is_imported(tmp_path, shape):
    if shape == "rows x 2":
        data = np.empty((4, 2), dtype=object)
        for i, (ids, dists) in enumerate(RAGGED):
            data[i, 0], data[i, 1] = ids, dists
    else:
        data = np.empty(4, dtype=object)
        for i, row in enumerate(RAGGED):
            data[i] = row
    np.savez_compressed(tmp_path / "hnsw_k_3.npz", data=data)
    with pytest.raises(DataError, match="holds an object array .* read only from a precomputed kNN file"):
        load_knn(tmp_path / "hnsw_k_3.npz")  # consumers never unpickle
    stats = knn.import_knn(tmp_path / "hnsw_k_3.npz", tmp_path / "out.npz", 4, 3)
    assert stats["width"] == 3 and stats["sorted_rows"] == 1
    ids, dists = load_knn(tmp_path / "out.npz")
    np.testing.assert_array_equal(ids, RAGGED_IDS)
    np.testing.assert_array_equal(dists, np.array(RAGGED_DISTS, np.float32))


def test_ragged_layout_with_ids_past_n_is_refused(tmp_path):
    data = np.empty((4, 2), dtype=object)
    for i, (ids, dists) in enumerate(RAGGED):
        data[i, 0], data[i, 1] = ids + (9 if i == 3 else 0), dists
    np.savez_compressed(tmp_path / "k.npz", data=data)
    with pytest.raises(DataError, match="names neighbour ids up to 12 but its split has only 4 rows"):
        knn.import_knn(tmp_path / "k.npz", tmp_path / "out.npz", 4, 3)


# --- ids above float32's exact range ------------------------------------------------------------

def test_ids_stay_exact_above_the_float32_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "KNN_FLOAT32_ID_LIMIT", 3)  # as if 4 rows were more than 2**24
    save_knn(tmp_path / "k.npz", SORTED_IDS, SORTED_DISTS)
    with np.load(tmp_path / "k.npz") as npz:
        assert sorted(npz.files) == ["data", "ids"] and npz["ids"].dtype == np.int32
        np.testing.assert_array_equal(npz["ids"], SORTED_IDS)
        assert npz["data"].shape == (4, 2, 3)  # the original format is still there
    np.testing.assert_array_equal(load_knn(tmp_path / "k.npz")[0], SORTED_IDS)
    # the reader takes the ids from 'ids', not from the float copy in 'data'
    data = np.stack([np.zeros((4, 3)), SORTED_DISTS], axis=1).astype(np.float32)
    np.savez(tmp_path / "both.npz", data=data, ids=SORTED_IDS.astype(np.int64))
    np.testing.assert_array_equal(load_knn(tmp_path / "both.npz")[0], SORTED_IDS)
    # past the limit, float ids alone are refused: they could name the wrong row
    np.savez(tmp_path / "float.npz", data=np.stack([SORTED_IDS, SORTED_DISTS], axis=1).astype(np.float32))
    with pytest.raises(DataError, match="names 4 rows but stores its neighbour ids as float32, exact only up to 3"):
        load_knn(tmp_path / "float.npz")


def test_real_ids_past_2_24_round_trip_exactly(tmp_path):
    n = 2 ** 24 + 10  # a query shard of 3 rows of a set this big: ids float32 cannot hold
    ids = np.array([[2 ** 24 + 1, 2 ** 24 + 3, -1], [5, 2 ** 24 + 9, 2 ** 24 + 7], [2 ** 24 + 5, 0, 1]])
    assert (ids.astype(np.float32).astype(np.int64) != ids).any()
    dists = np.array([[0, 0.1, np.inf], [0, 0.2, 0.3], [0, 0.4, 0.5]], dtype=np.float32)
    save_knn(tmp_path / "shard.npz", ids, dists, n_ids=n)
    back = list(iter_knn(tmp_path / "shard.npz", n_ids=n))
    np.testing.assert_array_equal(back[0][1], ids)
    with pytest.raises(DataError, match="names neighbour ids up to 16777225 but its split has only 3 rows"):
        load_knn(tmp_path / "shard.npz")  # as a whole split's kNN it names rows it does not have


# --- k larger than N ----------------------------------------------------------------------------

def test_search_with_k_above_n_pads_with_missing_neighbours():
    feats = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0], [0.6, -0.8]], dtype=np.float32)
    ids, dists = knn.search(feats, 8)
    assert ids.shape == dists.shape == (5, 8)
    np.testing.assert_array_equal(ids[:, 5:], -1)
    assert np.isinf(dists[:, 5:]).all()
    np.testing.assert_array_equal(ids[:, 0], np.arange(5))  # itself first
    np.testing.assert_array_equal(np.sort(ids[:, :5], axis=1), np.tile(np.arange(5), (5, 1)))  # every point
    # by hand: point 0 = (1, 0) has cosines 0.8 (1), 0.6 (4), 0 (2), -1 (3)
    np.testing.assert_array_equal(ids[0, :5], [0, 1, 4, 2, 3])
    np.testing.assert_allclose(dists[0, :5], [0, 0.2, 0.4, 1, 2], atol=1e-6)


def test_knn_cc_on_a_padded_file(tmp_path):
    feats = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0], [0.6, -0.8]], dtype=np.float32)
    save_knn(tmp_path / "faiss_k_8.npz", *knn.search(feats, 8))
    # by hand: the only link with cosine >= 0.7 is 0-1 (0.8); components numbered by first point
    np.testing.assert_array_equal(knn_cc.cluster_file(tmp_path / "faiss_k_8.npz", 0.7), [0, 0, 1, 2, 3])


def test_k_above_n_workflow_runs_knn_and_knn_cc(tmp_path):
    wd = new_workdir(tmp_path)
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(3), [10, 10, 9])  # 29 points
    config = with_(custom(tmp_path, rng.standard_normal((3, 8))[labels] + 0.05 * rng.standard_normal((29, 8)),
                          labels), knn__k=80)
    snakemake(wd, "results/mine/fscore.txt", config=config)
    path = wd / "results/mine/knn/test/faiss_k_29.npz"  # named by what it holds: a row has all 29 points
    assert knn_shape(path) == (29, 29) and not (wd / "results/mine/knn/test/faiss_k_80.npz").exists()
    ids, _ = load_knn(path)
    np.testing.assert_array_equal(np.sort(ids, axis=1), np.tile(np.arange(29), (29, 1)))
    assert len((wd / "results/mine/knn_cc/pred_labels.meta").read_text().split()) == 29


# --- the workflow imports a precomputed file and refuses a bad one ------------------------------

def blobs(tmp_path, n=40):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), n // 4)
    feats = (rng.standard_normal((4, 8))[labels] + 0.05 * rng.standard_normal((n, 8))).astype(np.float32)
    config = custom(tmp_path, feats, labels)
    (tmp_path / "knns").mkdir()
    config["datasets"]["mine"]["test"]["knns"] = str(tmp_path / "knns")
    return feats, labels, config


@pytest.mark.parametrize("method", ["knn_cc", "infomap"])
def test_precomputed_knn_of_a_bigger_set_stops_the_run(tmp_path, method):
    wd = new_workdir(tmp_path)
    feats, _, config = blobs(tmp_path)
    config = with_(config, method=method, methods__infomap__min_sim=0.5)
    bigger = np.concatenate([feats, feats[::-1] + 0.01])  # searched among 80 rows, the split's 40 kept
    ids, sims = knn.exact_search(bigger, 5, rows=np.arange(40), progress=False)
    pre = tmp_path / "knns/faiss_k_5.npz"
    save_knn(pre, ids, 1 - sims)
    assert ids.max() >= 40
    proc = snakemake(wd, f"results/mine/{method}/pred_labels.meta", config=config, check=False)
    assert proc.returncode != 0
    assert f"kNN file {pre} names neighbour ids up to {ids.max()} but its split has only 40 rows" in proc.stderr
    assert not (wd / f"results/mine/{method}/pred_labels.meta").exists()
    assert not (wd / "results/mine/knn/test/precomputed/faiss_k_5.npz").exists()


def test_precomputed_ragged_unsorted_file_is_imported_and_used(tmp_path):
    wd = new_workdir(tmp_path)
    feats, labels, config = blobs(tmp_path)
    snakemake(wd, "results/mine/knn_cc/pred_labels.meta", config=config)  # built by the workflow
    built = load_knn(wd / "results/mine/knn/test/faiss_k_5.npz")
    expected = (wd / "results/mine/knn_cc/pred_labels.meta").read_text()
    data = np.empty((40, 2), dtype=object)  # the same neighbours, each row reversed: ragged layout, unsorted
    for i in range(40):
        data[i, 0], data[i, 1] = built[0][i, ::-1].astype(np.int32), built[1][i, ::-1]
    np.savez_compressed(tmp_path / "knns/faiss_k_5.npz", data=data)
    proc = snakemake(wd, "results/mine/knn_cc/pred_labels.meta", config=config)
    assert "rule knn_import:" in proc.stderr and "rule knn:" not in proc.stderr
    imported = load_knn(wd / "results/mine/knn/test/precomputed/faiss_k_5.npz")
    for a, b in zip(imported, built):
        np.testing.assert_array_equal(a, b)
    assert (wd / "results/mine/knn_cc/pred_labels.meta").read_text() == expected
    assert "40 of 40 rows were not sorted by distance; sorted" in (
        wd / "results/mine/logs/knn_import_test_faiss_k_5.log").read_text()


def test_truncated_knn_file_advice_rebuilds_it(tmp_path):
    wd = new_workdir(tmp_path)
    _, _, config = blobs(tmp_path)
    snakemake(wd, "results/mine/fscore.txt", config=config)
    rel = "results/mine/knn/test/faiss_k_5.npz"
    good = load_knn(wd / rel)
    member = zipfile.ZipFile(wd / rel).read("data.npy")
    (wd / rel).unlink()
    with zipfile.ZipFile(wd / rel, "w") as zf:  # a valid zip whose member is cut short
        zf.writestr("data.npy", member[:len(member) // 2])
    changed = with_(config, methods__knn_cc__threshold=0.6)  # something that reads the file again
    proc = snakemake(wd, "results/mine/fscore.txt", config=changed, check=False)
    advice = f"rebuild it with `snakemake --cores N --forcerun {rel}`"
    assert proc.returncode != 0 and "it is truncated" in proc.stderr and advice in proc.stderr
    # what the message says works (a plain delete would not: the finished target means "Nothing to be done")
    snakemake(wd, "--forcerun", rel, "results/mine/fscore.txt", config=changed)
    for a, b in zip(load_knn(wd / rel), good):
        np.testing.assert_array_equal(a, b)
    assert (wd / "results/mine/fscore.txt").exists()


def test_import_refuses_a_file_of_other_or_reordered_features(tmp_path):
    """The right shape, ids and sorted rows, but for other features: rows shifted by one (features
    reordered since the kNN was made) or every row naming the point itself K times."""
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((60, 8)).astype(np.float32)
    ids, dists = knn.search(feats, 5, "flat")
    save_knn(tmp_path / "good.npz", ids, dists)
    knn.import_knn(tmp_path / "good.npz", tmp_path / "out.npz", 60, 5, feats=feats)  # the features' own: taken
    np.testing.assert_array_equal(load_knn(tmp_path / "out.npz")[0], ids)
    save_knn(tmp_path / "shifted.npz", np.roll(ids, 1, axis=0), dists)
    with pytest.raises(DataError, match="does not match the features: row 0 .*other or reordered features"):
        knn.import_knn(tmp_path / "shifted.npz", tmp_path / "bad.npz", 60, 5, feats=feats)
    save_knn(tmp_path / "self.npz", np.repeat(np.arange(60)[:, None], 5, axis=1), np.zeros((60, 5), np.float32))
    with pytest.raises(DataError, match="row 0 lists a neighbour more than once"):
        knn.import_knn(tmp_path / "self.npz", tmp_path / "bad.npz", 60, 5, feats=feats)
    assert not (tmp_path / "bad.npz").exists()


def test_repeated_neighbours_by_hand():
    ids = np.array([[0, 1, 2], [1, 1, 2], [2, -1, -1], [3, 0, 3]])
    assert knn.repeated_neighbours(ids).tolist() == [False, True, False, True]  # two -1 are no neighbour
