"""Reading and writing the learn-to-cluster file formats.

* features: ``.bin`` (raw row-major float32, N x D, no header) or ``.npy`` (N x D float array);
* labels: ``.meta`` text, one integer label per line, same order as the features;
* kNN graphs: ``.npz`` with an array ``data`` of shape (N, 2, K): row 0 the neighbour ids, row 1
  the cosine distances ``1 - similarity``, each row sorted by distance (the original project's
  ``knns/NAME/faiss_k_K.npz``); above 2**24 rows also an exact integer ``ids`` (N, K) member.
  Every read is checked (ids -1 or 0..N-1, finite distances, sorted rows: :func:`check_knn_rows`).

Every writer goes through :func:`atomic_output`, so a crash never leaves a half-written file.

Large files are also read and written in row chunks (:func:`iter_features`, :func:`iter_knn`,
:func:`npy_row_writer`) by plain file reads and writes, not memory maps: at MS1M 5.21M scale a
whole-file copy (or a mapping whose touched pages all count as the process's resident memory) is
gigabytes that no stage needs at once.
"""
from __future__ import annotations

import contextlib
import glob
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


def _umask() -> int:
    """The process's umask (read by setting and restoring it: there is no other way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def honour_umask(path: str | os.PathLike, mode: int = 0o666) -> None:
    """Give ``path`` the permissions a plain ``open()`` would: ``mode`` less the user's umask.

    ``tempfile`` creates its files 0600 whatever the umask, which would leave results, models and
    downloads unreadable to colleagues on a shared cluster file system.
    """
    os.chmod(path, mode & ~_umask())


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds.

    The file gets the user's umask (as ``open()`` would give it). A temporary file that an earlier,
    killed writer of the same ``path`` left behind (``.<name>.<random>.tmp``) is removed first: a
    Snakemake job is the only writer of its outputs, so such a file is an orphan.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for orphan in path.parent.glob(f".{glob.escape(path.name)}.{'?' * 8}.tmp"):  # mkstemp's 8 random characters
        with contextlib.suppress(OSError):
            orphan.unlink()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        honour_umask(tmp)
        os.replace(tmp, path)
    except OSError as err:
        if not err.filename:  # a write that failed (e.g. a full disk) names no file: name the output
            err.filename = str(path)
        raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_features(path: str | os.PathLike, dim: int) -> np.ndarray:
    """Memory-map a feature file as an (N, dim) float32 array (``.npy`` of another float dtype is cast).

    Raises :class:`DataError` when the file cannot be an N x dim float32 matrix.
    """
    feats = _map_features(path, dim)
    return feats if feats.dtype == np.float32 else feats.astype(np.float32)


NPY_MAGIC = b"\x93NUMPY"


def _check_is_file(path: Path, what: str) -> None:
    """Raise :class:`DataError` unless ``path`` is an existing file (``what``: "Feature" or "Label")."""
    if path.is_dir():
        raise DataError(f"{what} file {path} is a folder, not a file: set the dataset's path to the "
                        f"{what.lower()} file itself (in the learn-to-cluster layout, "
                        f"{'features/NAME.bin' if what == 'Feature' else 'labels/NAME.meta'} under data_dir).")
    if not path.is_file():
        raise DataError(f"{what} file {path} does not exist: check the path in the dataset's config.")


def _map_features(path: str | os.PathLike, dim: int) -> np.ndarray:
    """:func:`read_features` without the cast: the checked memory map, in the file's float dtype.

    A ``.npy`` must start with the numpy header and hold an N x dim float array (no objects), whole; any
    other file is raw float32 rows of ``dim`` values (and must not start with a ``.npy`` header).
    """
    path = Path(path)
    _check_is_file(path, "Feature")
    size = path.stat().st_size
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
        if path.suffix == ".npy":
            if magic != NPY_MAGIC:
                raise DataError(
                    f"Feature file {path} has no .npy header (it does not start with the bytes \\x93NUMPY): "
                    f"if it holds raw float32 rows, rename it to .bin, otherwise re-save the features with numpy.save.")
            f.seek(0)
            try:
                shape, fortran, dtype = _read_npy_header(f)
            except (ValueError, OSError, SyntaxError) as err:
                raise DataError(f"Feature file {path} has a damaged .npy header ({err}): "
                                f"re-save the features with numpy.save.") from None
            data_offset = f.tell()
    if path.suffix != ".npy":
        if magic == NPY_MAGIC:
            raise DataError(f"Feature file {path} starts with a .npy header, so it is a numpy file, not raw float32 "
                            f"rows: rename it to .npy (or set the dataset's features path to a .npy name).")
        row_bytes = dim * 4
        if size == 0:
            raise DataError(f"Feature file {path} is empty: re-export the features (N x {dim} float32 rows).")
        if size % row_bytes:
            raise DataError(
                f"Feature file {path} has {size} bytes, not a multiple of dim*4 = {row_bytes} "
                f"(N x {dim} float32 rows): the file is truncated, the dataset's dim is wrong or the values "
                f"are not float32.")
        return np.memmap(path, dtype=np.float32, mode="r", shape=(size // row_bytes, dim))
    if dtype.hasobject:
        raise DataError(f"Feature file {path} holds Python objects (a pickled object array), not numbers: "
                        f"re-save the features as an N x {dim} float32 array with numpy.save.")
    if len(shape) != 2 or shape[1] != dim:
        raise DataError(
            f"Feature file {path} holds an array of shape {shape}, not N x {dim}: "
            f"set the dataset's dim to the feature width or re-export the features as N x {dim}.")
    if not np.issubdtype(dtype, np.floating):
        raise DataError(f"Feature file {path} holds {dtype} values, not floats: save the features as float32.")
    needed = data_offset + shape[0] * shape[1] * dtype.itemsize
    if size < needed:
        raise DataError(f"Feature file {path} is truncated: its header says {shape[0]} x {shape[1]} {dtype} "
                        f"({needed} bytes) but it has {size} bytes; re-save the features with numpy.save.")
    if shape[0] == 0:
        raise DataError(f"Feature file {path} holds no rows (shape {shape}): re-export the features.")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        raise DataError(f"Feature file {path} is not a readable .npy array ({err}): re-save it with numpy.save.") from None


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
    """Read a ``.meta`` file (one integer per line) as an int64 array of shape (N,).

    Accepted: Windows (``\\r\\n``) or old Mac (``\\r``) line endings, a UTF-8 or UTF-16 byte-order mark,
    spaces around a label, trailing blank lines. Raises :class:`DataError` (one sentence with the line
    number) for a missing file, a folder, an empty or binary file, and any line that is not exactly one
    64-bit integer (a header line, a blank line, ``3.0``, two labels on a line).
    """
    path = Path(path)
    _check_is_file(path, "Label")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (e.g. Windows Notepad's "Unicode")
        data = data.decode("utf-16", errors="replace").encode("utf-8", errors="replace")
    data = data.removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    if b"\0" in data[:4096]:
        raise DataError(f"Label file {path} holds binary data, not text: write one integer label per line "
                        f"(from a numpy array: numpy.savetxt(path, labels, fmt='%d')).")
    if b"\n" not in data:
        data = data.replace(b"\r", b"\n")
    data = data.rstrip()
    tokens = data.split()
    if not tokens:
        raise DataError(f"Label file {path} is empty: write one integer label per line, one per feature row "
                        f"(or set the split's labels to null for an unlabelled split).")
    if len(tokens) == data.count(b"\n") + 1:  # one token per line
        try:
            return np.array(tokens, dtype=np.int64)
        except (ValueError, OverflowError):
            pass
    lines = data.split(b"\n")
    bad = next(i for i, line in enumerate(lines) if not _is_int(line))
    text = lines[bad].decode("utf-8", errors="replace").strip()
    shown = repr(text if len(text) <= 40 else text[:40] + "...")
    if not text:
        fix = "remove the blank line (every line is one feature row's label)"
    elif bad == 0 and len(lines) > 1 and any(c.isalpha() for c in text) and _is_int(lines[1]):
        fix = "remove the header line (a .meta file holds only the labels, one integer per line)"
    elif text.lstrip("+-").isdigit():
        fix = "labels must fit a 64-bit integer; renumber them"
    elif _is_float(text):
        fix = "write the labels as integers (numpy.savetxt(path, labels, fmt='%d'))"
    else:
        fix = "write exactly one integer label per line"
    raise DataError(f"Label file {path} line {bad + 1} is {shown}, not one integer: {fix}.")


def _is_int(text: str | bytes) -> bool:
    """Whether ``text`` is one integer (spaces around it allowed) that fits int64."""
    try:
        value = int(text)
    except ValueError:
        return False
    return -2 ** 63 <= value < 2 ** 63


def _is_float(text: str) -> bool:
    try:
        float(text)
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


#: Largest row count whose neighbour ids the original format's float32 ``data`` array holds exactly
#: (every integer up to 2**24 is a float32). A kNN file with more rows also gets an integer member
#: ``ids`` (N x K, int32 or int64) beside ``data``, which :func:`iter_knn` reads instead.
KNN_FLOAT32_ID_LIMIT = 2 ** 24


def save_knn(path: str | os.PathLike, ids: np.ndarray, dists: np.ndarray, chunk_rows: int = CHUNK_ROWS,
             n_ids: int | None = None) -> None:
    """Save neighbour ids and distances (both N x K) as the original project's ``data`` (N, 2, K) array.

    The ``.npz`` is written as ``np.savez`` writes it (one uncompressed member ``data.npy``, float32),
    ``chunk_rows`` rows at a time, so the stacked (N, 2, K) array is never built whole. Above
    :data:`KNN_FLOAT32_ID_LIMIT` rows (or ``n_ids``, the rows searched, for a query shard) the exact
    ids also go in a member ``ids.npy``.
    """
    if dists.shape != ids.shape:
        raise ValueError(f"ids {ids.shape} and dists {dists.shape} differ in shape")
    n, k = ids.shape
    save_knn_chunks(path, n, k, ((ids[s:s + chunk_rows], dists[s:s + chunk_rows]) for s in range(0, n, chunk_rows)),
                    n_ids)


def save_knn_chunks(path: str | os.PathLike, n: int, k: int,
                    chunks: Iterable[tuple[np.ndarray, np.ndarray]], n_ids: int | None = None) -> None:
    """:func:`save_knn` from consecutive blocks of rows (ids, dists), e.g. the :func:`iter_knn` of
    query shards one after the other: the file is written as the blocks come, atomically, and only
    if they add up to ``n`` rows of ``k`` neighbours. Above :data:`KNN_FLOAT32_ID_LIMIT` rows the
    exact ids are kept in a temporary file beside ``path`` and then copied into the member ``ids.npy``
    (a zip is written one member at a time)."""
    n_ids = n if n_ids is None else n_ids
    exact = n_ids > KNN_FLOAT32_ID_LIMIT
    id_dtype = np.int32 if n_ids <= np.iinfo(np.int32).max else np.int64
    written = 0
    with atomic_output(path) as tmp, open(tmp, "wb") as f, contextlib.ExitStack() as stack, \
            zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        side = stack.enter_context(tempfile.TemporaryFile(dir=Path(tmp).parent)) if exact else None
        with zf.open("data.npy", "w", force_zip64=True) as out:
            _write_npy_header(out, (n, 2, k), np.float32)
            for ids, dists in chunks:
                if ids.shape != dists.shape or ids.ndim != 2 or ids.shape[1] != k or written + len(ids) > n:
                    raise ValueError(f"kNN rows of shape {ids.shape} / {dists.shape} do not fit ({n}, {k}) after {written} rows")
                out.write(np.stack([ids.astype(np.float32), dists.astype(np.float32)], axis=1).data)
                if side is not None:
                    side.write(np.ascontiguousarray(ids, dtype=id_dtype).data)
                written += len(ids)
            if written != n:
                raise ValueError(f"{written} of {n} kNN rows given")
        if side is not None:
            side.seek(0)
            with zf.open("ids.npy", "w", force_zip64=True) as out:
                _write_npy_header(out, (n, k), id_dtype)
                while block := side.read(1 << 24):
                    out.write(block)


def workflow_made(path: str | os.PathLike) -> str | None:
    """``path`` from its ``results/`` folder on (``results/<ds>/...``, as the rules name it) if it is a
    file that the workflow makes, else None (a user's file)."""
    parts = Path(path).parts
    tops = [i for i, part in enumerate(parts[:-2]) if part == "results"]
    return "/".join(parts[tops[-1]:]) if tops else None


def rebuild_hint(path: str | os.PathLike) -> str:
    """How to remake a damaged file, as the end of a one-sentence error.

    For a file the workflow makes, ``--forcerun`` of that file (found by experiment with Snakemake 9:
    after a plain delete, a run whose final target is already there says "Nothing to be done";
    ``--forcerun PATH`` rebuilds the file, and what reads it, whether it is still there or not).
    """
    made = workflow_made(path)
    if made is None:
        return "re-create it with the script that wrote it"
    return f"rebuild it with `snakemake --cores N --forcerun {made}` (add your target, if any)"


def _knn_error(path, err, fix: str | None = None) -> DataError:
    return DataError(f"kNN file {path} is not an .npz with an array 'data' ({err}): {fix or rebuild_hint(path)}.")


class _KnnMembers:
    """The open members of a kNN ``.npz``: ``data`` (N, 2, K) and, if there, the exact ``ids`` (N, K);
    each a stream left at its first data byte, or a whole array (a Fortran-ordered member)."""

    def __init__(self, path, n, k, data, dtype, ids=None, ids_dtype=None, fix=None):
        self.path, self.n, self.k, self.fix = path, n, k, fix
        self.data, self.dtype, self.ids, self.ids_dtype = data, dtype, ids, ids_dtype

    def _take(self, source, dtype, start, rows, shape):
        if isinstance(source, np.ndarray):
            return source[start:start + rows]
        import zlib  # what zipfile raises for a damaged compressed member

        size = rows * int(np.prod(shape)) * dtype.itemsize
        try:
            raw = source.read(size)
        except (zipfile.BadZipFile, EOFError, zlib.error) as err:  # a bad CRC, a cut or corrupt stream
            raise DataError(f"kNN file {self.path} is damaged at row {start} ({err}): "
                            f"{self.fix or rebuild_hint(self.path)}.") from None
        if len(raw) != size:
            raise DataError(f"kNN file {self.path} ended early at row {start}: it is truncated; "
                            f"{self.fix or rebuild_hint(self.path)}.")
        return np.frombuffer(raw, dtype=dtype).reshape(rows, *shape)

    def read(self, start: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``start:start + rows`` as (ids as stored, distances as stored); in order."""
        data = self._take(self.data, self.dtype, start, rows, (2, self.k))
        ids = data[:, 0, :] if self.ids is None else self._take(self.ids, self.ids_dtype, start, rows, (self.k,))
        return ids, data[:, 1, :]


def _member_header(zf, name, path, fix):
    """(stream, shape, fortran_order, dtype) of the ``.npy`` member ``name``."""
    import zlib

    member = zf.open(name)
    try:
        shape, fortran, dtype = _read_npy_header(member)
    except (ValueError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        member.close()
        raise _knn_error(path, err, fix) from None
    return member, shape, fortran, dtype


@contextlib.contextmanager
def _open_knn(path: str | os.PathLike, fix: str | None = None, n_ids: int | None = None):
    """The members of a kNN ``.npz`` (:class:`_KnnMembers`), checked against their headers.

    ``fix``: what the messages tell the user to do (default: rebuild it with Snakemake); ``n_ids``:
    the rows its ids name (default: its own rows), which float ids must hold exactly.
    """
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise _knn_error(path, err, fix) from None
    with zf, contextlib.ExitStack() as stack:
        names = set(zf.namelist())
        name = next((name for name in ("data.npy", "data") if name in names), None)  # np.load's look-up
        if name is None:
            raise _knn_error(path, "no member 'data.npy'", fix)
        member, shape, fortran, dtype = _member_header(zf, name, path, fix)
        stack.enter_context(member)
        if dtype.hasobject:
            raise DataError(
                f"kNN file {path} holds an object array (the original project's ragged rows of (ids, distances)), "
                f"which is read only from a precomputed kNN file in the data folder: {fix or rebuild_hint(path)}.")
        if len(shape) != 3 or shape[1] != 2:
            raise DataError(f"kNN file {path} holds shape {shape}, not (N, 2, K): {fix or rebuild_hint(path)}.")
        n, k = shape[0], shape[2]
        # a Fortran-ordered member (not what np.savez writes for a C array) is read whole
        data = np.load(path, allow_pickle=False)[name.removesuffix(".npy")] if fortran else member
        ids = ids_dtype = None
        id_name = next((name for name in ("ids.npy", "ids") if name in names), None)
        if id_name is not None:
            ids, id_shape, id_fortran, ids_dtype = _member_header(zf, id_name, path, fix)
            stack.enter_context(ids)
            if id_shape != (n, k) or ids_dtype.kind not in "iu":
                raise DataError(f"kNN file {path} has an 'ids' member of {id_shape} {ids_dtype}, not ({n}, {k}) "
                                f"integers: {fix or rebuild_hint(path)}.")
            if id_fortran:
                ids = np.load(path, allow_pickle=False)[id_name.removesuffix(".npy")]
        elif dtype.kind == "f" and (n if n_ids is None else n_ids) > _exact_integers(dtype):
            raise DataError(
                f"kNN file {path} names {n if n_ids is None else n_ids} rows but stores its neighbour ids as {dtype}, "
                f"exact only up to {_exact_integers(dtype)}, and has no exact 'ids' member: {fix or rebuild_hint(path)}.")
        yield _KnnMembers(path, n, k, data, dtype, ids, ids_dtype, fix)


def _exact_integers(dtype: np.dtype) -> int:
    """Largest integer up to which a float dtype holds every integer exactly (float32: the module limit)."""
    return KNN_FLOAT32_ID_LIMIT if dtype == np.float32 else 2 ** (np.finfo(dtype).nmant + 1)


def knn_shape(path: str | os.PathLike, fix: str | None = None) -> tuple[int, int]:
    """(N, K) of a kNN file, from its header (:class:`DataError`, advising ``fix``, if it is not a kNN file)."""
    with _open_knn(path, fix) as members:
        return members.n, members.k


def check_knn_rows(path, start: int, ids: np.ndarray, dists: np.ndarray, n: int, require_sorted: bool = True,
                   fix: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Checked rows ``start:start + len(ids)`` of a kNN file of ``n`` rows: (ids int64, dists float32).

    ``ids`` (as stored: float or integer) must be -1 or a row 0..n-1 (a split searched against itself);
    a neighbour's distance must be finite; with ``require_sorted`` each row's neighbours must come in
    increasing distance (missing ones, id -1, are skipped). Missing neighbours get distance +inf.
    Raises :class:`DataError` (one sentence naming ``path``; ``fix`` says what to do) otherwise.
    Vectorised, with a fast path (reductions and one diff) for the usual chunk: a few passes over it.
    """
    fix = fix or rebuild_hint(path)
    low, high = (ids.min(), ids.max()) if ids.size else (0, 0)  # NaN ids make both NaN
    if not (low >= -1 and high < n) or (ids.dtype.kind == "f" and not (np.trunc(ids) == ids).all()):
        bad = ~((ids >= -1) & (ids < n))  # NaN ids fail both comparisons
        if ids.dtype.kind == "f":
            bad |= ids != np.floor(ids)
        row, col = np.argwhere(bad)[0]
        wrong = ids[bad]
        if ((wrong >= n) & (wrong == np.floor(wrong))).all():  # whole ids past the end (NaN is neither)
            raise DataError(
                f"kNN file {path} names neighbour ids up to {int(wrong.max())} but its split has only {n} rows "
                f"(0..{n - 1}), so it was searched against other (more) features than the split's own: {fix}.")
        raise DataError(f"kNN file {path} row {start + row} has neighbour id {float(ids[row, col]):g}, not -1 or a "
                        f"row number 0..{n - 1}: {fix}.")
    ids = ids.astype(np.int64)
    dists = np.array(dists, dtype=np.float32)
    missing = low < 0
    valid = ids >= 0 if missing else None
    finite = np.isfinite(dists)
    if not finite.all():
        broken = ~finite if valid is None else valid & ~finite
        if broken.any():
            row, col = np.argwhere(broken)[0]
            raise DataError(f"kNN file {path} row {start + row} has distance {dists[row, col]} for neighbour "
                            f"{ids[row, col]}, not a finite number: {fix}.")
    if missing:
        dists[~valid] = np.inf
    if require_sorted and dists.shape[1] > 1:
        if missing:  # compare each neighbour with the largest valid distance before it
            shown = np.where(valid, dists, -np.inf)
            unsorted = (valid & (shown < np.maximum.accumulate(shown, axis=1))).any(axis=1)
        else:
            unsorted = (dists[:, 1:] < dists[:, :-1]).any(axis=1)
        if unsorted.any():
            raise DataError(f"kNN file {path} row {start + int(np.argmax(unsorted))} is not sorted by increasing "
                            f"distance: {fix}.")
    return ids, dists


def iter_knn(path: str | os.PathLike, chunk_rows: int = CHUNK_ROWS, require_sorted: bool = True,
             fix: str | None = None, n_ids: int | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(first row, ids int64, distances float32) of a kNN file, ``chunk_rows`` rows at a time, in order.

    The values are :func:`load_knn`'s; the file is streamed, never held whole. Every chunk is checked
    (:func:`check_knn_rows`: ids -1 or 0..N-1, finite distances, rows sorted unless not
    ``require_sorted``), so no consumer sees a kNN of another set of features; a bad file raises
    :class:`DataError` naming it. ``fix`` replaces the message's advice (rebuild it with Snakemake).
    ``n_ids``: the rows searched, where they are not the file's own rows (a query shard: all N).
    """
    with _open_knn(path, fix, n_ids) as members:
        for start in range(0, members.n, chunk_rows):
            rows = min(chunk_rows, members.n - start)
            ids, dists = members.read(start, rows)
            yield (start, *check_knn_rows(path, start, ids, dists, members.n if n_ids is None else n_ids,
                                          require_sorted, fix))


def load_knn(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load a kNN file as (ids int64 N x K, distances float32 N x K); missing neighbours have id -1
    and distance +inf. Checked as :func:`iter_knn` checks it (:class:`DataError`).

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


def write_curve(path: str | os.PathLike, curve: list[dict], formats: dict[str, str] | None = None) -> None:
    """A training curve (one dict per epoch or logged step, the same keys in each) as a TSV with a header
    row, atomically; ``formats``: column -> format string (e.g. ``"{:.6f}"``), others ``str``."""
    formats = formats or {}
    columns = list(curve[0]) if curve else []
    rows = ["\t".join(columns)] + ["\t".join(formats.get(c, "{}").format(r[c]) for c in columns) for r in curve]
    write_text(path, "\n".join(rows) + "\n")


def write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    write_text(path, json.dumps(obj, indent=2) + "\n")


def save_links(path: str | os.PathLike, peer: np.ndarray, similarity: np.ndarray) -> None:
    """Save each vertex's chosen link (peer id or -1, cosine similarity) as ``.npz``, atomically."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, peer=peer.astype(np.int64), similarity=similarity.astype(np.float32))


def load_links(path: str | os.PathLike, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(peer int64, similarity float32) of a links ``.npz`` (:func:`save_links`), checked: readable,
    both of length ``n`` (if given), peers in [-1, n), similarities finite where there is a peer.
    Raises :class:`DataError` naming the file and how to remake it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Links file {path} does not exist: {rebuild_hint(path)}.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            peer, sim = npz["peer"], npz["similarity"]
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise DataError(f"Links file {path} is truncated or corrupt ({err}): {rebuild_hint(path)}.") from None
    size = len(peer) if peer.ndim == 1 else -1
    if (peer.ndim != 1 or sim.shape != peer.shape or (n is not None and size != n)
            or not np.issubdtype(peer.dtype, np.integer) or not np.issubdtype(sim.dtype, np.floating)):
        raise DataError(f"Links file {path} does not hold {n if n is not None else 'N'} integer peers and "
                        f"similarities (peer {peer.dtype}{peer.shape}, similarity {sim.dtype}{sim.shape}): "
                        f"{rebuild_hint(path)}.")
    linked = peer >= 0
    if (peer < -1).any() or (peer >= len(peer)).any() or not np.isfinite(sim[linked]).all():
        raise DataError(f"Links file {path} holds peers outside [-1, {len(peer)}) or non-finite similarities: "
                        f"{rebuild_hint(path)}.")
    return peer.astype(np.int64, copy=False), sim.astype(np.float32, copy=False)


def check_finite(array: np.ndarray, what: str, path, chunk_rows: int = 65536) -> None:
    """Raise :class:`DataError` naming ``what`` and ``path`` if ``array`` (read by blocks of rows, so
    a memory map stays unread beside the check) holds NaN or infinity."""
    bad = sum(int((~np.isfinite(array[s:s + chunk_rows])).sum()) for s in range(0, len(array), chunk_rows))
    if bad:
        raise DataError(f"{what} {path} holds {bad} NaN or infinite values: {rebuild_hint(path)}.")


def load_array(path: str | Path, what: str, shape: tuple, *, mmap: bool = False) -> np.ndarray:
    """A float ``.npy`` intermediate file, checked: readable (not truncated), of ``shape`` (``None``
    entries match anything, e.g. ``(n, None)``), finite. ``what`` names the file in the error
    ("GCN-V confidence file"); every failure is one :class:`DataError` sentence saying how to remake it.
    With ``mmap`` the array is a read-only memory map (checked by blocks of rows)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist: {rebuild_hint(path)}.")
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataError(f"{what} {path} is truncated or corrupt ({err}): {rebuild_hint(path)}.") from None
    if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
        raise DataError(f"{what} {path} does not hold a float array: {rebuild_hint(path)}.")
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
        raise DataError(f"{what} {path} holds shape {array.shape}, not {want} for the {shape[0]} points of its "
                        f"split (it was made from other data): {rebuild_hint(path)}.")
    check_finite(array, what, path)
    return array


def save_array(path: str | os.PathLike, array: np.ndarray) -> None:
    """Save one array as ``.npy``, atomically (read it back with ``np.load(path, mmap_mode="r")``)."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)
