"""ltc: the science behind ltc-workflow (learn-to-cluster face embeddings).

One module per concept: ``io`` (feature, label and kNN files), ``validate``,
``synthetic`` (demo data), ``download``, ``knn``, ``methods`` (clustering
methods) and ``metrics`` (pairwise / BCubed F-score, NMI); ``ltc.cluster`` and
``ltc.evaluate`` (:mod:`ltc.api`) run them without Snakemake.
"""
import os

# Intel MKL (torch's CPU BLAS) in its conditional numerical reproducibility mode, the best code path
# for this CPU: without it MKL's float GEMM may round differently from run to run (seen: GCN-V trained
# twice on the same data, threads and seed gave weights differing in the last bits). Set before torch
# makes its first MKL call; a user's own MKL_CBWR wins.
os.environ.setdefault("MKL_CBWR", "AUTO")


class DataError(ValueError):
    """Bad input data or configuration; the message is one sentence naming the file and the fix."""


class DownloadError(RuntimeError):
    """A transfer that failed for good; the message names the URL and what to do."""


#: the Python API (:mod:`ltc.api`), loaded on first use: ``import ltc`` stays light, and the workflow's
#: rule inputs (read from import statements, :mod:`ltc.imports`) do not grow by the API's modules
_API = ("cluster", "evaluate", "assign")


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module("ltc.api"), name)
    raise AttributeError(f"module 'ltc' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
