"""`method: auto`: the headline method is the compared one of best pairwise F on the labelled train split."""
import json

import pytest

from helpers import TINY, snakemake, with_, workdir
from ltc import DataError, method_choice
from ltc.io import write_json


def sweep_file(path, name, value, fscore):
    write_json(path, {name: value, "name": name, "fscore": fscore, "split": "train.meta", "sweep": []})
    return path


def test_choose_takes_the_best_train_f_and_the_first_of_equals(tmp_path):
    files = {"knn_cc": sweep_file(tmp_path / "a.json", "threshold", 0.7, 0.80),
             "infomap": sweep_file(tmp_path / "b.json", "min_sim", 0.5, 0.91),
             "aro": sweep_file(tmp_path / "c.json", "th_sim", 0.1, 0.91)}
    left_out = {"kmeans": "it has no threshold chosen on train"}
    assert method_choice.choose(files, left_out, tmp_path / "m.json") == "infomap"
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["method"] == "infomap" and saved["left_out"] == left_out
    assert [(r["method"], r["train_pairwise_fscore"], r["threshold"], r["value"]) for r in saved["candidates"]] == [
        ("knn_cc", 0.80, "threshold", 0.7), ("infomap", 0.91, "min_sim", 0.5), ("aro", 0.91, "th_sim", 0.1)]
    assert method_choice.chosen(tmp_path / "m.json") == "infomap"


def test_choose_refuses_no_candidate_and_a_file_without_a_score(tmp_path):
    with pytest.raises(DataError, match="method: auto has no candidate"):
        method_choice.choose({}, {}, tmp_path / "m.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="bad.json of knn_cc holds no train F-score"):
        method_choice.choose({"knn_cc": tmp_path / "bad.json"}, {}, tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_workflow_headline_is_the_chosen_method(tmp_path):
    wd = workdir(tmp_path)
    config = with_(TINY, method="auto", compare=["knn_cc", "chinese_whispers", "kmeans", "aro"],
                   methods__knn_cc__threshold="auto", methods__aro__th_sim=0.0)
    snakemake(wd, "results/demo/fscore.txt", config=config)
    saved = json.loads((wd / "results/demo/method.json").read_text())
    train_f = {m: json.loads((wd / f"results/demo/{m}/threshold.json").read_text())["fscore"]
               for m in ("knn_cc", "chinese_whispers")}
    best = max(train_f, key=train_f.get)
    assert saved["method"] == best and {r["method"]: r["train_pairwise_fscore"] for r in saved["candidates"]} == train_f
    assert set(saved["left_out"]) == {"kmeans", "aro"} and "fixed (methods.aro.th_sim = 0.0)" in saved["left_out"]["aro"]
    assert (wd / "results/demo/fscore.txt").read_text() == (wd / f"results/demo/{best}/fscore.txt").read_text()
    assert not (wd / "results/demo/kmeans/pred_labels.meta").exists(), "a method left out is not run"


def test_workflow_auto_without_a_candidate_stops_in_one_sentence(tmp_path):
    wd = workdir(tmp_path)
    proc = snakemake(wd, "-n", "results/demo/fscore.txt", config=with_(TINY, method="auto", compare=["kmeans"]),
                     check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    assert "method: auto has no candidate on dataset 'demo'" in proc.stderr + proc.stdout
