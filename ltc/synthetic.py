"""Seeded generator of MS1M-like face-embedding data (the workflow's embedded demo).

Each identity has a centre on the unit sphere; a sample is ``centre + spread * noise``, with the
noise partly in a low-dimensional subspace shared by all identities (pose, lighting), then
L2-normalised. What makes it hard enough for methods to differ:

* long-tailed identity sizes (log-normal, clipped), singletons included;
* identities of varying tightness (per-identity spread: same-identity cosine ~0.35 to ~0.75);
* look-alike pairs: a fraction of identities sit close to another one (centre cosine ~0.6-0.85);
* label noise: a few samples carry a wrong identity label.

Train and test splits are drawn from disjoint identity pools.
"""
from __future__ import annotations

import numpy as np


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
