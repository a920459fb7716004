"""What the plate door takes (breaker13 B13-7): a plate too small to stand a product on and an animated image are
refused in the spec's error form, as plates and as a request's ``background_image``; tags may be words of any
script, and scenes match them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.jobs.backdrops import MIN_PLATE_SIDE
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, b64, product_jpeg

PLATES = Path(__file__).resolve().parents[2] / "fixtures" / "plates"


def plate_file(size: tuple[int, int], fmt: str = "JPEG", frames: int = 1) -> bytes:
    """The kitchen plate fixture resized to ``size``, as one file of ``fmt`` with ``frames`` frames."""
    base = Image.open(PLATES / "kitchen_marble.jpg").convert("RGB").resize(size)
    out = io.BytesIO()
    if frames == 1:
        base.save(out, fmt)
    else:  # each frame a little darker: real frames (Pillow merges identical ones)
        rest = [base.point(lambda v, i=i: max(v - 20 * i, 0)) for i in range(1, frames)]
        base.save(out, fmt, save_all=True, append_images=rest, duration=100, loop=0)
    return out.getvalue()


def stored(settings: Settings) -> list[str]:
    root = settings.files_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize(("size", "fmt"), [((1, 1), "PNG"), ((4000, 40), "JPEG"), ((159, 400), "WEBP")])
def test_a_plate_too_small_to_stand_a_product_on_is_refused_naming_its_size(
    client: TestClient, key: Key, settings: Settings, size: tuple[int, int], fmt: str
) -> None:
    answer = client.post("/v1/backdrops", json={"image": b64(plate_file(size, fmt))}, headers=key.headers)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"error", "message"} and body["error"] == "invalid_request"
    assert (
        f"is {size[0]}x{size[1]} pixels" in body["message"] and f"at least {MIN_PLATE_SIDE} pixels" in body["message"]
    )
    job = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "background_image": b64(plate_file(size))}
    refused = client.post("/v1/generate", json=job, headers=key.headers)
    assert refused.status_code == 400 and refused.json()["message"].startswith("background_image: The backdrop is")
    assert stored(settings) == []


def test_a_plate_at_the_least_side_is_taken(client: TestClient, key: Key) -> None:
    side = (MIN_PLATE_SIDE, MIN_PLATE_SIDE * 2)
    answer = client.post("/v1/backdrops", json={"image": b64(plate_file(side, "PNG"))}, headers=key.headers)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["width"], answer.json()["height"]) == side


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_an_animated_plate_is_refused_and_a_still_one_of_its_format_taken(
    client: TestClient, key: Key, settings: Settings, fmt: str
) -> None:
    animated = client.post("/v1/backdrops", json={"image": b64(plate_file((400, 300), fmt, 3))}, headers=key.headers)
    assert animated.status_code == 422, animated.text
    assert animated.json()["error"] == "unsupported_image" and "animated (3 frames)" in animated.json()["message"]
    assert stored(settings) == []
    still = client.post("/v1/backdrops", json={"image": b64(plate_file((400, 300), fmt))}, headers=key.headers)
    assert still.status_code == 201, still.text


def test_tags_in_other_scripts_are_taken_and_a_scene_matches_them(
    client: TestClient, key: Key, settings: Settings
) -> None:
    body = {"image": b64(plate_file((768, 512))), "tags": ["Küche", "キッチン", "Ku\u0308che", "Marmor weiß"]}
    created = client.post("/v1/backdrops", json=body, headers=key.headers)
    assert created.status_code == 201, created.text
    plate = created.json()
    assert plate["tags"] == ["küche", "キッチン", "marmor weiß"]  # one form of ü (NFKC): the decomposed one repeats
    for refused in (["-küche"], ["küche!"], ["x\u200by"], ["\u202ekitchen"]):  # a sign first, punctuation, hidden marks
        answer = client.post("/v1/backdrops", json={**body, "tags": refused}, headers=key.headers)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", refused

    job = {"product_image": b64(product_jpeg()), "style": "lifestyle", "location": "キッチン"}
    answer = client.post("/v1/generate", json=job, headers=key.headers)
    assert answer.status_code == 202, answer.text
    assert process(WorkerContext(settings), answer.json()["id"]) == "completed"
    done = client.get(f"/v1/generate/{answer.json()['id']}", headers=key.headers).json()
    assert done["engine"] == "plate" and done["backdrop"]["id"] == plate["id"]


def test_scene_words_are_letters_of_any_script_in_one_form() -> None:
    from paqshot_server.imaging.plates.select import words

    assert words("Küche") == {"küche"} == words("Ku\u0308che")
    assert words("キッチン, white_marble") == {"キッチン", "white", "marble"}
    assert words(None) == set() and words("!!") == set()


@pytest.mark.parametrize(("size", "frames", "says"), [((1, 1), 1, "is 1x1 pixels"), ((400, 300), 3, "animated")])
def test_the_command_refuses_what_the_door_refuses_for_a_plate(
    cli_cwd: Path, capsys: pytest.CaptureFixture[str], size: tuple[int, int], frames: int, says: str
) -> None:
    from paqshot_server.cli import main

    (cli_cwd / "photo.jpg").write_bytes(product_jpeg())
    (cli_cwd / "plate.webp").write_bytes(plate_file(size, "WEBP", frames))
    assert main(["generate", "photo.jpg", "-o", "out", "--background-image", "plate.webp"]) == 2
    error = capsys.readouterr().err
    assert "background_image: " in error and says in error, error
    assert not (cli_cwd / "out").exists()
