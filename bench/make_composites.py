"""Build real-photo composites with an exact reference matte, the way the two ``comp_*`` cases were made.

    .venv/bin/python bench/make_composites.py --cutouts DIR [--backdrops DIR] --out DIR

Each RGBA cut-out from a public repository (TripoSR / InstantMesh example folders: real or rendered objects
with a published alpha) is placed on a realistic backdrop with a soft cast shadow and a contact shadow,
composited in linear light (``I = a F + (1 - a) B S``, S the shadow's multiply layer), given sensor noise,
saved as JPEG (quality 90), downscaled to at most 800 px on the long side and saved again (quality 92),
exactly like the handed cases. The reference alpha (``NAME.alpha_gt.png``) is the cut-out's own alpha
through the same geometry. ``SOURCES.tsv`` in the output names the cut-out and the backdrop of every
composite (read from ``SOURCES.tsv`` files beside the inputs, ``file<TAB>origin`` per line).
``NAME.fg_gt.png`` holds the product's own colours at the photo's size (the reference for edge colours).

Backdrop families: ``paper`` (warm white, phone-light fall-off, paper grain), ``wall_table`` (two-tone set,
soft horizon), ``sweep`` (grey studio sweep), ``dark`` (dark grey, noisy), and the photos in ``--backdrops``
(real floors and scenes, used as they are). The data fetched for this is used locally and never committed.
"""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

FAMILIES = ("paper", "wall_table", "sweep", "dark")
SIZE = (1200, 900)  # composite size before the downscale to 800 px (landscape, like a phone photo)


def _lin(srgb8: np.ndarray) -> np.ndarray:
    v = srgb8.astype(np.float32) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _srgb8(lin: np.ndarray) -> np.ndarray:
    v = np.clip(lin, 0.0, 1.0)
    s = np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.clip(np.round(s * 255), 0, 255).astype(np.uint8)


def synthetic_backdrop(family: str, rng: np.random.Generator) -> np.ndarray:
    """A backdrop of ``family`` in linear light, float32 (H, W, 3)."""
    w, h = SIZE
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xs / w - 0.5, ys / h - 0.5
    cx, cy = rng.uniform(-0.25, 0.25), rng.uniform(-0.3, 0.1)
    falloff = 1.0 - rng.uniform(0.25, 0.45) * ((u - cx) ** 2 + (v - cy) ** 2) * 2.2  # light from a lamp/window
    if family == "paper":
        base = np.array([0.78, 0.72, 0.62]) * rng.uniform(0.85, 1.0)
        grain = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)).astype(np.float32), 1.2) * 0.012
        img = base[None, None] * (falloff + grain)[..., None]
    elif family == "wall_table":
        horizon = h * rng.uniform(0.55, 0.7)
        t = 1 / (1 + np.exp(np.clip(-(ys - horizon) / rng.uniform(2.0, 8.0), -60, 60)))
        wall = np.array([0.55, 0.55, 0.58]) * rng.uniform(0.6, 1.0)
        table = np.array([0.30, 0.26, 0.22]) * rng.uniform(0.7, 1.4)
        img = (wall[None, None] * (1 - t)[..., None] + table[None, None] * t[..., None]) * falloff[..., None]
    elif family == "sweep":
        grey = rng.uniform(0.35, 0.65)
        img = np.repeat((grey * (0.8 + 0.35 * (ys / h)) * falloff)[..., None], 3, axis=2)
    elif family == "dark":
        grey = rng.uniform(0.02, 0.05)
        img = np.repeat((grey * falloff + rng.normal(0, 0.004, (h, w)))[..., None], 3, axis=2)
    else:
        raise ValueError(family)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def photo_backdrop(path: Path, rng: np.random.Generator) -> np.ndarray:
    """A real photo cropped to the composite's aspect and resized, in linear light."""
    img = Image.open(path).convert("RGB")
    w, h = SIZE
    scale = max(w / img.width, h / img.height)
    img = img.resize((max(w, round(img.width * scale)), max(h, round(img.height * scale))), Image.Resampling.LANCZOS)
    x0 = int(rng.integers(0, img.width - w + 1))
    y0 = int(rng.integers(0, img.height - h + 1))
    return _lin(np.asarray(img.crop((x0, y0, x0 + w, y0 + h))))


def place_cutout(rgba: Image.Image, height_share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The cut-out's colour (linear) and alpha on the composite's grid, the product ``height_share`` of the
    frame high, near the centre."""
    w, h = SIZE
    bbox = rgba.getchannel("A").getbbox()
    if bbox is None:
        raise ValueError("empty cut-out")
    obj = rgba.crop(bbox)
    k = min(height_share * h / obj.height, 0.8 * w / obj.width)
    obj = obj.resize((max(1, round(obj.width * k)), max(1, round(obj.height * k))), Image.Resampling.LANCZOS)
    x0 = int((w - obj.width) / 2 + rng.uniform(-0.12, 0.12) * w)
    y0 = int((h - obj.height) / 2 + rng.uniform(-0.08, 0.1) * h)
    x0 = min(max(x0, 4), w - obj.width - 4)
    y0 = min(max(y0, 4), h - obj.height - 4)
    canvas = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    canvas.paste(obj, (x0, y0))
    arr = np.asarray(canvas)
    return _lin(arr[..., :3]), arr[..., 3].astype(np.float32) / 255.0


def cast_shadow(alpha: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Multiply layer (1 = no shadow) of a soft floor shadow: the silhouette flattened onto the floor
    behind the product, blurred with distance, plus a tight contact shadow along its base."""
    h, w = alpha.shape
    rows = np.flatnonzero(alpha.max(axis=1) > 0.5)
    base = int(rows[-1]) if rows.size else h - 1
    top = int(rows[0]) if rows.size else 0
    squash = rng.uniform(0.25, 0.5)
    shear = rng.uniform(-0.8, 0.8)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # Inverse map: a floor point (x, y) above the base takes the silhouette's value higher up.
    src_y = base - (base - ys) / squash
    src_x = xs - shear * (base - ys)
    proj = ndimage.map_coordinates(alpha, [src_y, src_x], order=1, cval=0.0)
    proj[ys > base] = 0.0
    proj = ndimage.gaussian_filter(proj, max(2.0, 0.03 * (base - top)))
    contact = np.zeros_like(alpha)
    contact[max(base - 2, 0) : base + 1] = alpha[max(base - 2, 0) : base + 1]
    contact = ndimage.gaussian_filter(ndimage.maximum_filter(contact, (1, 9)), (3, 8))
    contact /= max(float(contact.max()), 1e-6)
    return np.clip(1.0 - strength * proj - 0.6 * strength * contact, 0.15, 1.0).astype(np.float32)


def composite(
    rgba: Image.Image, backdrop: np.ndarray, rng: np.random.Generator, height_share: float, shadow: float
) -> tuple[bytes, Image.Image, Image.Image]:
    """(JPEG bytes at <= 800 px, exact reference alpha "L" and the product's colours "RGB" at the same size)."""
    fg, alpha = place_cutout(rgba, height_share, rng)
    layer = cast_shadow(alpha, rng, shadow) if shadow > 0 else np.ones_like(alpha)
    img = alpha[..., None] * fg + (1 - alpha[..., None]) * backdrop * layer[..., None]
    img += rng.normal(0, 0.004, img.shape).astype(np.float32) * np.sqrt(np.maximum(img, 1e-4))
    first = io.BytesIO()
    Image.fromarray(_srgb8(img)).save(first, "JPEG", quality=90)
    photo = Image.open(first).convert("RGB")
    matte = Image.fromarray(np.round(alpha * 255).astype(np.uint8), "L")
    k = 800 / max(photo.size)
    size = (round(photo.width * k), round(photo.height * k))
    photo = photo.resize(size, Image.Resampling.LANCZOS)
    matte = matte.resize(size, Image.Resampling.LANCZOS)
    # The product's own colours at the same size (premultiplied while resampling, so the backdrop-free
    # edge colours stay exact): the reference for edge-colour (fringe) errors.
    pre = [
        Image.fromarray((fg[..., c] * alpha).astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS)
        for c in range(3)
    ]
    a = np.clip(np.asarray(matte, np.float32) / 255, 1 / 255, 1)
    colours = np.dstack([np.asarray(p, np.float32) / a for p in pre])
    second = io.BytesIO()
    photo.save(second, "JPEG", quality=92)
    return second.getvalue(), matte, Image.fromarray(_srgb8(colours))


@dataclass(frozen=True)
class Planned:
    """One composite to make: the cut-out, its index ``j`` among that cut-out's composites, the backdrop kind (a
    synthetic family or ``photo:NAME``), the family it is scored under and the composite's name (no suffix)."""

    cutout: Path
    j: int
    kind: str

    @property
    def family(self) -> str:
        return "photo" if self.kind.startswith("photo:") else self.kind

    @property
    def name(self) -> str:
        return f"comp_{self.cutout.stem}_{self.family}{self.j}"


def plan(cutouts: list[Path], backdrops: list[Path], per_cutout: int) -> list[Planned]:
    """Every composite, in the order ``main`` makes them (the random stream follows this order): the kinds (the
    synthetic families, then the backdrop photos by name) are dealt out in turn over the cut-outs in name order."""
    kinds: list[str] = [*FAMILIES, *(f"photo:{p.name}" for p in sorted(backdrops))]
    return [
        Planned(path, j, kinds[(i * per_cutout + j) % len(kinds)])
        for i, path in enumerate(sorted(cutouts))
        for j in range(per_cutout)
    ]


def read_sources(folder: Path) -> dict[str, str]:
    path = folder / "SOURCES.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row[0]: row[1] for row in csv.reader(fh, delimiter="\t") if len(row) >= 2}


def _mode(path: Path) -> str:
    with Image.open(path) as img:
        return img.mode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cutouts", type=Path, required=True, help="folder of RGBA PNG cut-outs")
    parser.add_argument("--backdrops", type=Path, help="folder of real backdrop photos (floors, scenes)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-cutout", type=int, default=2, help="composites per cut-out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    cut_sources = read_sources(args.cutouts)
    photos = (
        sorted(p for p in args.backdrops.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if args.backdrops
        else []
    )
    back_sources = read_sources(args.backdrops) if args.backdrops else {}
    rows = []
    cutouts = [p for p in sorted(args.cutouts.glob("*.png")) if _mode(p) == "RGBA"]
    rgba = Image.new("RGBA", (1, 1))
    for item in plan(cutouts, photos, args.per_cutout):
        if item.j == 0:
            rgba = Image.open(item.cutout).convert("RGBA")
        if item.kind.startswith("photo:"):
            backdrop = photo_backdrop(args.backdrops / item.kind[6:], rng)
            origin = back_sources.get(item.kind[6:], item.kind[6:])
        else:
            backdrop = synthetic_backdrop(item.kind, rng)
            origin = f"synthetic {item.kind}"
        share = float(rng.choice([0.22, 0.45, 0.6, 0.75]))  # the first: a small product in a big frame
        photo, matte, colours = composite(rgba, backdrop, rng, share, shadow=float(rng.uniform(0.3, 0.6)))
        name, family, path = item.name, item.family, item.cutout
        (args.out / f"{name}.jpg").write_bytes(photo)
        matte.save(args.out / f"{name}.alpha_gt.png")
        colours.save(args.out / f"{name}.fg_gt.png")
        rows.append((f"{name}.jpg", cut_sources.get(path.name, path.name), origin, family, f"{share:.2f}"))
    with (args.out / "SOURCES.tsv").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write("\t".join(row) + "\n")
    print(f"{len(rows)} composites in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
