"""Metrics against the hand-worked example and an independent brute-force implementation."""
import itertools
import math
from collections import Counter

import numpy as np
import pytest

from ltc.metrics import evaluate

GT = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
PRED = np.array([5, 5, 7, 7, 7, 9, 9, 9, 1, 1])


def test_worked_example():
    m = evaluate(GT, PRED)
    assert m["pairwise"]["precision"] == pytest.approx(0.625)
    assert m["pairwise"]["recall"] == pytest.approx(0.5)
    assert m["pairwise"]["fscore"] == pytest.approx(0.5556, abs=5e-5)
    assert m["bcubed"]["precision"] == pytest.approx(0.7667, abs=5e-5)
    assert m["bcubed"]["recall"] == pytest.approx(0.7167, abs=5e-5)
    assert m["bcubed"]["fscore"] == pytest.approx(0.7408, abs=5e-5)
    assert m["nmi"] == pytest.approx(0.7183, abs=5e-5)
    assert m["n_clusters"] == 4


def brute_force(gt, pred):
    """Definitions computed literally: loops over pairs and items, entropies from probabilities."""
    n = len(gt)
    same_gt = same_pred = both = 0
    for i, j in itertools.combinations(range(n), 2):
        g, p = gt[i] == gt[j], pred[i] == pred[j]
        same_gt += g
        same_pred += p
        both += g and p
    pp = both / same_pred if same_pred else 0.0
    pr = both / same_gt if same_gt else 0.0
    bp = br = 0.0
    for i in range(n):
        in_pred = [j for j in range(n) if pred[j] == pred[i]]
        in_gt = [j for j in range(n) if gt[j] == gt[i]]
        correct = sum(gt[j] == gt[i] for j in in_pred)
        bp += correct / len(in_pred) / n
        br += correct / len(in_gt) / n
    cg, cp, cj = Counter(gt), Counter(pred), Counter(zip(gt, pred))
    mi = sum(c / n * math.log((c / n) / (cg[g] / n * cp[p] / n)) for (g, p), c in cj.items())
    hg = -sum(c / n * math.log(c / n) for c in cg.values())
    hp = -sum(c / n * math.log(c / n) for c in cp.values())
    nmi = 1.0 if len(cg) == len(cp) == 1 else (mi / ((hg + hp) / 2) if hg + hp else 0.0)
    return pp, pr, bp, br, nmi


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 120))
    # arbitrary, non-contiguous, possibly negative label ids
    gt = rng.choice(rng.integers(-10**9, 10**9, size=rng.integers(1, 15)), n)
    pred = rng.choice(rng.integers(-50, 10**12, size=rng.integers(1, 30)), n)
    m = evaluate(gt, pred)
    pp, pr, bp, br, nmi = brute_force(list(gt), list(pred))
    assert m["pairwise"]["precision"] == pytest.approx(pp)
    assert m["pairwise"]["recall"] == pytest.approx(pr)
    assert m["bcubed"]["precision"] == pytest.approx(bp)
    assert m["bcubed"]["recall"] == pytest.approx(br)
    assert m["nmi"] == pytest.approx(nmi, abs=1e-12)


def test_perfect_and_degenerate_predictions():
    labels = np.array([3, 3, 8, 8, 8, 1])
    perfect = evaluate(labels, labels * 7 + 1)
    assert perfect["pairwise"]["fscore"] == pytest.approx(1.0)
    assert perfect["bcubed"]["fscore"] == pytest.approx(1.0)
    assert perfect["nmi"] == pytest.approx(1.0)
    singletons = evaluate(labels, np.arange(6))
    assert singletons["pairwise"] == {"precision": 0.0, "recall": 0.0, "fscore": 0.0}
    assert singletons["bcubed"]["precision"] == pytest.approx(1.0)
    one = evaluate(np.zeros(4, int), np.zeros(4, int))
    assert one["nmi"] == 1.0 and one["pairwise"]["fscore"] == 1.0


def test_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        evaluate(GT, PRED[:-1])
