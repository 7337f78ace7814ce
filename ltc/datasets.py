"""Where a dataset's files are, from the workflow config.

A dataset has up to two splits, ``train`` and ``test``. A split either has a ``name`` (its files
are in the learn-to-cluster layout under the dataset's ``data_dir``: ``features/NAME.bin``,
``labels/NAME.meta``, ``knns/NAME/``) or explicit ``features`` / ``labels`` / ``knns`` paths.
Settings under ``knn`` and ``methods`` may be overridden per dataset.

A dataset may also list ``test_scales``: test splits of growing size (the MS-Celeb-1M benchmarks' 1, 3,
5, 7 and 9 parts). Each becomes a dataset of its own, ``<dataset>/<scale>``, that has the base's
settings and files, no train split, and learns from the base's train split (:func:`with_test_scales`).
"""
from __future__ import annotations

from dataclasses import dataclass

SPLITS = ("train", "test")
#: kNN file tag per search method (``<tag>_k_<k>.npz``); ``faiss`` for exact search, as in the original
#: project's ``faiss_k_80.npz``. Here rather than in :mod:`ltc.knn` so the workflow reads it without torch.
KNN_FILE_TAG = {"flat": "faiss", "ivf": "ivf", "hnsw": "hnsw"}


def merged(base: dict, override: dict) -> dict:
    """Recursive dict merge: values of ``override`` win, nested dicts are merged key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class Split:
    name: str
    features: str
    labels: str | None
    knn_dir: str


def data_dir(config: dict, dataset: str) -> str:
    return config["datasets"][dataset].get("data_dir", config["data_dir"])


def split(config: dict, dataset: str, which: str) -> Split:
    """Resolved paths of one split of a dataset."""
    spec = config["datasets"][dataset][which]
    root = data_dir(config, dataset)
    name = spec.get("name", f"{dataset}_{which}")
    if "labels" in spec:
        labels = spec["labels"]
    else:
        labels = f"{root}/labels/{name}.meta" if "name" in spec else None
    return Split(
        name=name,
        features=spec.get("features", f"{root}/features/{name}.bin"),
        labels=labels,
        knn_dir=spec.get("knns", f"{root}/knns/{name}"),
    )


def settings(config: dict, dataset: str, section: str) -> dict:
    """Global ``config[section]`` with the dataset's own overrides merged in."""
    return merged(config[section], config["datasets"][dataset].get(section, {}))


def with_test_scales(datasets: dict) -> dict:
    """``datasets`` plus one dataset ``<ds>/<scale>`` per entry of each dataset's ``test_scales``.

    A scale dataset has the base's ``dim``, ``data_dir``, ``knn``, ``methods`` and ``compare``, the scale's
    split as its test split, and no train split: ``scale_of`` names the base, whose train split gives
    its trained models and ``auto`` thresholds. It makes no files of its own (the base's archives do).
    """
    out = dict(datasets)
    for base, spec in datasets.items():
        shared = {key: value for key, value in spec.items() if key in ("dim", "data_dir", "knn", "methods", "compare")}
        for scale, test in spec.get("test_scales", {}).items():
            out[f"{base}/{scale}"] = {**shared, "test": test, "scale_of": base}
    return out


def base_of(config: dict, dataset: str) -> str:
    """The dataset a test scale belongs to (its train split teaches the scale, its archives make its files);
    any other dataset is its own base."""
    return config["datasets"][dataset].get("scale_of", dataset)


def produced_files(config: dict, dataset: str) -> dict[str, str]:
    """Files of a dataset that the workflow makes itself: path -> what makes it (synthetic data or an archive)."""
    dataset = base_of(config, dataset)
    spec = config["datasets"][dataset]
    root = data_dir(config, dataset)
    out = {}
    if "synthetic" in spec:
        for which in SPLITS:
            s = split(config, dataset, which)
            out[s.features] = out[s.labels] = "synthetic"
    for archive, entry in spec.get("archives", {}).items():
        for rel in entry["provides"]:
            out[f"{root}/{rel}"] = f"archive {archive}"
    return out
