"""The source of ``imaging.encode.QUALITY_STEPS`` and ``LABEL_RESERVE``: what each JPEG quality step saves, what
it costs in error, and what finishing's labels add to a file.

    .venv/bin/python bench/jpeg_quality_steps.py /work/team/realeval/photos/*.jpg OTHER_IMAGES...

Each image is scaled (Lanczos) to 2200 px on its long side (fashion_packshot's size; an image already that size is
taken as it is) and encoded by the appliance's own ``encode`` at each quality; printed per quality: the file's size
as a share of its size at 90 (median and largest) and the error against the scaled image (PSNR, median and
lowest). Then the bytes the XMP packet and a signed C2PA manifest (a self-signed EC certificate made for the run)
add to a JPEG, a PNG and a WebP. Sizes and errors do not depend on the machine's load.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from paqshot_server.credentials import make_self_signed
from paqshot_server.finishing import Finisher
from paqshot_server.imaging.encode import encode, render_image
from paqshot_server.imaging.presets import load_presets
from paqshot_server.imaging.result import RenderResult
from paqshot_server.settings import Settings
from PIL import Image

QUALITIES = (90, 85, 80, 75, 70, 65, 60)
LONG_SIDE = 2200


def scaled(path: str) -> Image.Image:
    image = Image.open(path).convert("RGB")
    if max(image.size) == LONG_SIDE:
        return image
    factor = LONG_SIDE / max(image.size)
    return image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)


def psnr(data: bytes, reference: np.ndarray) -> float:
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64)
    return float(10 * np.log10(255**2 / ((decoded - reference) ** 2).mean()))


def steps(paths: list[str]) -> None:
    shares: dict[int, list[float]] = {q: [] for q in QUALITIES}
    errors: dict[int, list[float]] = {q: [] for q in QUALITIES}
    for path in paths:
        image = scaled(path)
        reference = np.asarray(image, np.float64)
        files = {q: encode(image, "jpeg", q) for q in QUALITIES}
        for q, data in files.items():
            shares[q].append(len(data) / len(files[90]))
            errors[q].append(psnr(data, reference))
    print(f"{len(paths)} images at {LONG_SIDE} px; size as a share of the file at quality 90, error in PSNR (dB)")
    for q in QUALITIES:
        print(
            f"  q{q}: size median {statistics.median(shares[q]):.2f} largest {max(shares[q]):.2f}; "
            f"PSNR median {statistics.median(errors[q]):.1f} lowest {min(errors[q]):.1f}"
        )


def label_overhead() -> None:
    settings = Settings(home=Path(tempfile.mkdtemp()))
    make_self_signed(settings)
    finisher = Finisher(settings, load_presets())
    rng = np.random.default_rng(0)
    photo = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (480, 640, 3), np.uint8)).save(photo, "JPEG", quality=90)
    for fmt in ("jpeg", "png", "webp"):
        plain = render_image(rng.integers(0, 256, (660, 440, 3), np.uint8), fmt, 90)
        result = RenderResult(images=(plain,), engine="onnx:u2netp")
        title = "gen_01m8rxp23km99e48pny1tr5mva_a1_1"
        labelled = finisher.finish(result, product_photo=photo.getvalue(), title=title, checks=[])
        print(f"  labels add {len(labelled.result.images[0].data) - len(plain.data):,} bytes to a {fmt} file")


if __name__ == "__main__":
    steps(sys.argv[1:])
    label_overhead()
