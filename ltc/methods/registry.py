"""The contract every clustering method follows, and the registry of the methods.

Each method module ``ltc/methods/<name>.py`` declares, once:

* ``Params``: a frozen dataclass, one field per setting of the config's ``methods.<name>``, its
  default there and nowhere else (the config's global ``methods:`` entry repeats these defaults and
  a test binds the two, and the JSON schema's keys); every field documented with :func:`setting`;
* ``METHOD``: a :class:`Method` saying what the method reads (the kNN graph, the features), which
  setting is its threshold (the one value that ``auto`` chooses on a labelled train split), how it
  clusters and how it sweeps its threshold, and how the workflow runs it (:attr:`Method.rules`).

:func:`get` loads a method's module by name (only that one: a rule's code inputs are its script's
imports plus that module, so editing another method reruns nothing) and :data:`NAMES` lists every
method, in the order of the config. Importing this module imports no method.

Conventions (those of :mod:`ltc.methods.common`): a kNN graph is ``(ids, dists)``, N x K, ``ids``
int64 (-1 missing), ``dists`` float32 cosine distances ``1 - similarity``; features N x D float32;
labels int64, numbered 0, 1, ... in order of each cluster's first point.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ltc import DataError
from ltc.settings import setting  # noqa: F401  (the methods' Params fields)

# Every method, in the config's order. The learned ones (GCN-V, GCN-E) run as stages of their own
# rules; the others cluster in one step.
NAMES = ("knn_cc", "gcnv", "gcne", "gcnd", "lgcn", "learned_infomap", "kmeans", "mini_batch_kmeans", "fast_hac", "dbscan", "knn_dbscan", "hdbscan",
         "meanshift", "spectral", "aro", "chinese_whispers", "infomap", "cdp")


def example(setting_path: str):
    """The ``example`` of a setting named ``methods.<name>.<setting>``, or None (unknown or none)."""
    parts = setting_path.split(".")
    if len(parts) != 3 or parts[0] != "methods" or parts[1] not in NAMES:
        return None
    fields = {f.name: f for f in dataclasses.fields(get(parts[1]).params)}
    return fields[parts[2]].metadata.get("example") if parts[2] in fields else None


@dataclass(frozen=True)
class Data:
    """What a method is given to cluster: the kNN graph and/or the features (None where not read)."""
    ids: np.ndarray | None = None
    dists: np.ndarray | None = None
    feats: np.ndarray | None = None
    threads: int | None = None


Sweeper = Callable[[float], np.ndarray]


@dataclass(frozen=True)
class Method:
    """One clustering method's contract (see the module docstring).

    ``reads``: the inputs it clusters from, a subset of {"knn", "features"}, or a function of its
    params (and whether it sweeps) for a method whose inputs depend on a setting. ``threshold``:
    the name of its threshold setting, a function of its params if that depends on another setting,
    or None. ``cluster(params, data)`` and ``sweeper(params, data) -> (threshold -> labels,
    candidate values)``; a method with a threshold and no ``cluster`` clusters by its sweeper's cut
    at the threshold. ``n_clusters``: has an ``n_clusters`` that may be ``auto`` (the test split's
    true identity count). ``threads``: the threads its clustering can use. ``rules``: how the
    workflow runs it: ``"baseline"`` (the generic rules of ``method_baselines.smk``), ``"links"``
    (its own rules make links, ``link_clustering.smk`` cuts them) or ``"own"`` (its own rule file).
    ``learned``: it trains a model on the labelled train split (``cluster``, if any, needs a trained one).
    """
    name: str
    params: type
    summary: str
    reads: frozenset | Callable = frozenset()
    threshold: str | Callable | None = None
    cluster: Callable | None = None
    sweeper: Callable | None = None
    n_clusters: bool = False
    threads: int = 1
    rules: str = "baseline"
    learned: bool = False

    def settings(self, values: Mapping | None = None):
        """``Params`` from a config mapping (nested mappings for nested settings); a key the method
        does not have is refused with one sentence (:class:`ltc.DataError`)."""
        return _build(self.params, dict(values or {}), f"methods.{self.name}")

    def threshold_name(self, params=None) -> str | None:
        """The setting that is this method's threshold with these params (defaults if None)."""
        params = self.settings() if params is None else params
        return self.threshold(params) if callable(self.threshold) else self.threshold

    def needs(self, params=None, sweep: bool = False) -> tuple[bool, bool]:
        """(kNN graph, features): what it reads with these params, to cluster or (``sweep``) to
        choose its threshold on a labelled split."""
        params = self.settings() if params is None else params
        reads = self.reads(params, sweep) if callable(self.reads) else self.reads
        return "knn" in reads, "features" in reads

    def run(self, params, data: Data) -> np.ndarray:
        """Labels (int64, N) with every setting resolved (no ``auto`` left)."""
        if self.cluster is not None:
            return self.cluster(params, data)
        if self.sweeper is None:
            raise ValueError(f"{self.name} is not clustered in one step: it runs as stages of its own rules")
        return self.sweeper(params, data)[0](float(getattr(params, self.threshold_name(params))))


def _build(params: type, values: dict, where: str):
    fields = {f.name: f for f in dataclasses.fields(params)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"{where} has no setting {', '.join(unknown)}: the settings are {', '.join(fields)}.")
    for name, value in values.items():
        default = fields[name].default_factory() if fields[name].default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
            values[name] = _build(type(default), dict(value), f"{where}.{name}")
    return params(**values)


def defaults(method: Method) -> dict:
    """The method's default settings as a config mapping (nested settings as nested mappings)."""
    return dataclasses.asdict(method.settings())


def get(name: str) -> Method:
    """The registered method ``name`` (imports its module). Raises ValueError for an unknown name."""
    if name not in NAMES:
        raise ValueError(f"unknown method {name!r}: choose one of {', '.join(NAMES)}")
    method = importlib.import_module(f"ltc.methods.{name}").METHOD
    assert method.name == name, f"ltc/methods/{name}.py registers {method.name!r}"
    return method


def methods(rules: str | None = None) -> dict[str, Method]:
    """Name -> method of every registered method, or of those the workflow runs with ``rules``
    (see :attr:`Method.rules`), in the config's order. Imports every method's module."""
    return {name: m for name, m in ((name, get(name)) for name in NAMES) if rules in (None, m.rules)}


def run(name: str, settings: Mapping, *, ids=None, dists=None, feats=None, threads: int | None = None) -> np.ndarray:
    """Labels (int64, N) of method ``name`` with config ``settings`` (threshold and ``n_clusters``
    resolved to numbers; missing settings take their defaults) on the given kNN graph / features."""
    method = get(name)
    return method.run(method.settings(settings), Data(ids, dists, feats, threads))


def sweeper(name: str, settings: Mapping, *, ids=None, dists=None, feats=None) -> tuple[Sweeper, np.ndarray]:
    """(threshold -> labels, candidate values) of method ``name``'s threshold with config ``settings``.
    Raises ValueError for a method without a threshold sweep."""
    method = get(name)
    if method.sweeper is None:
        raise ValueError(f"{name} has no threshold to sweep")
    return method.sweeper(method.settings(settings), Data(ids, dists, feats))
