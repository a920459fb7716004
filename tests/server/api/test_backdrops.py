"""The backdrop plate library over HTTP: CRUD, tenancy, limits, the door on its image; and ``background_image``,
``backdrop`` and ``placement`` on POST /v1/generate, rendered by a real worker pass."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.imaging.decode import decode_image
from paqshot_server.jobs.backdrops import BackdropLibrary, PlateUpload
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, Receiver, b64, linear_rgb_icc, make_key, product_jpeg

PLATES = Path(__file__).resolve().parents[2] / "fixtures" / "plates"


def plate_b64(name: str = "kitchen_marble") -> str:
    return b64((PLATES / f"{name}.jpg").read_bytes())


def _stored_files(settings: Settings) -> list[str]:
    root = settings.files_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_key_adds_lists_gets_and_deletes_its_plates(client: TestClient, key: Key, settings: Settings) -> None:
    body = {
        "image": plate_b64(),
        "tags": ["Kitchen", "white  marble", "kitchen"],
        "floor_y": 0.74,
        "light_from": "right",
    }
    created = client.post("/v1/backdrops", json=body, headers=key.headers)
    assert created.status_code == 201, created.text
    plate = created.json()
    assert plate["id"].startswith("bdp_") and plate["shared"] is False
    assert plate["tags"] == ["kitchen", "white marble"]  # lowercase, spaces collapsed, repeats dropped
    assert (plate["width"], plate["height"]) == (768, 512)
    assert plate["floor_y"] == 0.74 and plate["floor_source"] == "given"
    assert plate["light_from"] == "right" and plate["light_azimuth"] == 90.0 and plate["light_source"] == "given"
    thumb = client.get(plate["thumbnail_url"].removeprefix(settings.base_url))
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) == 256
    listed = client.get("/v1/backdrops", headers=key.headers).json()["data"]
    assert [p["id"] for p in listed] == [plate["id"]]
    assert client.get(f"/v1/backdrops/{plate['id']}", headers=key.headers).json()["tags"] == plate["tags"]
    gone = client.delete(f"/v1/backdrops/{plate['id']}", headers=key.headers)
    assert gone.status_code == 204
    assert client.get("/v1/backdrops", headers=key.headers).json()["data"] == []
    assert client.get(plate["image_url"].removeprefix(settings.base_url)).status_code == 404
    assert _stored_files(settings) == []


def test_a_plate_with_nothing_said_is_measured(client: TestClient, key: Key) -> None:
    plate = client.post("/v1/backdrops", json={"image": plate_b64("office_desk")}, headers=key.headers).json()
    assert plate["floor_source"] == "estimated" and abs(plate["floor_y"] - 0.80) < 0.05
    assert plate["light_source"] == "estimated" and plate["light_azimuth"] < 0  # the set was lit from the left
    assert plate["area_left"] == 0.0 and plate["area_width"] == 1.0 and plate["tags"] == []


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_plate_with_a_colour_profile_is_measured_and_shown_as_a_viewer_shows_it(
    client: TestClient, key: Key, settings: Settings, orientation: int
) -> None:
    """A plate's JPEG is stored as sent, ICC profile and EXIF orientation kept (the door's fast path): what is
    measured and shown of it is the photo as a viewer shows it, upright and in sRGB, as its render reads it (the
    profile was ignored here before session 7)."""
    profile = linear_rgb_icc()
    source = Image.open(PLATES / "kitchen_marble.jpg")  # 768 x 512
    exif = Image.Exif()
    if orientation != 1:
        exif[0x0112] = orientation
    out = io.BytesIO()
    source.save(out, "JPEG", quality=95, icc_profile=profile, exif=exif.tobytes())
    plate = client.post("/v1/backdrops", json={"image": b64(out.getvalue())}, headers=key.headers).json()
    turned = orientation == 6
    assert (plate["width"], plate["height"]) == ((512, 768) if turned else (768, 512))
    thumb = Image.open(io.BytesIO(client.get(plate["thumbnail_url"].removeprefix(settings.base_url)).content))
    upright = decode_image(out.getvalue(), max_bytes=10**8, max_pixels=10**8).image
    assert thumb.size == ((171, 256) if turned else (256, 171))
    expected = np.asarray(upright.resize(thumb.size, Image.Resampling.BOX), np.float64)
    as_stored = source.transpose(Image.Transpose.ROTATE_270) if turned else source
    unconverted = np.asarray(as_stored.resize(thumb.size, Image.Resampling.BOX))
    got = np.asarray(thumb.convert("RGB"), np.float64)
    assert np.abs(got - expected).mean() < 3 < np.abs(got - unconverted).mean()  # upright, and in sRGB


def test_another_keys_plates_are_invisible(client: TestClient, key: Key, settings: Settings) -> None:
    other = make_key(settings)
    mine = client.post("/v1/backdrops", json={"image": plate_b64(), "tags": ["kitchen"]}, headers=key.headers).json()
    assert client.get("/v1/backdrops", headers=other.headers).json()["data"] == []
    for method in ("GET", "DELETE"):
        answer = client.request(method, f"/v1/backdrops/{mine['id']}", headers=other.headers)
        assert answer.status_code == 404, (method, answer.text)
        assert answer.json()["error"] == "not_found"
    product = b64(product_jpeg())
    refused = client.post(
        "/v1/generate",
        json={"product_image": product, "style": "lifestyle", "backdrop": mine["id"]},
        headers=other.headers,
    )
    assert refused.status_code == 404 and mine["id"] in refused.json()["message"]
    assert client.get(f"/v1/backdrops/{mine['id']}", headers=key.headers).status_code == 200  # still there


def test_the_operators_shared_plates_are_seen_by_every_key_and_deleted_by_none(
    client: TestClient, key: Key, settings: Settings
) -> None:
    shared = BackdropLibrary(Resources(settings)).add(
        None, (PLATES / "cafe_table.jpg").read_bytes(), PlateUpload(tags=["cafe"])
    )
    for caller in (key, make_key(settings)):
        listed = client.get("/v1/backdrops", headers=caller.headers).json()["data"]
        assert [(p["id"], p["shared"]) for p in listed] == [(shared.id, True)]
    refused = client.delete(f"/v1/backdrops/{shared.id}", headers=key.headers)
    assert refused.status_code == 403 and "backdrops remove" in refused.json()["message"]


def test_the_per_key_limit_keeps_no_file_of_a_refused_plate(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_backdrops_per_key=1, allow_private_network=True)
    key = make_key(settings)
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/backdrops", json={"image": plate_b64()}, headers=key.headers).status_code == 201
        before = _stored_files(settings)
        refused = client.post("/v1/backdrops", json={"image": plate_b64("cafe_table")}, headers=key.headers)
        assert refused.status_code == 403 and "(1)" in refused.json()["message"]
        assert _stored_files(settings) == before


def test_a_plates_image_passes_the_same_door(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", allow_private_network=False, max_image_bytes=200_000)
    key = make_key(settings)
    gif = b64(b"GIF89a" + bytes(64))
    with TestClient(create_app(settings)) as client:
        cases = {
            "http://localhost:9/plate.jpg": (400, "image refused: Host localhost is not reachable"),  # SSRF
            gif: (422, "GIF"),
            "not base64!": (400, "image is neither"),
            b64(os.urandom(300_000)): (413, "image"),
        }
        for image, (status, words) in cases.items():
            answer = client.post("/v1/backdrops", json={"image": image}, headers=key.headers)
            assert answer.status_code == status, (image[:30], answer.text)
            assert words in answer.json()["message"], answer.json()["message"]
            assert "127.0.0.1" not in answer.json()["message"]
        assert _stored_files(settings) == []


def test_background_image_passes_the_same_door_and_leaves_no_file(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", allow_private_network=False, max_image_bytes=200_000)
    key = make_key(settings)
    product = b64(product_jpeg((320, 240)))
    with TestClient(create_app(settings)) as client:
        cases = {
            "http://localhost:9/plate.jpg": (400, "background_image refused: Host localhost is not reachable"),
            "http://10.0.0.8/plate.jpg": (400, "background_image refused: Host 10.0.0.8 is not reachable"),
            "https://user:pw@example.com/x.jpg": (400, "background_image"),
            b64(b"GIF89a" + bytes(64)): (422, "background_image: Image format not supported"),
            "%%%": (400, "background_image is neither"),
            b64(os.urandom(300_000)): (413, "background_image"),
        }
        for image, (status, words) in cases.items():
            body = {"product_image": product, "style": "studio_packshot", "background_image": image}
            answer = client.post("/v1/generate", json=body, headers=key.headers)
            assert answer.status_code == status, (image[:30], answer.text)
            message = answer.json()["message"]
            assert words in message and "127.0.0.1" not in message, message  # the resolved address is never told
        assert _stored_files(settings) == []  # the product photo stored first was removed too


def test_the_body_limit_counts_background_image(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", max_image_bytes=100_000)
    key = make_key(settings)
    big = b64(os.urandom(99_000))
    with TestClient(create_app(settings)) as client:
        body = {"product_image": big, "style": "studio_packshot", "mask_hint": big, "background_image": big}
        answer = client.post("/v1/generate", json=body, headers=key.headers)
        assert answer.status_code != 413, answer.text  # three images at the limit fit; the photo is refused later
        assert answer.status_code == 422


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"background_image": "X", "backdrop": "bdp_" + "0" * 26}, "not both"),
        ({"background_image": "X", "shadow": "natural"}, "natural"),
        ({"placement": {"x": 1.5}}, "placement.x must be"),
        ({"placement": {"scale": 0.0}}, "placement.scale must be"),
        ({"placement": {"z": 0.5}}, "placement must be an object with the fields x, y, scale or floor_y (z is not"),
        ({"background_blur": 2}, "background_blur must be"),
        ({"backdrop": "kitchen"}, "backdrop must be a backdrop id"),
    ],
)
def test_plate_fields_are_validated_in_words(client: TestClient, key: Key, extra: dict, words: str) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **extra}
    answer = client.post("/v1/generate", json=body, headers=key.headers)
    assert answer.status_code == 400, answer.text
    assert words in answer.json()["message"], answer.json()["message"]


def _render(settings: Settings, key: Key, body: dict) -> dict:
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/generate", json=body, headers=key.headers)
        assert answer.status_code == 202, answer.text
        process(WorkerContext(settings), answer.json()["id"])
        return client.get(f"/v1/generate/{answer.json()['id']}", headers=key.headers).json()


def test_a_packshot_on_a_background_image_by_url(settings: Settings, key: Key) -> None:
    receiver = Receiver()
    receiver.files["/plate.jpg"] = (PLATES / "office_desk.jpg").read_bytes()
    try:
        job = _render(
            settings,
            key,
            {
                "product_image": b64(product_jpeg()),
                "style": "studio_packshot",
                "background_image": f"{receiver.url}/plate.jpg",
                "placement": {"x": 0.5, "y": 0.8, "scale": 0.5},
                "harmonize": False,
            },
        )
    finally:
        receiver.close()
    assert job["status"] == "completed", job
    assert job["engine"] == "plate" and job["cutout_engine"] == "classical"
    assert job["backdrop"]["id"] is None and job["backdrop"]["harmonize"]["applied"] is False
    assert job["scene"]["placement"] == pytest.approx({"x": 0.5, "y": 0.8, "scale": 0.5, "floor_y": 0.8}, abs=1e-3)
    assert (job["width"], job["height"]) == (1024, 1024)
    assert "background_image" not in job["options"]  # stored as a file beside the photo, not in the options


def test_a_scene_picks_the_keys_plate_by_its_tags_and_names_it(settings: Settings, key: Key) -> None:
    with TestClient(create_app(settings)) as client:
        kitchen = client.post(
            "/v1/backdrops", json={"image": plate_b64(), "tags": ["kitchen"]}, headers=key.headers
        ).json()
        client.post("/v1/backdrops", json={"image": plate_b64("cafe_table"), "tags": ["cafe"]}, headers=key.headers)
        caps = client.get("/v1/capabilities", headers=key.headers).json()
    lifestyle = next(s for s in caps["styles"] if s["name"] == "lifestyle")
    plate = next(e for e in lifestyle["engines"] if e["name"] == "plate")
    assert plate["available"] is True and "2 backdrop plates" in plate["detail"]
    job = _render(settings, key, {"product_image": b64(product_jpeg()), "style": "lifestyle", "location": "kitchen"})
    assert job["status"] == "completed", job
    assert job["engine"] == "plate" and job["backdrop"]["id"] == kitchen["id"]
    assert job["backdrop"]["tags"] == ["kitchen"]
    beach = _render(settings, key, {"product_image": b64(product_jpeg()), "style": "lifestyle", "location": "beach"})
    assert beach["engine"] == "procedural" and "backdrop" not in beach  # no plate fits: drawn as before


def test_a_deleted_backdrop_fails_the_job_saying_so(settings: Settings, key: Key) -> None:
    with TestClient(create_app(settings)) as client:
        plate = client.post("/v1/backdrops", json={"image": plate_b64()}, headers=key.headers).json()
        answer = client.post(
            "/v1/generate",
            json={"product_image": b64(product_jpeg()), "style": "mockup", "backdrop": plate["id"]},
            headers=key.headers,
        )
        assert answer.status_code == 202
        client.delete(f"/v1/backdrops/{plate['id']}", headers=key.headers)
        process(WorkerContext(settings), answer.json()["id"])
        job = client.get(f"/v1/generate/{answer.json()['id']}", headers=key.headers).json()
    assert job["status"] == "failed" and plate["id"] in job["error"]["message"]


def test_without_plates_the_capabilities_say_scenes_are_procedural(client: TestClient, key: Key) -> None:
    caps = client.get("/v1/capabilities", headers=key.headers).json()
    for style in caps["styles"]:
        names = {e["name"]: e for e in style["engines"]}
        if style["name"] == "studio_packshot":
            assert names["plate"]["available"] and "background_image" in names["plate"]["detail"]
            continue
        assert style["engine"] == "procedural"
        assert names["plate"]["available"] is False and "no backdrop plates" in names["plate"]["detail"]
        assert names["diffusion"]["available"] is False and names["procedural"]["available"] is True


def test_plate_rules_in_the_schema_match_the_server(client: TestClient) -> None:
    """The served schema's rules across fields say exactly which plate combinations check_options refuses."""
    import itertools

    import jsonschema_rs  # the validator schemathesis itself uses
    from paqshot_server.catalog import EngineCatalog
    from paqshot_server.errors import InvalidRequest
    from paqshot_server.imaging.options import SHADOWS, STYLES, RenderOptions

    doc = client.get("/schema/openapi.json").json()
    rules = jsonschema_rs.Draft202012Validator({"allOf": doc["components"]["schemas"]["GenerateRequest"]["allOf"]})
    plate_id = "bdp_" + "0" * 26
    for style, shadow, image, backdrop in itertools.product(STYLES, SHADOWS, (None, "x"), (None, plate_id)):
        body = {"style": style, "shadow": shadow, "num_variants": 1, "background_image": image, "backdrop": backdrop}
        try:
            EngineCatalog.check_options(
                RenderOptions(style=style, shadow=shadow, backdrop=backdrop), background_image=image is not None
            )
            by_server = True
        except InvalidRequest:
            by_server = False
        assert rules.is_valid(body) == by_server, body


def test_plates_outlive_retention_and_a_jobs_background_goes_with_it(settings: Settings, key: Key) -> None:
    """Retention and the orphan sweep delete a job's background image with its photo, never a library plate; a
    re-run keeps the source's background image."""
    import time

    from paqshot_server.jobs import sweeper
    from paqshot_server.storage import jobs as jobs_sql

    with TestClient(create_app(settings)) as client:
        plate = client.post("/v1/backdrops", json={"image": plate_b64()}, headers=key.headers).json()
        body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "background_image": plate_b64()}
        job_id = client.post("/v1/generate", json=body, headers=key.headers).json()["id"]
        ctx = WorkerContext(settings)
        process(ctx, job_id)
        rerun = client.post(f"/v1/generate/{job_id}/rerun", json={"harmonize": False}, headers=key.headers)
        assert rerun.status_code == 202, rerun.text
        process(ctx, rerun.json()["id"])
        again = client.get(f"/v1/generate/{rerun.json()['id']}", headers=key.headers).json()
    assert again["engine"] == "plate" and again["backdrop"]["harmonize"]["applied"] is False
    job = jobs_sql.get(ctx.db.get(), job_id)
    assert job is not None and job.background_file and ctx.files.exists(job.background_file)
    old = 1_000_000_000
    for path in settings.files_dir.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    assert sweeper.purge_orphans(ctx) == 0  # every file has its job or its plate
    assert sweeper.purge_expired(ctx, time.time() + settings.retention_days * 86400 + 60) == 2
    assert not ctx.files.exists(job.background_file)
    assert _stored_files(settings) == [f"{plate['id']}_plate.jpg", f"{plate['id']}_thumb.jpg"]


def _png(rgba: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return b64(out.getvalue())


def test_a_nearly_opaque_plate_is_told_how_transparent_it_is(client: TestClient, key: Key) -> None:
    """breaker15 B15-10: a plate at alpha 254 everywhere (0.4 % see-through) was called "100 % transparent"."""
    pixels = np.asarray(Image.open(PLATES / "kitchen_marble.jpg").convert("RGBA")).copy()
    pixels[..., 3] = 254
    plate = client.post("/v1/backdrops", json={"image": _png(pixels), "tags": ["kitchen"]}, headers=key.headers)
    assert plate.status_code == 422, plate.text
    message = plate.json()["message"]
    assert "100% of this image's pixels are not" in message and "is under 1 % transparent" in message, message


@pytest.mark.parametrize("transparent_rows", [512, 8])
def test_a_transparent_plate_is_refused_at_the_door(
    client: TestClient, key: Key, settings: Settings, transparent_rows: int
) -> None:
    """breaker13 B13-7: a fully transparent PNG plate was stored and rendered as a black backdrop; a plate with a
    transparent strip would show a black one. Both refused, as plate and as a request's background_image; an
    RGBA plate that is opaque everywhere is taken."""
    pixels = np.asarray(Image.open(PLATES / "kitchen_marble.jpg").convert("RGBA")).copy()
    pixels[:transparent_rows, :, 3] = 0
    plate = client.post("/v1/backdrops", json={"image": _png(pixels), "tags": ["kitchen"]}, headers=key.headers)
    assert plate.status_code == 422, plate.text
    share = f"{transparent_rows / pixels.shape[0]:.0%}"
    assert "must be opaque" in plate.json()["message"] and f"{share} of this image's pixels" in plate.json()["message"]
    assert "most see-through of them is 100% transparent" in plate.json()["message"]
    job = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "background_image": _png(pixels)}
    refused = client.post("/v1/generate", json=job, headers=key.headers)
    assert refused.status_code == 422 and refused.json()["message"].startswith("background_image: A backdrop must")
    assert _stored_files(settings) == []
    pixels[..., 3] = 255
    taken = client.post("/v1/backdrops", json={"image": _png(pixels), "tags": ["kitchen"]}, headers=key.headers)
    assert taken.status_code == 201, taken.text
