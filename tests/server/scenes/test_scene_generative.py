"""The generative path: inpaint everything but the product, then re-composite the product exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from paqshot_server.imaging.options import RenderOptions
from paqshot_server.imaging.scenes import render_scene
from PIL import Image
from scene_support import decode

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny-sd-inpaint"


class RecordingInpainter:
    """Paints the regenerated area a flat colour and records what it was asked."""

    id = "recording"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def inpaint(
        self,
        image: Image.Image,
        mask: Image.Image,
        prompt: str,
        negative_prompt: str | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        progress: Any = None,
        **options: Any,
    ) -> Image.Image:
        self.calls.append(
            dict(
                image=np.asarray(image),
                mask=np.asarray(mask),
                prompt=prompt,
                negative=negative_prompt,
                seed=seed,
                options=options,
            )
        )
        if progress:
            progress(1.0)
        out = np.asarray(image).copy()
        out[np.asarray(mask) > 127] = (30, 160, 200)
        return Image.fromarray(out, "RGB")


def test_mask_keeps_the_product_and_the_result_re_composites_it(bottle, expected_product) -> None:
    fake = RecordingInpainter()
    opts = RenderOptions(
        style="lifestyle", location="cafe", seed=21, output_format="png", long_side=256, num_variants=2
    )
    result = render_scene(bottle, opts, inpainter=fake)
    assert result.engine == "diffusion:recording"
    assert len(fake.calls) == 2 and [c["seed"] for c in fake.calls] == result.meta["seeds"]
    call = fake.calls[0]
    assert call["prompt"] == result.meta["prompt"] and call["negative"] == result.meta["negative_prompt"]
    rgb, solid, (x, y) = expected_product(bottle, result, 0)
    h, w = solid.shape
    mask = call["mask"]
    assert (mask[y : y + h, x : x + w][solid] == 0).all(), "the product must never be in the inpaint mask"
    assert mask[0, 0] == 255 and mask.mean() > 200, "everything away from the product is regenerated"
    out = decode(result)
    assert np.array_equal(out[y : y + h, x : x + w][solid], rgb[solid])
    # The scene is the model's (flat colour here, pulled part-way to the procedural palette), not the procedural one.
    corner = out[:20, :20].reshape(-1, 3).mean(axis=0)
    assert corner[2] > corner[0] + 20


@pytest.mark.skipif(not (FIXTURE / "unet" / "model.onnx").is_file(), reason="tiny SD inpaint fixture absent")
def test_end_to_end_on_the_tiny_inpainting_model(bottle, expected_product) -> None:
    diffusion = pytest.importorskip("paqshot_server.inference.diffusion")
    pipe = diffusion.DiffusionPipeline(FIXTURE, device="cpu")
    seen: list[float] = []
    opts = RenderOptions(style="mockup", location="studio", seed=5, output_format="png", long_side=192)
    result = render_scene(bottle, opts, inpainter=pipe, progress=seen.append)
    assert result.engine == f"diffusion:{pipe.id}"
    assert seen[-1] == 1.0 and seen == sorted(seen)
    rgb, solid, (x, y) = expected_product(bottle, result, 0)
    h, w = solid.shape
    out = decode(result)
    assert np.array_equal(out[y : y + h, x : x + w][solid], rgb[solid])
    procedural = decode(render_scene(bottle, opts))
    away = np.ones(out.shape[:2], bool)
    away[max(0, y - 20) : y + h + 20, max(0, x - 20) : x + w + 20] = False
    assert np.abs(out[away].astype(int) - procedural[away]).mean() > 3, "the model repainted the scene"
    again = render_scene(bottle, opts, inpainter=pipe)
    assert again.images[0].data == result.images[0].data


def test_harmonising_helpers() -> None:
    from paqshot_server.imaging.compose import ProductLayer
    from paqshot_server.imaging.scenes.generative import ground_strength, harmonise, product_mask

    layer = ProductLayer(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), np.float32), 50, 30)
    keep = product_mask(layer, (200, 100))
    assert keep[30:70, 50:70].all() and keep[28, 60] and not keep[0, 0]  # dilated round the product only
    dark = np.full((100, 200, 3), 20, np.uint8)
    light = np.full((100, 200, 3), 235, np.uint8)
    box = (50, 30, 70, 70)
    assert ground_strength(dark, box) < ground_strength(light, box)
    pulled = harmonise(dark, light, ~keep)
    assert 20 < int(pulled[0, 0, 0]) < 235, "the generated scene is pulled part-way to the planned palette"
