"""The `ltc` console command (ltc/console.py, installed by pyproject.toml's [project.scripts]) as a user
runs it: hand-worked results, one-sentence refusals without a traceback, no input ever overwritten."""
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ltc import DataError
from ltc.console import build_parser, parse_sets
from ltc.methods import registry

REPO = Path(__file__).resolve().parents[1]
LTC = shutil.which("ltc")
# two obvious blobs (tests/test_api.py says why): rows 0-2 near e1, rows 3-5 near e2
BLOBS = np.array([[1, 0, 0], [0.95, 0.1, 0], [0.9, 0, 0.1],
                  [0, 1, 0], [0.1, 0.95, 0], [0, 0.9, 0.1]], dtype=np.float32)


def ltc(cwd, *args, rc=0):
    cmd = [LTC, *args] if LTC else [sys.executable, "-m", "ltc", *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == rc, proc.stderr[-3000:]
    return proc


def labels(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


@pytest.fixture()
def files(tmp_path):
    np.save(tmp_path / "f.npy", BLOBS)
    BLOBS.tofile(tmp_path / "f.bin")
    rng = np.random.default_rng(0)
    train = np.repeat(np.eye(3), 5, axis=0) + 0.2 * rng.standard_normal((15, 3))
    train.astype(np.float32).tofile(tmp_path / "train.bin")
    (tmp_path / "train.meta").write_text("\n".join(str(i // 5) for i in range(15)) + "\n")
    (tmp_path / "gt.meta").write_text("0\n0\n0\n1\n1\n1\n")
    (tmp_path / "pred.meta").write_text("0\n0\n1\n1\n1\n1\n")
    return tmp_path


def test_the_command_is_installed():
    assert LTC, "pip install -e . installs the ltc command (pyproject.toml [project.scripts])"


def test_cluster_writes_the_hand_worked_labels(files):
    ltc(files, "cluster", "f.npy", "--method", "infomap", "--set", "min_sim=0.5", "-o", "out/labels.meta")
    assert labels(files / "out/labels.meta") == [0, 0, 0, 1, 1, 1]
    ltc(files, "cluster", "f.bin", "--dim", "3", "--set", "threshold=0.5", "--k", "2", "-o", "cc.meta")  # knn_cc
    assert labels(files / "cc.meta") == [0, 0, 0, 1, 1, 1]


def test_cluster_chooses_an_auto_threshold_on_the_train_split(files):
    proc = ltc(files, "cluster", "f.bin", "--dim", "3", "--method", "knn_cc", "--train-features", "train.bin",
               "--train-labels", "train.meta", "--sweep-dir", "sweep", "-o", "pred2.meta")
    assert labels(files / "pred2.meta") == [0, 0, 0, 1, 1, 1]
    chosen = json.loads((files / "sweep/threshold.json").read_text())
    assert chosen["fscore"] == 1.0 and chosen["split"] == "train.meta"
    assert 0.208 < chosen["threshold"] <= 0.9939  # where BLOBS splits into its blobs (tests/test_api.py)
    assert "wrote 6 labels (2 clusters) to pred2.meta" in proc.stderr


def test_evaluate_prints_the_hand_worked_metrics(files):
    out = json.loads(ltc(files, "evaluate", "gt.meta", "pred.meta", "--json-out", "m.json").stdout)
    assert out["pairwise"]["fscore"] == pytest.approx(8 / 13) and out["bcubed"]["fscore"] == pytest.approx(42 / 55)
    assert json.loads((files / "m.json").read_text()) == out
    (files / "noisy.meta").write_text("0\n0\n-1\n-1\n1\n1\n")
    (files / "p2.meta").write_text("0\n0\n0\n1\n1\n1\n")
    noisy = json.loads(ltc(files, "evaluate", "noisy.meta", "p2.meta", "--noise-label", "-1").stdout)
    assert noisy["pairwise"]["fscore"] == pytest.approx(0.5)  # tests/test_api.py works it out


def test_methods_lists_every_method_with_each_setting_its_default_and_doc(files):
    out = ltc(files, "methods").stdout
    for name in registry.NAMES:
        assert re.search(rf"^{name}: {re.escape(registry.get(name).summary)}$", out, re.M), name
    assert re.search(r'^  min_sim = "auto"\s+links with cosine >= min_sim', out, re.M)
    assert re.search(r"^  train\.lr = 0\.001\s+Adam's learning rate", out, re.M)  # nested settings, dotted
    assert "gcnv: " in out and "no: a learned method, run it with the Snakemake workflow" in out
    one = ltc(files, "methods", "cdp").stdout
    assert one.startswith("cdp: ") and "infomap" not in one


@pytest.mark.parametrize("args, words", [
    (["cluster", "f.npy", "--set", "threshold=0.5", "-o", "f.npy"], ["-o f.npy is the input features"]),
    (["cluster", "f.npy", "--set", "threshold=0.5", "--train-features", "train.bin", "--train-labels", "train.meta",
      "-o", "train.meta"], ["is the input --train-labels"]),
    (["cluster", "f.npy", "--set", "threshold=0.5", "-o", "."], ["is a folder"]),
    (["cluster", "f.npy", "--set", "threshold=0.5", "-o", "gt.meta/x.meta"], ["which is a file"]),
    (["cluster", "f.npy", "--method", "infomap", "-o", "x.meta"], ["min_sim is 'auto'", "--set min_sim=N", "--train-features"]),
    (["cluster", "f.npy", "--set", "threshold", "-o", "x.meta"], ["not KEY=VALUE"]),
    (["cluster", "f.npy", "--set", "threshold=[", "-o", "x.meta"], ["not a number"]),
    (["cluster", "f.npy", "--set", "threshold=2", "-o", "x.meta"], ["threshold is 2", "<= 1"]),
    (["cluster", "f.npy", "--train-features", "train.bin", "-o", "x.meta"], ["come together"]),
    (["cluster", "f.bin", "--set", "threshold=0.5", "-o", "x.meta"], ["f.bin", "--dim"]),
    (["cluster", "gt.meta", "--dim", "3", "--set", "threshold=0.5", "-o", "x.meta"], ["gt.meta"]),
    (["cluster", "f.npy", "--method", "gcnv", "-o", "x.meta"], ["Snakemake workflow"]),
    (["cluster", "f.npy", "--method", "nope", "-o", "x.meta"], ["no method 'nope'"]),
    (["cluster", "f.npy", "--method", "infomap", "--set", "min_sim=0.5", "--set", "train.lr=0.1", "--train-features",
      "train.bin", "--train-labels", "train.meta", "-o", "x.meta"], ["methods.infomap has no setting train"]),
    (["evaluate", "gt.meta", "train.meta"], ["15 labels", "6"]),
    (["evaluate", "gt.meta", "pred.meta", "--json-out", "pred.meta"], ["is the input pred"]),
    (["methods", "nope"], ["no method 'nope'"]),
])
def test_bad_input_is_one_sentence_without_a_traceback_and_writes_nothing(files, args, words):
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    proc = ltc(files, *args, rc=1)
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    after = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    assert after == before, "nothing written, no input changed"


def test_set_values_are_yaml_and_dotted_keys_nest():
    assert parse_sets(["min_sim=0.6", "threshold=auto", "model_from=null", "directed=false", "train.lr=0.01",
                       "train.seed=3", "k=5", "k=7"]) == {
        "min_sim": 0.6, "threshold": "auto", "model_from": None, "directed": False,
        "train": {"lr": 0.01, "seed": 3}, "k": 7}
    for bad in ("=1", "a.=1", "k"):
        with pytest.raises(DataError):
            parse_sets([bad])
    with pytest.raises(DataError):
        parse_sets(["train=1", "train.lr=2"])


def test_the_readmes_ltc_commands_parse():
    readme = (REPO / "README.md").read_text()
    commands = [line for kind, block in re.findall(r"^```(\w*)\n(.*?)^```", readme, re.S | re.M) if not kind
                for line in block.splitlines() if line.startswith("ltc ")]
    assert len(commands) >= 4, commands
    for line in commands:
        build_parser().parse_args(shlex.split(line, comments=True)[1:])


def test_python_dash_m_ltc_runs_the_same_command(files):
    proc = subprocess.run([sys.executable, "-m", "ltc", "methods", "knn_cc"], cwd=files, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.startswith("knn_cc: ")
