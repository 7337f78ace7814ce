"""Clustering and scoring without Snakemake: :func:`cluster` and :func:`evaluate` (also ``ltc.cluster``,
``ltc.evaluate``, and the ``ltc`` console command, :mod:`ltc.console`).

They run the workflow's own code paths: the features get the checks of the ``validate`` rule, the
kNN graph is :func:`ltc.knn.knn_graph` (the ``knn`` rules' search) with the settings of config.yaml's
``knn`` (:data:`ltc.knn.DEFAULTS`), a method runs through :func:`ltc.methods.registry.run` with its
config settings (``methods.<name>``, checked against the config schema), and an ``auto`` threshold is
chosen on a labelled train split by :func:`ltc.thresholds.choose` over the method's sweeper, as the
``select_threshold_*`` rules do. The learned methods (``gcnv``, ``gcne``) run as stages of their
own rules and are refused here, in one sentence pointing to the workflow.

Units: features are N x D floats (any scale: rows are L2-normalised before any search, so
similarities are cosines in [-1, 1]); a kNN graph is (ids, dists), N x K, ``dists`` = 1 - cosine;
labels are int64, numbered 0, 1, ... in order of each cluster's first point.

Bad input raises :class:`ltc.DataError` with one sentence naming the argument or file, what is
wrong and how to fix it, before anything is computed from it. Importing this module is light:
faiss, torch and the methods are imported when :func:`cluster` runs.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from ltc import DataError

log = logging.getLogger(__name__)

#: the workflow's config schema (a checkout or an editable install has it beside the package)
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"

# --- inputs --------------------------------------------------------------------------------------

def _npy_width(path: Path) -> int | None:
    """The second dimension of a 2-D ``.npy`` file from its header, or None if it cannot be read."""
    from ltc.io import _read_npy_header

    try:
        with open(path, "rb") as f:
            shape = _read_npy_header(f)[0]
    except (OSError, ValueError, SyntaxError, TypeError):
        return None
    return int(shape[1]) if len(shape) == 2 else None


def load_features(features, dim: int | None = None, what: str = "features") -> np.ndarray:
    """The N x D float32 features of ``features``, checked as the workflow's ``validate`` rule checks a split.

    ``features``: an array (N x D, any float dtype; cast to float32) or the path of a ``.npy`` file
    (N x D floats; ``dim`` read from its header when not given) or of a raw float32 ``.bin`` (row-major,
    ``dim`` required). A file is memory-mapped, not read into memory. ``what`` names the argument in
    messages. Raises :class:`DataError`: not N x D floats, ``dim`` missing or wrong, NaN/Inf or
    all-zero rows, row norms that embeddings do not have.
    """
    from ltc.validate import norm_problem

    if isinstance(features, (str, os.PathLike)):
        from ltc.io import read_features
        from ltc.validate import validate_split

        path = Path(features)
        if not path.exists():
            raise DataError(f"Feature file {path} does not exist: check the path (a .npy file, or a raw float32 "
                            f".bin with its dim).")
        if dim is None and path.suffix == ".npy" and path.is_file():
            dim = _npy_width(path)
        if dim is None:
            if path.suffix == ".npy" or not path.is_file():
                dim = 1  # validate_split names what is wrong with the file itself
            else:
                raise DataError(f"Feature file {path} is raw float32 rows (not .npy), whose width the file does not "
                                f"say: give it as dim (ltc cluster --dim D), e.g. dim=256.")
        validate_split(path, int(dim))
        return read_features(path, int(dim))
    x = np.asarray(features)
    if x.ndim != 2 or not x.size:
        raise DataError(f"The {what} have shape {x.shape}, not N x D with N, D >= 1: pass one row per item "
                        f"(a 2-D float array, e.g. numpy.stack of the embeddings).")
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"The {what} are {x.dtype} values, not floats: pass the embeddings as a float32 array.")
    if dim is not None and x.shape[1] != dim:
        raise DataError(f"The {what} have {x.shape[1]} columns but dim is {dim}: leave dim out for an array, or "
                        f"pass the {dim}-wide embeddings.")
    x = np.ascontiguousarray(x, dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        sq = np.einsum("ij,ij->i", x.astype(np.float64), x.astype(np.float64))
    bad = ~np.isfinite(sq)
    if bad.any():
        raise DataError(f"The {what} row {int(np.argmax(bad))} contains NaN or Inf ({int(bad.sum())} such rows): "
                        f"re-extract those embeddings or drop the rows (and their labels).")
    zero = sq == 0
    if zero.any():
        raise DataError(f"The {what} row {int(np.argmax(zero))} is all zeros ({int(zero.sum())} such rows): an "
                        f"all-zero row has no direction for cosine similarity; drop those rows (and their labels).")
    problem = norm_problem(np.sqrt(sq), rows=True)
    if problem is not None:
        raise DataError(f"The {what} have {problem}, which embeddings do not have: re-export them or drop the "
                        f"broken rows (and their labels).")
    return x


def load_labels(labels, n: int | None = None, what: str = "labels") -> np.ndarray:
    """int64 labels (N,) from an array of integers or a ``.meta`` file (one integer per line);
    ``n``: the number of items they must label. Raises :class:`DataError` otherwise."""
    if isinstance(labels, (str, os.PathLike)):
        from ltc.io import read_labels

        out, name = read_labels(labels), f"Label file {labels} holds"
    else:
        out, name = np.asarray(labels), f"The {what} hold"
        if out.ndim != 1 or not np.issubdtype(out.dtype, np.integer):
            raise DataError(f"The {what} are a {out.dtype} array of shape {out.shape}, not one integer per item: pass "
                            f"a 1-D integer array (e.g. numpy.asarray(labels, dtype=numpy.int64)).")
        out = out.astype(np.int64)
    if n is not None and len(out) != n:
        raise DataError(f"{name} {len(out)} labels but the {what.replace('labels', 'features')} have {n} "
                        f"rows: give one label per feature row, in the same order.")
    return out


# --- settings ------------------------------------------------------------------------------------

def _plain(value):
    """``value`` with numpy scalars as Python numbers and mappings as dicts (what the schema checks)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@lru_cache(maxsize=1)
def _schema() -> dict | None:
    if not SCHEMA_FILE.is_file():
        log.debug("no config schema at %s: settings are checked by the methods only", SCHEMA_FILE)
        return None
    import yaml

    return yaml.safe_load(SCHEMA_FILE.read_text())


def check_settings(values: Mapping, section: str, where: str) -> None:
    """Refuse, with one sentence, ``values`` that the config schema's ``section`` (``"knn"`` or
    ``"methods.<name>"``) does not accept (a wrong type or a value out of range), naming ``where``
    (how the caller gives them, e.g. ``infomap's setting``)."""
    schema = _schema()
    if schema is None:
        return
    import jsonschema

    from ltc.config import allowed, most_relevant

    node = schema["$defs"]
    for i, key in enumerate(section.split(".")):
        node = node[key] if i == 0 else node["properties"][key]
    errors = list(jsonschema.Draft202012Validator({**node, "$defs": schema["$defs"]}).iter_errors(dict(values)))
    if not errors:
        return
    best = most_relevant(errors)
    key = ".".join(str(p) for p in best.absolute_path)
    raise DataError(f"{where} {key or section} is {best.instance!r}, but it must be {allowed(best.schema, schema)}: "
                    f"pass another value.")


def knn_settings(knn=None):
    """:class:`ltc.knn.Settings` from ``knn``: None (config.yaml's ``knn``, :data:`ltc.knn.DEFAULTS`),
    an int (``k``, the rest the defaults), a mapping of config ``knn`` keys (nested ``ivf``/``hnsw``
    mappings; the missing ones the defaults) or a Settings. Raises :class:`DataError` for an unknown
    key or a value the config schema refuses."""
    from ltc import knn as knn_module

    if knn is None or isinstance(knn, knn_module.Settings):
        return knn or knn_module.DEFAULTS
    values = {"k": knn} if isinstance(knn, (int, np.integer)) and not isinstance(knn, bool) else knn
    if not isinstance(values, Mapping):
        raise DataError(f"knn is {knn!r}: pass k as a number (knn=40), a mapping of config knn settings "
                        f"(knn={{'k': 40, 'method': 'hnsw'}}) or an ltc.knn.Settings.")
    values = _plain(values)

    def build(cls, given: dict, where: str):
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(given) - set(fields))
        if unknown:
            raise DataError(f"{where} has no setting {', '.join(unknown)}: the settings are {', '.join(fields)}.")
        out = {}
        for name, value in given.items():
            default = getattr(cls(), name)
            out[name] = build(type(default), value, f"{where}.{name}") if (
                dataclasses.is_dataclass(default) and isinstance(value, Mapping)) else value
        return cls(**out)

    settings = build(knn_module.Settings, values, "knn")
    check_settings(dataclasses.asdict(settings), "knn", "kNN setting")
    return settings


def _unknown_method(name) -> DataError:
    from ltc.methods import registry

    return DataError(f"There is no method {name!r}: choose one of {', '.join(registry.NAMES)} "
                     f"(ltc methods lists them with their settings).")


def method_settings(method: str, settings: Mapping):
    """(the registered method, its resolved ``Params``) for config settings ``settings`` of ``method``.
    Raises :class:`DataError` for an unknown method or setting, or a value the config schema refuses."""
    from ltc.methods import registry

    if method not in registry.NAMES:
        raise _unknown_method(method)
    spec = registry.get(method)
    values = _plain(settings)
    params = spec.settings(values)  # unknown keys: one sentence
    check_settings(values, f"methods.{method}", f"{method}'s setting")
    return spec, params


# --- clustering ----------------------------------------------------------------------------------

def _example(method: str, setting: str) -> str:
    from ltc.methods import registry

    value = registry.example(f"methods.{method}.{setting}")
    return f" (e.g. {setting}={value})" if value is not None else ""


def cluster(features, method: str = "knn_cc", *, dim: int | None = None, knn=None,
            train: tuple | None = None, train_dim: int | None = None, threads: int | None = None,
            sweep_dir: str | os.PathLike | None = None, settings: Mapping | None = None,
            **given) -> np.ndarray:
    """Cluster labels of ``features`` by ``method``, the workflow's code paths without Snakemake.

    ``features``: N x D float array (cast to float32), or the path of a ``.npy`` (N x D floats) or of a
    raw float32 ``.bin`` file (give ``dim``, the width D); checked as the ``validate`` rule checks a
    split. ``method``: a registered method (``ltc methods`` lists them; not the learned ``gcnv`` and
    ``gcne``, which run in the workflow). ``settings``: the method's config settings (config
    ``methods.<method>``; missing ones take their defaults; nested ones as mappings, e.g.
    ``train={"lr": 0.01}``), e.g. ``min_sim=0.6`` for infomap, ``threshold=0.7`` for knn_cc; a setting
    whose name is one of this function's own arguments (a method's ``train`` settings) goes in the
    mapping ``settings`` instead (``settings={"train": {...}}``; keywords win over it).
    ``knn``: the kNN graph's settings (config ``knn``): None for config.yaml's (exact search, k =
    :data:`ltc.knn.DEFAULTS` ``.k``), a number for k, or a mapping such as ``{"k": 40, "method":
    "hnsw"}`` (a method's own ``k``, e.g. infomap's, uses the first k of these neighbours).

    A threshold left ``auto`` (the default of every method's threshold) is chosen on a labelled
    train split: ``train=(train_features, train_labels)`` (features as ``features``, with width
    ``train_dim`` for a ``.bin``, default ``dim``; labels an int array or a ``.meta`` file), by the best
    pairwise F over a sweep (:func:`ltc.thresholds.choose`); ``sweep_dir`` keeps its
    ``threshold.json`` and ``threshold_sweep.png`` (else they are discarded). ``n_clusters``
    (kmeans, mini_batch_kmeans, spectral) must be a number here. ``threads``: threads for faiss,
    torch and the method (sets faiss's and torch's process-wide thread counts).

    Returns int64 labels, shape (N,), numbered 0, 1, ... in order of each cluster's first row.
    Raises :class:`DataError` (one sentence) for bad features, labels or settings, an ``auto``
    threshold without ``train``, a learned method, or a method that refuses the input's size.
    """
    from ltc.methods import registry

    if settings is not None and not isinstance(settings, Mapping):
        raise DataError(f"settings is {settings!r}: pass the method's settings as a mapping, e.g. "
                        f"settings={{'min_sim': 0.6}}, or as keywords.")
    settings = {**_plain(settings or {}), **given}
    if method in registry.NAMES and registry.get(method).learned:
        raise DataError(f"{method} is a learned method that trains a model and runs as stages of its own rules, "
                        f"which ltc.cluster does not run: use the Snakemake workflow (README, 'Your own data'), "
                        f"or a training-free method such as infomap or knn_cc here.")
    spec, params = method_settings(method, settings)
    threshold = spec.threshold_name(params)
    if spec.n_clusters and params.n_clusters == "auto":
        raise DataError(f"{method}'s n_clusters is 'auto', which in the workflow is the test split's true identity "
                        f"count, unknown here: pass n_clusters=<number of clusters> (ltc cluster --set n_clusters=N).")
    auto = threshold is not None and getattr(params, threshold) == "auto"
    if auto and train is None:
        raise DataError(f"{method}'s {threshold} is 'auto', which is chosen on a labelled train split, but none was "
                        f"given: pass {threshold}=<number>{_example(method, threshold)} (ltc cluster --set "
                        f"{threshold}=N) or train=(train_features, train_labels) (ltc cluster --train-features F "
                        f"--train-labels L).")
    if train is not None and not (isinstance(train, (tuple, list)) and len(train) == 2):
        raise DataError("train must be a pair (train_features, train_labels): the features of a labelled split "
                        "and one integer label per row.")
    knn_params = knn_settings(knn)
    feats = load_features(features, dim)
    train_set = None
    if auto:
        train_feats = load_features(train[0], train_dim if train_dim is not None else dim, "train features")
        if train_feats.shape[1] != feats.shape[1]:
            raise DataError(f"The train features have {train_feats.shape[1]} columns but the features have "
                            f"{feats.shape[1]}: both must be embeddings of one model (same width).")
        train_set = (train_feats, load_labels(train[1], len(train_feats), "train labels"), train[1])
    elif train is not None:
        log.info("%s: %s is given (%s), so the train split is not used", method, threshold, getattr(params, threshold))

    from ltc import cli, knn as knn_module

    knn_module.set_threads(threads)

    def graph(x, needed: bool):
        if not needed:
            return None, None
        return knn_module.knn_graph(x, knn_params.k, knn_params.method, threads=threads,
                                    batch_size=knn_params.batch_size, **knn_params.index_params())

    values = _plain(settings)
    if train_set is not None:
        from ltc import thresholds

        train_feats, train_labels, source = train_set
        source = source if isinstance(source, (str, os.PathLike)) else "passed as train="
        thresholds.check_labels(train_labels, source, threshold, f"methods.{method}.{threshold}")
        use_knn, use_feats = spec.needs(params, sweep=True)
        ids, dists = graph(train_feats, use_knn)
        cluster_at, candidates = registry.sweeper(method, values, ids=ids, dists=dists,
                                                  feats=train_feats if use_feats else None)
        with tempfile.TemporaryDirectory(prefix="ltc-sweep-") as tmp:
            where = Path(sweep_dir) if sweep_dir is not None else Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            values[threshold] = thresholds.choose(cluster_at, train_labels, candidates, threshold,
                                                  where / "threshold.json", where / "threshold_sweep.png", source,
                                                  setting=f"methods.{method}.{threshold}")
        del ids, dists, cluster_at
    use_knn, use_feats = spec.needs(spec.settings(values))
    ids, dists = graph(feats, use_knn)
    labels = registry.run(method, values, ids=ids, dists=dists, feats=feats if use_feats else None, threads=threads)
    log.info("%s: %d clusters over %d points", method, int(labels.max()) + 1 if len(labels) else 0, len(labels))
    if threshold:
        cli.warn_if_degenerate(labels, method, f"{method}'s {threshold} = {values[threshold]}",
                               f"{source}'s sweep" if auto else None)
    return labels


def evaluate(gt, pred, noise_label: int | None = None, noise_in: str = "gt") -> dict:
    """Scores of predicted labels against ground truth, the learn-to-cluster definitions (:mod:`ltc.metrics`).

    ``gt``, ``pred``: int arrays (N,) or ``.meta`` files, item i of one labelling the same item as item i
    of the other. Returns ``{"pairwise": {"precision", "recall", "fscore"}, "bcubed": {...}, "nmi": x,
    "n_clusters": number of predicted clusters}``, every score a float in [0, 1]. ``noise_label``: a label
    (e.g. -1) whose items count as one singleton each, in ``noise_in``: ``"gt"`` (default), ``"pred"`` or
    ``"both"`` (:func:`ltc.metrics.noise_as_singletons`); None: every label is a cluster. Raises
    :class:`DataError` for unreadable labels, labellings of different lengths or another ``noise_in``.
    """
    from ltc.metrics import evaluate as scores

    if noise_label is not None and noise_in not in ("gt", "pred", "both"):
        raise DataError(f"noise_in is {noise_in!r}: choose gt, pred or both (where the noise label "
                        f"{noise_label} counts as singletons).")

    truth = load_labels(gt, what="ground-truth labels")
    predicted = load_labels(pred, what="predicted labels")
    if len(truth) != len(predicted):
        names = [str(x) if isinstance(x, (str, os.PathLike)) else what
                 for x, what in ((pred, "the predicted labels"), (gt, "the ground-truth labels"))]
        raise DataError(f"{names[0]} has {len(predicted)} labels but {names[1]} has {len(truth)}: both must label "
                        f"the same items in the same order.")
    if noise_label is None:
        return scores(truth, predicted)
    return scores(truth, predicted, noise_label=int(noise_label), noise_in=noise_in)


def assign(clustered, labels, new, *, method: str | None = None, threshold="auto", merge: bool = False,
           dim: int | None = None, knn=None, index: str | os.PathLike | None = None, train: tuple | None = None,
           train_dim: int | None = None, threads: int | None = None, settings: Mapping | None = None):
    """Give new faces the clusters of an existing clustering, without clustering again (:mod:`ltc.incremental`,
    the code of the workflow's ``assign`` rule; also ``ltc.assign(...)`` and ``ltc assign``).

    ``clustered``: the clustered faces' features, N x D (an array, or a ``.npy`` / raw float32 ``.bin``
    path with ``dim``); ``labels``: their clusters, N ints (array or ``.meta``, e.g. a run's
    pred_labels.meta); ``new``: the new faces' features, M x D (same forms, same width). Both are
    checked as the ``validate`` rule checks a split. ``method``: the method that made ``labels``; one
    with a linking rule (knn_cc; fast_hac with single linkage, ``settings`` its config settings) is
    followed with ``threshold`` in that method's unit (knn_cc: cosine; fast_hac: distance); any other
    method, or None, gets the nearest-cluster rule with ``threshold`` a cosine. ``threshold='auto'``
    is chosen on a labelled train split ``train=(features, labels)`` by holding out some of its faces
    (:func:`ltc.incremental.choose_threshold`; a cosine). ``merge``: let new faces merge existing clusters.
    ``knn``: the kNN settings as in :func:`cluster` (the run's: k and the search); ``index``: the run's
    saved ``ivf``/``hnsw`` index of the clustered faces (results/<ds>/knn/test/<tag>.index; built if
    not given).

    Returns an :class:`ltc.incremental.Assignment`: ``labels`` (M,) int64 in the numbering of ``labels``
    (new clusters after its largest), ``old_labels`` (N,) after assignment, counts in ``summary()``.
    Raises :class:`DataError` (one sentence) for bad features, labels or settings.
    """
    import importlib

    from ltc import knn as knn_module

    from ltc import incremental as assign_module
    knn_params = knn_settings(knn)
    old = load_features(clustered, dim, "clustered features")
    old_labels = load_labels(labels, len(old), "labels")
    if (old_labels < 0).any():
        raise DataError(f"The labels hold {int((old_labels < 0).sum())} negative labels: give every clustered face a "
                        f"cluster number >= 0 (a run's pred_labels.meta does).")
    fresh = load_features(new, dim, "new features")
    if fresh.shape[1] != old.shape[1]:
        raise DataError(f"The new features have {fresh.shape[1]} columns but the clustered features have "
                        f"{old.shape[1]}: both must be embeddings of one model (same width).")
    values = _plain(settings or {})
    if method is not None:
        method_settings(method, values)  # an unknown method or setting: one sentence
    rule = assign_module.link_rule(method, values) if method else None
    knn_module.set_threads(threads)
    if threshold == "auto":
        if train is None or not (isinstance(train, (tuple, list)) and len(train) == 2):
            raise DataError("threshold is 'auto', which is chosen on a labelled train split: pass "
                            "train=(train_features, train_labels) or a threshold (a cosine, e.g. threshold=0.7).")
        train_feats = load_features(train[0], train_dim if train_dim is not None else dim, "train features")
        train_labels = load_labels(train[1], len(train_feats), "train labels")
        ids, dists = knn_module.knn_graph(train_feats, knn_params.k, knn_params.method, threads=threads,
                                          batch_size=knn_params.batch_size, **knn_params.index_params())
        cosine = assign_module.choose_threshold(ids, dists, train_labels, rule="links" if rule else "nearest",
                                                merge=merge, source=str(train[1]) if isinstance(train[1], (str, os.PathLike))
                                                else "passed as train=")
    else:
        try:
            cosine = rule[1](threshold) if rule else float(threshold)
        except (TypeError, ValueError):
            raise DataError(f"threshold is {threshold!r}: pass a number (a cosine; fast_hac: its distance) or "
                            f"'auto' with train=(features, labels).") from None
    saved = knn_module.load_index(index, knn_params.method) if index is not None and knn_params.method != "flat" else None
    ids, dists = assign_module.search_new(old, fresh, knn_params.k, knn_params.method, saved,
                                          batch_size=knn_params.batch_size, **knn_params.index_params())
    result = assign_module.assign(old_labels, ids, dists, cosine, rule="links" if rule else "nearest", merge=merge)
    log.info("assigned %d new faces: %d joined existing clusters, %d in %d new clusters", len(fresh),
             int(result.joined.sum()), int((~result.joined).sum()), result.summary()["new_clusters"])
    return result
