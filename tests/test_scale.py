"""The memory-bounded pieces behind the 5.21M benchmark: streamed readers and writers, the kNN
graph in blocks, peaks in chunks, the chunked synthetic generator. Each must equal its whole-array
counterpart."""
import zipfile

import numpy as np
import pytest
from scipy import sparse

from ltc import DataError, confidence
from ltc.graph import SymmetricKnnGraph, directed_graph, knn_rows_graph, symmetric_graph
from ltc.io import (feature_shape, iter_features, iter_knn, knn_shape, load_knn, npy_row_writer, read_features,
                    read_labels, save_knn, write_features)
from ltc.synthetic import MS1M_SHAPE, write_split


def random_knn(n, k, seed=0, missing=0.1, duplicates=False):
    rng = np.random.default_rng(seed)
    ids = np.stack([np.concatenate([[i], rng.permutation(np.delete(np.arange(n), i))[:k - 1]]) for i in range(n)])
    if duplicates:
        ids[::3, -1] = ids[::3, -2]
    dists = np.sort(rng.uniform(0, 1.4, (n, k)), axis=1).astype(np.float32)
    dists[:, 0] = 0
    gone = rng.random((n, k)) < missing
    gone[:, 0] = False
    ids[gone], dists[gone] = -1, np.inf
    return ids, dists


def reference_symmetric(ids, dists, th):
    """The original construction: int64 COO of the kept edges, max with the transpose, + identity."""
    n = len(ids)
    src = np.broadcast_to(np.arange(n)[:, None], ids.shape)
    sims = 1.0 - dists
    keep = (sims >= th) & (ids >= 0) & (ids != src)
    g = sparse.csr_matrix((sims[keep].astype(np.float32), (src[keep], ids[keep])), shape=(n, n))
    return (g.maximum(g.T) + sparse.identity(n, dtype=np.float32, format="csr")).tocsr()


@pytest.mark.parametrize("th", [-1.0, 0.0, 0.4])
@pytest.mark.parametrize("duplicates", [False, True])
def test_symmetric_graph_equals_original_construction(th, duplicates):
    ids, dists = random_knn(40, 7, seed=2, duplicates=duplicates)
    ours, ref = symmetric_graph(ids, dists, th), reference_symmetric(ids, dists, th)
    assert ours.dtype == np.float32 and ours.indices.dtype == np.int32 and ours.has_canonical_format
    assert ours.shape == ref.shape and (ours != ref).nnz == 0
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_array_equal(ours.data, ref.data)


def test_symmetric_graph_by_hand():
    # 3 points; 0 -> 1 (.9), 1 -> 2 (.5), 2 -> 0 (.2, dropped at th .3): max of both directions, self 1
    ids = np.array([[0, 1], [1, 2], [2, 0]])
    dists = np.array([[0, .1], [0, .5], [0, .8]])
    np.testing.assert_allclose(symmetric_graph(ids, dists, 0.3).toarray(),
                               [[1, .9, 0], [.9, 1, .5], [0, .5, 1]], rtol=1e-6)


def test_graph_blocks_from_file_equal_whole_graph(tmp_path):
    ids, dists = random_knn(53, 6, seed=3, duplicates=True)
    save_knn(tmp_path / "knn.npz", ids, dists)
    whole = symmetric_graph(*load_knn(tmp_path / "knn.npz"), 0.1)
    graph = SymmetricKnnGraph(tmp_path / "knn.npz", 0.1, chunk_rows=10)
    assert graph.reverse.indices.dtype == np.int32
    blocks = list(graph.blocks(8))
    assert [start for start, _ in blocks] == list(range(0, 53, 8))
    stacked = sparse.vstack([b for _, b in blocks]).tocsr()
    assert (stacked != whole).nnz == 0
    np.testing.assert_array_equal(stacked.data, whole.data)


def test_directed_graph_checks_its_chunks():
    ids, dists = random_knn(10, 3)
    with pytest.raises(ValueError, match="out of order"):
        directed_graph([(5, ids[5:], dists[5:])], 10, 3, 0.0)
    with pytest.raises(ValueError, match="cover 5 of 10"):
        directed_graph([(0, ids[:5], dists[:5])], 10, 3, 0.0)
    rows = knn_rows_graph(ids[4:6], dists[4:6], 0.0, 10, row_offset=4, self_loops=True)
    assert rows.shape == (2, 10) and rows[0, 4] == 1 and rows[1, 5] == 1


def test_knn_file_streams_and_round_trips(tmp_path):
    ids, dists = random_knn(70, 5, seed=4)
    save_knn(tmp_path / "knn.npz", ids, dists, chunk_rows=16)
    with np.load(tmp_path / "knn.npz") as npz:  # the file np.savez would write
        assert npz["data"].shape == (70, 2, 5) and npz["data"].dtype == np.float32
        np.testing.assert_array_equal(npz["data"][:, 0], ids)
    assert knn_shape(tmp_path / "knn.npz") == (70, 5)
    chunks = list(iter_knn(tmp_path / "knn.npz", chunk_rows=32))
    assert [c[0] for c in chunks] == [0, 32, 64]
    np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), ids)
    back_ids, back_dists = load_knn(tmp_path / "knn.npz")
    assert back_ids.dtype == np.int64 and back_dists.dtype == np.float32
    np.testing.assert_array_equal(back_ids, ids)
    np.testing.assert_array_equal(back_dists, dists)


@pytest.mark.parametrize("kind", ["compressed", "float64", "fortran"])
def test_other_knn_files_read_the_same(tmp_path, kind):
    ids, dists = random_knn(20, 4, seed=5)
    data = np.stack([ids, dists], axis=1).astype(np.float64 if kind == "float64" else np.float32)
    if kind == "compressed":  # e.g. the original project's precomputed kNN
        np.savez_compressed(tmp_path / "knn.npz", data=data)
    else:
        np.savez(tmp_path / "knn.npz", data=np.asfortranarray(data) if kind == "fortran" else data)
    back_ids, back_dists = load_knn(tmp_path / "knn.npz")
    np.testing.assert_array_equal(back_ids, ids)
    np.testing.assert_array_equal(back_dists, dists)
    assert sum(len(c[1]) for c in iter_knn(tmp_path / "knn.npz", chunk_rows=6)) == 20


def test_bad_knn_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not an .npz with an array 'data'"):
        load_knn(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", ids=np.zeros(3))
    with pytest.raises(DataError, match="not an .npz with an array 'data'"):
        load_knn(tmp_path / "other.npz")
    np.savez(tmp_path / "shape.npz", data=np.zeros((4, 3, 2)))
    with pytest.raises(DataError, match=r"holds shape \(4, 3, 2\), not \(N, 2, K\)"):
        knn_shape(tmp_path / "shape.npz")
    save_knn(tmp_path / "knn.npz", *random_knn(30, 4))
    raw = (tmp_path / "knn.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "knn.npz") as zf:  # cut the member's data short, keep a valid zip
        member = zf.read("data.npy")
    with zipfile.ZipFile(tmp_path / "cut.npz", "w") as zf:
        zf.writestr("data.npy", member[:len(member) // 2])
    with pytest.raises(DataError, match="truncated"):
        load_knn(tmp_path / "cut.npz")
    assert raw  # the good file is untouched


def test_features_stream_as_read(tmp_path):
    feats = np.random.default_rng(6).standard_normal((37, 8)).astype(np.float32)
    write_features(tmp_path / "f.bin", feats)
    np.save(tmp_path / "f64.npy", feats.astype(np.float64))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(feats))
    for name in ("f.bin", "f64.npy", "fortran.npy"):
        chunks = list(iter_features(tmp_path / name, 8, chunk_rows=10))
        assert [c[0] for c in chunks] == [0, 10, 20, 30] and all(c[1].dtype == np.float32 for c in chunks)
        np.testing.assert_array_equal(np.concatenate([c[1] for c in chunks]), read_features(tmp_path / name, 8))
        assert feature_shape(tmp_path / name, 8) == (37, 8)
    with pytest.raises(DataError, match="not a multiple of dim"):
        list(iter_features(tmp_path / "f.bin", 7))


def test_npy_row_writer(tmp_path):
    rows = np.arange(30, dtype=np.float32).reshape(10, 3)
    with npy_row_writer(tmp_path / "a.npy", (10, 3)) as out:
        for start in range(0, 10, 4):
            out.write(rows[start:start + 4])
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", mmap_mode="r"), rows)
    with pytest.raises(ValueError, match="6 of 10 rows"):
        with npy_row_writer(tmp_path / "b.npy", (10, 3)) as out:
            out.write(rows[:6])
    with pytest.raises(ValueError, match="do not fit"):
        with npy_row_writer(tmp_path / "c.npy", (10, 3)) as out:
            out.write(rows[:, :2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]  # nothing half-written left behind


def test_peaks_in_chunks_equal_whole():
    ids, dists = random_knn(45, 6, seed=7)
    conf = np.random.default_rng(7).random(45).astype(np.float32)
    chunks = [(s, ids[s:s + 10], dists[s:s + 10]) for s in range(0, 45, 10)]
    peak, sim = confidence.peaks_of_chunks(chunks, conf)
    ref_peak, ref_sim = confidence.peaks(ids, dists, conf)
    np.testing.assert_array_equal(peak, ref_peak)
    np.testing.assert_array_equal(sim, ref_sim)
    with pytest.raises(DataError, match="same split"):
        confidence.peaks_of_chunks(chunks[:2], conf)


def test_write_split_is_seeded_chunked_and_exact(tmp_path):
    kw = dict(dim=16, seed=3, chunk_identities=4, **MS1M_SHAPE)
    info = write_split(tmp_path / "a.bin", tmp_path / "a.meta", 10, n_points=500, label_offset=100, **kw)
    write_split(tmp_path / "b.bin", tmp_path / "b.meta", 10, n_points=500, label_offset=100, **kw)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    feats, labels = read_features(tmp_path / "a.bin", 16), read_labels(tmp_path / "a.meta")
    assert feats.shape == (500, 16) == (info["n"], 16) and len(labels) == 500
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1, rtol=1e-5)
    assert labels.min() >= 100 and labels.max() < 100 + info["identities"]
    # fewer points than the identities give: cut; more: extra chunks of identities
    small = write_split(tmp_path / "s.bin", tmp_path / "s.meta", 10, n_points=50, **kw)
    assert small["n"] == 50 and small["chunks"] == 1
    more = write_split(tmp_path / "m.bin", tmp_path / "m.meta", 10, n_points=3000, **kw)
    assert more["n"] == 3000 and more["identities"] > 10 and more["chunks"] > 2
    free = write_split(tmp_path / "f.bin", tmp_path / "f.meta", 9, **kw)
    assert free["identities"] == 9 and len(read_labels(tmp_path / "f.meta")) == free["n"]


def test_knn_file_from_shards(tmp_path):
    from ltc.io import save_knn_chunks

    ids, dists = random_knn(25, 4, seed=8)
    save_knn(tmp_path / "a.npz", ids[:10], dists[:10])
    save_knn(tmp_path / "b.npz", ids[10:], dists[10:])
    shards = ((i, d) for shard in ("a", "b") for _, i, d in iter_knn(tmp_path / f"{shard}.npz", chunk_rows=3, n_ids=25))
    save_knn_chunks(tmp_path / "all.npz", 25, 4, shards)
    back = load_knn(tmp_path / "all.npz")
    np.testing.assert_array_equal(back[0], ids)
    np.testing.assert_array_equal(back[1], dists)
    with pytest.raises(ValueError, match="10 of 25 kNN rows"):
        save_knn_chunks(tmp_path / "short.npz", 25, 4, [(ids[:10], dists[:10])])
    assert not (tmp_path / "short.npz").exists()
