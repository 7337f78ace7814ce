"""GCN-V's two training recipes (methods.gcnv.train.recipe): ``minibatch`` (Adam, early stopping) and
``original`` (the original project's full-graph SGD: lr 0.1, momentum 0.9, lr x0.1 at 50/80/90% of
the steps). Expected values are worked by hand."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ltc import DataError, gcn
from ltc.config import config_problem
from ltc.io import save_knn, write_features, write_labels
from ltc.methods.gcnv import TrainParams, learning_rate

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def lrs_of_schedule(steps, lr=0.1):
    """The lr each of ``steps`` steps runs at, read from the optimizer's param_groups."""
    model = gcn.GCNV(2, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-5)
    scheduler = gcn.original_schedule(optimizer, steps)
    seen = []
    for _ in range(steps):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return seen


def test_original_lr_schedule_by_hand():
    # 20 steps: milestones int(0.5 * 20) = 10, int(0.8 * 20) = 16, int(0.9 * 20) = 18 (0-based steps)
    expected = [0.1] * 10 + [0.01] * 6 + [0.001] * 2 + [0.0001] * 2
    np.testing.assert_allclose(lrs_of_schedule(20), expected, rtol=1e-9)
    # 4000 steps: milestones 2000, 3200, 3600; the steps just before and at each
    lrs = lrs_of_schedule(4000)
    for step, lr in [(0, 0.1), (1999, 0.1), (2000, 0.01), (3199, 0.01), (3200, 1e-3), (3599, 1e-3), (3600, 1e-4),
                     (3999, 1e-4)]:
        assert lrs[step] == pytest.approx(lr, rel=1e-9), step


def separable(n=40, dim=4, seed=0):
    """z = [X, AX] of two tight groups on orthogonal axes, targets 1 and 0: a linear unit separates them."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.eye(dim)[:2], n // 2, axis=0) + 0.05 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    z = np.concatenate([x, x], axis=1).astype(np.float32)  # each row's neighbours: its own group (A X ~ X)
    target = np.repeat([1.0, 0.0], n // 2).astype(np.float32)
    return z, target, np.repeat([0, 1], n // 2)


def test_original_recipe_trains_at_the_scheduled_lr_and_fits_a_separable_example():
    z, target, _ = separable()
    model, curve = gcn.train(z, target, recipe="original", steps=200, nhid=8, seed=0, device_name="cpu")
    # 200 steps: one curve row per step; milestones 100, 160, 180
    assert [row["step"] for row in curve] == list(range(1, 201))
    assert [row["lr"] for row in curve[98:102]] == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert curve[159]["lr"] == pytest.approx(0.01) and curve[160]["lr"] == pytest.approx(1e-3)
    assert curve[179]["lr"] == pytest.approx(1e-3) and curve[180]["lr"] == pytest.approx(1e-4)
    assert curve[-1]["train_mse"] < 0.1 * curve[0]["train_mse"]
    conf, _ = gcn.predict(model, z, device_name="cpu")
    np.testing.assert_allclose(conf, target, atol=0.15)  # 1 on the first group, 0 on the second


def test_minibatch_recipe_fits_the_same_example():
    z, target, groups = separable(n=60)
    groups = np.repeat(np.arange(6), 10)  # 6 identities, 3 per group: one is held out
    model, curve = gcn.train(z, target, groups, nhid=8, batch_size=8, max_epochs=40, patience=40, lr=0.01,
                             seed=0, device_name="cpu")
    assert curve[-1]["train_mse"] < 0.1 * curve[0]["train_mse"]
    conf, _ = gcn.predict(model, z, device_name="cpu")
    np.testing.assert_allclose(conf, target, atol=0.15)


@pytest.mark.parametrize("recipe", ["original", "minibatch"])
def test_same_seed_same_weights_and_checkpoint_bytes(tmp_path, recipe):
    z, target, _ = separable()
    groups = np.repeat(np.arange(4), 10)
    settings = dict(recipe=recipe, steps=30, max_epochs=3, batch_size=8, nhid=8, device_name="cpu")
    (a, _), (b, _), (c, _) = (gcn.train(z, target, groups, seed=s, **settings) for s in (5, 5, 6))
    for name, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[name]), name
    assert not torch.equal(a.conv1.weight, c.conv1.weight), "another seed starts elsewhere"
    gcn.save_checkpoint(a, tmp_path / "a.pt", {"recipe": recipe})
    gcn.save_checkpoint(b, tmp_path / "b.pt", {"recipe": recipe})
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_lr_auto_is_the_recipes_own():
    assert TrainParams().recipe == "minibatch" and TrainParams().lr == "auto"
    assert TrainParams().learning_rate() == 0.001
    assert TrainParams(recipe="original").learning_rate() == 0.1
    assert TrainParams(recipe="original", lr=0.05).learning_rate() == 0.05
    assert learning_rate("minibatch", "0.002") == 0.002  # as the script's option gives it


@pytest.mark.parametrize("recipe, lr, words", [
    ("sgd", "auto", ["methods.gcnv.train.recipe is 'sgd'", "minibatch, original"]),
    ("original", "fast", ["methods.gcnv.train.lr is 'fast'", "positive number, or auto"]),
    ("original", -1.0, ["methods.gcnv.train.lr is -1.0"]),
])
def test_bad_recipe_or_lr_is_one_sentence(recipe, lr, words):
    with pytest.raises(DataError) as err:
        learning_rate(recipe, lr)
    message = str(err.value)
    assert message.count(". ") == 0 and "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("key, value, words", [
    ("recipe", "sgd", ["config methods.gcnv.train.recipe is 'sgd'", "'minibatch', 'original'"]),
    ("lr", "fast", ["config methods.gcnv.train.lr is 'fast'", "'auto' or a number > 0"]),
    ("steps", 0, ["config methods.gcnv.train.steps is 0", ">= 1"]),
    ("momentum", 1.0, ["config methods.gcnv.train.momentum is 1.0", "< 1"]),
])
def test_schema_refuses_a_bad_setting_in_one_sentence(key, value, words):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["methods"]["gcnv"]["train"][key] = value
    sentence, _ = config_problem(config, SCHEMA)
    assert "\n" not in sentence and sentence.count(". ") == 0, sentence
    for word in words:
        assert word in sentence, sentence
    config["methods"]["gcnv"]["train"].update(CONFIG["methods"]["gcnv"]["train"], recipe="original", lr=0.05)
    assert config_problem(config, SCHEMA) is None  # a good value passes


def test_diverging_full_graph_training_stops_with_a_sentence():
    z, target, _ = separable()
    with pytest.raises(DataError, match=r"GCN-V training diverged at step \d+ .*lower methods.gcnv.train.lr \(now 1e\+30\)"):
        gcn.train(z, target, recipe="original", lr=1e30, steps=20, nhid=8, device_name="cpu")


def run_train_script(tmp_path, *options):
    z, target, groups = separable(n=40, dim=8)
    feats = z[:, :8]
    sims = feats @ feats.T
    ids = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    write_features(tmp_path / "f.bin", feats)
    write_labels(tmp_path / "train.meta", groups)
    save_knn(tmp_path / "knn.npz", ids, np.maximum(1 - np.take_along_axis(sims, ids, axis=1), 0).astype(np.float32))
    return subprocess.run([sys.executable, str(REPO / "workflow/scripts/train_gcnv.py"), "--features", tmp_path / "f.bin",
                           "--dim", "8", "--labels", tmp_path / "train.meta", "--knn", tmp_path / "knn.npz",
                           "--nhid", "4", "--device", "cpu", "--out", tmp_path / "model.pt",
                           "--curve", tmp_path / "curve.tsv", *options], capture_output=True, text=True)


def test_train_script_runs_the_original_recipe(tmp_path):
    proc = run_train_script(tmp_path, "--recipe", "original", "--steps", "10", "--lr", "auto")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split("\t") for line in (tmp_path / "curve.tsv").read_text().splitlines()]
    assert rows[0] == ["step", "train_mse", "lr", "seconds"]
    # 10 steps: milestones 5, 8, 9
    assert [float(r[2]) for r in rows[1:]] == pytest.approx([0.1] * 5 + [0.01] * 3 + [0.001, 0.0001])
    meta = torch.load(tmp_path / "model.pt", weights_only=True)["meta"]
    assert meta["recipe"] == "original" and meta["steps"] == 10 and meta["lr"] == 0.1


def test_train_script_refuses_a_bad_recipe_before_writing(tmp_path):
    proc = run_train_script(tmp_path, "--recipe", "sgd")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "methods.gcnv.train.recipe is 'sgd'" in errors[0]
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "curve.tsv").exists()


def test_the_rule_passes_every_train_setting(tmp_path):
    """The train_gcnv rule passes each methods.gcnv.train key as --key value: a dry run's command shows them."""
    from helpers import TINY_GCNV, snakemake, with_, workdir
    wd = workdir(tmp_path)
    config = with_(TINY_GCNV, methods__gcnv__train__recipe="original", methods__gcnv__train__steps=7)
    out = snakemake(wd, "-n", "-p", "results/demo/gcnv/model.pt", config=config).stdout
    command = " ".join(out.split())
    for option in ("--recipe original", "--lr auto", "--steps 7", "--momentum 0.9", "--weight-decay 1e-05"):
        assert option in command, option
