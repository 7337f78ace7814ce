"""ltc.cluster / ltc.evaluate (ltc/api.py), the Python API without Snakemake, and the one owner of the
kNN defaults (ltc.knn.Settings), checked against hand-worked expectations."""
import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.sparse.csgraph import connected_components

import ltc
from ltc import DataError
from ltc.imports import package_files

REPO = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())

# Two obvious blobs, by hand: rows 0-2 near e1, rows 3-5 near e2. Cosines inside a blob are >= 0.98,
# across the blobs <= 0.21 (e.g. row 1 . row 4 = 0.19 / 0.9125 = 0.208), so any cut at 0.5 gives them.
BLOBS = np.array([[1, 0, 0], [0.95, 0.1, 0], [0.9, 0, 0.1],
                  [0, 1, 0], [0.1, 0.95, 0], [0, 0.9, 0.1]], dtype=np.float32)
TWO = [0, 0, 0, 1, 1, 1]


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and ". " not in message.replace("e.g. ", "")


def refused(call, *words) -> str:
    with pytest.raises(DataError) as err:
        call()
    message = str(err.value)
    assert one_sentence(message), message
    for word in words:
        assert word in message, (word, message)
    return message


# --- the kNN settings: one owner, bound to config.yaml and the schema --------------------------------

def keys_of(value) -> dict:
    if dataclasses.is_dataclass(value):
        return {f.name: keys_of(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: keys_of(v) for k, v in value.items()}
    return None


def schema_keys(node) -> dict:
    while "$ref" in node:
        node = SCHEMA["$defs"][node["$ref"].rpartition("/")[2]]
    if node.get("type") != "object":
        return None
    return {k: schema_keys(v) for k, v in node["properties"].items()}


def test_knn_settings_are_config_yaml_knn_and_the_schemas_keys():
    from ltc.knn import DEFAULTS

    assert dataclasses.asdict(DEFAULTS) == CONFIG["knn"], "config.yaml's knn repeats ltc.knn.Settings' defaults"
    assert keys_of(DEFAULTS) == schema_keys(SCHEMA["$defs"]["knn"])
    for f in dataclasses.fields(DEFAULTS):
        assert len(f.metadata.get("doc", "")) > 5, f.name


def test_knn_script_options_default_to_the_knn_settings():
    import argparse

    from ltc import knn

    p = argparse.ArgumentParser()
    knn.add_arguments(p)
    args = p.parse_args(["--features", "x.bin", "--dim", "4"])
    d = knn.DEFAULTS
    assert (args.batch_size, args.nlist, args.nprobe, args.hnsw_m, args.ef_construction, args.ef_search, args.seed) == \
        (d.batch_size, d.ivf.nlist, d.ivf.nprobe, d.hnsw.m, d.hnsw.ef_construction, d.hnsw.ef_search, d.seed)
    assert {**knn.index_options(args), "batch_size": None} == {**d.index_params(), "batch_size": None}


# --- import ltc stays light; the workflow's rule inputs do not grow -----------------------------------

def test_import_ltc_is_light_and_exports_the_api():
    code = ("import sys, ltc; heavy = [m for m in ('faiss', 'torch', 'ltc.api', 'ltc.knn') if m in sys.modules]; "
            "print(heavy, callable(ltc.cluster), callable(ltc.evaluate), 'ltc.api' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] True True True"
    with pytest.raises(AttributeError):
        ltc.no_such_thing  # noqa: B018


def test_rule_inputs_do_not_include_the_api():
    """Every rule lists ltc/__init__.py's imports as inputs: the lazy export keeps ltc/api.py (and the
    modules it uses) out, so editing the API reruns no rule."""
    files = package_files(str(REPO / "workflow/scripts/evaluate.py"), str(REPO))
    names = {Path(f).relative_to(REPO).as_posix() if Path(f).is_absolute() else f for f in files}
    assert "ltc/__init__.py" in names
    assert not {"ltc/api.py", "ltc/knn.py", "ltc/console.py"} & names, names


# --- clustering -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, settings", [
    ("knn_cc", {"threshold": 0.5}),
    ("infomap", {"min_sim": 0.5}),
    ("chinese_whispers", {"th_sim": 0.5}),
    ("cdp", {"th": 0.5}),
    ("fast_hac", {"distance": 1.0}),  # Euclidean on unit rows: <= 0.2 inside a blob, >= 1.26 across
    ("kmeans", {"n_clusters": 2}),
])
def test_two_obvious_blobs_give_two_clusters(method, settings):
    labels = ltc.cluster(BLOBS, method, **settings)
    assert labels.dtype == np.int64 and labels.tolist() == TWO


def test_settings_may_come_as_a_mapping_too():
    """A method setting named like one of cluster's own arguments (gcnd's ``train``) needs the mapping."""
    assert ltc.cluster(BLOBS, "knn_cc", settings={"threshold": 0.5}).tolist() == TWO
    assert ltc.cluster(BLOBS, "knn_cc", settings={"threshold": 0.99}, threshold=0.5).tolist() == TWO  # keywords win
    refused(lambda: ltc.cluster(BLOBS, "infomap", settings={"min_sim": 0.5, "train": {"lr": 1}}),
            "methods.infomap has no setting train")


def test_the_knn_k_and_index_are_settings():
    assert ltc.cluster(BLOBS, "knn_cc", knn=2, threshold=0.5).tolist() == TWO  # each row: itself + 1 neighbour
    assert ltc.cluster(BLOBS, "knn_cc", knn={"k": 3, "method": "hnsw"}, threshold=0.5).tolist() == TWO
    # k = 1: only the point itself, so every point is alone, whatever the threshold
    assert ltc.cluster(BLOBS, "knn_cc", knn=1, threshold=0.5).tolist() == [0, 1, 2, 3, 4, 5]
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", knn={"kk": 3}, threshold=0.5), "knn has no setting kk")
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", knn={"method": "annoy"}, threshold=0.5), "method", "'annoy'")
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", knn=0, threshold=0.5), "k", ">= 1")
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", knn="many", threshold=0.5), "knn is 'many'")


def four_identities(per=5, seed=0):
    """Train split of the same kind: ``per`` rows near each of e1..e4 (D = 4), noise 0.2 (looser than BLOBS)."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.eye(4), per, axis=0) + 0.2 * rng.standard_normal((4 * per, 4))
    return x.astype(np.float32), np.repeat(np.arange(4), per)


def test_an_auto_threshold_is_chosen_on_the_train_split(tmp_path):
    train_x, train_y = four_identities()
    test_x = np.hstack([BLOBS, np.zeros((6, 1), np.float32)])
    labels = ltc.cluster(test_x, "knn_cc", train=(train_x, train_y), sweep_dir=tmp_path / "sweep")
    assert labels.tolist() == TWO
    chosen = json.loads((tmp_path / "sweep/threshold.json").read_text())
    unit = train_x / np.linalg.norm(train_x, axis=1, keepdims=True)
    sims = unit @ unit.T
    same = train_y[:, None] == train_y[None, :]
    # a cut scores F = 1 on train iff it is above every cross-identity cosine and each identity's faces
    # stay connected by links at or above it
    t = chosen["threshold"]
    assert sims[~same].max() < t and chosen["fscore"] == 1.0
    # and BLOBS splits into its two blobs at any cut above 0.208 (across) up to 0.9939 (row 2's best link)
    assert 0.208 < t <= 0.9939
    for who in range(4):
        block = sims[np.ix_(train_y == who, train_y == who)] >= t
        assert connected_components(block, directed=False)[0] == 1, who
    assert (tmp_path / "sweep/threshold_sweep.png").stat().st_size > 0
    # a numeric threshold ignores train; labels may also be a .meta file
    (tmp_path / "train.meta").write_text("\n".join(map(str, train_y)) + "\n")
    assert ltc.cluster(test_x, "infomap", train=(train_x, tmp_path / "train.meta")).tolist() == TWO


def test_auto_without_a_train_split_is_one_sentence_naming_both_fixes():
    message = refused(lambda: ltc.cluster(BLOBS, "infomap"), "min_sim", "'auto'", "min_sim=0.58", "train=")
    assert "--train-features" in message


@pytest.mark.parametrize("train, words", [
    ((BLOBS, [0, 0, 0, 0, 0, 0]), ["give all 6 faces one identity"]),
    ((BLOBS, [0, 1, 2, 3, 4, 5]), ["an identity of its own"]),
    ((BLOBS, [0, 0, 1]), ["3 labels", "6 rows"]),
    ((BLOBS, np.array([0.0, 0, 0, 1, 1, 1])), ["float64", "integer"]),
    ((BLOBS[:, :2], TWO), ["2 columns", "3"]),
    (BLOBS, ["pair"]),
])
def test_a_bad_train_split_is_one_sentence(train, words):
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", train=train), *words)


def test_settings_are_checked_as_the_config_schema_checks_them():
    refused(lambda: ltc.cluster(BLOBS, "infomap", min_sim=-0.5), "infomap", "min_sim", ">= 0")
    refused(lambda: ltc.cluster(BLOBS, "knn_cc", threshold="high"), "threshold", "'high'", "'auto' or a number")
    refused(lambda: ltc.cluster(BLOBS, "cdp", th=0.5, step=0.0), "step")
    refused(lambda: ltc.cluster(BLOBS, "infomap", min_sim=0.5, kk=3), "methods.infomap has no setting kk")
    assert ltc.cluster(BLOBS, "infomap", min_sim=np.float32(0.5), k=np.int64(3)).tolist() == TWO  # numpy scalars


def test_methods_the_api_cannot_run_are_refused_in_one_sentence():
    for name in ("gcnv", "gcne"):
        refused(lambda: ltc.cluster(BLOBS, name), name, "Snakemake workflow")
    refused(lambda: ltc.cluster(BLOBS, "kmeans"), "n_clusters", "n_clusters=")
    refused(lambda: ltc.cluster(BLOBS, "no_such", threshold=0.5), "no method 'no_such'", "ltc methods")


def test_meanshift_refuses_more_points_than_its_limit_before_clustering():
    refused(lambda: ltc.cluster(BLOBS, "meanshift", max_points=5), "meanshift cannot cluster 6 points")


@pytest.mark.parametrize("bad, words", [
    (BLOBS[0], ["shape (3,)", "N x D"]),
    (np.zeros((0, 3), np.float32), ["shape (0, 3)"]),
    (np.ones((4, 3), dtype=np.int64), ["int64", "float32"]),
    (np.vstack([BLOBS[:2], [[np.nan, 0, 0]], BLOBS[3:]]), ["row 2", "NaN"]),
    (np.vstack([BLOBS[:4], [[0, 0, 0]], BLOBS[5:]]), ["row 4", "all zeros"]),
    (np.vstack([BLOBS, [[1e-9, 0, 0]]]), ["row norms", "orders of magnitude"]),
])
def test_bad_feature_arrays_are_one_sentence(bad, words):
    refused(lambda: ltc.cluster(bad, "knn_cc", threshold=0.5), *words)


def test_feature_files_npy_and_bin(tmp_path):
    np.save(tmp_path / "f.npy", BLOBS.astype(np.float64))  # any float dtype; the width from the header
    BLOBS.tofile(tmp_path / "f.bin")
    assert ltc.cluster(tmp_path / "f.npy", "knn_cc", threshold=0.5).tolist() == TWO
    assert ltc.cluster(str(tmp_path / "f.bin"), "knn_cc", dim=3, threshold=0.5).tolist() == TWO
    refused(lambda: ltc.cluster(tmp_path / "f.bin", "knn_cc", threshold=0.5), "f.bin", "dim")
    refused(lambda: ltc.cluster(tmp_path / "f.bin", "knn_cc", dim=4, threshold=0.5), "f.bin", "multiple of dim*4")
    refused(lambda: ltc.cluster(tmp_path / "nope.npy", "knn_cc", threshold=0.5), "nope.npy", "does not exist")
    (tmp_path / "text.npy").write_text("1 2 3\n")
    refused(lambda: ltc.cluster(tmp_path / "text.npy", "knn_cc", threshold=0.5), "text.npy", ".npy header")


# --- evaluation -------------------------------------------------------------------------------------

def test_evaluate_six_items_by_hand(tmp_path):
    """gt 000111, pred 001111: contingency n = [[2, 1], [0, 3]], a = (3, 3), b = (2, 4), N = 6.
    Pairwise: tp = 4 + 1 + 9 - 6 = 8 ordered pairs; precision 8 / (4 + 16 - 6) = 4/7, recall 8 / (9 + 9 - 6)
    = 2/3, F = 8/13. BCubed: precision (4/2 + 1/4 + 9/4) / 6 = 3/4, recall (4/3 + 1/3 + 9/3) / 6 = 7/9,
    F = 42/55. NMI: I = 1/3 ln(12/6) + 1/6 ln(6/12) + 1/2 ln(18/12) = ln2 / 6 + ln1.5 / 2,
    H(gt) = ln 2, H(pred) = ln 3 - 2/3 ln 2."""
    gt, pred = [0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]
    mi = math.log(2) / 6 + math.log(1.5) / 2
    nmi = mi / ((math.log(2) + math.log(3) - 2 / 3 * math.log(2)) / 2)
    expected = {"pairwise": (4 / 7, 2 / 3, 8 / 13), "bcubed": (3 / 4, 7 / 9, 42 / 55)}
    (tmp_path / "gt.meta").write_text("0\n0\n0\n1\n1\n1\n")
    for got in (ltc.evaluate(gt, pred), ltc.evaluate(tmp_path / "gt.meta", np.array(pred))):
        for name, (p, r, f) in expected.items():
            assert got[name] == pytest.approx({"precision": p, "recall": r, "fscore": f})
        assert got["nmi"] == pytest.approx(nmi) and got["n_clusters"] == 2


def test_evaluate_refuses_labellings_of_different_lengths(tmp_path):
    refused(lambda: ltc.evaluate([0, 0, 1], [0, 1]), "2 labels", "3")
    (tmp_path / "gt.meta").write_text("0\n0\n1\n")
    refused(lambda: ltc.evaluate(tmp_path / "gt.meta", [0, 1]), "gt.meta", "same items")
    refused(lambda: ltc.evaluate([0.5, 1.0], [0, 1]), "integer")


def test_evaluate_scores_a_noise_label_as_singletons_by_hand():
    """gt 0 0 -1 -1 1 1 with -1 noise: true groups {0,1} {2} {3} {4,5}; pred {0,1,2} {3,4,5}. n_ij = 2, 1, 1, 2:
    tp = 4 + 1 + 1 + 4 - 6 = 4; precision 4 / (9 + 9 - 6) = 1/3, recall 4 / (4 + 1 + 1 + 4 - 6) = 1, F = 1/2.
    With -1 an identity of its own, recall 4 / (3 * 4 - 6) = 2/3 and F = 4/9."""
    gt, pred = [0, 0, -1, -1, 1, 1], [0, 0, 0, 1, 1, 1]
    assert ltc.evaluate(gt, pred, noise_label=-1)["pairwise"] == pytest.approx(
        {"precision": 1 / 3, "recall": 1.0, "fscore": 0.5})
    assert ltc.evaluate(gt, pred)["pairwise"]["fscore"] == pytest.approx(4 / 9)
    refused(lambda: ltc.evaluate(gt, pred, noise_label=-1, noise_in="truth"), "noise_in", "gt, pred or both")
