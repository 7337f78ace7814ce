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
