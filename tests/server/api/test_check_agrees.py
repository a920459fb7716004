"""breaker13 B13-9: the compliance check of the appliance's own output gives the job's verdict, through the command
and through the API alike. The job passed a black desk lamp on white for amazon_main; ``paqshot check`` and
``POST /v1/check`` of that very file failed it (its black base and plug read as shadow, its pull chain as a prop,
its near-white shade lining as shadow) and disagreed with each other.

Every preset is rendered by ``paqshot generate`` (the real pipeline, with the cut-out a fresh install has; the
default model too where ``./dev test`` installed it) on real photos, then the written file is checked both ways.
A cut-out product (its own alpha) with the lamp's three parts that a cut-out found again misreads fails the same
way on a fresh install, model or not.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.cli import main
from paqshot_server.imaging import xmp
from paqshot_server.imaging.presets import load_presets
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from paqshot_server.settings import Settings
from PIL import Image
from support import Key

PHOTOS = Path(__file__).resolve().parents[2] / "fixtures" / "photos"
LAMP = "u2net_lamp2_meitu_1.jpg"  # black base, cord and plug, pull chain, near-white shade lining
INSTALLED = store_mod.install_level_dir()  # read at collection, before the autouse fixture empties it
MODEL = INSTALLED / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx"
CASES = [
    ("cut-out lamp", "amazon_main", "classical"),
    *((LAMP, preset, "classical") for preset in load_presets(None).ids()),
    ("azure_scissors_15.jpg", "amazon_main", "classical"),
    ("green_flamingo.jpg", "ebay", "classical"),
    pytest.param(
        LAMP,
        "amazon_main",
        "model",
        marks=pytest.mark.skipif(not MODEL.is_file(), reason=f"the default cut-out model is not in {INSTALLED}"),
    ),
]


def _cutout_lamp(path: Path) -> Path:
    """An RGBA PNG of a lamp-like product cut out already: a black base and pole, a near-white shade lining
    (245) against its dark shade, and a pull chain hanging apart from it (breaker13's lamp, B13-9)."""
    rgba = np.zeros((800, 600, 4), np.uint8)
    yy, xx = np.mgrid[0:800, 0:600]
    base = ((xx - 300) / 200) ** 2 + ((yy - 720) / 50) ** 2 <= 1
    pole = (abs(xx - 300) <= 14) & (yy >= 200) & (yy <= 700)
    shade = ((xx - 300) / 180) ** 2 + ((yy - 200) / 110) ** 2 <= 1
    shade &= yy <= 200
    lining = (abs(yy - 205) <= 5) & (abs(xx - 300) <= 170)
    chain = (abs(xx - 420) <= 4) & (yy >= 250) & (yy <= 330)
    for part, colour in ((base | pole | shade, (18, 18, 20)), (lining, (245, 245, 245)), (chain, (25, 25, 25))):
        rgba[part] = (*colour, 255)
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def _verdict(report: dict) -> tuple[str, bool, dict[str, bool]]:
    return report["preset"], report["passed"], {r["rule"]: r["passed"] for r in report["rules"]}


@pytest.mark.parametrize(("photo", "preset", "cutout"), CASES)
def test_the_check_of_an_output_gives_its_jobs_verdict(
    photo: str,
    preset: str,
    cutout: str,
    client: TestClient,
    key: Key,
    cli_cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
) -> None:
    monkeypatch.setenv("PAQSHOT_HOME", str(settings.home))  # one appliance: the API's data folder (its secret)
    if cutout == "model":
        monkeypatch.setenv("PAQSHOT_INSTALL_MODELS_DIR", str(INSTALLED))
    out = cli_cwd / "out"
    source = _cutout_lamp(cli_cwd / "lamp.png") if photo == "cut-out lamp" else PHOTOS / photo
    assert main(["generate", str(source), "-o", str(out), "--preset", preset, "--json"]) == 0
    job = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert job["cutout_engine"].startswith("onnx:") is (cutout == "model"), job["cutout_engine"]
    assert photo != "cut-out lamp" or job["compliance"][0]["passed"], job["compliance"]
    written = Path(job["outputs"][0])
    job_verdict = _verdict(job["compliance"][0])

    assert main(["check", str(written), "--preset", preset, "--json"]) in (0, 1)
    cli = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    body = {"image": base64.b64encode(written.read_bytes()).decode(), "preset": preset}
    api = client.post("/v1/check", json=body, headers=key.headers)
    assert api.status_code == 200, api.text

    assert _verdict(cli["compliance"][0]) == job_verdict, (cli["compliance"], job["compliance"])
    assert _verdict(api.json()["compliance"][0]) == job_verdict, (api.json()["compliance"], job["compliance"])
    assert cli["product_source"] == api.json()["product_source"] == "recorded"


@pytest.mark.parametrize("edit", ["product block changed", "re-saved", "another appliance"])
def test_an_edited_output_has_its_product_found_again(
    edit: str,
    client: TestClient,
    key: Key,
    cli_cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
) -> None:
    """An output edited after the job, its XMP (and product map) kept, or checked by another appliance: the map is
    not this appliance's for these pixels, so the check finds the product as on any seller's photo."""
    monkeypatch.setenv("PAQSHOT_HOME", str(settings.home))
    out = cli_cwd / "out"
    photo = str(PHOTOS / "azure_scissors_15.jpg")
    assert main(["generate", photo, "-o", str(out), "--preset", "amazon_main", "--json"]) == 0
    written = Path(json.loads(capsys.readouterr().out.strip().splitlines()[-1])["outputs"][0])
    with Image.open(written) as image:
        packet = image.info["xmp"]
        rgb = np.asarray(image.convert("RGB")).copy()
    packet = packet.encode() if isinstance(packet, str) else packet
    if edit == "another appliance":
        data = written.read_bytes()
        monkeypatch.setenv("PAQSHOT_HOME", str(cli_cwd / "other"))
    else:
        if edit == "product block changed":
            centre_y, centre_x = rgb.shape[0] // 2, rgb.shape[1] // 2  # the packshot's product is centred
            rgb[centre_y : centre_y + 16, centre_x : centre_x + 16] = (0, 200, 0)
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=95)
        data = xmp.embed(buf.getvalue(), "jpeg", packet)
    edited = cli_cwd / "edited.jpg"
    edited.write_bytes(data)

    assert main(["check", str(edited), "--preset", "amazon_main", "--json"]) in (0, 1)
    cli = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cli["product_source"] != "recorded", cli
    if edit != "another appliance":
        body = {"image": base64.b64encode(data).decode(), "preset": "amazon_main"}
        api = client.post("/v1/check", json=body, headers=key.headers)
        assert api.status_code == 200, api.text
        assert api.json()["product_source"] == "classical"
