"""Evaluation option: a noise label (e.g. -1) scored as one singleton per item.

The 6-item example, worked by hand (items 0..5):

    gt   = [0, 0, -1, -1, 1, 1]     -1: faces nobody annotated
    pred = [0, 0,  0,  1, 1, 2]     clusters {0,1,2} {3,4} {5}

-1 as a cluster ({2,3} one identity): true pairs (0,1) (2,3) (4,5), predicted pairs (0,1) (0,2) (1,2)
(3,4), one true positive (0,1): pairwise P 1/4, R 1/3, F 2/7. BCubed per item (overlap / predicted
size, overlap / true size): P (2/3, 2/3, 1/3, 1/2, 1/2, 1) -> 11/18, R (1, 1, 1/2, 1/2, 1/2, 1/2) -> 2/3,
F = 2 (11/18)(2/3) / (11/18 + 2/3) = 44/69.

-1 as noise (items 2 and 3 singletons): true pairs (0,1) (4,5): pairwise P 1/4, R 1/2, F 1/3. BCubed
P unchanged 11/18 (the predicted clusters are the same), R (1, 1, 1, 1, 1/2, 1/2) -> 5/6,
F = 2 (11/18)(5/6) / (11/18 + 5/6) = 55/78.

Noise in both, pred2 = [0, 0, 0, -1, -1, 2] (items 3 and 4 the clusterer's noise): predicted clusters
{0,1,2} {3} {4} {5}, predicted pairs (0,1) (0,2) (1,2), true pairs (0,1) (4,5), TP 1: P 1/3, R 1/2,
F 2/5. BCubed P (2/3, 2/3, 1/3, 1, 1, 1) -> 7/9, R (1, 1, 1, 1, 1/2, 1/2) -> 5/6, F 70/87; 4 clusters.
With noise in gt only, pred2's -1 is one cluster {3,4}: the same as pred (-1 there is cluster 1).
Noise in pred only: gt's -1 is one identity {2,3}, so true pairs (0,1) (2,3) (4,5): P 1/3, R 1/3.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from helpers import REPO, TINY, custom, snakemake, with_, workdir

from ltc.metrics import evaluate, noise_as_singletons

GT = np.array([0, 0, -1, -1, 1, 1])
PRED = np.array([0, 0, 0, 1, 1, 2])
PRED2 = np.array([0, 0, 0, -1, -1, 2])


def scores(m):
    return [m["pairwise"][k] for k in ("precision", "recall", "fscore")] + [
        m["bcubed"][k] for k in ("precision", "recall", "fscore")]


def test_noise_label_none_scores_it_as_one_cluster():
    assert scores(evaluate(GT, PRED)) == pytest.approx([1 / 4, 1 / 3, 2 / 7, 11 / 18, 2 / 3, 44 / 69])
    assert scores(evaluate(GT, PRED, noise_label=None, noise_in="both")) == pytest.approx(scores(evaluate(GT, PRED)))


def test_noise_in_gt_makes_singletons():
    m = evaluate(GT, PRED, noise_label=-1)
    assert scores(m) == pytest.approx([1 / 4, 1 / 2, 1 / 3, 11 / 18, 5 / 6, 55 / 78])
    assert m["n_clusters"] == 3


def test_noise_in_both():
    m = evaluate(GT, PRED2, noise_label=-1, noise_in="both")
    assert scores(m) == pytest.approx([1 / 3, 1 / 2, 2 / 5, 7 / 9, 5 / 6, 70 / 87])
    assert m["n_clusters"] == 4


def test_noise_in_gt_leaves_a_predicted_cluster_of_that_label_alone():
    assert scores(evaluate(GT, PRED2, noise_label=-1, noise_in="gt")) == pytest.approx(
        [1 / 4, 1 / 2, 1 / 3, 11 / 18, 5 / 6, 55 / 78])


def test_noise_in_pred_only():
    m = evaluate(GT, PRED2, noise_label=-1, noise_in="pred")
    assert [m["pairwise"]["precision"], m["pairwise"]["recall"]] == pytest.approx([1 / 3, 1 / 3])


def test_noise_as_singletons_by_hand():
    assert noise_as_singletons(np.array([5, -1, 5, -1, 2]), -1).tolist() == [1, 2, 1, 3, 0]
    assert noise_as_singletons(np.array([7, 7]), -1).tolist() == [7, 7]          # no noise: unchanged
    assert noise_as_singletons(np.array([-1, -1]), -1).tolist() == [0, 1]        # all noise
    assert noise_as_singletons(np.array([3, 0, 0]), 0).tolist() == [0, 1, 2]     # any label can be the noise
    big = np.array([2 ** 62, -1, 2 ** 62], dtype=np.int64)                        # no overflow near int64's end
    assert noise_as_singletons(big, -1).tolist() == [0, 1, 0]


def test_bad_noise_in_is_refused():
    with pytest.raises(ValueError, match="noise_in"):
        evaluate(GT, PRED, noise_label=-1, noise_in="truth")


def run_evaluate(tmp_path, *args):
    (tmp_path / "gt.meta").write_text("\n".join(map(str, GT)) + "\n")
    (tmp_path / "pred.meta").write_text("\n".join(map(str, PRED)) + "\n")
    return subprocess.run([sys.executable, str(REPO / "workflow/scripts/evaluate.py"), str(tmp_path / "gt.meta"),
                           str(tmp_path / "pred.meta"), *args], capture_output=True, text=True)


def test_evaluate_script_noise_label(tmp_path):
    proc = run_evaluate(tmp_path, "--noise-label", "-1", "--json-out", str(tmp_path / "m.json"),
                        "--txt-out", str(tmp_path / "f.txt"))
    assert proc.returncode == 0, proc.stderr
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["pairwise"]["recall"] == pytest.approx(1 / 2)
    assert m["noise"] == {"label": -1, "in": "gt", "gt_items": 2, "pred_items": 0}
    assert "noise    label -1" in (tmp_path / "f.txt").read_text()


def test_evaluate_script_warns_about_an_unused_noise_label(tmp_path):
    proc = run_evaluate(tmp_path, "--noise-label", "-7")
    assert proc.returncode == 0
    assert "No item of" in proc.stderr and "-7" in proc.stderr
    assert json.loads(proc.stdout)["pairwise"]["recall"] == pytest.approx(1 / 3)


def six_items(tmp_path):
    """The module's example as a user's dataset: features that knn_cc (cosine >= 0.5) cuts into PRED."""
    rng = np.random.default_rng(0)
    axes = np.eye(8, dtype=np.float32)[[0, 0, 0, 1, 1, 2]]
    return custom(tmp_path, axes + 0.01 * rng.standard_normal(axes.shape), GT)


def test_workflow_noise_label_per_dataset(tmp_path):
    """datasets.<ds>.evaluation.noise_label reaches evaluate and gives the hand-worked scores; the global
    default (null) scores -1 as a cluster; changing the setting reruns the scoring."""
    wd = workdir(tmp_path)
    config = six_items(tmp_path)
    snakemake(wd, "results/mine/knn_cc/metrics.json", config=config)
    assert (wd / "results/mine/knn_cc/pred_labels.meta").read_text().split() == ["0", "0", "0", "1", "1", "2"]
    m = json.loads((wd / "results/mine/knn_cc/metrics.json").read_text())
    assert "noise" not in m and scores(m) == pytest.approx([1 / 4, 1 / 3, 2 / 7, 11 / 18, 2 / 3, 44 / 69])
    assert yaml.safe_load((wd / "config.yaml").read_text())["evaluation"] == {"noise_label": None, "noise_in": "gt"}
    config = with_(config, datasets__mine__evaluation={"noise_label": -1})
    snakemake(wd, "results/mine/knn_cc/metrics.json", config=config)
    m = json.loads((wd / "results/mine/knn_cc/metrics.json").read_text())
    assert m["noise"] == {"label": -1, "in": "gt", "gt_items": 2, "pred_items": 0}
    assert scores(m) == pytest.approx([1 / 4, 1 / 2, 1 / 3, 11 / 18, 5 / 6, 55 / 78])


def test_workflow_refuses_a_bad_noise_setting(tmp_path):
    wd = workdir(tmp_path)
    proc = snakemake(wd, "-n", "results/demo/knn_cc/metrics.json", check=False,
                     config=with_(TINY, evaluation={"noise_label": "minus one"}))
    assert proc.returncode != 0
    assert "evaluation.noise_label" in proc.stdout + proc.stderr
