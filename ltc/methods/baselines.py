"""The baselines of the original learn-to-cluster project (plus Infomap) behind one interface, for
the workflow's generic rules (``workflow/rules/method_baselines.smk``) and scripts.

Each method reads its settings (the config's ``methods.<name>`` mapping, with ``n_clusters`` and
its threshold already resolved to numbers) and the inputs it needs: the kNN graph (``ids``,
``dists``: N x K, dists = 1 - cosine, :func:`ltc.io.load_knn`) and/or the N x D float32 features.
:func:`run` returns one int64 label per point. A method with a threshold also has a *sweeper*, the
clustering as a function of that threshold with the expensive part done once, for choosing it on
a labelled split (:func:`ltc.thresholds.choose`). Importing this module imports no method: it stays
cheap for Snakemake.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Baseline:
    modules: tuple[str, ...]        # ltc/methods/*.py files the method runs (rule inputs)
    knn: bool                       # reads the kNN graph
    features: bool                  # reads the features
    threshold: str | None = None    # settings key that may be 'auto' (chosen on the train split)
    n_clusters: bool = False        # has an `n_clusters` that may be 'auto' (the true count)
    threads: int = 1                # threads it can use


BASELINES: dict[str, Baseline] = {
    "kmeans": Baseline(("kmeans.py",), knn=False, features=True, n_clusters=True, threads=8),
    "mini_batch_kmeans": Baseline(("mini_batch_kmeans.py",), knn=False, features=True, n_clusters=True, threads=8),
    "fast_hac": Baseline(("fast_hac.py",), knn=True, features=True, threshold="distance"),
    "dbscan": Baseline(("dbscan.py", "knn_dbscan.py"), knn=False, features=True, threshold="eps",
                       threads=8),
    "knn_dbscan": Baseline(("knn_dbscan.py",), knn=True, features=False, threshold="eps"),
    "hdbscan": Baseline(("hdbscan.py",), knn=True, features=False),
    "meanshift": Baseline(("meanshift.py",), knn=False, features=True, threads=8),
    "spectral": Baseline(("spectral.py", "kmeans.py"), knn=True, features=False, n_clusters=True, threads=8),
    "aro": Baseline(("aro.py",), knn=True, features=False, threshold="th_sim"),
    "chinese_whispers": Baseline(("chinese_whispers.py",), knn=True, features=False, threshold="th_sim"),
    "infomap": Baseline(("infomap.py",), knn=True, features=False, threshold="min_sim"),
}


def needs(name: str, settings: dict, sweep: bool = False) -> tuple[bool, bool]:
    """(kNN graph, features): the inputs ``name`` reads with these settings, to cluster or (``sweep``)
    to choose its threshold on a labelled split."""
    if name == "fast_hac":
        average = settings.get("linkage", "single") == "average"
        return not average, average
    if name == "dbscan" and sweep:
        return True, False  # eps is chosen with DBSCAN on the train split's kNN graph
    spec = BASELINES[name]
    return spec.knn, spec.features


def _module(name: str):
    return importlib.import_module(f"ltc.methods.{name}")


def run(name: str, s: dict, *, ids=None, dists=None, feats=None, threads: int | None = None):
    """Labels (int64, N) of method ``name`` with settings ``s`` (thresholds and n_clusters resolved)."""
    spec = BASELINES[name]
    if spec.threshold and name != "dbscan":  # clustering at a threshold is the sweeper's cut at it
        return sweeper(name, s, ids=ids, dists=dists, feats=feats)[0](float(s[spec.threshold]))
    m = _module(name)
    if name == "kmeans":
        return m.cluster(feats, int(s["n_clusters"]), niter=s.get("niter", 20), seed=s.get("seed", 0), threads=threads)
    if name == "mini_batch_kmeans":
        return m.cluster(feats, int(s["n_clusters"]), batch_size=s.get("batch_size", 100), seed=s.get("seed", 0),
                         max_iter=s.get("max_iter", 100), max_points=s.get("max_points"))
    if name == "dbscan":
        return m.cluster(feats, float(s["eps"]), s.get("min_samples", 10), max_points=s.get("max_points"),
                         threads=threads)
    if name == "hdbscan":
        return m.cluster(ids, dists, s.get("min_cluster_size", 10), s.get("min_samples"), max_points=s.get("max_points"))
    if name == "meanshift":
        return m.cluster(feats, s.get("bandwidth", 0.5), s.get("max_iter", 300), max_points=s.get("max_points"))
    if name == "spectral":
        return m.cluster(ids, dists, int(s["n_clusters"]), s.get("n_components", 100), s.get("seed", 0),
                         max_points=s.get("max_points"), threads=threads)
    raise ValueError(f"unknown baseline {name!r}: choose one of {', '.join(BASELINES)}")


def _infomap_options(s: dict) -> dict:
    return {"directed": s.get("directed", True), "seed": s.get("seed", 1), "trials": s.get("trials", 1)}


def sweeper(name: str, s: dict, *, ids=None, dists=None, feats=None):
    """(threshold -> labels, candidate values) of method ``name``'s threshold (``BASELINES[name].threshold``)."""
    m = _module(name)
    if name == "fast_hac":
        return m.sweeper(linkage=s.get("linkage", "single"), ids=ids, dists=dists, feats=feats,
                         max_points=s.get("max_points"))
    if name == "dbscan":
        return m.sweeper(ids, dists, s.get("min_samples", 10))
    if name == "knn_dbscan":
        return m.sweeper(ids, dists, s.get("min_samples", 1), s.get("th_sim", -1.0))
    if name == "aro":
        return m.sweeper(ids)
    if name == "chinese_whispers":
        return m.sweeper(ids, dists, s.get("iters", 20), s.get("seed", 0))
    if name == "infomap":
        return m.sweeper(ids, dists, s.get("k", 50), **_infomap_options(s))
    raise ValueError(f"baseline {name!r} has no threshold to choose")
