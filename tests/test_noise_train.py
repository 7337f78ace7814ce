"""`evaluation.noise_label` on the train side: the labels a threshold is chosen on (and a model learns
from) treat noise items as identities of their own, as the evaluation scores them."""
import argparse
import json
import re
import subprocess
import sys

import numpy as np

from helpers import REPO
from ltc import cli
from ltc.io import save_knn, write_labels


def test_truth_makes_each_noise_item_its_own_identity(tmp_path):
    write_labels(tmp_path / "t.meta", np.array([-1, 5, -1, 5, 7]))
    args = argparse.Namespace(labels=str(tmp_path / "t.meta"), noise_label=-1)
    assert cli.truth(args).tolist() == [2, 0, 3, 0, 1]
    assert cli.truth(argparse.Namespace(labels=str(tmp_path / "t.meta"), noise_label=None)).tolist() == [-1, 5, -1, 5, 7]


def choose(tmp_path, *noise):
    """knn_cc's threshold on six unit points: pairs (0, 1) and (2, 3) at cosine 0.99, the two unannotated
    points 4 and 5 at cosine 0.8 to each other, everything else at cosine 0."""
    sim = np.eye(6)
    for a, b, s in ((0, 1, 0.99), (2, 3, 0.99), (4, 5, 0.8)):
        sim[a, b] = sim[b, a] = s
    ids = np.argsort(-sim, axis=1, kind="stable")[:, :3]
    save_knn(tmp_path / "k.npz", ids, (1 - np.take_along_axis(sim, ids, axis=1)).astype(np.float32))
    write_labels(tmp_path / "train.meta", np.array([0, 0, 1, 1, -1, -1]))
    subprocess.run([sys.executable, str(REPO / "workflow/scripts/select_threshold_knn_cc.py"), "--knn", str(tmp_path / "k.npz"),
                    "--labels", str(tmp_path / "train.meta"), *noise, "--out", str(tmp_path / "t.json"),
                    "--plot", str(tmp_path / "t.png")], check=True, capture_output=True)
    return json.loads((tmp_path / "t.json").read_text())


def test_a_threshold_chosen_with_noise_items_apart(tmp_path):
    plain = choose(tmp_path)  # -1 is one identity: the best cut keeps 4 -- 5 linked
    assert plain["fscore"] == 1.0 and plain["threshold"] <= 0.8
    noisy = choose(tmp_path, "--noise-label", "-1")  # each its own: the best cut separates them
    assert noisy["fscore"] == 1.0 and 0.8 < noisy["threshold"] <= 0.99


def test_every_rule_that_learns_from_train_labels_gets_the_noise_label(tmp_path):
    from helpers import TINY, snakemake, with_, workdir

    wd = workdir(tmp_path)
    config = with_(TINY, evaluation={"noise_label": -1}, methods__knn_cc__threshold="auto")
    proc = snakemake(wd, "-n", "-p", "results/demo/knn_cc/pred_labels.meta", "results/demo/gcne/pred_labels.meta",
                     "results/demo/infomap/pred_labels.meta", config=config)
    commands = {m[1]: m[2] for m in re.finditer(r"workflow/scripts/(\w+)\.py (.*)", proc.stdout)}
    for script in ("select_threshold_knn_cc", "select_threshold_baseline", "select_threshold_links", "train_gcnv",
                   "train_gcne"):
        assert "--noise-label -1" in commands[script], script
