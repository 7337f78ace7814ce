"""What a method cost: reading Snakemake's ``benchmark:`` files, deciding which of them count toward
a method, and summing them.

Which benchmark files count toward a method (:func:`method_steps`):

* its own steps. When the workflow names them (``steps``: glob patterns of benchmark file stems,
  e.g. ``pivots_test``, ``train_linkage``), exactly the files matching those patterns. Otherwise
  they are found by name: every benchmark file whose name carries the method's name as a
  ``_``-separated part (``cluster_knn_cc``, ``select_threshold_gcnv``, ``infer_gcnv_test``,
  ``links_gcne_train``, ...). A file whose name carries several method names belongs to the longest
  one, so a method ``cc`` would not claim ``cluster_knn_cc``;
* for a method found by name, the steps of other stages it needs (``needs``, given by the workflow):
  GCN-E needs GCN-V's training and inference and the kNN of GCN-V's features, so these count toward
  GCN-E as well (a method with named ``steps`` lists those among them);
* never scoring (``evaluate_*``, :data:`EXCLUDED_STEPS`): it is the same work for every method and
  not part of clustering;
* never the kNN graph of the input features: it is shared by every method and is reported once, as
  a row of its own (``shared``), never inside a method's figures.

Wall time is the sum over the steps (what running them one after another costs); peak memory is
the largest of the steps' peaks (each step is a process of its own).
"""
from __future__ import annotations

import csv
import glob
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ltc import DataError

EXCLUDED_STEPS = ("evaluate",)  # benchmark file stems starting with these are never counted


def _number(text: str | None) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None  # "NA", "-" or missing: the platform could not measure it
    return value if math.isfinite(value) else None


def read_benchmark(path: str | os.PathLike) -> dict:
    """``{"s": wall seconds, "max_rss": MB, "cpu_time": CPU seconds}`` of a Snakemake benchmark file
    (mean times, largest memory over its rows when the rule was benchmarked repeatedly; ``None``
    where not measured; Snakemake's cpu_time under-reports short jobs)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))

    def values(column):
        return [v for v in (_number(r.get(column)) for r in rows) if v is not None]

    seconds, rss, cpu = values("s"), values("max_rss"), values("cpu_time")
    return {"s": sum(seconds) / len(seconds) if seconds else None, "max_rss": max(rss) if rss else None,
            "cpu_time": sum(cpu) / len(cpu) if cpu else None}


def owner(stem: str, methods: Iterable[str]) -> str | None:
    """The method a benchmark file stem belongs to: the longest method name that is a run of its
    ``_``-separated parts (``select_threshold_knn_cc`` -> ``knn_cc``); ``None`` if none is."""
    parts = stem.split("_")

    def is_in(method):
        want = method.split("_")
        return any(parts[i:i + len(want)] == want for i in range(len(parts) - len(want) + 1))

    found = [m for m in methods if is_in(m)]
    return max(found, key=lambda m: (len(m.split("_")), len(m))) if found else None


def matching(bench_dir: str | os.PathLike, patterns: Iterable[str]) -> list[Path]:
    """Benchmark files ``<bench_dir>/<pattern>.tsv`` for glob patterns of file stems, sorted by name."""
    out = set()
    for pattern in patterns:
        out.update(Path(p) for p in glob.glob(os.path.join(glob.escape(str(bench_dir)), f"{pattern}.tsv")))
    return sorted(out, key=lambda p: p.name)


def method_steps(bench_dir: str | os.PathLike, method: str, methods: Iterable[str],
                 needs: Iterable[str] = (), shared: Iterable[str] = (),
                 steps: Sequence[str] | None = None) -> list[Path]:
    """Benchmark files that count toward ``method`` (see the module docstring), sorted by name.

    ``methods`` are all configured method names (to settle which method a file belongs to by name),
    ``needs`` glob patterns of the file stems of other stages the method needs, ``shared`` those
    of the shared kNN graph (never counted for a method). ``steps``, if given, are the glob patterns
    of the method's own file stems: then exactly those files count (no name matching, no ``needs``).
    """
    if steps is not None:
        counted = set(matching(bench_dir, steps))
    else:
        methods = list(methods)
        counted = {p for p in Path(bench_dir).glob("*.tsv") if owner(p.stem, methods) == method}
        counted |= set(matching(bench_dir, needs))
    counted -= set(matching(bench_dir, shared))
    return sorted((p for p in counted if not p.stem.startswith(EXCLUDED_STEPS)), key=lambda p: p.name)


def check_methods_named(option: str, keys: Iterable[str], methods: Sequence[str], table: str = "compared") -> None:
    """Raise :class:`ltc.DataError` for a method named by ``option`` that is not in the table (``methods``)."""
    for method in keys:
        if method not in methods:
            raise DataError(f"{option} names the method '{method}', which is not {table} (--methods "
                            f"{' '.join(methods)}): drop it from {option} or add it to --methods.")


def check_steps(bench_dir: str | os.PathLike, steps: Mapping[str, Sequence[str]],
                needs: Mapping[str, Sequence[str]] | None = None) -> None:
    """Raise :class:`ltc.DataError` unless every method of ``steps`` (method -> glob patterns of its
    benchmark file stems) has patterns, each matching a file in ``bench_dir``, and none is also
    in ``needs`` (whose patterns add to steps found by name)."""
    for method, patterns in steps.items():
        if method in (needs or {}):
            raise DataError(f"The method '{method}' is given both --steps and --needs: list every benchmark file "
                            f"stem that counts toward it under --steps, and drop it from --needs.")
        if not patterns:
            raise DataError(f"--steps gives the method '{method}' no benchmark file stems: write "
                            f"{method}=GLOB[,GLOB], or leave it out to find its steps by name.")
        for pattern in patterns:
            if not matching(bench_dir, [pattern]):
                raise DataError(f"No benchmark file {os.path.join(bench_dir, pattern)}.tsv matches the step "
                                f"'{pattern}' that --steps counts toward '{method}': correct the pattern (a glob "
                                f"of file stems), or run that step so that Snakemake writes its benchmark file.")


def summarize(paths: Sequence[str | os.PathLike]) -> dict:
    """Summed wall time (s) and largest peak RSS (MB) of benchmark files; ``None`` where unknown."""
    stats = [read_benchmark(p) for p in paths]
    seconds = [s["s"] for s in stats if s["s"] is not None]
    rss = [s["max_rss"] for s in stats if s["max_rss"] is not None]
    return {"wall_time_s": sum(seconds) if seconds else None, "peak_rss_mb": max(rss) if rss else None}
