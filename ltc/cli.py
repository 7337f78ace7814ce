"""Shared plumbing of the workflow's command-line scripts: logging and one-sentence errors."""
from __future__ import annotations

import argparse
import dataclasses
import errno
import logging
import os
import sys
from collections.abc import Callable

import numpy as np

from ltc import DataError, DownloadError

#: errors of the file system rather than of the program: a full disk, a read-only or foreign folder
_STORAGE_ERRORS = {
    errno.ENOSPC: "the file system is full: free space there or point the results elsewhere (run from another folder)",
    errno.EDQUOT: "your disk quota is used up: free space or point the results elsewhere (run from another folder)",
    errno.EROFS: "the file system is read-only: run the workflow from a writable folder",
    errno.EACCES: "check that you may read that file and write to its folder, or run from a folder you own",
    errno.EPERM: "check that you may read that file and write to its folder, or run from a folder you own",
}


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--log", help="also write the log to this file")
    return p


def storage_error_message(err: OSError) -> str | None:
    """One sentence for a full, read-only or forbidden place (naming it), or None for other errors."""
    advice = _STORAGE_ERRORS.get(err.errno)
    if advice is None:
        return None
    where = err.filename or err.filename2
    where = os.path.abspath(where) if where else "an output file"
    return f"Cannot write or read {where} ({os.strerror(err.errno)}): {advice}."


def warn_if_degenerate(labels, method: str, setting: str, chosen_in=None, advice: str | None = None) -> None:
    """Log a warning when ``labels`` cannot be a useful clustering (:func:`ltc.graph.degenerate`),
    naming ``setting`` (e.g. ``knn_cc's threshold = 0.9``), the likely cause. ``chosen_in``: where an
    ``auto`` threshold was chosen (a threshold.json, or words naming the labelled split), None for a
    number from the config; the advice differs (a chosen threshold is already the train split's best).
    ``advice``: the advice itself, for a setting that is not one threshold."""
    from ltc.graph import degenerate

    problem = degenerate(labels)
    if not problem:
        return
    if advice is None and chosen_in is None:
        advice = (f"{setting} is likely on the wrong side of these features' similarities; set it to auto (chosen "
                  f"on the labelled train split) or to another value")
    elif advice is None:
        advice = (f"{setting} was chosen on the labelled train split ({chosen_in}), so this split differs from the "
                  f"train split (another embedding, or far fewer points: {len(labels)}); check that both come from "
                  f"one model, or set it to a number")
    logging.getLogger("ltc").warning("%s: %s: %s.", method, problem, advice)


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)`` with logging set up; bad input, and a full, read-only or forbidden folder,
    end the process with a one-sentence message (the traceback goes to the log at debug level only)."""
    log = logging.getLogger("ltc")
    handlers = [logging.StreamHandler(sys.stderr)]
    try:
        if args.log:
            handlers.append(logging.FileHandler(args.log, mode="w"))
    except OSError as err:
        print(storage_error_message(err) or f"Cannot open the log file {args.log}: {err}.", file=sys.stderr)
        sys.exit(1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers)
    # faiss's loader logs each CPU-specific build it could not load, which reads like an error
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        main(args)
    except (DataError, DownloadError) as err:
        log.error("%s", err)
        sys.exit(1)
    except OSError as err:
        message = storage_error_message(err)
        if message is None:
            raise
        log.debug("storage error", exc_info=True)
        log.error("%s", message)
        sys.exit(1)


def setting_option(parser: argparse.ArgumentParser, flag: str, params, path: str, **kwargs) -> None:
    """Add option ``flag`` for the method setting at ``path`` (``"nhid"``, ``"train.lr"``) of ``params``
    (a method's ``Params`` instance, :mod:`ltc.methods.registry`): its default and help are that
    setting's, said once there, never again in a script."""
    value, field = params, None
    for name in path.split("."):
        field = next(f for f in dataclasses.fields(value) if f.name == name)
        value = getattr(value, name)
    parser.add_argument(flag, type=type(value), default=value, help=f"{field.metadata['doc']} (default {value})",
                        **kwargs)


def add_truth_options(parser: argparse.ArgumentParser) -> None:
    """``--labels`` (a split's true labels, .meta) and ``--noise-label`` (config ``evaluation.noise_label``:
    items with that label are each an identity of their own, as the evaluation scores them)."""
    parser.add_argument("--labels", required=True, help="true labels of the split (.meta)")
    parser.add_argument("--noise-label", type=int, help="a label meaning no identity: each such item its own")


def truth(args) -> np.ndarray:
    """The true labels of :func:`add_truth_options`' options (int64, N), noise items made singletons."""
    from ltc.io import read_labels
    from ltc.metrics import noise_as_singletons

    return noise_as_singletons(read_labels(args.labels), args.noise_label)


def method_pairs(values, what: str) -> dict[str, str]:
    """``['a=x', 'b=y']`` -> ``{'a': 'x', 'b': 'y'}`` (options given as METHOD=VALUE, named ``what`` in
    messages). Raises :class:`DataError` for an entry without ``=`` or a method given twice."""
    out = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise DataError(f"{what} '{value}' is not METHOD=VALUE: write the method name, '=' and the value.")
        if key in out:
            raise DataError(f"{what} gives the method '{key}' twice ('{key}={out[key]}' and '{value}'): "
                            f"give it once, with every value in it.")
        out[key] = rest
    return out


def method_globs(values, what: str) -> dict[str, list[str]]:
    """``['a=x,y', 'b=z']`` -> ``{'a': ['x', 'y'], 'b': ['z']}`` (METHOD=GLOB[,GLOB] options)."""
    return {m: [p for p in v.split(",") if p] for m, v in method_pairs(values, what).items()}


def add_cost_options(parser: argparse.ArgumentParser) -> None:
    """The options that say which Snakemake benchmark files count toward each method (ltc.report.costs)."""
    parser.add_argument("--benchmarks", required=True, help="folder of the Snakemake benchmark files (.tsv)")
    parser.add_argument("--all-methods", nargs="+", help="every configured method name (decides which method a "
                        "benchmark file belongs to by name; default: --methods)")
    parser.add_argument("--steps", nargs="*", metavar="METHOD=GLOB[,GLOB]",
                        help="benchmark file stems (globs) of all of a method's steps: exactly these count toward "
                        "it (no matching by name, no --needs); methods not given here are matched by name")
    parser.add_argument("--shared", nargs="*", metavar="GLOB",
                        help="benchmark file stems (globs) of the shared kNN graph (a row of their own)")


def add_train_split_options(parser: argparse.ArgumentParser) -> None:
    """``--features``/``--dim`` of a labelled split and :func:`add_truth_options`' ``--labels``/``--noise-label``."""
    parser.add_argument("--features", required=True, help="features of the split (.bin or .npy)")
    parser.add_argument("--dim", type=int, required=True, help="feature width")
    add_truth_options(parser)


def train_split(args) -> tuple[np.ndarray, np.ndarray]:
    """(features N x dim float32, true labels int64 N, noise items made singletons) of
    :func:`add_train_split_options`' options. Raises :class:`DataError` unless there is one label per row."""
    from ltc.io import read_features

    feats, labels = read_features(args.features, args.dim), truth(args)
    if len(labels) != len(feats):
        raise DataError(f"Label file {args.labels} has {len(labels)} labels but {args.features} has {len(feats)} "
                        f"rows: give one label per feature row.")
    return feats, labels
