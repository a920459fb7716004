"""A re-run takes the source generation's stored options as they are, those no request may send included
(breaker13 B13-5: a preset's ``long_side`` made every re-run of a preset job answer 400)."""

from __future__ import annotations

import io

import msgspec
import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.imaging.presets import BUILTIN_DIR, load_preset_file
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, b64, product_jpeg

PRESETS = sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))


def finished(client: TestClient, key: Key, settings: Settings, job_id: str) -> dict:
    assert process(WorkerContext(settings), job_id) == "completed"
    return client.get(f"/v1/generate/{job_id}", headers=key.headers).json()


def long_side(client: TestClient, settings: Settings, job: dict) -> int:
    """The long side of the job's image file, in px (read from the file, not from the job's fields)."""
    response = client.get(job["image_url"].removeprefix(settings.base_url))
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.content)) as image:
        return max(image.size)


def hint() -> str:
    """A mask hint for product_jpeg's 640x480 photo: keep a patch of backdrop."""
    strokes = np.full((480, 640), 128, np.uint8)
    strokes[20:60, 20:100] = 255
    out = io.BytesIO()
    Image.fromarray(strokes, "L").save(out, "PNG")
    return b64(out.getvalue())


def rerun(client: TestClient, key: Key, job_id: str, changes: dict) -> dict:
    response = client.post(f"/v1/generate/{job_id}/rerun", json=changes, headers=key.headers)
    assert response.status_code == 202, response.text
    return response.json()


def test_every_builtin_preset_is_covered() -> None:
    assert len(PRESETS) >= 7 and "amazon_main" in PRESETS


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_generation_reruns_with_its_long_side(
    client: TestClient, key: Key, settings: Settings, preset: str
) -> None:
    render = load_preset_file(BUILTIN_DIR / f"{preset}.toml").render
    assert render.long_side is not None and render.long_side != settings.output_long_side  # a value to keep
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "preset": preset}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    source = finished(client, key, settings, response.json()["id"])
    assert long_side(client, settings, source) == render.long_side

    for changes in ({}, {"shadow": "soft"}, {"mask_hint": hint()}):
        again = finished(client, key, settings, rerun(client, key, source["id"], changes)["id"])
        assert again["status"] == "completed" and again["rerun_of"] == source["id"]
        assert again["options"]["preset"] == preset and again["options"]["long_side"] == render.long_side
        assert long_side(client, settings, again) == render.long_side, changes
        if render.jpeg_quality is not None:
            assert again["options"]["jpeg_quality"] == render.jpeg_quality
    assert again["mask_hint"] is True


def test_a_rerun_naming_another_preset_takes_that_presets_long_side(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """The kept options a preset set are the source preset's: naming another preset in the re-run applies
    the other's (``ebay`` sets 1600 px, ``amazon_main`` 2000 px)."""
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "preset": "amazon_main"}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    again_id = rerun(client, key, response.json()["id"], {"preset": "ebay"})["id"]
    again = client.get(f"/v1/generate/{again_id}", headers=key.headers).json()
    assert again["options"]["preset"] == "ebay" and again["options"]["long_side"] == 1600


def test_a_misfit_that_names_no_field_still_says_what_is_wrong() -> None:
    """A check of the whole request names no field (msgspec writes no ``- at `$.field```): the message then
    carries msgspec's problem, without its backticks."""
    from paqshot_server.jobs.service import _misfit

    class Strict(msgspec.Struct, forbid_unknown_fields=True):
        style: str

    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({"style": "x", "long_side": 2000}, Strict)
    message = _misfit(caught.value)
    assert "unknown field long_side" in message and "`" not in message
    with pytest.raises(msgspec.ValidationError) as named:
        msgspec.convert({"style": 3}, Strict)
    assert _misfit(named.value).startswith("The re-run's options do not fit together: style does not go with")
