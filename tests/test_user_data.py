"""The user's own data files: never any rule's output (so never overwritten), and clear one-sentence
messages for files that are not what their name says (folders, .npy without a header, label files
with a header line, floats, Windows line endings, byte-order marks)."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from ltc import DataError, datasets
from ltc.io import feature_shape, read_labels
from helpers import TINY, snakemake, with_, workdir

REPO = Path(__file__).resolve().parents[1]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def one_sentence(message: str) -> str:
    assert message.count(". ") == 0 and message.endswith("."), message
    return message


def project_config(**changes) -> dict:
    """config.yaml with ``changes`` merged in as ``--configfile`` would, plus the test scales."""
    config = datasets.merged(yaml.safe_load((REPO / "config.yaml").read_text()), changes)
    config["datasets"] = datasets.with_test_scales(config["datasets"])
    return config


# --- which files the workflow makes ------------------------------------------------------------------

def test_demo_split_given_as_files_is_not_generated():
    config = project_config(datasets={"demo": {"test": {"features": "my.npy", "labels": "my.meta"}}})
    s = datasets.split(config, "demo", "test")
    assert (s.features, s.labels) == ("my.npy", "my.meta")
    # the generator makes the train split alone, in the layout, by its name
    assert datasets.generated_splits(config, "demo") == {
        "train": ("data/features/demo_train.bin", "data/labels/demo_train.meta")}
    assert datasets.produced_files(config, "demo") == {
        "data/features/demo_train.bin": "synthetic", "data/labels/demo_train.meta": "synthetic"}
    datasets.check_file_owners(config)  # nothing of the user's is claimed


def test_demo_with_both_splits_given_as_files_generates_nothing():
    config = project_config(datasets={"demo": {"train": {"features": "a.bin", "labels": "a.meta"},
                                               "test": {"features": "b.npy", "labels": "b.meta"}}})
    assert datasets.generated_splits(config, "demo") == {}
    assert datasets.produced_files(config, "demo") == {}


def test_unlabelled_demo_split_is_still_generated():
    config = project_config(datasets={"demo": {"test": {"labels": None}}})  # labels: null names no file
    assert datasets.generated_splits(config, "demo")["test"] == ("data/features/demo_test.bin", "data/labels/demo_test.meta")


def test_archive_never_claims_a_users_other_path():
    config = project_config(datasets={"ms1m": {"test": {"features": "mine/part1.bin"}}})
    datasets.check_file_owners(config)
    produced = datasets.produced_files(config, "ms1m")
    assert "mine/part1.bin" not in produced and produced["data/features/part1_test.bin"] == "archive data"


@pytest.mark.parametrize("changes,key,made", [
    ({"ms1m": {"test": {"features": "data/features/part1_test.bin"}}}, "datasets.ms1m.test.features",
     "data/features/part1_test.bin"),
    ({"ms1m": {"test": {"features": "./data/knns/../features/part1_test.bin"}}}, "datasets.ms1m.test.features",
     "data/features/part1_test.bin"),
    ({"ms1m": {"train": {"labels": "data/labels/part0_train.meta"}}}, "datasets.ms1m.train.labels",
     "data/labels/part0_train.meta"),
    # another dataset's generated file named as one's own
    ({"mine": {"dim": 8, "test": {"features": "x.bin", "labels": "data/labels/demo_train.meta"}}},
     "datasets.mine.test.labels", "data/labels/demo_train.meta"),
    # a test scale
    ({"ms1m_bench": {"test_scales": {3: {"features": "data/ms1m_bench/features/part3_test.bin"}}}},
     "datasets.ms1m_bench.test_scales.3.features", "data/ms1m_bench/features/part3_test.bin"),
])
def test_a_path_the_user_names_that_a_rule_writes_stops(changes, key, made):
    with pytest.raises(DataError) as info:
        datasets.check_file_owners(project_config(datasets=changes))
    message = one_sentence(str(info.value))
    assert key in message and made in message and "never overwritten" in message


def test_absolute_path_to_a_generated_file_stops(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = project_config(datasets={"demo": {"test": {"features": str(tmp_path / "data/features/demo_train.bin"),
                                                        "labels": "my.meta"}}})
    with pytest.raises(DataError, match="datasets.demo.test.features"):
        datasets.check_file_owners(config)


def test_users_knn_folder_that_an_archive_writes_into_stops():
    config = project_config(datasets={"ms1m": {"test": {"knns": "data/knns/part1_test/"}}})
    with pytest.raises(DataError) as info:
        datasets.check_file_owners(config)
    assert "datasets.ms1m.test.knns" in one_sentence(str(info.value))


@pytest.mark.parametrize("rel", ["../mine/part1_test.bin", "/home/me/part1_test.bin", "features/../../x.meta"])
def test_archive_provides_outside_the_data_folder_stops(rel):
    config = project_config(datasets={"ms1m": {"archives": {"knns": {"provides": [rel]}}}})
    with pytest.raises(DataError) as info:
        datasets.check_file_owners(config)
    message = one_sentence(str(info.value))
    assert "datasets.ms1m.archives.knns.provides" in message and rel in message


# --- the workflow itself -----------------------------------------------------------------------------

def users_split(folder: Path, n_per=8, ids=5, dim=16):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((ids, dim))
    labels = np.repeat(np.arange(ids), n_per)
    np.save(folder / "my.npy", (centres[labels] + 0.1 * rng.standard_normal((len(labels), dim))).astype(np.float32))
    (folder / "my.meta").write_text("\n".join(map(str, labels)) + "\n")
    return len(labels)


def test_demo_test_split_pointed_at_user_files_is_never_overwritten(tmp_path):
    """The issue's case: datasets: {demo: {test: {features: my.npy, labels: my.meta}}} by --configfile onto
    config.yaml's synthetic demo; a real run (train split generated, threshold chosen on it)."""
    wd = workdir(tmp_path)
    n = users_split(wd)
    before = {name: md5(wd / name) for name in ("my.npy", "my.meta")}
    config = with_(TINY, datasets__demo__dim=16, methods__knn_cc__threshold="auto",
                   datasets__demo__test={"features": "my.npy", "labels": "my.meta"})
    snakemake(wd, config=config)
    assert {name: md5(wd / name) for name in ("my.npy", "my.meta")} == before
    summary = json.loads((wd / "results/demo/validate/test.json").read_text())
    assert (summary["features"], summary["labels"], summary["n"]) == ("my.npy", "my.meta", n)
    assert (wd / "data/features/demo_train.bin").exists() and not (wd / "data/features/demo_test.bin").exists()
    assert not (wd / "data/labels/demo_test.meta").exists()
    assert "train split" in (wd / "results/demo/logs/synthesize.log").read_text()
    assert (wd / "results/demo/knn_cc/threshold.json").exists()  # chosen on the generated train split
    assert len(read_labels(wd / "results/demo/knn_cc/pred_labels.meta")) == n
    snakemake(wd, "--forcerun", "synthesize_demo", config=config)  # regenerating the demo leaves them alone too
    assert {name: md5(wd / name) for name in ("my.npy", "my.meta")} == before


def test_workflow_stops_when_an_archive_would_overwrite_a_named_file(tmp_path):
    wd = workdir(tmp_path)
    (wd / "data/features").mkdir(parents=True)
    (wd / "data/features/part1_test.bin").write_bytes(b"mine")
    proc = snakemake(wd, "-n", "results/ms1m/fscore.txt", check=False,
                     config={"datasets": {"ms1m": {"test": {"features": "data/features/part1_test.bin"}}}})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "datasets.ms1m.test.features" in out and "archive data" in out
    assert (wd / "data/features/part1_test.bin").read_bytes() == b"mine"


# --- messages for files that are not what they seem --------------------------------------------------

def message_of(call, *args) -> str:
    with pytest.raises(DataError) as info:
        call(*args)
    return one_sentence(str(info.value))


def test_raw_bytes_named_npy(tmp_path):
    np.ones((4, 8), np.float32).tofile(tmp_path / "f.npy")
    msg = message_of(feature_shape, tmp_path / "f.npy", 8)
    assert "f.npy" in msg and "no .npy header" in msg and "rename it to .bin" in msg and "numpy.save" in msg
    assert "pickle" not in msg and "allow_pickle" not in msg


def test_npy_named_bin(tmp_path):
    np.save(tmp_path / "f.npy", np.ones((4, 8), np.float32))
    (tmp_path / "f.npy").rename(tmp_path / "f.bin")
    msg = message_of(feature_shape, tmp_path / "f.bin", 8)
    assert "f.bin" in msg and ".npy header" in msg and "rename it to .npy" in msg


def test_npy_of_python_objects(tmp_path):
    np.save(tmp_path / "f.npy", np.array([[1.0] * 8, [2.0] * 8], dtype=object), allow_pickle=True)
    msg = message_of(feature_shape, tmp_path / "f.npy", 8)
    assert "Python objects" in msg and "float32" in msg and "allow_pickle" not in msg


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "f.npy", np.ones((100, 8), np.float32))
    data = (tmp_path / "f.npy").read_bytes()
    (tmp_path / "f.npy").write_bytes(data[:-40])
    msg = message_of(feature_shape, tmp_path / "f.npy", 8)
    assert "truncated" in msg and "100 x 8 float32" in msg


def test_empty_bin(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"")
    assert "is empty" in message_of(feature_shape, tmp_path / "f.bin", 8)


def test_features_path_that_is_a_folder(tmp_path):
    (tmp_path / "feats.npy").mkdir()
    msg = message_of(feature_shape, tmp_path / "feats.npy", 8)
    assert "feats.npy is a folder" in msg and "does not exist" not in msg and "file itself" in msg


def test_labels_path_that_is_a_folder(tmp_path):
    (tmp_path / "labels").mkdir()
    msg = message_of(read_labels, tmp_path / "labels")
    assert "labels is a folder" in msg and "labels/NAME.meta" in msg


@pytest.mark.parametrize("content,needle", [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (b"label\n1\n2\n", "line 1 is 'label', not one integer: remove the header line"),
    (b"1\n3.0\n2\n", "line 2 is '3.0', not one integer: write the labels as integers"),
    (b"1\n\n2\n", "line 2 is '', not one integer: remove the blank line"),
    (b"1\n2 3\n", "line 2 is '2 3', not one integer"),
    (b"1\n99999999999999999999\n", "line 2 is '99999999999999999999', not one integer: labels must fit a 64-bit"),
    (np.arange(4, dtype=np.float32).tobytes(), "holds binary data, not text"),
])
def test_bad_label_files(tmp_path, content, needle):
    (tmp_path / "l.meta").write_bytes(content)
    msg = message_of(read_labels, tmp_path / "l.meta")
    assert str(tmp_path / "l.meta") in msg and needle in msg


@pytest.mark.parametrize("content", [
    b"4\r\n-1\r\n7\r\n",            # Windows line endings
    b"4\r-1\r7\r",                  # old Mac line endings
    b"\xef\xbb\xbf4\n-1\n7\n",      # UTF-8 byte-order mark
    "4\r\n-1\r\n7\r\n".encode("utf-16"),  # UTF-16 with its mark (Windows Notepad's "Unicode")
    b" 4\n-1 \n\t7\n\n\n",          # spaces around labels, trailing blank lines
])
def test_accepted_label_files(tmp_path, content):
    (tmp_path / "l.meta").write_bytes(content)
    labels = read_labels(tmp_path / "l.meta")
    assert labels.dtype == np.int64 and labels.tolist() == [4, -1, 7]


@pytest.mark.parametrize("test,missing", [({"features": "my.npy"}, "labels"), ({"labels": "my.meta"}, "features")])
def test_demo_split_with_only_one_of_its_files_given_stops(test, missing):
    """The other file would be the demo's generated one (stale, or of another split's size)."""
    with pytest.raises(DataError) as info:
        datasets.check_file_owners(project_config(datasets={"demo": {"test": test}}))
    message = one_sentence(str(info.value))
    generated = "data/labels/demo_test.meta" if missing == "labels" else "data/features/demo_test.bin"
    assert f"set datasets.demo.test.{missing} to your file" in message and generated in message


def test_demo_split_of_user_features_unlabelled_is_fine():
    config = project_config(datasets={"demo": {"test": {"features": "my.npy", "labels": None}}})
    datasets.check_file_owners(config)
    assert list(datasets.generated_splits(config, "demo")) == ["train"]
