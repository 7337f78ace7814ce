"""The ``ltc`` console command (installed by the package; also ``python -m ltc``): clustering and scoring
without Snakemake, through :mod:`ltc.api`.

::

    ltc cluster features.npy --method infomap --set min_sim=0.6 -o labels.meta
    ltc cluster test.bin --dim 256 --method knn_cc --train-features train.bin --train-labels train.meta -o pred.meta
    ltc evaluate gt.meta pred.meta          # prints the metrics as JSON
    ltc methods [NAME ...]                  # the registered methods, each setting with its default and meaning
    ltc assign test.npy pred.meta new.npy --method knn_cc --threshold 0.7 -o new_labels.meta  # new faces

Bad input ends the command with one sentence on stderr and exit status 1 (:func:`ltc.cli.run`), before
any output is written; no output may be one of the command's inputs.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from pathlib import Path

from ltc import DataError

log = logging.getLogger("ltc")

KNN_INDEXES = ("flat", "ivf", "hnsw")


def parse_sets(items: list[str] | None) -> dict:
    """Method settings from ``--set KEY=VALUE`` options: VALUE is read as YAML (``0.6`` a number, ``auto``
    a word, ``null``, ``true``), a dotted KEY is a nested setting (``train.lr=0.01``); later ones win.
    Raises :class:`DataError` for an item without ``=`` or a VALUE that is not YAML."""
    import yaml

    out: dict = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or any(not part for part in key.strip().split(".")):
            raise DataError(f"--set {item!r} is not KEY=VALUE: write e.g. --set min_sim=0.6 (ltc methods lists "
                            f"each method's settings).")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise DataError(f"--set {item!r}: the value {text!r} is not a number, word or YAML value: quote it "
                            f"or write a plain number (e.g. --set min_sim=0.6).") from None
        node = out
        *parents, last = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError(f"--set {item!r} sets a part of {part}, which another --set gives a value: "
                                f"give {part} either a value or its parts.")
        node[last] = value
    return out


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def check_output(out: str, option: str, inputs: dict) -> None:
    """Refuse, with one sentence, an output path that is one of the ``inputs`` (option -> path; never
    overwrite an input), an existing folder, or one below a file."""
    for name, path in inputs.items():
        if path is not None and _same_file(out, path):
            raise DataError(f"{option} {out} is the input {name}: the command never overwrites an input, so "
                            f"name another output file.")
    target = Path(out)
    if target.is_dir():
        raise DataError(f"{option} {out} is a folder: name the file to write in it (e.g. {target / 'labels.meta'}).")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise DataError(f"{option} {out} lies below {parent}, which is a file, not a folder: name another output.")


def cmd_cluster(args) -> None:
    from ltc import api
    from ltc.io import write_labels

    if (args.train_features is None) != (args.train_labels is None):
        raise DataError("--train-features and --train-labels come together: give both (the features and labels of "
                        "a labelled train split, to choose an 'auto' threshold on) or neither.")
    inputs = {"features": args.features, "--train-features": args.train_features, "--train-labels": args.train_labels}
    check_output(args.out, "-o", inputs)
    if args.sweep_dir is not None:
        for name in ("threshold.json", "threshold_sweep.png"):
            check_output(str(Path(args.sweep_dir) / name), "--sweep-dir", inputs)
    knn = {}
    if args.k is not None:
        knn["k"] = args.k
    if args.knn_method is not None:
        knn["method"] = args.knn_method
    train = (args.train_features, args.train_labels) if args.train_features is not None else None
    labels = api.cluster(args.features, args.method, dim=args.dim, knn=knn or None, train=train,
                         train_dim=args.train_dim, threads=args.threads, sweep_dir=args.sweep_dir,
                         settings=parse_sets(args.set))  # a mapping: a method's `train` settings stay its own
    write_labels(args.out, labels)
    log.info("wrote %d labels (%d clusters) to %s", len(labels), int(labels.max()) + 1 if len(labels) else 0, args.out)


def cmd_evaluate(args) -> None:
    from ltc import api
    from ltc.io import write_json

    if args.json_out:
        check_output(args.json_out, "--json-out", {"gt": args.gt, "pred": args.pred})
    metrics = api.evaluate(args.gt, args.pred, noise_label=args.noise_label, noise_in=args.noise_in)
    if args.json_out:
        write_json(args.json_out, metrics)
    sys.stdout.write(json.dumps(metrics, indent=2) + "\n")


def cmd_assign(args) -> None:
    from ltc import api
    from ltc.incremental import write_outputs
    from ltc.clusters import read_ids

    if (args.train_features is None) != (args.train_labels is None):
        raise DataError("--train-features and --train-labels come together: give both (a labelled train split, to "
                        "choose an 'auto' threshold on) or neither.")
    inputs = {"clustered": args.clustered, "labels": args.labels, "new": args.new, "--index": args.index,
              "--ids": args.ids, "--train-features": args.train_features, "--train-labels": args.train_labels}
    for option in ("out", "old_out", "tsv", "summary"):
        if getattr(args, option) is not None:
            check_output(getattr(args, option), f"--{option.replace('_', '-')}" if option != "out" else "-o", inputs)
    knn = {key: value for key, value in (("k", args.k), ("method", args.knn_method)) if value is not None}
    train = (args.train_features, args.train_labels) if args.train_features is not None else None
    result = api.assign(args.clustered, args.labels, args.new, method=args.method, threshold=args.threshold,
                        merge=args.merge, dim=args.dim, knn=knn or None, index=args.index, train=train,
                        train_dim=args.train_dim, threads=args.threads, settings=parse_sets(args.set))
    ids = read_ids(args.ids, len(result.labels), f"--ids {args.ids}") if args.ids else None
    write_outputs(result, args.out, old_labels_out=args.old_out, tsv=args.tsv, summary=args.summary, ids=ids,
                  meta={"method": args.method})
    log.info("wrote %d labels of new faces to %s", len(result.labels), args.out)


def setting_lines(params, prefix: str = "") -> list[tuple[str, object, str]]:
    """(dotted name, default, doc) of every setting of a ``Params`` instance, nested ones flattened."""
    rows = []
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        if dataclasses.is_dataclass(value):
            rows += setting_lines(value, f"{prefix}{field.name}.")
        else:
            rows.append((prefix + field.name, value, field.metadata.get("doc", "")))
    return rows


def describe(name: str) -> str:
    """A method's entry for ``ltc methods``: what it does, its threshold, whether ``ltc cluster`` runs it,
    and each setting with its default and meaning."""
    from ltc.methods import registry

    spec = registry.get(name)
    params = spec.settings()
    threshold = spec.threshold_name(params)
    runs = ("no: a learned method, run it with the Snakemake workflow" if spec.learned else "yes")
    lines = [f"{name}: {spec.summary}",
             f"  threshold setting: {threshold or 'none'}; ltc cluster runs it: {runs}"]
    rows = setting_lines(params)
    width = max(len(f"{key} = {json.dumps(value)}") for key, value, _ in rows) if rows else 0
    lines += [f"  {f'{key} = {json.dumps(value)}':<{width}}  {doc}" for key, value, doc in rows]
    return "\n".join(lines)


def cmd_methods(args) -> None:
    from ltc import api
    from ltc.methods import registry

    for name in args.names:
        if name not in registry.NAMES:
            raise api._unknown_method(name)
    names = args.names or registry.NAMES
    sys.stdout.write("\n\n".join(describe(name) for name in names) + "\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log", help="also write the log to this file")
    top = argparse.ArgumentParser(prog="ltc", description="Cluster embeddings with the learn-to-cluster methods "
                                  "and score clusterings, without Snakemake (the same code as the workflow's rules).")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("cluster", parents=[common], help="cluster a feature file, write one label per line",
                       description="Cluster N x D features (a .npy file, or raw float32 .bin with --dim) by one "
                       "method on their cosine kNN graph; write one predicted label per line (.meta).")
    p.add_argument("features", help="feature file: .npy (N x D floats) or raw float32 .bin (needs --dim)")
    p.add_argument("--dim", type=int, help="feature width D (needed for a .bin; a .npy says it)")
    p.add_argument("--method", default="knn_cc", metavar="NAME",
                   help="the method (default knn_cc; ltc methods lists them)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="a method setting (config methods.<name>), e.g. --set min_sim=0.6; repeatable")
    p.add_argument("--k", type=int, help="neighbours per point of the kNN graph (default config.yaml's knn.k)")
    p.add_argument("--knn-method", choices=KNN_INDEXES, help="kNN search: flat (exact, default), ivf or hnsw")
    p.add_argument("--train-features", help="features of a labelled train split, to choose an 'auto' threshold on")
    p.add_argument("--train-labels", help="labels (.meta) of the train split, one per row of --train-features")
    p.add_argument("--train-dim", type=int, help="width of a .bin --train-features (default --dim)")
    p.add_argument("--sweep-dir", help="folder to keep the threshold choice in (threshold.json, threshold_sweep.png)")
    p.add_argument("--threads", type=int, help="threads for the search and the method")
    p.add_argument("-o", "--out", required=True, help="predicted labels (.meta) to write")
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("evaluate", parents=[common], help="score predicted labels against ground truth",
                       description="Pairwise / BCubed precision, recall and F-score, and NMI, of predicted labels "
                       "against ground-truth labels (.meta files, one integer per line), printed as JSON.")
    p.add_argument("gt", help="ground-truth labels (.meta)")
    p.add_argument("pred", help="predicted labels (.meta)")
    p.add_argument("--json-out", help="also write the metrics as JSON here")
    p.add_argument("--noise-label", type=int, help="a label (e.g. -1) whose items each count as a singleton")
    p.add_argument("--noise-in", choices=("gt", "pred", "both"), default="gt",
                   help="where --noise-label applies (default gt)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("assign", parents=[common], help="give new faces the clusters of an existing clustering",
                       description="Search new faces against clustered ones (the same kNN search) and give each an "
                       "existing cluster or a new one: the method's linking rule (knn_cc, fast_hac single) or the "
                       "nearest cluster above a threshold; existing clusters are kept unless --merge.")
    p.add_argument("clustered", help="features of the clustered faces: .npy or raw float32 .bin (needs --dim)")
    p.add_argument("labels", help="their clusters (.meta, e.g. results/<ds>/<method>/pred_labels.meta)")
    p.add_argument("new", help="features of the new faces (same format and width)")
    p.add_argument("--dim", type=int, help="feature width D of .bin files")
    p.add_argument("--method", metavar="NAME", help="the method that made the labels (knn_cc and fast_hac: its "
                   "linking rule; others and none: the nearest cluster)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="a setting of --method (e.g. linkage=single)")
    p.add_argument("--threshold", default="auto", help="minimum cosine of a link (--method knn_cc: its threshold; "
                   "fast_hac: its distance), or auto (default: chosen on --train-features/--train-labels)")
    p.add_argument("--merge", action="store_true", help="let new faces merge the existing clusters they link")
    p.add_argument("--k", type=int, help="neighbours per face (default config.yaml's knn.k; use the run's)")
    p.add_argument("--knn-method", choices=KNN_INDEXES, help="kNN search: flat (exact, default), ivf or hnsw")
    p.add_argument("--index", help="the run's saved ivf/hnsw index of the clustered faces (results/<ds>/knn/test/)")
    p.add_argument("--train-features", help="features of a labelled train split, for --threshold auto")
    p.add_argument("--train-labels", help="labels (.meta) of the train split")
    p.add_argument("--train-dim", type=int, help="width of a .bin --train-features (default --dim)")
    p.add_argument("--ids", help="ids or image paths of the new faces, one per line (for --tsv)")
    p.add_argument("--threads", type=int, help="threads for the search")
    p.add_argument("-o", "--out", required=True, help="the new faces' labels (.meta) to write")
    p.add_argument("--old-out", help="also write the clustered faces' labels after assignment (changed by --merge)")
    p.add_argument("--tsv", help="also write the new faces' clusters.tsv (cluster numbers of the run's clusters.tsv)")
    p.add_argument("--summary", help="also write the counts as JSON")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("methods", parents=[common], help="list the methods and their settings",
                       description="The registered clustering methods, each setting with its default and meaning.")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these methods")
    p.set_defaults(func=cmd_methods)
    return top


def main(argv: list[str] | None = None) -> None:
    """Run the ``ltc`` command with ``argv`` (default: the process's arguments)."""
    from ltc import cli

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        sys.exit(2)
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader's INFO lines say nothing to a user
    cli.run(args.func, args)


if __name__ == "__main__":
    main()
