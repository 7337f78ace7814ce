"""CDP (single model) and the shared routine that splits components above a size at a rising
threshold (ltc.graph.split_at_rising_threshold), on graphs small enough to work out by hand."""
import json
import logging
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from ltc import DataError
from ltc.graph import split_at_rising_threshold
from ltc.methods import cdp, registry
from helpers import TINY, snakemake, with_, workdir

REPO = Path(__file__).resolve().parents[1]


def split(edges, n, threshold, max_size, step, max_iter=100):
    src, dst, w = (np.array(c) for c in zip(*edges))
    return split_at_rising_threshold(n, src, dst, w, threshold, max_size, step, max_iter).tolist()


# --- the routine -------------------------------------------------------------------------------

def test_split_five_into_parts_one_unsplittable_one_small(caplog):
    """Threshold 0.5, step 0.5: the rounds are at t = 0.75, 0.875, 0.9375, ...
    * 0-1 (0.9), 1-2 (0.9), 2-3 (0.6), 3-4 (0.8): 5 points > 3; at 0.75 the 0.6 edge goes:
      {0, 1, 2} (3 points: final) and {3, 4};
    * 5-6-7-8 at similarity 1 (copies): 4 points > 3, but t < 1 never cuts them: kept whole after
      max_iter rounds, with a warning;
    * 9-10 (0.55): 2 points, final in the first round; 10-11 (0.4) is below 0.5: 11 alone."""
    edges = [(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.6), (3, 4, 0.8),
             (5, 6, 1.0), (6, 7, 1.0), (7, 8, 1.0),
             (9, 10, 0.55), (10, 11, 0.4)]
    with caplog.at_level(logging.WARNING):
        labels = split(edges, 12, 0.5, 3, 0.5)
    assert labels == [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 4]
    assert "4 points in parts above 3 points remain after 100 rounds" in caplog.text


def test_split_rises_toward_one_not_by_adding_the_step():
    """t0 = 0.6, step 0.5: the next round is at 0.6 + 0.4 * 0.5 = 0.8 (adding the step would be 1.1
    and cut everything): 0-1 (0.85) stays, 1-2 (0.7) goes."""
    assert split([(0, 1, 0.85), (1, 2, 0.7)], 3, 0.6, 2, 0.5) == [0, 0, 1]


def test_split_needs_several_rounds_and_ends_in_single_points():
    """A star 0-1, 0-2 (0.8), 0-3, 0-4 (0.9), max_size 2, from 0.5 by step 0.5: at 0.75 nothing is
    cut (5 points); at 0.875 {0, 3, 4} (3 > 2), {1}, {2}; at 0.9375 every edge is cut."""
    star = [(0, 1, 0.8), (0, 2, 0.8), (0, 3, 0.9), (0, 4, 0.9)]
    assert split(star, 5, 0.5, 2, 0.5) == [0, 1, 2, 3, 4]
    # max_iter 2: the rounds at 0.75 and 0.875 only; {0, 3, 4} stays as it is (the original keeps it too)
    assert split(star, 5, 0.5, 2, 0.5, max_iter=2) == [0, 1, 2, 0, 0]
    # max_iter 0: the first round only
    assert split(star, 5, 0.5, 2, 0.5, max_iter=0) == [0, 0, 0, 0, 0]
    # max_size 1: everything alone; a large max_size: one component
    assert split(star, 5, 0.5, 1, 0.5) == [0, 1, 2, 3, 4]
    assert split(star, 5, 0.5, 5, 0.5) == [0, 0, 0, 0, 0]


def test_split_starts_from_the_smallest_weight_by_default():
    """0-1 (0.3), 1-2 (0.6), max_size 2, step 0.5. Threshold None: t0 = 0.3 (the smallest weight),
    next 0.65 cuts 1-2 too: all alone. From 0: next 0.5 keeps 1-2."""
    edges = [(0, 1, 0.3), (1, 2, 0.6)]
    assert split(edges, 3, None, 2, 0.5) == [0, 1, 2]
    assert split(edges, 3, 0.0, 2, 0.5) == [0, 1, 1]


def test_split_edge_cases():
    # a pair given twice is linked while either edge is; self-loops change nothing; no edges: all alone
    assert split([(0, 1, 0.4), (1, 0, 0.9), (2, 2, 1.0)], 3, 0.5, 5, 0.5) == [0, 0, 1]
    assert split_at_rising_threshold(3, [], [], [], None, 2, 0.5).tolist() == [0, 1, 2]
    assert split_at_rising_threshold(3, [], [], [], None, 2, 0.5).dtype == np.int64
    assert split([(0, 1, np.nan), (1, 2, 0.9)], 3, None, 5, 0.5) == [0, 1, 1]  # NaN: no edge, not the start
    for bad in ({"max_size": 0}, {"step": 0.0}, {"step": 1.5}, {"max_iter": -1}):
        args = {"max_size": 2, "step": 0.5, "max_iter": 10, **bad}
        with pytest.raises(ValueError):
            split_at_rising_threshold(2, [0], [1], [0.9], None, **args)


# --- CDP on a hand-made kNN graph --------------------------------------------------------------

def knn():
    """6 points, K = 3 (each point first); similarities are binary fractions (exact in float32).
    Pairs above 0.625: 0-1 (0.875), 1-2 (0.75), 2-3 (0.6875), 3-4 (0.9375); 0-2 is exactly 0.625
    (not above: CDP keeps similarity > th); 5's links (0.5, 0.375) are below."""
    ids = np.array([[0, 1, 2], [1, 0, 2], [2, 1, 3], [3, 4, 2], [4, 3, -1], [5, 4, 3]], dtype=np.int64)
    sims = np.array([[1, .875, .625], [1, .875, .75], [1, .75, .6875], [1, .9375, .6875], [1, .9375, 0],
                     [1, .5, .375]], dtype=np.float32)
    return ids, (1 - sims).astype(np.float32)


def test_cdp_by_hand():
    ids, dists = knn()
    assert cdp.cluster(ids, dists, th=0.625).tolist() == [0, 0, 0, 0, 0, 1]
    # max_size 3, step 0.5: from t0 = 0.6875 (the smallest pair) to 0.84375: 0-1 and 3-4 stay
    assert cdp.cluster(ids, dists, th=0.625, max_size=3, step=0.5).tolist() == [0, 0, 1, 2, 2, 3]
    # k 2: each point's first neighbour only: 0-1, 2-1, 3-4 (5-4 at 0.5 is below)
    assert cdp.cluster(ids, dists, th=0.625, k=2).tolist() == [0, 0, 0, 1, 1, 2]
    # above every pair: all alone; through the registry with config settings: the same
    assert cdp.cluster(ids, dists, th=0.95).tolist() == list(range(6))
    assert registry.run("cdp", {"th": 0.625, "max_size": 3, "step": 0.5}, ids=ids, dists=dists).tolist() == \
        [0, 0, 1, 2, 2, 3]


def test_cdp_pairs_once_with_the_first_links_similarity():
    """An asymmetric kNN (approximate search): 0 -> 1 at 0.75, 1 -> 0 at 0.875. The pair is kept at
    th 0.8 (through 1 -> 0, 0.875) and, at 0.5, has the similarity of row 0's link (0.75), the first."""
    ids = np.array([[0, 1], [1, 0], [2, 0]], dtype=np.int64)
    dists = (1 - np.array([[1, .75], [1, .875], [1, .25]], dtype=np.float32)).astype(np.float32)
    at, candidates = cdp.pairs(ids, dists, k=2)
    assert [a.tolist() for a in at(0.8)] == [[0], [1], [0.875]]
    assert [a.tolist() for a in at(0.5)] == [[0], [1], [0.75]]
    assert candidates.tolist() == [0.75, 0.25]  # pairs (0, 1), (0, 2)


def test_cdp_sweep_cut_equals_run():
    ids, dists = knn()
    cluster_at, candidates = cdp.sweeper(ids, dists, max_size=3, step=0.5)
    # every pair once, sorted by pair: (0,1) (0,2) (1,2) (2,3) (3,4) (3,5) (4,5)
    assert candidates.tolist() == [.875, .625, .75, .6875, .9375, .375, .5]
    for t in (0.0, 0.5, 0.625, 0.7, 0.9, 0.95):
        assert np.array_equal(cluster_at(t), cdp.cluster(ids, dists, th=t, max_size=3, step=0.5)), t
    assert cluster_at(0.7).tolist() == [0, 0, 0, 1, 1, 2]  # 0-1, 1-2, 3-4: parts of 3 and 2 points


def test_cdp_bad_settings_are_one_sentence_and_refused_by_the_schema():
    ids, dists = knn()
    with pytest.raises(DataError) as err:
        cdp.cluster(ids, dists, th=0.6, step=0.0)
    assert str(err.value) == "methods.cdp.step is 0.0: set it to above 0 and at most 1."
    with pytest.raises(DataError, match="methods.cdp.max_size is 0"):
        cdp.cluster(ids, dists, th=0.6, max_size=0)
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    node = {**schema["$defs"]["methods"]["properties"]["cdp"], "$defs": schema["$defs"]}
    jsonschema.validate({"k": 2, "th": "auto", "max_size": 200, "step": 1, "max_iter": 0}, node)
    for bad in ({"step": 0}, {"step": -0.1}, {"step": 1.5}, {"max_size": 0}, {"k": 0}, {"th": 1.5},
                {"max_iter": -1}, {"max_sz": 600}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, node)


def test_config_carries_the_originals_values():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    assert config["methods"]["cdp"] == {"k": 15, "th": "auto", "max_size": 600, "step": 0.05, "max_iter": 100}
    assert config["datasets"]["ms1m"]["methods"]["cdp"] == {"th": 0.7}
    assert config["datasets"]["ms1m_bench"]["methods"]["cdp"] == {"th": 0.7}  # the same anchor
    assert config["datasets"]["deepfashion"]["methods"]["cdp"] == {"k": 2, "th": 0.5, "max_size": 200}
    assert "cdp" in config["compare"]


def test_cdp_scores_the_tiny_demo(tmp_path):
    wd = workdir(tmp_path)
    snakemake(wd, "results/demo/cdp/fscore.txt", config=with_(TINY, methods__cdp__max_size=20))
    metrics = json.loads((wd / "results/demo/cdp/metrics.json").read_text())
    assert metrics["method"] == "cdp" and 0 < metrics["pairwise"]["fscore"] <= 1
    chosen = json.loads((wd / "results/demo/cdp/threshold.json").read_text())
    assert chosen["name"] == "th" and -1 <= chosen["th"] <= 1
    assert (wd / "results/demo/logs/cluster_cdp.log").exists()
