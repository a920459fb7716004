"""Spill suppression: the backdrop's hue taken out of a cut-out's edge colours on a strongly coloured backdrop.

Unmixing (:func:`.matting.decontaminate`) solves ``I = a F + (1 - a) B`` for ``F`` with the matte's ``a``; where
the matte is a little too opaque (a model's edge: 0.60 where the truth is 0.52 along a green-screened flamingo's
legs, breaker11) part of ``B`` stays in ``F``, and on a green screen that part is a green rim, plain on any new
background. Keyers call this spill and limit the backdrop's hue in the edge colours (the classic green
limit ``G <= max(R, B)``). Here, for any backdrop hue: an edge colour may lean towards the backdrop's hue (its
chromaticity direction in linear RGB, away from grey) no more than the product's own colours do (the most
leaning twentieth of them), nor more than grey; the excess is taken out along that direction (light is kept: the
direction sums to zero).

Only where the backdrop is strongly coloured: its CIE chroma from ``SPILL_FROM`` (no change) to ``SPILL_FULL``
(full strength). Paper, a sweep or a wall (chroma under ~11) are never touched, so cut-outs on a neutral set stay
as they were to the bit. Only edge pixels come here (the matte's partial pixels): product pixels at alpha 1
keep the photo's colours.
"""

from __future__ import annotations

import numpy as np

from .colour import linear_to_lab

SPILL_FROM = 20.0  # CIE C*ab of the backdrop under which nothing is done: the papers, sweeps and walls of the real
# photos are 0-11 (90th percentile along their borders; azure_fork_18's beige paper 4-8); photo backdrops reach 20-47
SPILL_FULL = 40.0  # ... and from which the excess is taken out whole (chroma green (0, 177, 64): 82; a mid
# blue paper (51, 102, 204): 56)
SAMPLES = 4096  # sure product pixels the product's own lean is measured on
OWN_SHARE = 0.95  # ... at this quantile: a product leaning the backdrop's way in places keeps that lean at its edges
# (a red sorting board on a red-brown photo backdrop: median 0.10, 0.95 quantile 0.33; the green-screened flamingo's
# pink 0.02, the bulldog's grey 0.00: their rims' green still goes). 0.9 and 0.99 measured: the flamingo's edge band
# -3.2 and +4.3 ΔE towards green against its exact colours (0.95: -1.0); the board's 11.1 and 10.4 ΔE (0.95: 10.7)


def spill_strength(bg: np.ndarray) -> np.ndarray:
    """How much spill to take out beside each backdrop colour (float32 (N,) in [0, 1]): 0 under ``SPILL_FROM`` of
    CIE chroma, 1 from ``SPILL_FULL``. ``bg``: float (N, 3), linear light."""
    lab = linear_to_lab(bg)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    return np.clip((chroma - SPILL_FROM) / (SPILL_FULL - SPILL_FROM), 0.0, 1.0)


def product_sample(linear: np.ndarray, sure: np.ndarray) -> np.ndarray:
    """Up to ``SAMPLES`` of the product's sure pixels (float (M, 3), linear; ``sure``: bool h x w over ``linear``,
    float h x w x 3), evenly picked; one grey pixel when it has none."""
    picked = linear[sure]
    return picked[:: max(1, len(picked) // SAMPLES)] if len(picked) else np.full((1, 3), 0.5, np.float32)


def suppress_spill(fg: np.ndarray, bg: np.ndarray, product: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Edge colours without the backdrop's spill (float32 (N, 3), linear light in [0, 1]).

    ``fg``: float (N, 3) linear, the unmixed colours of edge pixels; ``bg``: float (N, 3) linear, the backdrop's
    colour near each; ``product``: float (M, 3) linear, the product's own sure colours (:func:`product_sample`: the
    local estimate near a thin part is made of rim pixels, green on a green screen); ``strength``: float (N,),
    :func:`spill_strength` of ``bg``. The product's own lean is the ``OWN_SHARE`` quantile of its colours' along the
    backdrop's median hue: a red product on a red backdrop keeps the red of its reddest parts at its edges.
    """
    hue = bg - bg.mean(axis=1, keepdims=True)  # the backdrop's chromaticity direction: sums to zero
    hue /= np.maximum(np.linalg.norm(hue, axis=1, keepdims=True), 1e-6)
    typical = np.median(hue[strength > 0], axis=0)
    typical /= max(float(np.linalg.norm(typical)), 1e-6)
    own = max(float(np.quantile(product @ typical, OWN_SHARE)), 0.0)
    lean = np.einsum("nc,nc->n", fg, hue)
    excess = strength * np.maximum(lean - own, 0.0)
    return np.clip(fg - excess[:, None] * hue, 0.0, 1.0).astype(np.float32)
