"""Where a dataset's files are, from the workflow config.

A dataset has up to two splits, ``train`` and ``test``. A split either has a ``name`` (its files
are in the learn-to-cluster layout under the dataset's ``data_dir``: ``features/NAME.bin``,
``labels/NAME.meta``, ``knns/NAME/``) or explicit ``features`` / ``labels`` / ``knns`` paths. Either may
name ``ids``: a text file of one id (or image path) per feature row, for ``clusters.tsv`` (:mod:`ltc.clusters`).
Settings under ``knn`` and ``methods`` may be overridden per dataset. Files a split names by explicit
paths are the user's: no generator or archive ever writes them (:func:`generated_splits`,
:func:`produced_files`, :func:`check_file_owners`).

A dataset may also list ``test_scales``: test splits of growing size (the MS-Celeb-1M benchmarks' 1, 3,
5, 7 and 9 parts). Each becomes a dataset of its own, ``<dataset>/<scale>``, that has the base's
settings and files, no train split, and learns from the base's train split (:func:`with_test_scales`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ltc import DataError

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
    ids: str | None = None  #: one id or image path per feature row (optional; never generated)


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
        ids=spec.get("ids"),
    )


def settings(config: dict, dataset: str, section: str) -> dict:
    """Global ``config[section]`` with the dataset's own overrides merged in."""
    return merged(config[section], config["datasets"][dataset].get(section, {}))


def with_test_scales(datasets: dict) -> dict:
    """``datasets`` plus one dataset ``<ds>/<scale>`` per entry of each dataset's ``test_scales``.

    A scale dataset has the base's ``dim``, ``data_dir``, ``knn``, ``methods``, ``compare``, ``evaluation`` and ``reattach``, the scale's
    split as its test split, and no train split: ``scale_of`` names the base, whose train split gives
    its trained models and ``auto`` thresholds. It makes no files of its own (the base's archives do).
    """
    out = dict(datasets)
    for base, spec in datasets.items():
        shared = {key: value for key, value in spec.items() if key in ("dim", "data_dir", "knn", "methods", "compare", "evaluation", "reattach")}
        for scale, test in spec.get("test_scales", {}).items():
            out[f"{base}/{scale}"] = {**shared, "test": test, "scale_of": base}
    return out


def base_of(config: dict, dataset: str) -> str:
    """The dataset a test scale belongs to (its train split teaches the scale, its archives make its files);
    any other dataset is its own base."""
    return config["datasets"][dataset].get("scale_of", dataset)


def is_user_split(spec: dict) -> bool:
    """Whether a split's files are the user's own: it names a ``features`` path or a ``labels`` path
    (``labels: null``, an unlabelled split, names none). No generator or archive ever writes such a split."""
    return "features" in spec or spec.get("labels") is not None


def layout_files(config: dict, dataset: str, which: str) -> tuple[str, str]:
    """(features, labels) of a split in the learn-to-cluster layout under the dataset's data_dir, by its name:
    ``<data_dir>/features/NAME.bin``, ``<data_dir>/labels/NAME.meta``, whatever explicit paths it sets."""
    name = config["datasets"][dataset][which].get("name", f"{dataset}_{which}")
    root = data_dir(config, dataset)
    return f"{root}/features/{name}.bin", f"{root}/labels/{name}.meta"


def generated_splits(config: dict, dataset: str) -> dict[str, tuple[str, str]]:
    """The splits that a synthetic dataset's generator writes: split -> (features, labels) in the layout.

    Only the splits that name no file of the user's (:func:`is_user_split`): a split given by explicit
    paths is the user's data and is never generated; the generator then makes the other split alone.
    Empty for a dataset that is not synthetic.
    """
    spec = config["datasets"][dataset]
    if "synthetic" not in spec:
        return {}
    return {which: layout_files(config, dataset, which)
            for which in SPLITS if which in spec and not is_user_split(spec[which])}


def produced_files(config: dict, dataset: str) -> dict[str, str]:
    """Files of a dataset that the workflow makes itself: path -> what makes it (synthetic data or an archive).

    The generator's are the layout files of the splits it generates (:func:`generated_splits`), never a
    path the user names; an archive's are ``<data_dir>/<provides>`` (:func:`check_file_owners` makes
    sure that none is a path the user names).
    """
    dataset = base_of(config, dataset)
    spec = config["datasets"][dataset]
    root = data_dir(config, dataset)
    out = {}
    for files in generated_splits(config, dataset).values():
        for path in files:
            out[path] = "synthetic"
    for archive, entry in spec.get("archives", {}).items():
        for rel in entry["provides"]:
            out[f"{root}/{rel}"] = f"archive {archive}"
    return out


def _same_file_key(path: str) -> str:
    """A path normalised for comparing where files are (relative to the working directory, links resolved)."""
    return os.path.realpath(os.path.expanduser(path))


def _split_key(config: dict, dataset: str, which: str) -> str:
    """Where a split is set in the config: datasets.<ds>.<split>, or datasets.<base>.test_scales.<scale>."""
    spec = config["datasets"][dataset]
    if "scale_of" in spec:
        return f"datasets.{spec['scale_of']}.test_scales.{dataset.partition('/')[2]}"
    return f"datasets.{dataset}.{which}"


def check_file_owners(config: dict) -> None:
    """Make sure no rule could overwrite a file the user names (call it before the rules are made).

    Raises :class:`DataError` (one sentence) when an archive's ``provides`` entry is not a relative path
    inside the data folder, or when a file that a generator or an archive writes (:func:`produced_files`,
    any dataset's) is a ``features`` or ``labels`` path that a split names explicitly, or lies in a
    split's explicit ``knns`` folder; or when a synthetic dataset's split names only one of its ``features``
    and ``labels`` (the other would be a generated file, which is not made for a split of the user's).
    ``config["datasets"]`` is taken as it is (with test scales or not).
    """
    datasets = config["datasets"]
    made = {}
    for ds, spec in datasets.items():
        for archive, entry in spec.get("archives", {}).items():
            for rel in entry["provides"]:
                parts = rel.replace("\\", "/").split("/")
                if not rel or os.path.isabs(rel) or rel.startswith("~") or ".." in parts:
                    raise DataError(
                        f"datasets.{ds}.archives.{archive}.provides lists {rel!r}, which is not a path inside the "
                        f"data folder: list the archive's files relative to data_dir, like features/NAME.bin.")
        if "scale_of" in spec:
            continue  # a scale makes nothing of its own
        for path, maker in produced_files(config, ds).items():
            made.setdefault(_same_file_key(path), (path, maker, ds))
    for ds, spec in datasets.items():
        for which in SPLITS:
            if which not in spec:
                continue
            split_spec = spec[which]
            if "synthetic" in spec and is_user_split(split_spec) and ("features" not in split_spec or "labels" not in split_spec):
                given, missing = ("features", "labels") if "features" in split_spec else ("labels", "features")
                raise DataError(
                    f"{_split_key(config, ds, which)} names a {given} file but no {missing}, so its {missing} would be "
                    f"the generated {dict(zip(('features', 'labels'), layout_files(config, ds, which)))[missing]}, "
                    f"which is not made for a split of yours: set {_split_key(config, ds, which)}.{missing} to your "
                    f"file{' (or to null for an unlabelled split)' if missing == 'labels' else ''}.")
            named = [(kind, split_spec[kind]) for kind in ("features", "labels") if split_spec.get(kind) is not None]
            for kind, path in named:
                hit = made.get(_same_file_key(path))
                if hit is not None:
                    made_path, maker, owner = hit
                    raise DataError(
                        f"{_split_key(config, ds, which)}.{kind} is {path}, a file that the {maker} of dataset "
                        f"'{owner}' writes ({made_path}): a file you name yourself is never overwritten, so move "
                        f"yours elsewhere and point {kind} at it, or drop the {kind} path to use the "
                        f"{'generated' if maker == 'synthetic' else 'downloaded'} file.")
            if split_spec.get("knns"):
                folder = _same_file_key(split_spec["knns"]).rstrip(os.sep) + os.sep
                for key, (made_path, maker, owner) in made.items():
                    if key.startswith(folder):
                        raise DataError(
                            f"{_split_key(config, ds, which)}.knns is {split_spec['knns']}, a folder in which the "
                            f"{maker} of dataset '{owner}' writes {made_path}: point knns at a folder of yours "
                            f"elsewhere, or drop the knns path to use the downloaded kNN files.")
