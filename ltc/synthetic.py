"""Seeded generator of MS1M-like face-embedding data (the workflow's embedded demo).

Each identity has a centre on the unit sphere; a sample is ``centre + spread * noise``, with the
noise partly in a low-dimensional subspace shared by all identities (pose, lighting), then
L2-normalised. What makes it hard enough for methods to differ:

* long-tailed identity sizes (log-normal, clipped), singletons included;
* identities of varying tightness (per-identity spread: same-identity cosine ~0.35 to ~0.75);
* look-alike pairs: a fraction of identities sit close to another one (centre cosine ~0.6-0.85);
* label noise: a few samples carry a wrong identity label.

Train and test splits are drawn from disjoint identity pools.

:func:`write_split` streams a split of any size (MS1M's 5.21M points) to disk, identities chunk by
chunk, never holding more than one chunk's N x D float64 arrays.
"""
from __future__ import annotations

import os

import numpy as np

from ltc.io import atomic_output

#: identity sizes and tightness resembling MS-Celeb-1M's (about 68 points per identity, as
#: benchmarks/bench_gcnv.py and bench_skeleton.py draw them)
MS1M_SHAPE = {"mean_log_size": 3.9, "max_size": 2000, "min_spread": 0.5, "max_spread": 1.0, "nuisance_share": 0.3}


def identity_sizes(n_identities: int, rng: np.random.Generator, mean_log_size: float = 2.8,
                   sigma_log_size: float = 0.8, max_size: int = 300) -> np.ndarray:
    """Long-tailed sizes of ``n_identities`` identities (log-normal, clipped to [1, max_size])."""
    sizes = np.rint(rng.lognormal(mean_log_size, sigma_log_size, n_identities))
    return np.clip(sizes, 1, max_size).astype(np.int64)


def random_unit(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal((n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def make_split(n_identities: int, dim: int, rng: np.random.Generator, *, nuisance: np.ndarray,
               min_spread: float = 0.6, max_spread: float = 1.4, nuisance_share: float = 0.6,
               lookalike_fraction: float = 0.3, lookalike_cos: tuple[float, float] = (0.6, 0.85),
               label_noise: float = 0.02, **size_params) -> tuple[np.ndarray, np.ndarray]:
    """One split: (features float32 N x dim, unit rows; labels int64 0..n_identities-1)."""
    sizes = identity_sizes(n_identities, rng, **size_params)
    centres = random_unit(n_identities, dim, rng)
    # look-alikes: move some centres towards another identity's centre
    n_look = int(round(lookalike_fraction * n_identities))
    movers = rng.choice(n_identities, n_look, replace=False)
    partners = (movers + rng.integers(1, n_identities, n_look)) % n_identities
    cos = rng.uniform(*lookalike_cos, n_look)[:, None]
    own = centres[movers] - (centres[movers] * centres[partners]).sum(1, keepdims=True) * centres[partners]
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    centres[movers] = cos * centres[partners] + np.sqrt(1 - cos ** 2) * own

    labels = np.repeat(np.arange(n_identities), sizes)
    spread = rng.uniform(min_spread, max_spread, n_identities)[labels][:, None]
    n = len(labels)
    isotropic = rng.standard_normal((n, dim)) / np.sqrt(dim)
    shared = rng.standard_normal((n, nuisance.shape[1])) / np.sqrt(nuisance.shape[1]) @ nuisance.T
    noise = np.sqrt(1 - nuisance_share) * isotropic + np.sqrt(nuisance_share) * shared
    feats = centres[labels] + spread * noise
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)

    noisy = rng.random(n) < label_noise
    labels = labels.copy()
    labels[noisy] = (labels[noisy] + rng.integers(1, n_identities, noisy.sum())) % n_identities
    order = rng.permutation(n)
    return feats[order].astype(np.float32), labels[order]


def make_dataset(n_train_identities: int, n_test_identities: int, dim: int = 256, seed: int = 0,
                 nuisance_dim: int = 16, **split_params) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train and test splits with disjoint identities: ``{"train": (feats, labels), "test": ...}``.

    Test labels are offset by the train identity count, so no label value is shared.
    """
    rng = np.random.default_rng(seed)
    nuisance = np.linalg.qr(rng.standard_normal((dim, nuisance_dim)))[0]
    train = make_split(n_train_identities, dim, rng, nuisance=nuisance, **split_params)
    feats, labels = make_split(n_test_identities, dim, rng, nuisance=nuisance, **split_params)
    return {"train": train, "test": (feats, labels + n_train_identities)}


def nuisance_basis(dim: int = 256, nuisance_dim: int = 16, seed: int = 0) -> np.ndarray:
    """Orthonormal basis (dim x nuisance_dim) of the shared nuisance subspace (pose, lighting)."""
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, nuisance_dim)))[0]


def write_split(features_path: str | os.PathLike, labels_path: str | os.PathLike, n_identities: int, *,
                dim: int = 256, seed: int = 0, n_points: int | None = None, chunk_identities: int = 1000,
                label_offset: int = 0, nuisance: np.ndarray | None = None, **split_params) -> dict:
    """Write one split (``.bin`` features, ``.meta`` labels, both atomically), identities chunk by chunk.

    Each chunk of about ``chunk_identities`` identities is :func:`make_split` with its own generator
    (seeded by ``seed`` and the chunk's number, so the output depends only on the arguments), all
    chunks sharing one nuisance subspace (``nuisance``, default :func:`nuisance_basis` of ``dim``).
    Look-alike pairs and label noise stay within a chunk, and rows are shuffled within a chunk
    (identities of one chunk come before those of the next). Labels are ``label_offset`` + 0, 1, ...

    ``n_identities`` identities are drawn; with ``n_points``, the split is cut at that many points,
    and more chunks are drawn if the identities gave fewer. ``split_params`` go to :func:`make_split`
    (e.g. ``**MS1M_SHAPE``). Memory: one chunk (about ``chunk_identities`` x mean size x dim x 8 bytes,
    a few times over). Returns ``{"n": points, "identities": identities drawn, "chunks": chunks}``.
    """
    if n_identities < 2 or chunk_identities < 2:
        raise ValueError("write_split needs n_identities >= 2 and chunk_identities >= 2")
    nuisance = nuisance_basis(dim) if nuisance is None else nuisance
    planned = np.diff(np.linspace(0, n_identities, max(1, n_identities // chunk_identities) + 1).round().astype(np.int64))
    written = drawn = chunk = 0
    with atomic_output(features_path) as feats_tmp, atomic_output(labels_path) as labels_tmp, \
            open(feats_tmp, "wb") as feats_out, open(labels_tmp, "w") as labels_out:
        while n_points is None or written < n_points:
            if chunk < len(planned):
                size = int(planned[chunk])
            elif n_points is not None:
                size = chunk_identities  # the identities gave too few points: draw more
            else:
                break
            feats, labels = make_split(size, dim, np.random.default_rng([seed, chunk]), nuisance=nuisance, **split_params)
            if n_points is not None:
                feats, labels = feats[:n_points - written], labels[:n_points - written]
            feats.tofile(feats_out)
            labels_out.write("".join(f"{label}\n" for label in (labels + label_offset + drawn).tolist()))
            written, drawn, chunk = written + len(feats), drawn + size, chunk + 1
    return {"n": written, "identities": drawn, "chunks": chunk}
