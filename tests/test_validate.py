"""Each kind of bad input stops with one clear sentence naming the file; good input gives a summary."""
import numpy as np
import pytest

from ltc import DataError
from ltc.io import read_labels, write_features, write_labels
from ltc.validate import validate_split

DIM = 8


@pytest.fixture
def good(tmp_path):
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((20, DIM)).astype(np.float32)
    labels = np.repeat([4, 9, 2, 7], [10, 5, 4, 1])
    write_features(tmp_path / "f.bin", feats)
    write_labels(tmp_path / "l.meta", labels)
    return tmp_path, feats, labels


def test_summary_of_valid_split(good):
    tmp, feats, _ = good
    s = validate_split(tmp / "f.bin", DIM, tmp / "l.meta")
    assert (s["n"], s["dim"]) == (20, DIM)
    ids = s["identities"]
    assert (ids["n_identities"], ids["n_singletons"], ids["min"], ids["max"]) == (4, 1, 1, 10)
    assert ids["median"] == 4.5
    norms = np.linalg.norm(feats, axis=1)
    assert s["norm"]["min"] == pytest.approx(norms.min(), rel=1e-6)
    assert s["norm"]["max"] == pytest.approx(norms.max(), rel=1e-6)


def test_npy_features_and_no_labels(good, tmp_path):
    _, feats, _ = good
    np.save(tmp_path / "f.npy", feats.astype(np.float64))
    s = validate_split(tmp_path / "f.npy", DIM)
    assert s["n"] == 20 and s["labels"] is None


def expect_error(match, *args):
    with pytest.raises(DataError, match=match) as info:
        validate_split(*args)
    message = str(info.value)
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    return message


def test_truncated_bin(good):
    tmp, _, _ = good
    data = (tmp / "f.bin").read_bytes()
    (tmp / "f.bin").write_bytes(data[:-3])
    msg = expect_error("not a multiple of dim", tmp / "f.bin", DIM, tmp / "l.meta")
    assert str(tmp / "f.bin") in msg and "truncated" in msg


def test_wrong_dim(good):
    tmp, _, _ = good
    expect_error("not a multiple of dim", tmp / "f.bin", 7)


def test_npy_wrong_shape(tmp_path):
    np.save(tmp_path / "f.npy", np.ones((5, 3), np.float32))
    expect_error(r"shape \(5, 3\), not N x 8", tmp_path / "f.npy", DIM)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf(good, bad):
    tmp, feats, _ = good
    feats[13, 2] = bad
    write_features(tmp / "f.bin", feats)
    assert "row 13" in expect_error("NaN or Inf", tmp / "f.bin", DIM)


def test_all_zero_row(good):
    tmp, feats, _ = good
    feats[[3, 5]] = 0
    write_features(tmp / "f.bin", feats)
    assert "row 3" in expect_error("all zeros", tmp / "f.bin", DIM)


def test_label_count_mismatch(good):
    tmp, _, labels = good
    write_labels(tmp / "l.meta", labels[:-2])
    msg = expect_error("has 18 labels but feature file", tmp / "f.bin", DIM, tmp / "l.meta")
    assert str(tmp / "l.meta") in msg


def test_non_integer_label(good):
    tmp, _, _ = good
    lines = (tmp / "l.meta").read_text().splitlines()
    lines[6] = "alice"
    (tmp / "l.meta").write_text("\n".join(lines))
    assert "line 7" in expect_error("not one integer", tmp / "f.bin", DIM, tmp / "l.meta")


def test_missing_file(tmp_path):
    expect_error("does not exist", tmp_path / "nope.bin", DIM)


def test_labels_roundtrip_any_integers(tmp_path):
    labels = np.array([-5, 0, 12345678901, 7])
    write_labels(tmp_path / "x.meta", labels)
    assert (read_labels(tmp_path / "x.meta") == labels).all()


# --- files whose bytes are not N x dim float32 (they read as float32 without complaint) --------------

def unit_rows(n, d, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def raw_file(tmp_path, array, name="f.bin"):
    (tmp_path / name).write_bytes(np.ascontiguousarray(array).tobytes())
    return tmp_path / name


@pytest.mark.parametrize("values", [
    unit_rows(2427, 64),                                            # full float64 mantissas
    unit_rows(2427, 64).astype(np.float32).astype(np.float64),      # float32 upcast: low halves exactly zero
    5 * np.random.default_rng(1).standard_normal((2427, 64)),       # unnormalised
], ids=["float64", "upcast-float32", "unnormalised"])
def test_float64_written_as_raw_bin_is_refused(tmp_path, values):
    """The issue's case: float64 features in a .bin with dim 64, unlabelled test split (2,427 faces read
    as 4,854 rows of float32 before)."""
    path = raw_file(tmp_path, values)
    msg = expect_error("float64", path, 64)
    assert str(path) in msg and "2427 rows" in msg and "as float32" in msg


def test_float16_and_big_endian_are_named(tmp_path):
    path = raw_file(tmp_path, unit_rows(2428, 64).astype(np.float16))
    assert "float16 rows of dim 64 (2428 rows)" in expect_error("float16", path, 64)
    path = raw_file(tmp_path, unit_rows(300, 64).astype(">f4"))
    assert "big-endian float32" in expect_error("big-endian", path, 64)


@pytest.mark.parametrize("true_dim,dim,rows", [(128, 64, 2427), (384, 256, 800), (512, 256, 100)])
def test_unit_rows_at_another_width_name_that_dim(tmp_path, true_dim, dim, rows):
    path = raw_file(tmp_path, unit_rows(rows, true_dim).astype(np.float32))
    msg = expect_error(f"set the dataset's dim to {true_dim}", path, dim)
    assert f"holds {rows} rows" in msg


def test_rows_made_of_unit_halves_only_warn(tmp_path):
    """[f(x), f(flip x)], each normalised, is real data: every row has norm sqrt(2); only a warning."""
    feats = np.hstack([unit_rows(500, 64, 1), unit_rows(500, 64, 2)]).astype(np.float32)
    s = validate_split(raw_file(tmp_path, feats), 128)
    assert s["n"] == 500 and s["norm"]["median"] == pytest.approx(np.sqrt(2), rel=1e-6)
    assert len(s["warnings"]) == 1 and "set the dataset's dim to 64" in s["warnings"][0]


@pytest.mark.parametrize("make", [
    lambda rng: unit_rows(3000, 64),
    lambda rng: unit_rows(3000, 64) * rng.uniform(0.5, 50, (3000, 1)),    # unnormalised embeddings
    lambda rng: np.maximum(rng.standard_normal((3000, 64)), 0),            # ReLU features: many exact zeros
    lambda rng: rng.standard_cauchy((3000, 64)),                           # heavy tails
    lambda rng: 300 * rng.standard_normal((3000, 512)),
], ids=["unit", "norms-0.5-50", "relu", "cauchy", "norms-in-the-thousands"])
def test_real_looking_features_pass(tmp_path, make):
    feats = make(np.random.default_rng(4)).astype(np.float32)
    dim = feats.shape[1]
    s = validate_split(raw_file(tmp_path, feats), dim)
    assert s["n"] == 3000 and s["warnings"] == []
    norms = np.linalg.norm(feats.astype(np.float64), axis=1)
    assert s["norm"]["median"] == pytest.approx(np.median(norms), rel=1e-6)


def test_float64_npy_is_fine(tmp_path):
    np.save(tmp_path / "f.npy", unit_rows(2427, 64))  # a header says float64
    s = validate_split(tmp_path / "f.npy", 64)
    assert s["n"] == 2427 and s["warnings"] == []


def test_norms_spanning_orders_of_magnitude(tmp_path):
    feats = unit_rows(5000, 16).astype(np.float32)
    feats[4321] *= 1e20  # past the start of the file, where the element type is checked
    msg = expect_error("orders of magnitude", raw_file(tmp_path, feats), 16)
    assert "rows" in msg and "4321" in msg and "float32" in msg


def test_integers_read_as_float32(tmp_path):
    path = raw_file(tmp_path, np.random.default_rng(0).integers(1, 255, (500, 64)).astype(np.int32))
    msg = expect_error("median row norm", path, 64)
    assert "integers" in msg


def test_text_written_as_bin(tmp_path):
    text = "\n".join(",".join(f"{v:.6f}" for v in row) for row in unit_rows(200, 16)).encode()
    path = tmp_path / "f.bin"
    path.write_bytes(text[:len(text) // 64 * 64])
    assert "numpy.loadtxt" in expect_error("numbers written as text", path, 16)


def test_random_bytes_with_many_nan_rows(tmp_path):
    path = raw_file(tmp_path, np.random.default_rng(0).integers(0, 256, 64 * 4 * 1000).astype(np.uint8))
    assert "too many for a few broken rows" in expect_error("NaN or Inf in", path, 64)


@pytest.mark.parametrize("rows,labels,dim,needle", [
    (40, 20, 8, "twice as many rows as labels"),
    (40, 20, 8, "set the dataset's dim to 16"),
    (60, 20, 8, "set the dataset's dim to 24"),
    (20, 40, 8, "set the dataset's dim to 4"),
    (20, 40, 8, "8-D float16"),
    (30, 20, 8, "exactly 20 rows of 12"),
])
def test_label_count_names_the_dim_that_would_fit(tmp_path, rows, labels, dim, needle):
    feats = np.random.default_rng(0).standard_normal((rows, dim)).astype(np.float32)
    write_features(tmp_path / "f.bin", feats)
    write_labels(tmp_path / "l.meta", np.arange(labels))
    msg = expect_error(f"has {labels} labels but feature file", tmp_path / "f.bin", dim, tmp_path / "l.meta")
    assert needle in msg


def test_label_count_of_npy_does_not_blame_the_dim(tmp_path):
    np.save(tmp_path / "f.npy", np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32))
    write_labels(tmp_path / "l.meta", np.arange(20))
    msg = expect_error("has 20 labels", tmp_path / "f.npy", 8, tmp_path / "l.meta")
    assert "same split" in msg and "dim" not in msg
