"""Synthetic shadows as multiply layers (float32 H x W, 1 = no darkening) for the background.

Built from the placed product's silhouette on a low-resolution copy of the canvas (blurs are cheap
there) and upsampled. Kinds: ``soft`` (contact + ambient occlusion under the base, the default),
``hard`` (a crisper cast shadow falling back and to the right), ``floating`` (the product lifted, a
diffuse shadow below the gap), ``none``.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from .compose import ProductLayer

LOW_RES_SIDE = 256
FLOAT_LIFT = 0.06  # share of the canvas height a floating product is lifted by


def _silhouette(layer: ProductLayer, canvas: tuple[int, int], factor: float) -> np.ndarray:
    """The layer's alpha on a low-resolution canvas (float32)."""
    width, height = canvas
    lw, lh = max(1, round(width / factor)), max(1, round(height / factor))
    out = np.zeros((lh, lw), np.float32)
    h, w = layer.alpha.shape
    sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
    small = np.asarray(Image.fromarray(layer.alpha, mode="F").resize((sw, sh), Image.Resampling.BOX), dtype=np.float32)
    x0, y0 = round(layer.x / factor), round(layer.y / factor)
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + sw, lw), min(y0 + sh, lh)
    if cx0 < cx1 and cy0 < cy1:
        out[cy0:cy1, cx0:cx1] = small[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    return out


def _project(mask: np.ndarray, base: float, squash: float, shear: float = 0.0, shift: float = 0.0) -> np.ndarray:
    """Flatten ``mask`` vertically about the row ``base`` (factor ``squash``), shear the flattened part
    sideways (``shear`` px per px above the base), and move it down by ``shift`` rows."""
    out_base = base + shift
    matrix = np.array([[1 / squash, 0.0], [shear / squash, 1.0]])
    offset = np.array([base - out_base / squash, -shear * out_base / squash])
    return ndimage.affine_transform(mask, matrix, offset=offset, order=1, mode="constant", cval=0.0)


def shadow_layer(
    kind: str,
    layer: ProductLayer,
    canvas: tuple[int, int],
    product_box: tuple[int, int, int, int],
    strength: float = 1.0,
) -> np.ndarray | None:
    """Multiply layer for ``kind`` under the product whose canvas box is ``product_box``; None for none."""
    if kind == "none" or strength <= 0:
        return None
    width, height = canvas
    factor = max(1.0, max(width, height) / LOW_RES_SIDE)
    mask = _silhouette(layer, canvas, factor)
    left, top, right, bottom = (v / factor for v in product_box)
    pw, ph = max(right - left, 1.0), max(bottom - top, 1.0)
    size = max(pw, ph)
    if kind == "soft":
        base_only = mask.copy()
        base_only[: max(0, int(bottom - 0.15 * ph))] = 0  # contact comes from the bottom of the product
        ambient = _project(mask, bottom, 0.07, shift=0.035 * ph)
        ambient = ndimage.gaussian_filter(ambient, max(1.0, 0.035 * size))
        contact = _project(base_only, bottom, 0.08, shift=0.01 * ph)
        contact = ndimage.gaussian_filter(contact, max(0.6, 0.008 * size))
        dark = 0.45 * ambient + 0.45 * contact
    elif kind == "hard":
        cast = _project(mask, bottom, 0.35, shear=0.9)
        dark = 0.42 * ndimage.gaussian_filter(cast, max(0.5, 0.004 * size))
    elif kind == "floating":
        gap = FLOAT_LIFT * height / factor
        ellipse = _project(mask, bottom, 0.06, shift=gap)
        dark = 0.32 * ndimage.gaussian_filter(ellipse, max(1.5, 0.05 * size))
    else:
        raise ValueError(f"unknown shadow {kind!r}")
    dark = np.clip(dark * strength, 0.0, 0.85)
    out = np.ones((height, width), np.float32)
    rows = np.flatnonzero(dark.max(axis=1) > 1e-3)
    if rows.size == 0:
        return out
    cols = np.flatnonzero(dark.max(axis=0) > 1e-3)
    # Upsample only the shadow's own box (plus a pixel for the bilinear support) to the canvas.
    ly0, ly1 = max(rows[0] - 1, 0), min(rows[-1] + 2, dark.shape[0])
    lx0, lx1 = max(cols[0] - 1, 0), min(cols[-1] + 2, dark.shape[1])
    ky, kx = height / dark.shape[0], width / dark.shape[1]
    y0, y1 = round(ly0 * ky), min(height, round(ly1 * ky))
    x0, x1 = round(lx0 * kx), min(width, round(lx1 * kx))
    src = (x0 / kx, y0 / ky, x1 / kx, y1 / ky)
    plane = Image.fromarray((1.0 - dark).astype(np.float32), mode="F")
    out[y0:y1, x0:x1] = np.asarray(plane.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR, box=src))
    return out
