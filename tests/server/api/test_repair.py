"""Review and repair over the API: mask hints, re-run, delete, search by file name (issue 12 extensions)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import jobs as jobs_sql
from paqshot_server.storage.db import connect
from PIL import Image
from support import Key, Receiver, b64, make_key, product_jpeg

PHOTO = (640, 480)  # product_jpeg's default: a red box (160..480, 96..384) with a white label on light grey


def png(array: np.ndarray, mode: str = "L") -> str:
    out = io.BytesIO()
    Image.fromarray(array, mode).save(out, "PNG")
    return b64(out.getvalue())


def hint_strokes() -> np.ndarray:
    """Keep a patch of backdrop (as for a shadow the user wants), remove a patch of the product."""
    hint = np.full((PHOTO[1], PHOTO[0]), 128, np.uint8)
    hint[20:60, 20:100] = 255
    hint[200:260, 300:400] = 0
    return hint


def submit(client: TestClient, key: Key, **fields: object) -> dict:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **fields}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 202, response.text
    return response.json()


def finished(client: TestClient, key: Key, settings: Settings, job_id: str) -> dict:
    assert process(WorkerContext(settings), job_id) == "completed"
    return client.get(f"/v1/generate/{job_id}", headers=key.headers).json()


def fetch_matte(client: TestClient, settings: Settings, job: dict) -> np.ndarray:
    response = client.get(job["matte_url"].removeprefix(settings.base_url))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.mode == "L" and image.size == PHOTO
        return np.asarray(image)


def test_mask_hint_changes_the_matte_where_it_says_and_nowhere_else(
    client: TestClient, key: Key, settings: Settings
) -> None:
    plain = finished(client, key, settings, submit(client, key)["id"])
    hint = hint_strokes()
    hinted = finished(client, key, settings, submit(client, key, mask_hint=png(hint))["id"])
    assert hinted["mask_hint"] is True and "mask_hint" not in hinted["options"]
    before, after = fetch_matte(client, settings, plain), fetch_matte(client, settings, hinted)
    assert (before[hint == 255] == 0).all() and (before[hint == 0] == 255).all()  # the hint had work to do
    assert (after[hint == 255] == 255).all() and (after[hint == 0] == 0).all()
    unknown = hint == 128
    assert np.abs(after[unknown].astype(int) - before[unknown].astype(int)).max() <= 1  # 8-bit rounding only


def test_a_hint_on_transparent_strokes_layer_drawn_on_a_half_size_preview(
    client: TestClient, key: Key, settings: Settings
) -> None:
    layer = np.zeros((PHOTO[1] // 2, PHOTO[0] // 2, 4), np.uint8)  # nothing painted: all transparent
    layer[100:130, 150:200] = (0, 0, 0, 255)  # one "remove" stroke on the product
    job = finished(client, key, settings, submit(client, key, mask_hint=png(layer, "RGBA"))["id"])
    matte = fetch_matte(client, settings, job)
    assert (matte[200:260, 300:400] == 0).all() and (matte[120:180, 180:260] == 255).all()


def test_a_hint_applies_to_a_photo_with_its_own_alpha_and_wins_where_they_disagree(
    client: TestClient, key: Key, settings: Settings
) -> None:
    """A cut-out PNG is cut by its own alpha; the hint constrains that alpha as it constrains a segmenter's
    matte: where the two disagree the hint wins (the later, explicit word); elsewhere the photo's alpha stays."""
    rgba = np.zeros((PHOTO[1], PHOTO[0], 4), np.uint8)
    rgba[...] = (40, 60, 200, 0)  # transparent, with a colour the file stores there
    yy, xx = np.mgrid[: PHOTO[1], : PHOTO[0]]
    body = ((xx - 320) / 140) ** 2 + ((yy - 240) / 140) ** 2 <= 1
    rgba[body | ((xx >= 440) & (xx < 520) & (yy >= 220) & (yy < 260))] = (200, 30, 30, 255)  # the product (a pot
    # with a spout: an outline; a plain disc would be taken as framing a photo, photo_region.frames_a_photo)
    shadow = (((xx - 320) / 200) ** 2 + ((yy - 420) / 40) ** 2 <= 1) & (rgba[..., 3] == 0)
    rgba[shadow] = (0, 0, 0, 90)  # a translucent cast shadow kept in the file's alpha
    photo = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(photo, "PNG")
    hint = np.full((PHOTO[1], PHOTO[0]), 128, np.uint8)
    hint[shadow] = 0  # remove the shadow the alpha kept
    hint[20:60, 20:100] = 255  # keep a patch the alpha made transparent
    hint[200:260, 300:340] = 0  # remove a patch of the product
    job = submit(client, key, product_image=b64(photo.getvalue()), mask_hint=png(hint))
    matte = fetch_matte(client, settings, finished(client, key, settings, job["id"]))
    assert (matte[hint == 0] == 0).all() and (matte[hint == 255] == 255).all()
    unknown = hint == 128
    assert (matte[unknown] == rgba[..., 3][unknown]).all()  # everywhere else: the photo's own alpha, exactly
    plain_job = submit(client, key, product_image=b64(photo.getvalue()))
    plain = fetch_matte(client, settings, finished(client, key, settings, plain_job["id"]))
    assert (plain == rgba[..., 3]).all()  # without a hint: the photo's alpha (the hint had work to do)


@pytest.mark.parametrize(
    ("hint", "message"),
    [
        (png(np.zeros((100, 100), np.uint8)), "mask_hint is 100x100 px; it must be 640x480 px"),
        ("bm90IGEgcG5n", "mask_hint must be a PNG image"),
        ("%%%", "mask_hint must be a PNG image in base64"),
    ],
)
def test_a_bad_hint_is_refused_and_leaves_no_file(
    client: TestClient, key: Key, settings: Settings, hint: str, message: str
) -> None:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "mask_hint": hint}
    response = client.post("/v1/generate", json=body, headers=key.headers)
    assert response.status_code == 400 and message in response.json()["message"], response.text
    assert list((settings.home / "files").rglob("*.*")) == []


def test_rerun_changes_options_keeps_the_rest_and_needs_no_upload(
    client: TestClient, key: Key, settings: Settings
) -> None:
    source = finished(
        client, key, settings, submit(client, key, background="black", shadow="hard", filename="a.jpg")["id"]
    )
    response = client.post(
        f"/v1/generate/{source['id']}/rerun",
        json={"background": "#336699", "mask_hint": png(hint_strokes())},
        headers=key.headers,
    )
    assert response.status_code == 202, response.text
    rerun = response.json()
    assert rerun["id"] != source["id"] and rerun["status"] == "processing"
    again = finished(client, key, settings, rerun["id"])
    assert again["rerun_of"] == source["id"] and again["filename"] == "a.jpg" and again["mask_hint"] is True
    assert again["options"]["background"] == "#336699" and again["options"]["shadow"] == "hard"
    matte = fetch_matte(client, settings, again)
    assert (matte[20:60, 20:100] == 255).all() and (matte[200:260, 300:400] == 0).all()
    # The hint is not inherited: a re-run of the re-run without one is a plain cut-out again.
    third = client.post(f"/v1/generate/{again['id']}/rerun", json={}, headers=key.headers).json()
    plain = fetch_matte(client, settings, finished(client, key, settings, third["id"]))
    assert (plain[20:60, 20:100] == 0).all()


def test_rerun_can_remove_the_photos_shadow(client: TestClient, key: Key, settings: Settings) -> None:
    """The repair dialog's "remove the photo's shadow": listed among the capabilities' fields (the desktop
    offers it only then), accepted by rerun, recorded in the new job's options (what its cut-out used)."""
    fields = client.get("/v1/capabilities", headers=key.headers).json()["fields"]
    assert any(f["name"] == "remove_photo_shadow" and f["extension"] for f in fields)
    source = finished(client, key, settings, submit(client, key)["id"])
    assert source["options"].get("remove_photo_shadow") in (None, False)
    response = client.post(
        f"/v1/generate/{source['id']}/rerun", json={"remove_photo_shadow": True}, headers=key.headers
    )
    assert response.status_code == 202, response.text
    again = finished(client, key, settings, response.json()["id"])
    assert again["status"] == "completed" and again["options"]["remove_photo_shadow"] is True
    bad = client.post(f"/v1/generate/{source['id']}/rerun", json={"remove_photo_shadow": "yes"}, headers=key.headers)
    assert bad.status_code == 400 and "remove_photo_shadow must be" in bad.json()["message"]


def test_rerun_refusals(client: TestClient, key: Key, settings: Settings) -> None:
    source = submit(client, key)
    other = make_key(settings, name="other")
    assert client.post(f"/v1/generate/{source['id']}/rerun", json={}, headers=other.headers).status_code == 404
    bad = client.post(f"/v1/generate/{source['id']}/rerun", json={"product_image": "x"}, headers=key.headers)
    assert bad.status_code == 400
    finished(client, key, settings, source["id"])
    job = jobs_sql.get(connect(settings.app_db), source["id"])
    assert job is not None
    Resources(settings).files.delete(job.input_file)  # as retention does
    gone = client.post(f"/v1/generate/{source['id']}/rerun", json={}, headers=key.headers)
    assert gone.status_code == 410 and gone.json()["error"] == "input_expired"
    assert "submit it again" in gone.json()["message"]


def test_delete_removes_files_urls_and_the_pending_webhook(client: TestClient, key: Key, settings: Settings) -> None:
    receiver = Receiver()
    try:
        job = submit(client, key, webhook_url=f"{receiver.url}/hook", mask_hint=png(hint_strokes()))
        done = finished(client, key, settings, job["id"])  # its webhook is now waiting in the outbox
        urls = [done["image_url"], done["thumbnail_url"], done["matte_url"], done["input_url"]]
        stored = jobs_sql.get(connect(settings.app_db), job["id"])
        assert stored is not None and all(Resources(settings).files.exists(n) for n in stored.files())

        assert client.delete(f"/v1/generate/{job['id']}", headers=key.headers).status_code == 204
        assert client.get(f"/v1/generate/{job['id']}", headers=key.headers).status_code == 404
        assert all(client.get(u.removeprefix(settings.base_url)).status_code == 404 for u in urls)
        assert not any(Resources(settings).files.exists(n) for n in stored.files())
        assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0
        ctx = WorkerContext(settings)
        ctx.db.get().conn.execute("UPDATE webhook_events SET next_attempt_at = 0")
        dispatch_due(ctx)
        assert receiver.requests == []  # never sent
        assert client.delete(f"/v1/generate/{job['id']}", headers=key.headers).status_code == 404
    finally:
        receiver.close()


def test_deleting_a_queued_job_ends_it_without_a_webhook_and_keeps_the_quota(
    client: TestClient, settings: Settings
) -> None:
    key = make_key(settings, quota=1)
    receiver = Receiver()
    try:
        job = submit(client, key, webhook_url=f"{receiver.url}/hook")
    finally:
        receiver.close()
    assert client.delete(f"/v1/generate/{job['id']}", headers=key.headers).status_code == 204
    assert process(WorkerContext(settings), job["id"]) == "not-claimed"
    assert jobs_sql.get(connect(settings.app_db), job["id"]).state == "failed"  # type: ignore[union-attr]
    assert connect(settings.app_db).conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0
    again = client.post(
        "/v1/generate", json={"product_image": b64(product_jpeg()), "style": "studio_packshot"}, headers=key.headers
    )
    assert again.status_code == 403  # a deleted generation still counts against the quota


def test_search_by_file_name(client: TestClient, key: Key) -> None:
    for name in ("Red_Bottle.jpg", "blue bottle.png", "mug.jpg"):
        submit(client, key, filename=name)
    submit(client, key)
    found = client.get("/v1/generations", params={"filename": "BOTTLE"}, headers=key.headers).json()
    assert sorted(g["filename"] for g in found["data"]) == ["Red_Bottle.jpg", "blue bottle.png"]
    assert found["total"] == 2
    literal = client.get("/v1/generations", params={"filename": "_"}, headers=key.headers).json()
    assert [g["filename"] for g in literal["data"]] == ["Red_Bottle.jpg"]  # '_' is not a wildcard
    bad = client.post(
        "/v1/generate",
        json={"product_image": b64(product_jpeg()), "style": "studio_packshot", "filename": "../etc/passwd"},
        headers=key.headers,
    )
    assert bad.status_code == 400


def test_list_filters_on_needs_review(client: TestClient, key: Key, settings: Settings) -> None:
    settings_strict = settings.with_overrides(review_threshold=1.0)  # every cut-out needs review in this worker
    flagged = submit(client, key, filename="flagged.jpg")
    assert process(WorkerContext(settings_strict), flagged["id"]) == "completed"
    clean = submit(client, key, filename="clean.jpg")
    assert process(WorkerContext(settings.with_overrides(review_threshold=0.0)), clean["id"]) == "completed"
    submit(client, key)  # still processing: in neither list

    def names(value: str) -> list[str]:
        page = client.get("/v1/generations", params={"needs_review": value}, headers=key.headers).json()
        return [g["filename"] for g in page["data"]]

    assert names("true") == ["flagged.jpg"] and names("false") == ["clean.jpg"]


@pytest.mark.parametrize("style", ["studio_packshot", "lifestyle"])
def test_product_box_places_the_product_in_the_photo_and_in_the_image(
    client: TestClient, key: Key, settings: Settings, style: str
) -> None:
    """The viewer aligns before/after on the product: the two boxes must be the same product at two scales."""
    job = finished(client, key, settings, submit(client, key, style=style)["id"])
    box = job["product_box"]
    x, y, w, h = box["input"]
    assert min(x, y) >= 0 and x + w <= PHOTO[0] and y + h <= PHOTO[1]
    assert abs(x - 160) <= 12 and abs(y - 96) <= 12 and abs(w - 320) <= 24 and abs(h - 288) <= 24  # the red box
    u, v, ow, oh = box["output"]
    assert min(u, v) >= 0 and u + ow <= job["width"] and v + oh <= job["height"]
    assert abs(ow / oh - w / h) < 0.02  # same product, one scale
