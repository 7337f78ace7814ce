"""Check one split (features and optional labels) before anything is built from it.

The features are streamed in chunks of rows (plain file reads), so memory is one chunk and the
N row norms, whatever N.

Beyond the format (:mod:`ltc.io`: size, header, shape, dtype), the values must look like embeddings,
since a headerless ``.bin`` of another element type or width reads as float32 N x D without complaint:

* the start of a ``.bin`` (:data:`SNIFF_BYTES`) is read as float32; if those values are implausible
  (NaN/Inf, magnitudes beyond 1e10 or below 1e-15, element magnitudes or row norms spanning many
  orders of magnitude, or norms far from any embedding's) while the same bytes read as float64,
  float16 or byte-swapped are plausible, the file is refused naming that type (float64 written as raw
  bytes doubles the row count: each float64 reads as a mantissa low half, often exactly zero or
  absurd, and a high half);
* float32 rows that are not unit length but are all unit length when read at another width (a
  multiple of dim, or unrelated to it) are refused naming that width; rows made of k unit rows of
  width dim/k only get a warning (concatenated normalised embeddings look exactly like that);
* over the whole file, row norms spanning more than :data:`MAX_NORM_SPAN` or with a median outside
  :data:`NORM_RANGE` are refused (real embeddings, normalised or not, span little: norms 1 to a few
  hundred);
* a label count that differs from the row count says which dim or element type would make them
  match (twice as many rows: float64 bytes or dim half the real width; half: dim twice the width).
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ltc import DataError
from ltc.io import CHUNK_ROWS, feature_shape, iter_features, read_labels

log = logging.getLogger(__name__)

#: bytes at the start of a headerless feature file that are checked for their element type and width
SNIFF_BYTES = 1 << 20
#: largest ratio of the largest to the smallest row norm of a plausible feature file
MAX_NORM_SPAN = 1e6
#: range of the median row norm of a plausible feature file
NORM_RANGE = (1e-8, 1e8)
#: element magnitudes outside this range (zero aside) are not embedding values
VALUE_RANGE = (1e-15, 1e10)
#: largest fraction of values outside VALUE_RANGE in a plausible sample
MAX_ABSURD_FRACTION = 1e-3
#: largest fraction of the nonzero values below the smallest normal number of their float type
MAX_SUBNORMAL_FRACTION = 0.1
#: largest ratio of the 90th to the 10th percentile of the nonzero element magnitudes of a plausible sample
#: (about 13 for Gaussian values; about 1e9 for random bits read as floats)
MAX_VALUE_SPREAD = 1e4
#: a row is unit length if its norm is within this of 1
UNIT_TOLERANCE = 1e-3
#: common embedding widths tried when rows are unit length at another width than dim
COMMON_WIDTHS = (32, 64, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536, 2048, 3072, 4096)


def chunked_row_norms(chunks, path: str | Path) -> np.ndarray:
    """L2 norm of every row of consecutive chunks of rows (first row, rows); raises DataError on
    NaN/Inf or all-zero rows."""
    parts = []
    for start, chunk in tqdm(chunks, desc="validate", unit="chunk", leave=False):
        with np.errstate(invalid="ignore", over="ignore"):
            chunk = np.asarray(chunk, dtype=np.float64)
        finite = np.isfinite(chunk).all(axis=1)
        if not finite.all():
            row = start + int(np.argmin(finite))
            bad = int((~finite).sum())
            if bad > max(1, 0.01 * len(chunk)):
                raise DataError(
                    f"Feature file {path} has NaN or Inf in {bad} of its rows {start} to {start + len(chunk) - 1} "
                    f"(the first: row {row}), too many for a few broken rows: check that it holds little-endian "
                    f"float32 values (not float16, integers or text) with the dataset's dim, or re-extract the features.")
            raise DataError(f"Feature file {path} row {row} contains NaN or Inf: re-extract the features or drop that row (and its label).")
        parts.append(np.sqrt(np.einsum("ij,ij->i", chunk, chunk)))
    norms = np.concatenate(parts) if parts else np.empty(0)
    zero = norms == 0
    if zero.any():
        raise DataError(
            f"Feature file {path} row {int(np.argmax(zero))} is all zeros ({int(zero.sum())} such rows): "
            f"an all-zero row has no direction for cosine similarity; drop those rows (and their labels).")
    return norms


def _row_norms(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", x, x))


def implausible(values: np.ndarray) -> str | None:
    """Why a sample of rows (2-D, any float dtype) does not look like embeddings, or None if it does.

    Checks: all finite; at most :data:`MAX_ABSURD_FRACTION` of the values outside :data:`VALUE_RANGE`;
    nonzero element magnitudes spanning at most :data:`MAX_VALUE_SPREAD` (10th to 90th percentile);
    row norms spanning at most :data:`MAX_NORM_SPAN` with a median in :data:`NORM_RANGE`.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        x = np.asarray(values, dtype=np.float64)
    if not np.isfinite(x).all():
        return "NaN or Inf values"
    mag = np.abs(x).ravel()
    nonzero = mag[mag > 0]
    if not len(nonzero):
        return "all values zero"
    absurd = ((nonzero < VALUE_RANGE[0]) | (nonzero > VALUE_RANGE[1])).sum() / len(mag)
    if absurd > MAX_ABSURD_FRACTION:
        return f"{absurd:.1%} of the values beyond {VALUE_RANGE[1]:g} or below {VALUE_RANGE[0]:g} in magnitude"
    tiny = np.finfo(values.dtype).tiny if np.issubdtype(values.dtype, np.floating) else 0
    subnormal = (nonzero < tiny).mean()
    if subnormal > MAX_SUBNORMAL_FRACTION:  # float16's smallest normal is 6e-5: integers read as float16 sit below
        return f"{subnormal:.0%} of the nonzero values subnormal"
    low, high = np.percentile(nonzero, [10, 90])
    if high > MAX_VALUE_SPREAD * low:
        return f"value magnitudes spanning {math.log10(high / low):.0f} orders of magnitude"
    return norm_problem(_row_norms(x))


def norm_problem(norms: np.ndarray, rows: bool = False) -> str | None:
    """Why row norms (nonzero) are not those of embeddings (spanning more than :data:`MAX_NORM_SPAN`,
    median outside :data:`NORM_RANGE`), or None; ``rows``: name the rows of the smallest and largest."""
    norms = norms[norms > 0]
    if not len(norms):
        return "all rows zero"
    low, high, median = norms.min(), norms.max(), float(np.median(norms))
    if high > MAX_NORM_SPAN * low:
        where = f" (rows {int(np.argmin(norms))} and {int(np.argmax(norms))})" if rows else ""
        return f"row norms from {low:.3g} to {high:.3g}{where}, {math.log10(high / low):.0f} orders of magnitude"
    if not NORM_RANGE[0] <= median <= NORM_RANGE[1]:
        return f"a median row norm of {median:.3g}"
    return None


def _sample(raw: bytes, dtype, width: int) -> np.ndarray:
    """Whole rows of ``width`` values of ``dtype`` at the start of ``raw``."""
    dtype = np.dtype(dtype)
    rows = len(raw) // (dtype.itemsize * width)
    return np.frombuffer(raw, dtype=dtype, count=rows * width).reshape(rows, width)


#: other readings of a headerless file's bytes, tried when its float32 reading is implausible:
#: (dtype, what it is called, how to fix the file)
_OTHER_TYPES = (
    ("<f8", "float64", "save them as float32 (features.astype(numpy.float32).tofile(path)) or as .npy (numpy.save)"),
    ("<f2", "float16", "save them as float32 (features.astype(numpy.float32).tofile(path)) or as .npy (numpy.save)"),
    (">f4", "big-endian float32", "save them little-endian (features.astype('<f4').tofile(path)) or as .npy (numpy.save)"),
    (">f8", "big-endian float64", "save them as little-endian float32 (features.astype('<f4').tofile(path)) or as .npy"),
)


#: the bytes of numbers written as text (a CSV or whitespace-separated table)
_NUMBER_TEXT = b"0123456789+-.eE,;\t\r\n "


def sniff_raw(path: str | Path, dim: int) -> list[str]:
    """Check that a headerless feature file's first :data:`SNIFF_BYTES` look like float32 rows of ``dim``.

    Raises :class:`DataError` (one sentence naming the file, what it looks like and the fix) when the
    float32 reading is implausible (:func:`implausible`) but another element type's is, or when the rows
    are not unit length but all are at another width that is not a divisor of ``dim``. Returns the
    warnings (sentences) for rows that are all unit length at a divisor of ``dim``. The file's size
    is assumed checked (:func:`ltc.io.feature_shape`).
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(SNIFF_BYTES)
    if raw and not raw.translate(None, _NUMBER_TEXT):  # only digits, signs, points, separators
        raise DataError(f"Feature file {path} holds numbers written as text, not raw float32 bytes: load them "
                        f"(numpy.loadtxt) and save them as .npy (numpy.save) or as raw float32 (tofile).")
    as32 = _sample(raw, "<f4", dim)
    problem = implausible(as32)
    if problem is not None:
        for dtype, name, fix in _OTHER_TYPES:
            itemsize = np.dtype(dtype).itemsize
            if size % (itemsize * dim):
                continue
            other = _sample(raw, dtype, dim)
            if len(other) and implausible(other) is None:
                raise DataError(
                    f"Feature file {path} does not read as float32 rows of dim {dim} ({problem}) but reads as "
                    f"plausible {name} rows of dim {dim} ({size // (itemsize * dim)} rows): {fix}.")
        return []  # no better reading: the stream's checks name the problem
    norms = _row_norms(as32.astype(np.float64))
    if np.all(np.abs(norms - 1) < UNIT_TOLERANCE):
        return []
    widths = {dim * k for k in range(2, 9)} | {dim // k for k in range(2, 9) if dim % k == 0} | set(COMMON_WIDTHS)
    for width in sorted(widths - {dim}):
        if size % (4 * width):
            continue
        rows = _sample(raw, "<f4", width)
        if len(rows) < min(8, size // (4 * width)) or not len(rows):
            continue
        if np.all(np.abs(_row_norms(rows.astype(np.float64)) - 1) < UNIT_TOLERANCE):
            if dim % width:
                raise DataError(
                    f"Feature file {path} rows are not unit length read {dim} values wide, but every row is unit "
                    f"length read {width} wide: set the dataset's dim to {width} (the file then holds "
                    f"{size // (4 * width)} rows).")
            return [f"Feature file {path}: every row read {dim} wide has norm {norms.mean():.4f}, as if made of "
                    f"{dim // width} unit rows of {width} values; if the features are {width}-D, set the dataset's "
                    f"dim to {width} (concatenated normalised embeddings are fine as they are)."]
    return []


def size_distribution(labels: np.ndarray) -> dict:
    """Summary of identity sizes: count, singletons, min/median/mean/p90/max."""
    sizes = np.unique(labels, return_counts=True)[1]
    return {
        "n_identities": int(len(sizes)),
        "n_singletons": int((sizes == 1).sum()),
        "min": int(sizes.min()),
        "median": float(np.median(sizes)),
        "mean": float(sizes.mean()),
        "p90": float(np.percentile(sizes, 90)),
        "max": int(sizes.max()),
    }


def count_hint(n_rows: int, n_labels: int, dim: int) -> str:
    """For a headerless float32 file of ``n_rows`` x ``dim`` and ``n_labels`` labels: the dim or element type
    that would make the counts match, as a clause (or the plain advice when none would)."""
    if n_labels and n_rows % n_labels == 0:
        k = n_rows // n_labels
        if k == 2:
            return (f"the file has twice as many rows as labels, as float64 features written raw or a dim of half "
                    f"the real width give: save float64 features as float32, or set the dataset's dim to {2 * dim}")
        return (f"the file has {k} times as many rows as labels: set the dataset's dim to {k * dim} if the features "
                f"are {k * dim}-D" + (f", or save them as float32 if they are {k * dim // 2}-D float64" if k % 2 == 0 else ""))
    if n_rows and n_labels % n_rows == 0 and dim % (n_labels // n_rows) == 0:
        k = n_labels // n_rows
        return (f"the file has 1/{k} as many rows as labels: set the dataset's dim to {dim // k} if the features are "
                f"{dim // k}-D" + (f", or save them as float32 if they are {dim}-D float16" if k == 2 else ""))
    if n_labels and (n_rows * dim) % n_labels == 0:
        return (f"its {n_rows * dim} float32 values would make exactly {n_labels} rows of {n_rows * dim // n_labels}: "
                f"check the dataset's dim and that the features are float32, or that both files belong to the same split")
    return "they must match one to one (check that both files belong to the same split)"


def validate_split(features: str | Path, dim: int, labels: str | Path | None = None) -> dict:
    """Validate a split and return a JSON-able summary (N, D, identities, size distribution, norms, warnings).

    ``features``: ``.bin`` (raw float32, N x ``dim``) or ``.npy`` (N x ``dim`` floats); ``labels``: ``.meta``
    (N integers, one per line) or None. Raises :class:`DataError` (one sentence naming the file and the
    fix) on any violation: format (:mod:`ltc.io`), NaN/Inf or all-zero rows, implausible values
    (module docstring), label count.
    """
    raw = Path(features).suffix != ".npy"
    warnings = []
    if raw:
        feature_shape(features, dim)  # format first (size, header), then the values
        warnings = sniff_raw(features, dim)
    norms = chunked_row_norms(iter_features(features, dim, CHUNK_ROWS), features)
    problem = norm_problem(norms, rows=True)
    if problem is not None:
        fix = ("check that it holds little-endian float32 values (not float64, float16 or integers) with the "
               "dataset's dim, or drop the broken rows (and their labels)") if raw else \
            "re-export the features or drop the broken rows (and their labels)"
        raise DataError(f"Feature file {features} has {problem}, which embeddings do not have: {fix}.")
    for warning in warnings:
        log.warning(warning)
    summary = {
        "features": str(features),
        "n": int(len(norms)),
        "dim": int(dim),
        "norm": {"min": float(norms.min()), "median": float(np.median(norms)), "mean": float(norms.mean()),
                 "max": float(norms.max())},
        "labels": None,
        "warnings": warnings,
    }
    if labels is not None:
        lab = read_labels(labels)
        if len(lab) != len(norms):
            hint = count_hint(len(norms), len(lab), dim) if raw else \
                "they must match one to one (check that both files belong to the same split)"
            raise DataError(
                f"Label file {labels} has {len(lab)} labels but feature file {features} has {len(norms)} rows: {hint}.")
        summary["labels"] = str(labels)
        summary["identities"] = size_distribution(lab)
    return summary
