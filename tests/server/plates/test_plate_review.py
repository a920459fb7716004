"""A result on a plate or in a scene that is probably wrong says so (breaker13 B13-6: a plate whose floor line is
its top edge gave an image without the product, completed with needs_review false)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.imaging import review
from paqshot_server.imaging.classical import ClassicalSegmenter
from paqshot_server.imaging.options import ProductPlacement, RenderOptions
from paqshot_server.imaging.packshot import render_packshot
from paqshot_server.imaging.plates.plate import LoadedPlate, PlateInfo
from paqshot_server.imaging.plates.render import render_on_plate
from paqshot_server.imaging.scenes.render import render_scene
from paqshot_server.imaging.segment import Matte
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image
from plate_support import plate_image
from support import Key, b64, product_jpeg

PLATES = Path(__file__).resolve().parents[2] / "fixtures" / "plates"


class Doubtful:
    """The classical cut-out with a review reason attached, as a model's cut-out attaches its doubts."""

    name = "doubtful"

    def segment(self, rgb: np.ndarray) -> Matte:
        matte = ClassicalSegmenter().segment(rgb)
        return replace(matte, reasons=(review.reason(review.FRAGMENTED, "5 pieces"),))


def test_the_cut_outs_review_reasons_reach_the_result_in_every_family() -> None:
    """The studio packshot kept the cut-out's doubts; scenes and plates dropped them (only a low confidence
    flagged those results)."""
    photo = Image.open(io.BytesIO(product_jpeg())).convert("RGB")  # no alpha of its own: the segmenter cuts it
    plate = LoadedPlate(PlateInfo(None), plate_image("kitchen_marble"))
    scene = RenderOptions(style="lifestyle", long_side=256)
    results = {
        "studio": render_packshot(photo, RenderOptions(long_side=256), segmenter=Doubtful()),
        "scene": render_scene(photo, scene, segmenter=Doubtful()),
        "plate": render_on_plate(photo, scene, [plate], segmenter=Doubtful()),
    }
    for name, result in results.items():
        assert [r.code for r in result.review_reasons] == [review.FRAGMENTED], name
        assert review.assess(result, 0.0).needs_review, name


@pytest.mark.parametrize(("floor_y", "flagged"), [(0.0, True), (0.1, True), (0.5, False), (0.75, False), (1.0, True)])
def test_a_floor_line_no_product_can_stand_on_is_flagged(
    bottle_rgba: Image.Image, floor_y: float, flagged: bool
) -> None:
    """The kitchen plate (768x512) on a 1:1 output keeps its whole height: its floor line cannot be moved into
    the fit's band (30-92 % of the frame), and the layout shrinks the product to nothing (top) or stands it on
    the frame's edge (bottom)."""
    plate = LoadedPlate(PlateInfo(None, floor_y=floor_y), plate_image("kitchen_marble"))
    result = render_on_plate(bottle_rgba, RenderOptions(style="studio_packshot", long_side=256), [plate])
    codes = [r.code for r in result.review_reasons]
    assert (review.PLATE_FLOOR in codes) is flagged, codes
    if flagged:
        assert f"floor line at {floor_y:.0%} of the height" in result.review_reasons[-1].message
    # An explicit placement is the request's own choice: not second-guessed.
    placed = RenderOptions(style="studio_packshot", long_side=256, placement=ProductPlacement(y=0.8, scale=0.5))
    assert render_on_plate(bottle_rgba, placed, [plate]).review_reasons == ()


def test_a_plate_added_with_its_floor_at_the_top_gives_a_flagged_result(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """breaker13's steps: a plate added with floor_y 0, a studio packshot on it: completed, and flagged."""
    body = {"image": b64((PLATES / "kitchen_marble.jpg").read_bytes()), "tags": ["kitchen"], "floor_y": 0}
    plate = client.post("/v1/backdrops", json=body, headers=key.headers)
    assert plate.status_code == 201, plate.text
    job = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "backdrop": plate.json()["id"]}
    submitted = client.post("/v1/generate", json=job, headers=key.headers)
    assert submitted.status_code == 202, submitted.text
    assert process(WorkerContext(settings), submitted.json()["id"]) == "completed"
    done = client.get(f"/v1/generate/{submitted.json()['id']}", headers=key.headers).json()
    assert done["status"] == "completed" and done["needs_review"] is True
    assert review.PLATE_FLOOR in [r["code"] for r in done["review_reasons"]]
    image = Image.open(io.BytesIO(client.get(done["image_url"].removeprefix(settings.base_url)).content))
    assert max(image.size) == settings.output_long_side
