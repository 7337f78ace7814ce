"""Reading and writing the learn-to-cluster file formats.

* features: ``.bin`` (raw row-major float32, N x D, no header) or ``.npy`` (N x D float array);
* labels: ``.meta`` text, one integer label per line, same order as the features;
* kNN graphs: ``.npz`` with an array ``data`` of shape (N, 2, K): row 0 the neighbour ids, row 1
  the cosine distances ``1 - similarity``, each row sorted by distance (the original project's
  ``knns/NAME/faiss_k_K.npz``).

Every writer goes through :func:`atomic_output`, so a crash never leaves a half-written file.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ltc import DataError


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
        return feats if feats.dtype == np.float32 else feats.astype(np.float32)
    size = path.stat().st_size
    row_bytes = dim * 4
    if size == 0 or size % row_bytes:
        raise DataError(
            f"Feature file {path} has {size} bytes, not a multiple of dim*4 = {row_bytes} "
            f"(N x {dim} float32 rows): the file is truncated or the dataset's dim is wrong.")
    return np.memmap(path, dtype=np.float32, mode="r", shape=(size // row_bytes, dim))


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


def write_labels(path: str | os.PathLike, labels: np.ndarray) -> None:
    """Write one integer label per line, atomically."""
    text = "\n".join(np.asarray(labels, dtype=np.int64).astype(str))
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n" if len(labels) else "")


def write_features(path: str | os.PathLike, feats: np.ndarray) -> None:
    """Write an (N, D) float32 array as a raw ``.bin`` file, atomically."""
    with atomic_output(path) as tmp:
        np.ascontiguousarray(feats, dtype=np.float32).tofile(tmp)


def save_knn(path: str | os.PathLike, ids: np.ndarray, dists: np.ndarray) -> None:
    """Save neighbour ids and distances (both N x K) as the original project's ``data`` (N, 2, K) array."""
    data = np.stack([ids.astype(np.float32), dists.astype(np.float32)], axis=1)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, data=data)


def load_knn(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Load a kNN file as (ids int64 N x K, distances float32 N x K); missing neighbours have id -1."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = npz["data"]
    except (OSError, ValueError, KeyError) as err:
        raise DataError(f"kNN file {path} is not an .npz with an array 'data' ({err}): delete it so it is rebuilt.") from None
    if data.ndim != 3 or data.shape[1] != 2:
        raise DataError(f"kNN file {path} holds shape {data.shape}, not (N, 2, K): delete it so it is rebuilt.")
    return data[:, 0, :].astype(np.int64), data[:, 1, :].astype(np.float32)


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
