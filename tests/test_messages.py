"""What a user sees when the config, the file system or a killed run goes wrong: one sentence, no
traceback, and files that colleagues can read (issue: users' own data, cases 8, 11, 12)."""
import contextlib
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from ltc import cli
from ltc.config import config_problem, load_schema
from ltc.io import atomic_output, write_labels, write_text
from helpers import REPO, TINY, snakemake, with_, workdir

SCHEMA = load_schema(REPO / "workflow/schemas/config.schema.yaml")
SCRIPTS = REPO / "workflow" / "scripts"


@contextlib.contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


# --- case 8: results readable by colleagues -------------------------------------------------------

@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_output_honours_the_umask(tmp_path, mask, mode):
    with umask(mask):
        write_text(tmp_path / "fscore.txt", "F 1\n")
        write_labels(tmp_path / "pred_labels.meta", np.arange(3))
    for name in ("fscore.txt", "pred_labels.meta"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode


def test_workflow_outputs_are_group_readable(tmp_path):
    """Every file a real run writes (data, kNN, predictions, scores) has the umask's mode, not 0600."""
    wd = workdir(tmp_path)
    env_mask = os.umask(0o022)
    try:
        snakemake(wd, config=TINY)
    finally:
        os.umask(env_mask)
    written = [p for p in (wd / "results").rglob("*") if p.is_file()] + [p for p in (wd / "data").rglob("*") if p.is_file()]
    assert written
    private = [str(p.relative_to(wd)) for p in written if not p.stat().st_mode & stat.S_IRGRP]
    assert not private, private


# --- case 11: no orphan temporary files --------------------------------------------------------

def test_an_orphan_temp_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "knn.npz"
    orphan = tmp_path / ".knn.npz.ab12cd34.tmp"  # what mkstemp left when the writer was killed
    orphan.write_bytes(b"half a file")
    unrelated = tmp_path / ".knn.npz.json.ab12cd34.tmp"  # another file's temp: kept
    unrelated.write_bytes(b"x")
    write_text(target, "done\n")
    assert target.read_text() == "done\n"
    assert not orphan.exists()
    assert unrelated.exists()


def test_a_killed_writer_leaves_at_most_its_temp_and_the_rerun_cleans_it(tmp_path):
    """kill -9 in the middle of a write: the target is absent (never half-written) and the rerun
    leaves no temporary file behind."""
    target = tmp_path / "big.txt"
    code = (f"import sys, time; sys.path.insert(0, {str(REPO)!r})\n"
            f"from ltc.io import atomic_output\n"
            f"with atomic_output({str(target)!r}) as tmp:\n"
            f"    open(tmp, 'w').write('x'); print('writing', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert not target.exists()
    write_text(target, "rerun\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]


# --- case 12: config errors in one sentence -----------------------------------------------------

def base_config():
    import yaml
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize("change, words", [
    ({"knn__k": -3}, ["knn.k", "-3", "integer >= 1"]),
    ({"knn__methd": "flat"}, ["knn.methd", "not a setting", "known there", "method"]),
    ({"methods__knn_cc__threshold": "high"}, ["methods.knn_cc.threshold", "'high'", "'auto' or a number"]),
    ({"knn__method": "exact"}, ["knn.method", "'exact'", "'flat'", "'ivf'", "'hnsw'"]),
    ({"method": "nope"}, ["config method", "'nope'", "'knn_cc'"]),
    ({"compare": []}, ["config compare is []", "a list of at least one item"]),
    ({"datasets__mine__test": {"features": "a.npy"}}, ["datasets.mine", "'dim'"]),
    ({"datasets__mine": {"dim": 8, "test": {"features": "a.npy", "lables": "b.meta"}}},
     ["datasets.mine.test.lables", "labels"]),
])
def test_config_problem_is_one_sentence_naming_the_key(change, words):
    sentence, report = config_problem(with_(base_config(), **change), SCHEMA)
    assert "\n" not in sentence and sentence.count(". ") == 0, sentence
    for word in words:
        assert word in sentence, (word, sentence)
    assert "Failed validating" in report  # the whole report is kept for the log


def test_the_shipped_config_is_valid():
    assert config_problem(base_config(), SCHEMA) is None


def test_snakemake_prints_one_sentence_for_a_bad_config_and_keeps_the_report(tmp_path):
    wd = workdir(tmp_path)
    proc = snakemake(wd, "-n", config=with_(TINY, knn__k=0), check=False)
    assert proc.returncode != 0
    out = (proc.stdout + proc.stderr).strip().splitlines()
    errors = [line for line in out if "knn.k" in line]
    assert len(errors) == 1 and "Traceback" not in proc.stderr and "Failed validating" not in proc.stderr + proc.stdout
    assert "Failed validating" in (wd / ".snakemake/log/config_error.txt").read_text()


def test_an_unlabelled_train_split_gives_a_sentence_for_learned_methods(tmp_path):
    """A train split declared with labels: null: GCN-V's training and auto thresholds need labels."""
    wd = workdir(tmp_path)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        np.save(wd / f"{split}.npy", rng.standard_normal((40, 8)).astype(np.float32))
        (wd / f"{split}.meta").write_text("".join(f"{i % 4}\n" for i in range(40)))
    config = with_(TINY, dataset="mine", method="gcnv", methods__gcnv__tau_0=0.65,  # (auto: refused sooner, also for want of labels)
                   datasets__mine={"dim": 8, "train": {"features": "train.npy", "labels": None},
                                   "test": {"features": "test.npy", "labels": "test.meta"}})
    proc = snakemake(wd, "-n", "results/mine/gcnv/fscore.txt", config=config, check=False)
    assert proc.returncode != 0
    assert "unlabelled train split" in proc.stdout + proc.stderr
    assert "datasets.mine.train.labels" in proc.stdout + proc.stderr
    assert "did not return str" not in proc.stdout + proc.stderr


# --- case 12: a full disk or a read-only results folder ---------------------------------------

@pytest.fixture
def small_mount(tmp_path):
    """A 64 KiB tmpfs (a disk that fills at once); skipped where mounting is not allowed."""
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def fill(where: Path) -> None:
    """Fill the file system at ``where`` to the last byte."""
    (where / "results").mkdir()
    with contextlib.suppress(OSError), open(where / "filler", "wb", buffering=0) as f:
        while True:
            f.write(b"\0" * 1024)


def run_validate(tmp_path, out):
    feats = tmp_path / "f.npy"
    np.save(feats, np.random.default_rng(0).standard_normal((50, 4)).astype(np.float32))
    return subprocess.run([sys.executable, str(SCRIPTS / "validate.py"), "--features", str(feats), "--dim", "4",
                           "--out", str(out)], capture_output=True, text=True)


def test_a_full_disk_is_one_sentence_naming_the_file(tmp_path, small_mount):
    fill(small_mount)
    target = small_mount / "results" / "validate.json"
    proc = run_validate(tmp_path, target)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "ERROR" in x]
    assert str(small_mount) in line and "full" in line
    assert not target.exists()


def test_a_read_only_folder_is_one_sentence_naming_it(tmp_path, small_mount):
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    proc = run_validate(tmp_path, small_mount / "validate.json")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "ERROR" in x]
    assert str(small_mount) in line and "read-only" in line


def test_other_os_errors_are_not_disguised():
    """Only storage errors become a sentence; a programming error still shows its traceback."""
    assert cli.storage_error_message(OSError(5, "Input/output error")) is None
    msg = cli.storage_error_message(OSError(28, "No space left on device", "/data/x/out.npz"))
    assert msg.startswith("Cannot write or read /data/x/out.npz") and "full" in msg


def test_atomic_output_names_the_target_when_a_write_fails(tmp_path, small_mount):
    with pytest.raises(OSError) as info:
        with atomic_output(small_mount / "big.bin") as tmp:
            with open(tmp, "wb") as f:
                f.write(b"\0" * 100_000)
    assert info.value.filename == str(small_mount / "big.bin")
    assert list(small_mount.iterdir()) == []


# --- a clustering that cannot be useful is not silent ---------------------------------------------

def test_degenerate_clusterings_by_hand():
    from ltc.graph import degenerate
    assert degenerate(np.arange(5)) == "every one of the 5 points is a cluster of its own"
    assert degenerate(np.zeros(5, dtype=np.int64)) == "all 5 points are in one cluster"
    assert degenerate(np.array([0, 0, 1, 2])) is None
    assert degenerate(np.array([0, 1])) is None  # two points: either answer can be right


def test_all_singletons_from_a_fixed_threshold_is_a_warning_naming_the_setting(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/knn_cc/pred_labels.meta", config=with_(TINY, methods__knn_cc__threshold=0.9999))
    log = (wd / "results/demo/logs/cluster_knn_cc.log").read_text()
    assert "WARNING" in log and "is a cluster of its own" in log and "methods.knn_cc.threshold = 0.9999" in log


def test_a_degenerate_clustering_at_a_threshold_chosen_on_train_does_not_advise_auto(caplog):
    cli.warn_if_degenerate(np.arange(4), "knn_cc", "methods.knn_cc.threshold = 0.9000")
    assert "set it to auto" in caplog.text
    caplog.clear()
    cli.warn_if_degenerate(np.zeros(5, dtype=np.int64), "knn_cc", "methods.knn_cc.threshold = 0.9000",
                           "results/mine/knn_cc/threshold.json")
    assert "all 5 points are in one cluster" in caplog.text and "set it to auto" not in caplog.text
    assert "was chosen on the labelled train split (results/mine/knn_cc/threshold.json)" in caplog.text
    assert "far fewer points: 5" in caplog.text
