"""Test products for the scene gallery and benchmark: a bottle, a box and a mug, drawn with shading on plain
light backgrounds (as a seller would photograph them), or as RGBA cut-outs."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = (600, 800)


def _shade_x(arr: np.ndarray, mask: np.ndarray, x0: float, x1: float, base: tuple[int, int, int]) -> None:
    xs = np.arange(arr.shape[1], dtype=np.float32)
    t = np.clip((xs - x0) / max(x1 - x0, 1), 0, 1)
    n = (t - 0.5) * 2
    shade = 0.55 + 0.45 * np.sqrt(np.clip(1 - n * n, 0, 1)) + 0.35 * np.exp(-(((t - 0.32) / 0.06) ** 2))
    colour = np.asarray(base, np.float32)[None, None, :] * shade[None, :, None]
    arr[mask] = np.clip(colour, 0, 255).astype(np.uint8).repeat(arr.shape[0], 0)[mask]


def bottle(rgba: bool = False, bg: tuple[int, int, int] = (246, 246, 244)) -> Image.Image:
    """A green glass bottle with a cream label and a gold cap."""
    w, h = SIZE
    m = Image.new("L", SIZE, 0)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle([200, 300, 400, 740], 40, fill=255)
    d.polygon([(215, 320), (385, 320), (330, 200), (270, 200)], fill=255)
    d.rectangle([268, 110, 332, 210], fill=255)
    mask = np.asarray(m) > 127
    arr = np.zeros((h, w, 3), np.uint8)
    _shade_x(arr, mask, 200, 400, (40, 110, 70))
    cap = np.zeros_like(mask)
    cap[100:160, 262:338] = True
    _shade_x(arr, cap, 262, 338, (200, 160, 70))
    label = np.zeros_like(mask)
    label[430:620, 200:400] = True
    label &= mask
    _shade_x(arr, label, 200, 400, (240, 228, 200))
    arr[500:520, 240:360] = (150, 40, 40)
    alpha = ((mask | cap) * 255).astype(np.uint8)
    return _finish(arr, alpha, rgba, bg)


def box(rgba: bool = False, bg: tuple[int, int, int] = (245, 244, 240)) -> Image.Image:
    """A carton box seen slightly from the side: front, side and top faces."""
    w, h = SIZE
    arr = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    faces = [
        ([(120, 260), (400, 260), (400, 720), (120, 720)], (214, 96, 60)),
        ([(400, 260), (500, 210), (500, 660), (400, 720)], (150, 62, 40)),
        ([(120, 260), (220, 210), (500, 210), (400, 260)], (236, 130, 92)),
    ]
    for poly, colour in faces:
        m = Image.new("L", SIZE, 0)
        ImageDraw.Draw(m).polygon(poly, fill=255)
        mk = np.asarray(m) > 127
        arr[mk] = colour
        alpha[mk] = 255
    band = np.zeros((h, w), bool)
    band[420:500, 120:400] = True
    arr[band] = (250, 240, 225)
    arr[445:475, 160:360] = (60, 60, 70)
    return _finish(arr, alpha, rgba, bg)


def mug(rgba: bool = False, bg: tuple[int, int, int] = (244, 244, 246)) -> Image.Image:
    """A blue ceramic mug with a handle."""
    w, h = SIZE
    m = Image.new("L", SIZE, 0)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle([140, 330, 420, 700], 30, fill=255)
    d.ellipse([370, 400, 520, 620], fill=255)
    d.ellipse([405, 440, 485, 580], fill=0)
    d.rectangle([140, 330, 420, 700], fill=255)
    mask = np.asarray(m) > 127
    arr = np.zeros((h, w, 3), np.uint8)
    _shade_x(arr, mask, 140, 420, (60, 100, 170))
    handle = mask.copy()
    handle[:, :421] = False
    arr[handle] = (50, 84, 150)
    rim = np.zeros_like(mask)
    rim[330:345, 140:421] = True
    arr[rim & mask] = (230, 236, 246)
    return _finish(arr, (mask * 255).astype(np.uint8), rgba, bg)


def _finish(arr: np.ndarray, alpha: np.ndarray, rgba: bool, bg: tuple[int, int, int]) -> Image.Image:
    a = np.asarray(Image.fromarray(alpha).filter(ImageFilter.GaussianBlur(0.8)))
    if rgba:
        return Image.fromarray(np.dstack([arr, a]), "RGBA")
    f = a[..., None].astype(np.float32) / 255
    out = arr.astype(np.float32) * f + np.asarray(bg, np.float32) * (1 - f)
    return Image.fromarray(out.round().astype(np.uint8), "RGB")


PRODUCTS = {"bottle": bottle, "box": box, "mug": mug}
