"""Issue-4 end to end: tiny models installed with the CLI, a lifestyle inpaint job through the real API and
worker, the product's pixels exactly the input's, and no torch anywhere in the worker."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
import pytest
from e2e_support import Appliance, wait_terminal
from paqshot_server.imaging.compose import layer_from_cutout
from paqshot_server.imaging.cutout import cutout
from paqshot_server.imaging.layout import Placement
from PIL import Image, ImageDraw
from support import b64

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"


def product_png() -> tuple[bytes, Image.Image]:
    """A cut-out product (RGBA): a bottle with a label and a soft edge."""
    img = Image.new("RGBA", (300, 420), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((70, 90, 230, 400), radius=40, fill=(30, 90, 160, 255))
    draw.rectangle((125, 20, 175, 100), fill=(220, 220, 225, 255))
    draw.rectangle((90, 200, 210, 290), fill=(250, 240, 210, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue(), img


@pytest.mark.skipif(not (FIXTURES / "tiny-sd-inpaint").is_dir(), reason="tiny models not built")
def test_lifestyle_inpaint_job_with_installed_tiny_model(appliance: Appliance) -> None:
    installed = appliance.cli("models", "install", str(FIXTURES / "tiny-sd-inpaint"), "--accept-licence", "--json")
    model_id = json.loads(installed.stdout)["id"]
    appliance.start()
    key = appliance.create_key()
    headers = {"Authorization": f"Bearer {key['key']}"}
    styles = {s["name"]: s for s in httpx.get(f"{appliance.url}/v1/capabilities", headers=headers).json()["styles"]}
    assert styles["lifestyle"]["engine"] == f"diffusion:{model_id}"
    data, image = product_png()
    body = {
        "product_image": b64(data),
        "style": "lifestyle",
        "location": "cafe",
        "seed": 11,
        "output_format": "png",
        "prompt": "morning light",
    }
    job = httpx.post(f"{appliance.url}/v1/generate", json=body, headers=headers, timeout=30).json()
    done = wait_terminal(appliance.url, job["id"], headers, timeout=240)
    assert done["status"] == "completed", done
    assert done["engine"] == f"diffusion:{model_id}" and done["seed"] == 11
    assert "morning light" in done["prompts"]["prompt"] and "cafe" in done["prompts"]["prompt"]
    out = np.asarray(Image.open(io.BytesIO(httpx.get(done["image_url"], timeout=10).content)).convert("RGB"))
    with closing(sqlite3.connect(appliance.home / "app.db")) as conn:
        meta = json.loads(conn.execute("SELECT result FROM jobs WHERE id = ?", (job["id"],)).fetchone()[0])["meta"]
    variant = meta["variants"][0]
    placement = Placement(
        tuple(meta["canvas"]), tuple(variant["source_box"]), float(meta["scale"]), tuple(variant["product_box"])
    )
    layer = layer_from_cutout(cutout(image), placement)
    solid = layer.alpha >= 1.0
    region = out[layer.y : layer.y + solid.shape[0], layer.x : layer.x + solid.shape[1]]
    assert solid.sum() > 1000
    assert not (np.any(region != layer.rgb, axis=2) & solid).any()  # the product is the input's, exactly
    outside = np.ones(out.shape[:2], bool)
    outside[layer.y : layer.y + solid.shape[0], layer.x : layer.x + solid.shape[1]] = False
    assert out[outside].std() > 5  # the model painted a background (noise-like for random weights)
    pids = [r[0] for r in sqlite3.connect(appliance.home / "app.db").execute("SELECT pid FROM workers")]
    for pid in pids:  # the worker that ran diffusion never imported torch
        maps = Path(f"/proc/{pid}/maps")
        if maps.exists():
            assert "libtorch" not in maps.read_text()
