"""Colour conversions shared by the imaging modules: sRGB <-> linear light and CIE Lab (D65).

All functions take and return numpy arrays; 8-bit inputs go through lookup tables so that the hot paths
(compositing a 1024² canvas, converting an analysis image) cost a few milliseconds.
"""

from __future__ import annotations

from functools import cache

import numpy as np

# sRGB (D65) -> XYZ, rows X, Y, Z; XYZ already divided by the D65 white so that white maps to (1, 1, 1).
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float64,
)
_D65 = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZN = (_RGB_TO_XYZ / _D65[:, None]).astype(np.float32)


def _srgb_to_linear_exact(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb_exact(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)


@cache
def _decode_lut() -> np.ndarray:
    return _srgb_to_linear_exact(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)


_ENCODE_STEPS = 65535


@cache
def _encode_lut() -> np.ndarray:
    lin = np.arange(_ENCODE_STEPS + 1, dtype=np.float64) / _ENCODE_STEPS
    return np.round(_linear_to_srgb_exact(lin) * 255.0).astype(np.uint8)


def to_linear(rgb8: np.ndarray) -> np.ndarray:
    """8-bit sRGB values -> float32 linear light in [0, 1] (any shape)."""
    return _decode_lut().take(rgb8)  # take: the same values as indexing, ~25% faster


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Float linear light (clipped to [0, 1]) -> 8-bit sRGB (any shape), via a 65536-entry table.

    The table is fine enough that ``to_srgb8(to_linear(x)) == x`` for every 8-bit value.
    """
    # In place on one temporary (scaling before clipping gives the same indices): ~20% faster than
    # clip(linear, 0, 1) * steps + 0.5, which made three.
    idx = np.asarray(np.asarray(linear) * np.float32(_ENCODE_STEPS))
    np.clip(idx, 0.0, _ENCODE_STEPS, out=idx)
    idx += 0.5
    return _encode_lut().take(idx.astype(np.uint16))


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB (..., 3) float -> CIE Lab (..., 3) float32 under D65 (L in [0, 100])."""
    xyz = linear.astype(np.float32, copy=False) @ _RGB_TO_XYZN.T
    eps = 216 / 24389
    kappa = 24389 / 27
    # The cube root everywhere, the linear segment only where it applies (the darkest colours): the same float32
    # values as choosing between both planes computed whole, ~1.5 ms less on a 640 x 480 analysis grid.
    f = np.cbrt(np.maximum(xyz, eps))
    dark = ~(xyz > eps)
    if dark.any():
        f[dark] = (kappa * xyz[dark] + 16) / 116
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def srgb8_to_lab(rgb8: np.ndarray) -> np.ndarray:
    """8-bit sRGB (..., 3) -> CIE Lab float32."""
    return linear_to_lab(to_linear(rgb8))


def luminance(linear: np.ndarray) -> np.ndarray:
    """Relative luminance Y of linear RGB (..., 3)."""
    return linear.astype(np.float32, copy=False) @ _RGB_TO_XYZ[1].astype(np.float32)
