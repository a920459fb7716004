"""A re-run naming another preset is that preset's request: the preset's values replace the source's for every
field the re-run does not send itself, so the result meets the new preset's own rules (breaker13 B13-17: the
source's stored shadow, background and aspect ratio counted as sent and outvoted the new preset, and the result
failed its compliance report unflagged)."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from litestar.testing import TestClient
from paqshot_server.imaging.presets import BUILTIN_DIR, load_preset_file
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from support import Key, b64, product_jpeg

PRESETS = sorted(path.stem for path in BUILTIN_DIR.glob("*.toml"))
# (source preset, the re-run's preset): every built-in pair, and a source made without a preset
PAIRS = [(None, target) for target in PRESETS] + list(itertools.permutations(PRESETS, 2))


def render_values(preset: str) -> dict:
    """The fields ``preset`` sets, with its values (None: it leaves them)."""
    render = load_preset_file(BUILTIN_DIR / f"{preset}.toml").render
    return {k: v for k, v in msgspec.structs.asdict(render).items() if v is not None}


def submit(client: TestClient, key: Key, preset: str | None) -> str:
    body: dict = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    if preset is not None:
        body["preset"] = preset
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return response.json()["id"]


def rerun_done(client: TestClient, key: Key, settings: Settings, job_id: str, changes: dict) -> dict:
    response = client.post(f"/v1/generate/{job_id}/rerun", json=changes, headers=key.headers)
    assert response.status_code == 202, response.text
    again_id = response.json()["id"]
    # the source is not rendered (its options are what the re-run reads); deleted, it leaves the worker the re-run
    assert client.delete(f"/v1/generate/{job_id}", headers=key.headers).status_code == 204
    assert process(WorkerContext(settings), again_id) == "completed"
    return client.get(f"/v1/generate/{again_id}", headers=key.headers).json()


def test_the_pairs_cover_every_builtin_preset_and_each_pair_differs() -> None:
    assert len(PRESETS) >= 7
    for source, target in PAIRS:
        if source is not None:
            assert render_values(source) != render_values(target)


@pytest.mark.slow
@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_a_rerun_naming_another_preset_meets_that_presets_rules(
    client: TestClient, key: Key, settings: Settings, source: str | None, target: str
) -> None:
    again = rerun_done(client, key, settings, submit(client, key, source), {"preset": target})
    values = render_values(target)
    assert again["options"]["preset"] == target
    assert again["aspect_ratio"] == values.pop("aspect_ratio")
    assert {k: again["options"].get(k) for k in values} == values  # every value the preset sets, as it sets it
    (report,) = again["compliance"]
    assert report["preset"] == target
    assert report["passed"], [r for r in report["rules"] if not r["passed"]]


def test_fields_the_rerun_sends_still_beat_the_new_preset(client: TestClient, key: Key, settings: Settings) -> None:
    """As on a fresh request: what the re-run sends wins, the rest is the new preset's, and the report says what
    the sent field breaks."""
    source = submit(client, key, "fashion_packshot")
    again = rerun_done(client, key, settings, source, {"preset": "amazon_main", "shadow": "soft"})
    options = again["options"]
    assert options["shadow"] == "soft" and options["background"] == "white" and again["aspect_ratio"] == "1:1"
    (report,) = again["compliance"]
    assert "shadow" in {r["rule"] for r in report["rules"] if not r["passed"]}


def test_fields_the_new_preset_leaves_keep_the_source_values(client: TestClient, key: Key, settings: Settings) -> None:
    """``ebay`` sets no shadow: a source's explicit hard shadow is kept; what ebay sets (1:1, white) applies."""
    body = {
        "product_image": b64(product_jpeg()),
        "style": "studio_packshot",
        "shadow": "hard",
        "aspect_ratio": "16:9",
        "background": "#202020",
    }
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    again = rerun_done(client, key, settings, response.json()["id"], {"preset": "ebay"})
    options = again["options"]
    assert options["shadow"] == "hard"
    assert options["background"] == "white" and again["aspect_ratio"] == "1:1" and options["long_side"] == 1600
