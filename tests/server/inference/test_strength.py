"""``strength`` < 1 starts inpainting from the noised init image: fewer steps, structure carried over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from paqshot_server.inference.diffusion import DiffusionPipeline
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"


@pytest.fixture(scope="module")
def sd() -> DiffusionPipeline:
    return DiffusionPipeline(FIXTURES / "tiny-sd-inpaint", device="cpu")


def scene() -> tuple[Image.Image, Image.Image]:
    img = Image.new("RGB", (96, 80), (200, 180, 150))
    img.paste((20, 40, 150), (10, 10, 40, 70))  # structure in the area to regenerate
    mask = Image.new("L", img.size, 255)
    mask.paste(0, (60, 30, 90, 70))  # the product stays
    return img, mask


def test_strength_runs_the_last_share_of_the_steps(sd: DiffusionPipeline) -> None:
    img, mask = scene()
    for strength, expected in ((1.0, 8), (0.5, 4), (0.25, 2), (0.01, 1)):
        calls: list[float] = []
        sd.inpaint(img, mask, "a bottle", steps=8, guidance=1.0, seed=3, strength=strength, progress=calls.append)
        assert len(calls) == expected, strength
        assert calls[-1] == pytest.approx(1.0)  # progress still ends at 1


def test_strength_changes_the_result_reproducibly(sd: DiffusionPipeline) -> None:
    img, mask = scene()
    full = np.asarray(sd.inpaint(img, mask, "a bottle", steps=6, guidance=1.0, seed=3), dtype=np.int16)
    same = np.asarray(sd.inpaint(img, mask, "a bottle", steps=6, guidance=1.0, seed=3, strength=1.0), dtype=np.int16)
    part = np.asarray(sd.inpaint(img, mask, "a bottle", steps=6, guidance=1.0, seed=3, strength=0.5), dtype=np.int16)
    again = np.asarray(sd.inpaint(img, mask, "a bottle", steps=6, guidance=1.0, seed=3, strength=0.5), dtype=np.int16)
    assert np.array_equal(full, same)  # 1.0 is the old behaviour exactly
    assert np.array_equal(part, again)
    assert np.abs(full - part).mean() > 1.0


def test_strength_out_of_range_is_refused(sd: DiffusionPipeline) -> None:
    img, mask = scene()
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="strength"):
            sd.inpaint(img, mask, "a bottle", steps=2, seed=1, strength=bad)
