"""Smooth seeded noise fields (value noise, numpy only) for synthetic terrain."""

from __future__ import annotations

import numpy as np


def _smoothstep(t: np.ndarray) -> np.ndarray:
    return t * t * (3.0 - 2.0 * t)


def value_noise(
    rng: np.random.Generator, shape: tuple[int, int], scale: float, dtype: type = np.float32
) -> np.ndarray:
    """Noise in [-1, 1] on a (rows, cols) grid with features about `scale` cells wide."""
    rows, cols = shape
    scale = max(float(scale), 1.0)
    lattice = rng.uniform(-1.0, 1.0, size=(int(rows / scale) + 2, int(cols / scale) + 2))
    lattice = lattice.astype(dtype)
    r = np.arange(rows, dtype=np.float64) / scale
    c = np.arange(cols, dtype=np.float64) / scale
    r0 = r.astype(np.int64)
    c0 = c.astype(np.int64)
    tr = _smoothstep(r - r0).astype(dtype)[:, None]
    tc = _smoothstep(c - c0).astype(dtype)[None, :]
    # Separable interpolation: first along columns for the two lattice rows, then along rows.
    top = lattice[r0][:, c0] * (1 - tc) + lattice[r0][:, c0 + 1] * tc
    bottom = lattice[r0 + 1][:, c0] * (1 - tc) + lattice[r0 + 1][:, c0 + 1] * tc
    return top * (1 - tr) + bottom * tr


def fractal_noise(
    rng: np.random.Generator,
    shape: tuple[int, int],
    scales: tuple[float, ...],
    gains: tuple[float, ...],
    dtype: type = np.float32,
) -> np.ndarray:
    """Sum of value-noise octaves: scales in cells, gains as amplitudes."""
    out = np.zeros(shape, dtype=dtype)
    for scale, gain in zip(scales, gains, strict=True):
        out += dtype(gain) * value_noise(rng, shape, scale, dtype)
    return out


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """Hermite step from 0 at edge0 to 1 at edge1."""
    t = np.clip((np.asarray(x) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return _smoothstep(t)
