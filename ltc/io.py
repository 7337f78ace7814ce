"""Reading and writing the learn-to-cluster file formats.

* features: ``.bin`` (raw row-major float32, N x D, no header) or ``.npy`` (N x D float array);
* labels: ``.meta`` text, one integer label per line, same order as the features;
* kNN graphs: ``.npz`` with an array ``data`` of shape (N, 2, K): row 0 the neighbour ids, row 1
  the cosine distances ``1 - similarity``, each row sorted by distance (the original project's
  ``knns/NAME/faiss_k_K.npz``).

Every writer goes through :func:`atomic_output`, so a crash never leaves a half-written file.

Large files are also read and written in row chunks (:func:`iter_features`, :func:`iter_knn`,
:func:`npy_row_writer`) by plain file reads and writes, not memory maps: at MS1M 5.21M scale a
whole-file copy (or a mapping whose touched pages all count as the process's resident memory) is
gigabytes that no stage needs at once.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ltc import DataError

#: rows per chunk of the streamed readers and writers
CHUNK_ROWS = 65536


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_features(path: str | os.PathLike, dim: int) -> np.ndarray:
    """Memory-map a feature file as an (N, dim) float32 array (``.npy`` of another float dtype is cast).

    Raises :class:`DataError` when the file cannot be an N x dim float32 matrix.
    """
    feats = _map_features(path, dim)
    return feats if feats.dtype == np.float32 else feats.astype(np.float32)


def _map_features(path: str | os.PathLike, dim: int) -> np.ndarray:
    """:func:`read_features` without the cast: the checked memory map, in the file's float dtype."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Feature file {path} does not exist: check the path in the dataset's config.")
    if path.suffix == ".npy":
        try:
            feats = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as err:
            raise DataError(f"Feature file {path} is not a readable .npy array ({err}): re-save it with numpy.save.") from None
        if feats.ndim != 2 or feats.shape[1] != dim:
            raise DataError(
                f"Feature file {path} holds an array of shape {feats.shape}, not N x {dim}: "
                f"set the dataset's dim to the feature width or re-export the features as N x {dim}.")
        if not np.issubdtype(feats.dtype, np.floating):
            raise DataError(f"Feature file {path} holds {feats.dtype} values, not floats: save the features as float32.")
        return feats
    size = path.stat().st_size
    row_bytes = dim * 4
    if size == 0 or size % row_bytes:
        raise DataError(
            f"Feature file {path} has {size} bytes, not a multiple of dim*4 = {row_bytes} "
            f"(N x {dim} float32 rows): the file is truncated or the dataset's dim is wrong.")
    return np.memmap(path, dtype=np.float32, mode="r", shape=(size // row_bytes, dim))


def feature_shape(path: str | os.PathLike, dim: int) -> tuple[int, int]:
    """(N, dim) of a feature file, checked as :func:`read_features` checks it, without reading rows."""
    return _map_features(path, dim).shape


def iter_features(path: str | os.PathLike, dim: int,
                  chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, float32 rows) of a feature file, ``chunk_rows`` rows at a time, in order.

    The checks and values are :func:`read_features`'s, but the rows are read by plain file reads
    (not through the memory map), so no chunk stays resident once the caller drops it.
    """
    feats = _map_features(path, dim)  # checks the file; maps it without reading
    n, dtype = len(feats), feats.dtype
    offset = feats.offset if feats.flags.c_contiguous else None  # where the rows start in the file
    if offset is None:  # a Fortran-ordered .npy: rows are not contiguous in the file
        for start in range(0, n, chunk_rows):
            yield start, np.asarray(feats[start:start + chunk_rows], dtype=np.float32)
        return
    del feats
    with open(path, "rb") as f:
        f.seek(offset)
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            chunk = np.fromfile(f, dtype=dtype, count=rows * dim)
            if len(chunk) != rows * dim:
                raise DataError(f"Feature file {path} ended at row {start + len(chunk) // dim} of {n}: it is truncated; re-export it.")
            yield start, chunk.reshape(rows, dim).astype(np.float32, copy=False)


def _read_npy_header(f) -> tuple[tuple, bool, np.dtype]:
    """(shape, fortran_order, dtype) of the ``.npy`` stream ``f``, left at the first data byte."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    return np.lib.format.read_array_header_2_0(f)


def _write_npy_header(f, shape: tuple, dtype) -> None:
    """The header ``np.save`` writes for a C-ordered array of ``shape`` and ``dtype``."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(int(x) for x in shape)}
    try:
        np.lib.format.write_array_header_1_0(f, header)
    except ValueError:  # a header too long for format 1.0
        np.lib.format.write_array_header_2_0(f, header)


class NpyRows:
    """Rows going out to an open ``.npy`` file, in order (see :func:`npy_row_writer`)."""

    def __init__(self, file, shape: tuple, dtype):
        self.file, self.shape, self.dtype, self.rows_written = file, shape, dtype, 0

    def write(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.shape[1:] or self.rows_written + len(rows) > self.shape[0]:
            raise ValueError(f"rows of shape {rows.shape} do not fit an array of shape {self.shape} "
                             f"after {self.rows_written} rows")
        self.file.write(rows.data)
        self.rows_written += len(rows)


@contextlib.contextmanager
def npy_row_writer(path: str | os.PathLike, shape: tuple, dtype=np.float32):
    """Write an ``.npy`` array of a known shape block of rows by block of rows, atomically.

    ``with npy_row_writer(path, (n, d)) as out: out.write(rows)`` (blocks in row order); the file
    appears at ``path`` only if the block succeeds and all ``n`` rows were written. It reads back with
    ``np.load`` like one from :func:`save_array`. Rows go out by plain writes, not through a memory
    map (``np.lib.format.open_memmap``), whose written pages would count as the process's resident
    memory until it unmaps them: 10.7 GB for the GCN features of 5.21M points.
    """
    shape, dtype = tuple(int(x) for x in shape), np.dtype(dtype)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        _write_npy_header(f, shape, dtype)
        out = NpyRows(f, shape, dtype)
        yield out
        if out.rows_written != shape[0]:
            raise ValueError(f"{path}: {out.rows_written} of {shape[0]} rows written")


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.meta`` file (one integer per line) as an int64 array."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"Label file {path} does not exist: check the path in the dataset's config.")
    lines = path.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    try:
        return np.asarray(lines, dtype=str).astype(np.int64)
    except ValueError:
        bad = next(i for i, line in enumerate(lines) if not _is_int(line))
        raise DataError(
            f"Label file {path} line {bad + 1} is {lines[bad]!r}, not one integer: "
            f"write exactly one integer label per line.") from None


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def write_labels(path: str | os.PathLike, labels: np.ndarray, chunk_rows: int = 1 << 20) -> None:
    """Write one integer label per line, atomically (formatted ``chunk_rows`` labels at a time)."""
    labels = np.asarray(labels, dtype=np.int64)
    with atomic_output(path) as tmp, open(tmp, "w") as f:
        for start in range(0, len(labels), chunk_rows):
            f.write("\n".join(map(str, labels[start:start + chunk_rows].tolist())) + "\n")


def write_features(path: str | os.PathLike, feats: np.ndarray) -> None:
    """Write an (N, D) float32 array as a raw ``.bin`` file, atomically."""
    with atomic_output(path) as tmp:
        np.ascontiguousarray(feats, dtype=np.float32).tofile(tmp)


def save_knn(path: str | os.PathLike, ids: np.ndarray, dists: np.ndarray, chunk_rows: int = CHUNK_ROWS) -> None:
    """Save neighbour ids and distances (both N x K) as the original project's ``data`` (N, 2, K) array.

    The ``.npz`` is written as ``np.savez`` writes it (one uncompressed member ``data.npy``, float32),
    ``chunk_rows`` rows at a time, so the stacked (N, 2, K) array is never built whole.
    """
    if dists.shape != ids.shape:
        raise ValueError(f"ids {ids.shape} and dists {dists.shape} differ in shape")
    n, k = ids.shape
    save_knn_chunks(path, n, k, ((ids[s:s + chunk_rows], dists[s:s + chunk_rows]) for s in range(0, n, chunk_rows)))


def save_knn_chunks(path: str | os.PathLike, n: int, k: int,
                    chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
    """:func:`save_knn` from consecutive blocks of rows (ids, dists), e.g. the :func:`iter_knn` of
    query shards one after the other: the file is written as the blocks come, atomically, and only
    if they add up to ``n`` rows of ``k`` neighbours."""
    written = 0
    with atomic_output(path) as tmp, open(tmp, "wb") as f, \
            zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf, \
            zf.open("data.npy", "w", force_zip64=True) as out:
        _write_npy_header(out, (n, 2, k), np.float32)
        for ids, dists in chunks:
            if ids.shape != dists.shape or ids.ndim != 2 or ids.shape[1] != k or written + len(ids) > n:
                raise ValueError(f"kNN rows of shape {ids.shape} / {dists.shape} do not fit ({n}, {k}) after {written} rows")
            out.write(np.stack([ids.astype(np.float32), dists.astype(np.float32)], axis=1).data)
            written += len(ids)
        if written != n:
            raise ValueError(f"{written} of {n} kNN rows given")


def _knn_error(path, err) -> DataError:
    return DataError(f"kNN file {path} is not an .npz with an array 'data' ({err}): delete it so it is rebuilt.")


@contextlib.contextmanager
def _open_knn(path: str | os.PathLike):
    """The ``data`` member of a kNN ``.npz`` as a stream left at its first data byte, with its (N, K) and dtype."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise _knn_error(path, err) from None
    with zf:
        names = set(zf.namelist())
        name = next((name for name in ("data.npy", "data") if name in names), None)  # np.load's look-up
        if name is None:
            raise _knn_error(path, "no member 'data.npy'")
        member = zf.open(name)
        with member:
            try:
                shape, fortran, dtype = _read_npy_header(member)
            except ValueError as err:
                raise _knn_error(path, err) from None
            if len(shape) != 3 or shape[1] != 2:
                raise DataError(f"kNN file {path} holds shape {shape}, not (N, 2, K): delete it so it is rebuilt.")
            if dtype.hasobject:
                raise _knn_error(path, "an object array")
            if fortran:  # not what np.savez writes for a C array; read it whole
                data = np.load(path, allow_pickle=False)["data"]
                yield (shape[0], shape[2]), dtype, data
            else:
                yield (shape[0], shape[2]), dtype, member


def knn_shape(path: str | os.PathLike) -> tuple[int, int]:
    """(N, K) of a kNN file, from its header."""
    with _open_knn(path) as (shape, _, _):
        return shape


def iter_knn(path: str | os.PathLike, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first row, ids int64, distances float32) of a kNN file, ``chunk_rows`` rows at a time, in order.

    The values are :func:`load_knn`'s; the file is streamed, never held whole.
    """
    with _open_knn(path) as ((n, k), dtype, source):
        for start in range(0, n, chunk_rows):
            rows = min(chunk_rows, n - start)
            if isinstance(source, np.ndarray):
                data = source[start:start + rows]
            else:
                raw = source.read(rows * 2 * k * dtype.itemsize)
                if len(raw) != rows * 2 * k * dtype.itemsize:
                    raise DataError(f"kNN file {path} ended early at row {start}: it is truncated; delete it so it is rebuilt.")
                data = np.frombuffer(raw, dtype=dtype).reshape(rows, 2, k)
            yield start, data[:, 0, :].astype(np.int64), data[:, 1, :].astype(np.float32)


def load_knn(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load a kNN file as (ids int64 N x K, distances float32 N x K); missing neighbours have id -1.

    Read in row chunks, so the file's (N, 2, K) array is never in memory beside the result.
    """
    n, k = knn_shape(path)
    ids = np.empty((n, k), dtype=np.int64)
    dists = np.empty((n, k), dtype=np.float32)
    for start, chunk_ids, chunk_dists in iter_knn(path):
        ids[start:start + len(chunk_ids)] = chunk_ids
        dists[start:start + len(chunk_ids)] = chunk_dists
    return ids, dists


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a text file atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


def save_links(path: str | os.PathLike, peer: np.ndarray, similarity: np.ndarray) -> None:
    """Save each vertex's chosen link (peer id or -1, cosine similarity) as ``.npz``, atomically."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, peer=peer.astype(np.int64), similarity=similarity.astype(np.float32))


def load_links(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as npz:
        return npz["peer"], npz["similarity"]


def save_array(path: str | os.PathLike, array: np.ndarray) -> None:
    """Save one array as ``.npy``, atomically (read it back with ``np.load(path, mmap_mode="r")``)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)
