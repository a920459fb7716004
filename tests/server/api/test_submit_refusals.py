"""Requests whose mistake is known at submission are refused then (400, the spec's ``{"error","message"}``
naming the field and what is allowed), not accepted and failed later; a refusal uses no quota.

Faults from breaker11 (docs/progress/breaker11-notes.md): B11-7 (padding that leaves no room); breaker12 B12-7 (a
photo too small to cut out).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from httpx import Response
from litestar.testing import TestClient
from paqshot_server.imaging.smallest import MIN_SIDE
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, assert_plain_words, b64, make_key, product_jpeg


def post(client: TestClient, key: Key, **fields: object) -> Response:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **fields}
    return client.post("/v1/generate", json=body, headers=key.headers)


def refusal(response: Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert_plain_words(body["message"])
    return str(body["message"])


@pytest.mark.parametrize(
    ("fields", "canvas", "most"),
    [
        ({"padding": 4096}, "1024x1024", "up to 0.4995, or up to 511 px"),
        ({"padding": 0.9}, "1024x1024", "up to 0.4995, or up to 511 px"),
        ({"padding": 300, "aspect_ratio": "16:9"}, "1024x576", "up to 0.4991, or up to 287 px"),
        ({"padding": 700, "preset": "amazon_main"}, None, None),  # the preset's 2000 px canvas is the one measured
        (
            {"padding": 700, "aspect_ratio": "16:9", "preset": "amazon_main"},
            "2000x1125",
            "up to 0.4995, or up to 561 px",
        ),
    ],
)
def test_padding_that_leaves_no_room_is_refused_at_submission(
    client: TestClient, settings: Settings, fields: dict[str, object], canvas: str | None, most: str | None
) -> None:
    key = make_key(settings, quota=1)
    if canvas is None:  # a padding that fits: accepted, and it uses the quota's one unit
        assert post(client, key, **fields).status_code == 202
        return
    message = refusal(post(client, key, **fields))
    assert message.startswith(f"padding {fields['padding']:g} leaves no room"), message
    assert f"{canvas} canvas" in message and most in message, message
    assert post(client, key).status_code == 202  # the refusal used no quota


def test_the_largest_padding_the_message_names_is_accepted(client: TestClient, key: Key) -> None:
    message = refusal(post(client, key, padding=4096))
    ratio, px = (part.split()[-1] for part in message.removesuffix(" px.").split(", or "))
    assert post(client, key, padding=float(ratio)).status_code == 202
    assert post(client, key, padding=float(px)).status_code == 202


def _photo(size: tuple[int, int], kind: str) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 120)).save(out, kind)
    return b64(out.getvalue())


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
@pytest.mark.parametrize("size", [(1, 1), (4, 4), (8, 8), (16, 16), (64, 4), (47, 48), (400, 5)])
def test_a_photo_too_small_to_cut_out_is_refused_at_submission_naming_its_size(
    client: TestClient, key: Key, size: tuple[int, int], kind: str
) -> None:
    # breaker12 B12-7: 8x8, 16x16 and 64x4 completed at confidence 0.00 (8x8: a pink square packshot); 1x1..4x4
    # were refused as "background"
    said = refusal(post(client, key, product_image=_photo(size, kind)))
    assert f"{size[0]}x{size[1]} pixels" in said and "at least 2,304 pixels (48x48;" in said, said
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0
    stretched = post(client, key, product_image=_photo((max(size[0], MIN_SIDE), max(size[1], MIN_SIDE)), kind))
    assert stretched.status_code == 202, stretched.text  # the minimum itself is taken
    strip = post(client, key, product_image=_photo((480, 5), kind))  # 2,400 pixels: they count, not a side
    assert strip.status_code == 202, strip.text


def test_the_command_refuses_a_photo_too_small_to_cut_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from paqshot_server.cli import main

    Image.new("RGB", (8, 8), (200, 40, 120)).save(tmp_path / "tiny.png")
    assert main(["generate", str(tmp_path / "tiny.png"), "-o", str(tmp_path / "out"), "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["error"]["code"] == "invalid_request", record
    assert "8x8 pixels: too small to cut the product out; send one of at least 2,304" in record["error"]["message"]
