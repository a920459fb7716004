"""The plate engine end to end (in process): output size rule, what the result records, the seam pass."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from paqshot_server.errors import InvalidRequest
from paqshot_server.imaging.options import ProductPlacement, RenderOptions
from paqshot_server.imaging.plates.plate import Light, LoadedPlate, PlateInfo
from paqshot_server.imaging.plates.render import render_on_plate
from paqshot_server.imaging.plates.seam import SEAM_STRENGTH
from PIL import Image
from plate_support import plate_image

TINY_INPAINT = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "tiny-sd-inpaint"


def _plate(name: str = "kitchen_marble", plate_id: str | None = None, **info: Any) -> LoadedPlate:
    return LoadedPlate(PlateInfo(plate_id, **info), plate_image(name))


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.mark.parametrize(("ratio", "size"), [("1:1", (1024, 1024)), ("16:9", (1024, 576)), ("2:3", (683, 1024))])
def test_the_long_side_rule_holds_on_a_plate(bottle_rgba, ratio: str, size: tuple[int, int]) -> None:
    result = render_on_plate(
        bottle_rgba, RenderOptions(style="lifestyle", aspect_ratio=ratio, long_side=1024), [_plate()]
    )
    image = result.images[0]
    assert (image.width, image.height) == size
    assert result.engine == "plate"
    x0, y0, x1, y1 = result.meta["product_box"]  # type: ignore[misc]
    floor = result.meta["backdrop"]["floor_y"]  # type: ignore[index]
    assert result.meta["scene"]["placement"]["y"] == pytest.approx(y1 / size[1], abs=1e-4)  # type: ignore[index]
    assert 0 < x0 < x1 <= size[0] and 0 < y0 < y1 <= size[1] and floor > 0.5


def test_the_result_names_the_plate_and_what_was_decided(bottle_rgba) -> None:
    plate = _plate("office_desk", "bdp_01office", tags=("office",), floor_y=0.8, light=Light(-90.0, 0.2, "given"))
    result = render_on_plate(bottle_rgba, RenderOptions(style="editorial", long_side=512, seed=7), [plate])
    backdrop = result.meta["backdrop"]
    assert backdrop["id"] == "bdp_01office" and backdrop["tags"] == ["office"]  # type: ignore[index]
    assert backdrop["light"] == {"from": "left", "azimuth": -90.0, "softness": 0.2, "source": "given"}  # type: ignore[index]
    assert backdrop["floor_source"] == "given" and backdrop["seam"] is None  # type: ignore[index]
    # editorial stands off-centre on the side of the plate's light (the left), leaving the right for copy
    assert result.meta["scene"]["placement"]["x"] < 0.4  # type: ignore[index]
    assert result.meta["seed"] == 7


def test_variants_may_stand_on_different_plates(bottle_rgba) -> None:
    plates = [_plate("kitchen_marble", "bdp_a"), _plate("cafe_table", "bdp_b")]
    result = render_on_plate(bottle_rgba, RenderOptions(style="lifestyle", num_variants=2, long_side=256), plates)
    assert [v["backdrop"]["id"] for v in result.meta["variants"]] == ["bdp_a", "bdp_b"]  # type: ignore[index,union-attr]
    assert len(result.images) == 2


def test_notes_say_what_was_not_used_and_what_was_stretched(bottle_rgba) -> None:
    small = LoadedPlate(PlateInfo(None), plate_image("cafe_table").resize((200, 130)))
    placement = ProductPlacement(x=0.95, y=0.9, scale=0.6)
    result = render_on_plate(
        bottle_rgba,
        RenderOptions(style="studio_packshot", background="white", long_side=512, placement=placement),
        [small],
    )
    text = " | ".join(result.notes)
    assert "background is not used" in text
    assert "enlarged" in text
    assert "outside the image" in text


def test_the_photos_own_shadow_is_refused_on_a_plate(bottle_rgba) -> None:
    with pytest.raises(InvalidRequest, match="natural"):
        render_on_plate(bottle_rgba, RenderOptions(style="studio_packshot", shadow="natural"), [_plate()])


def test_background_blur_softens_the_plate_far_from_the_floor_only(bottle_rgba) -> None:
    opts = RenderOptions(style="studio_packshot", long_side=512, output_format="png", harmonize=False, seed=1)
    sharp = _pixels(render_on_plate(bottle_rgba, opts, [_plate()]).images[0].data).astype(float)
    soft_result = render_on_plate(bottle_rgba, RenderOptions(**{**opts.__dict__, "background_blur": 1.0}), [_plate()])
    soft = _pixels(soft_result.images[0].data).astype(float)
    floor = round(soft_result.meta["backdrop"]["floor_y"] * 512)  # type: ignore[index]

    def detail(a: np.ndarray) -> float:
        return float(np.abs(np.diff(a, axis=1)).mean())

    assert detail(soft[:40]) < 0.7 * detail(sharp[:40])  # the far wall is blurred
    assert np.abs(soft[floor - 2 : floor + 2, :40] - sharp[floor - 2 : floor + 2, :40]).mean() < 1.0  # in focus


class _SeamRecorder:
    """An inpainter that paints its mask's area a flat colour and records what it was asked."""

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
        strength: float = 1.0,
        **options: Any,
    ) -> Image.Image:
        self.calls.append({"mask": np.asarray(mask), "strength": strength, "size": image.size})
        out = np.asarray(image).copy()
        out[np.asarray(mask) > 127] = (200, 30, 200)
        return Image.fromarray(out, "RGB")


def test_the_seam_pass_repaints_only_the_contact_band_and_never_the_product(bottle_rgba) -> None:
    opts = RenderOptions(style="studio_packshot", long_side=512, output_format="png", seed=3)
    plain = render_on_plate(bottle_rgba, opts, [_plate()])
    fake = _SeamRecorder()
    seamed = render_on_plate(bottle_rgba, opts, [_plate()], inpainter=fake)
    assert seamed.engine == "plate+diffusion:recording"
    assert seamed.meta["backdrop"]["seam"]["strength"] == SEAM_STRENGTH  # type: ignore[index]
    assert len(fake.calls) == 1 and fake.calls[0]["strength"] == SEAM_STRENGTH
    before, after = _pixels(plain.images[0].data), _pixels(seamed.images[0].data)
    alpha = seamed.meta["product_alpha"]
    solid = alpha == 255  # type: ignore[operator]
    assert np.array_equal(before[solid], after[solid])  # the product is pasted again, exact
    changed = np.any(before != after, axis=2)
    wx0, wy0, wx1, wy1 = seamed.meta["backdrop"]["seam"]["window"]  # type: ignore[index]
    outside = np.ones_like(changed)
    outside[wy0:wy1, wx0:wx1] = False
    assert not changed[outside].any()  # nothing outside the window
    floor = round(seamed.meta["backdrop"]["floor_y"] * 512)  # type: ignore[index]
    rows = np.nonzero(changed.any(axis=1))[0]
    assert rows.size and abs(int(rows.mean()) - floor) < 40  # around the contact line


@pytest.mark.skipif(not (TINY_INPAINT / "unet" / "model.onnx").is_file(), reason="tiny SD inpaint fixture absent")
def test_the_seam_pass_runs_on_a_real_inpainting_model(bottle_rgba) -> None:
    from paqshot_server.inference import diffusion

    pipe = diffusion.DiffusionPipeline(TINY_INPAINT, device="cpu")
    opts = RenderOptions(style="lifestyle", long_side=256, output_format="png", seed=5, harmonize=False)
    result = render_on_plate(bottle_rgba, opts, [_plate()], inpainter=pipe)
    assert result.engine == f"plate+diffusion:{pipe.id}"
    plain = render_on_plate(bottle_rgba, opts, [_plate()])
    solid = result.meta["product_alpha"] == 255  # type: ignore[operator]
    assert np.array_equal(_pixels(result.images[0].data)[solid], _pixels(plain.images[0].data)[solid])
