"""Generated surface textures (no shipped photos): wood, marble, concrete, linen, paper, sand.

Every texture is a function of plane coordinates (u, v), so the same code paints a flat wall or a table
seen in perspective (the caller maps pixels to (u, v)). All randomness comes from one
``numpy.random.Generator``: the same seed gives the same texture, bit for bit.
"""

from __future__ import annotations

import numpy as np

from .palettes import RGB

MATERIALS = ("wood", "marble", "concrete", "linen", "paper", "sand")
GRID = 64  # value-noise lattice side (wraps)
# A material's own colours (base, detail), used when a set or the prompt asks for a material that is not
# the palette's own surface (a marble slab in a cafe stays marble-coloured).
MATERIAL_COLOURS: dict[str, tuple[RGB, RGB]] = {
    "wood": ((176, 134, 92), (120, 82, 50)),
    "marble": ((238, 236, 232), (150, 150, 158)),
    "concrete": ((170, 168, 164), (128, 126, 124)),
    "linen": ((228, 218, 202), (200, 188, 170)),
    "paper": ((236, 234, 230), (222, 220, 214)),
    "sand": ((226, 206, 170), (196, 172, 134)),
}


class Noise:
    """Smooth value noise on a wrapping random lattice, with fractal sums (fBm)."""

    def __init__(self, rng: np.random.Generator, octaves: int = 4) -> None:
        self.grids = [rng.random((GRID, GRID), dtype=np.float32) for _ in range(octaves)]
        self.shifts = (rng.random((octaves, 2)) * GRID).astype(np.float32)

    def single(self, u: np.ndarray, v: np.ndarray, octave: int = 0) -> np.ndarray:
        """One octave in [0, 1] at (u, v) in lattice units."""
        flat = self.grids[octave].ravel()
        u = np.asarray(u + self.shifts[octave, 0], np.float32)
        v = np.asarray(v + self.shifts[octave, 1], np.float32)
        u0 = np.floor(u)
        v0 = np.floor(v)
        fu = u - u0
        fv = v - v0
        fu = fu * fu * (3 - 2 * fu)  # smoothstep: no visible lattice creases
        fv = fv * fv * (3 - 2 * fv)
        # GRID is a power of two: wrap with a bit mask, gather from the flat lattice (cheaper than 2-D indexing).
        i0 = u0.astype(np.int32) & (GRID - 1)
        j0 = (v0.astype(np.int32) & (GRID - 1)) * GRID
        i1 = (i0 + 1) & (GRID - 1)
        j1 = (j0 + GRID) & (GRID * GRID - 1)
        a, b = flat[j0 + i0], flat[j0 + i1]
        c, d = flat[j1 + i0], flat[j1 + i1]
        top = a + (b - a) * fu
        bottom = c + (d - c) * fu
        return top + (bottom - top) * fv

    def fbm(self, u: np.ndarray, v: np.ndarray, octaves: int | None = None, gain: float = 0.5) -> np.ndarray:
        """Fractal sum of octaves, normalised to [0, 1]."""
        n = len(self.grids) if octaves is None else min(octaves, len(self.grids))
        total = np.zeros(np.broadcast_shapes(np.shape(u), np.shape(v)), np.float32)
        amp, norm, freq = 1.0, 0.0, 1.0
        for k in range(n):
            total += np.float32(amp) * self.single(u * freq, v * freq, k)
            norm += amp
            amp *= gain
            freq *= 2.03  # not exactly 2: octaves do not line up
        return total / np.float32(norm)


def _blend(base: RGB, detail: RGB, t: np.ndarray) -> np.ndarray:
    """(..., 3) float32 sRGB-unit colours mixing ``base`` -> ``detail`` by ``t`` in [0, 1]."""
    b = np.asarray(base, np.float32) / 255
    d = np.asarray(detail, np.float32) / 255
    return b + (d - b) * np.clip(t, 0, 1)[..., None]


def wood(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Planks running left to right: growth rings warped by noise, fine fibres, a seam every plank."""
    plank_w = 1.6
    plank = np.floor(v / plank_w)
    warp = noise.fbm(u * 0.08, v * 0.9 + plank * 7.3, 3)
    rings = np.abs(np.sin((v * 2.6 + warp * 4.0 + plank * 1.7) * np.pi))
    rings = rings ** np.float32(6)  # thin dark latewood lines
    fibre = noise.single(u * 0.5, v * 28.0, 3)
    tint = (np.sin(plank * 12.9898) * 43758.5453) % 1.0  # per-plank shade, stable per plank
    t = 0.18 + 0.45 * rings + 0.25 * fibre + 0.22 * tint
    seam = np.abs((v / plank_w) - np.round(v / plank_w)) * plank_w
    t = np.where(seam < 0.025, 0.95, t)
    return _blend(base, detail, t)


def marble(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Soft clouding with a few long veins: a wide pale halo round a thin darker core, warped by turbulence
    so they wander and branch instead of running as parallel stripes."""
    turb = noise.fbm(u * 0.12, v * 0.12, 4)
    phase = np.sin((u * 0.11 + v * 0.07 + turb * 2.6) * np.pi)
    main = 0.45 * np.exp(-((phase / 0.16) ** 2)) + 0.55 * np.exp(-((phase / 0.035) ** 2))
    turb2 = noise.fbm(u * 0.3 + 5.0, v * 0.3, 3)
    branch = np.sin((u * 0.05 - v * 0.16 + turb2 * 3.4) * np.pi)
    fine = np.exp(-((branch / 0.03) ** 2)) * (turb2 > 0.45)
    cloud = noise.fbm(u * 0.35 + 11.0, v * 0.35, 3)
    t = 0.65 * main + 0.35 * fine + 0.2 * cloud
    return _blend(base, detail, t)


def concrete(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Mottled cement with small pits."""
    mottle = noise.fbm(u * 0.5, v * 0.5, 4)
    grain = noise.single(u * 9.0, v * 9.0, 2)
    pits = (noise.single(u * 5.0 + 3.0, v * 5.0, 3) > 0.86).astype(np.float32)
    t = 0.55 * mottle + 0.25 * grain + 0.35 * pits
    return _blend(base, detail, t)


def linen(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Plain weave with slub (uneven thread) and soft folds."""
    warp_threads = 0.5 + 0.5 * np.sin(u * 40.0 + noise.single(u * 0.4, v * 6.0, 1) * 3.0)
    weft_threads = 0.5 + 0.5 * np.sin(v * 40.0 + noise.single(u * 6.0, v * 0.4, 2) * 3.0)
    folds = noise.fbm(u * 0.25 + v * 0.1, v * 0.5, 3)
    t = 0.25 * warp_threads * weft_threads + 0.55 * folds + 0.15 * noise.single(u * 3, v * 3, 3)
    return _blend(base, detail, t)


def paper(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Seamless paper: almost flat, a faint cloudy tooth."""
    t = 0.35 * noise.fbm(u * 0.6, v * 0.6, 3) + 0.1 * noise.single(u * 12.0, v * 12.0, 3)
    return _blend(base, detail, t)


def sand(noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """Fine grains over wind ripples."""
    ripples = 0.5 + 0.5 * np.sin(v * 5.0 + noise.fbm(u * 0.3, v * 0.3, 3) * 5.0)
    grains = noise.single(u * 30.0, v * 30.0, 1)
    t = 0.35 * ripples + 0.4 * grains + 0.2 * noise.fbm(u * 0.8, v * 0.8, 2)
    return _blend(base, detail, t)


_PAINTERS = {"wood": wood, "marble": marble, "concrete": concrete, "linen": linen, "paper": paper, "sand": sand}


def texture(material: str, noise: Noise, u: np.ndarray, v: np.ndarray, base: RGB, detail: RGB) -> np.ndarray:
    """(..., 3) float32 sRGB colours in [0, 1] of ``material`` at plane coordinates (u, v)."""
    try:
        painter = _PAINTERS[material]
    except KeyError:
        raise ValueError(f"unknown material {material!r} (one of {', '.join(MATERIALS)})") from None
    return painter(noise, u, v, base, detail)
