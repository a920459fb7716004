"""The whole window driven against a fake appliance (httpx.MockTransport): connect, create, queue, results."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from desktop_support import job_json, mock_client, product_bytes
from paqshot_desktop.client import ApiClient
from paqshot_desktop.views.viewer import settings_rows
from PySide6.QtWidgets import QPushButton

PNG_SIGNATURE = b"\x89PNG"


class FakeAppliance:
    """Answers like an appliance; JPEG uploads are rate-limited once, PNG is too large, WebP unreadable."""

    def __init__(self, caps_json: dict[str, Any]) -> None:
        self.caps_json = caps_json
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.rate_limited_once = False
        self.key = "pk_good"
        self.total = 0
        self.reject_png = True  # stands in for "over the size limit" without a 10 MB fixture

    def client(self, url: str, key: str) -> ApiClient:
        client = mock_client(self.handle, self.sleeps)
        client.base_url, client.api_key = url.rstrip("/"), key
        return client

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.startswith("/files/"):
            return httpx.Response(200, content=product_bytes("PNG" if path.endswith(".png") else "JPEG"))
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return httpx.Response(401, json={"error": "unauthorized", "message": "Invalid API key."})
        if path == "/v1/capabilities":
            return httpx.Response(200, json=self.caps_json)
        if path == "/v1/generate" and request.method == "POST":
            return self.generate(json.loads(request.content))
        if path == "/v1/generations":
            params = request.url.params
            status = params.get("status")
            data = [j for j in self.jobs.values() if not status or j["status"] == status]
            text = params.get("filename", "").lower()
            data = [j for j in data if text in str(j.get("filename", "")).lower()]
            offset, limit = int(params["offset"]), int(params["limit"])
            total = max(len(data), self.total)
            page = data[offset : offset + limit]
            body = {"data": page, "total": total, "limit": limit, "offset": offset, "has_more": offset + limit < total}
            return httpx.Response(200, json=body)
        if path.startswith("/v1/generate/") and request.method == "DELETE":
            self.jobs.pop(path.rsplit("/", 1)[1])
            return httpx.Response(204)
        if path.startswith("/v1/generate/") and path.endswith("/cancel"):
            job_id = path.split("/")[3]
            self.jobs[job_id].update(status="failed", error={"code": "cancelled", "message": "Cancelled."})
            return httpx.Response(200, json=self.jobs[job_id])
        if path.startswith("/v1/generate/"):
            job_id = path.rsplit("/", 1)[1]
            return httpx.Response(200, json=self.jobs[job_id])
        return httpx.Response(404, json={"error": "not_found", "message": path})

    def generate(self, body: dict[str, Any]) -> httpx.Response:
        image = body["product_image"]
        if image.startswith("data:image/png") and self.reject_png:
            return httpx.Response(413, json={"error": "image_too_large", "message": "12.0 MB is over 10 MB."})
        if image.startswith("data:image/webp"):
            return httpx.Response(422, json={"error": "unsupported_image", "message": "Cannot decode the image."})
        if not self.rate_limited_once:
            self.rate_limited_once = True
            return httpx.Response(
                429, json={"error": "rate_limited", "message": "60/min"}, headers={"Retry-After": "3"}
            )
        job_id = f"gen_{len(self.jobs) + 1}"
        self.jobs[job_id] = job_json(job_id, "processing", estimated_seconds=4, options=_options(body))
        return httpx.Response(202, json=self.jobs[job_id])

    def complete(self, job_id: str) -> None:
        self.jobs[job_id].update(
            status="completed",
            progress=1.0,
            engine="classical",
            seed=11,
            image_url=f"http://appliance.test/files/{job_id}.jpg?sig=1",
            thumbnail_url=f"http://appliance.test/files/{job_id}_thumb.jpg?sig=1",
            input_url=f"http://appliance.test/files/{job_id}_input.png?sig=1",
            width=1024,
            height=1024,
            completed_at="2026-06-09T14:00:09Z",
        )


def _options(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("product_image", "style", "aspect_ratio")}


@pytest.fixture
def fake(caps_json: dict[str, Any]) -> FakeAppliance:
    return FakeAppliance(caps_json)


@pytest.fixture
def photos(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "shoot"
    folder.mkdir()
    files = {
        "shoe": ("shoe.jpg", product_bytes("JPEG")),
        "huge": ("huge.png", product_bytes("PNG")),
        "odd": ("odd.webp", product_bytes("WEBP")),
        "fake": ("fake.jpg", b"this is not an image at all"),
    }
    out = {}
    for key, (name, data) in files.items():
        (folder / name).write_bytes(data)
        out[key] = folder / name
    return out


def connect(qtbot: Any, make_app: Any, fake: FakeAppliance, key: str = "pk_good") -> Any:
    app = make_app(client_factory=fake.client)
    app.controller.connect_to("http://appliance.test", key)
    return app


def send_one(qtbot: Any, make_app: Any, fake: FakeAppliance, photo: Path) -> Any:
    """A connected app that has sent ``photo`` from the Create page (the appliance's job ``gen_1``)."""
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    app.controller.batch.add_files([photo])
    qtbot.waitUntil(lambda: app.window.create_view.submit_button.isEnabled(), timeout=5000)
    app.window.create_view.submit_button.click()
    qtbot.waitUntil(lambda: "gen_1" in fake.jobs, timeout=5000)
    return app


def test_wrong_key_and_wrong_address_are_explained(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    app = connect(qtbot, make_app, fake, key="pk_wrong")
    view = app.window.connect_view
    qtbot.waitUntil(lambda: "not accepted" in view.status.text(), timeout=5000)
    assert app.window.current_page == "connect" and view.connect_button.isEnabled()
    app.controller.connect_to("appliance.test:8000", "pk_good")
    assert "http:// or https://" in view.status.text()


def test_connecting_builds_the_form_and_remembers_the_server(
    qtbot: Any, make_app: Any, fake: FakeAppliance, tmp_path: Path
) -> None:
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    form = app.window.create_view.form
    assert {"style", "background", "prompt", "seed", "shadow", "num_variants"} <= set(form.names())
    assert "product_image" not in form.names() and "webhook_url" not in form.names()
    assert app.controller.settings.get("server_url") == "http://appliance.test"
    # No keyring in tests (conftest): the key falls back to the private settings file, written on a worker.
    qtbot.waitUntil(lambda: app.controller.settings.get("api_key") == "pk_good", timeout=5000)


def test_prompt_counter_and_validation_block_submit(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    for style in fake.caps_json["styles"]:
        style.update(available=True, engine=style["engine"] or "procedural", reason=None)
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    view = app.window.create_view
    app.controller.batch.add_files([photos["shoe"]])
    qtbot.waitUntil(lambda: view.submit_button.isEnabled(), timeout=5000)
    prompt = view.form.editor("prompt")
    assert not prompt.isEnabled()  # a studio packshot has no prompt
    view.form.editor("style").set_value("mockup")
    assert prompt.isEnabled()
    prompt.set_value("x" * 501)
    assert prompt.counter.text() == "501 / 500" and prompt.counter.property("role") == "error"
    assert not view.submit_button.isEnabled()
    prompt.set_value("on a marble table")
    assert prompt.counter.text() == "17 / 500" and view.submit_button.isEnabled()


def test_batch_shows_429_wait_and_413_422_per_file(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    batch = app.controller.batch.batch
    app.controller.batch.add_files([photos["shoe"].parent])  # the whole folder
    qtbot.waitUntil(lambda: len(batch.items) == 4, timeout=5000)
    states = {i.path.name: i for i in batch.items}
    assert states["fake.jpg"].state == "invalid" and "Not a JPEG" in states["fake.jpg"].message
    view = app.window.create_view
    qtbot.waitUntil(lambda: view.submit_button.text() == "Generate 3 images", timeout=2000)
    view.form.editor("shadow").set_value("hard")
    view.submit_button.click()
    qtbot.waitUntil(lambda: all(i.state not in ("sending", "waiting") for i in batch.items), timeout=10_000)
    states = {i.path.name: i for i in batch.items}
    assert states["shoe.jpg"].state == "submitted" and states["shoe.jpg"].job_id == "gen_1"
    assert states["huge.png"].state == "invalid" and "too large" in states["huge.png"].message
    assert states["odd.webp"].state == "invalid" and "JPEG, PNG or WebP" in states["odd.webp"].message
    # What these sends did, counted (B16-9's kind): fake.jpg was never sent, so it is not one that "could not be".
    sent = "Sent 1 photo; 2 could not be sent (the reason is on each tile)."
    qtbot.waitUntil(lambda: view.form_status.text() == sent, timeout=2000)
    assert fake.sleeps == [3.0]  # waited exactly what Retry-After said, then retried
    posts = [r for r in fake.requests if r.method == "POST"]
    shoe_posts = [json.loads(r.content) for r in posts if b"image/jpeg" in r.content]
    assert len(shoe_posts) == 2 and shoe_posts[0]["shadow"] == "hard"
    assert len({r.headers["Idempotency-Key"] for r in posts if b"image/jpeg" in r.content}) == 1
    uploaded = [base64.b64decode(json.loads(r.content)["product_image"].split(",", 1)[1]) for r in posts]
    assert photos["fake"].read_bytes() not in uploaded  # refused locally, never sent
    assert len(posts) == 4  # shoe twice (429 then 202), huge once, odd once
    # The new job is in the queue, named after its file.
    jobs = app.controller.jobs
    assert jobs.job_at(0).id == "gen_1" and jobs.data(jobs.index(0, 0)) == "shoe.jpg"
    # "Clear submitted" keeps only the photos that need attention.
    view.clear_button.click()
    assert sorted(i.path.name for i in batch.items) == ["fake.jpg", "huge.png", "odd.webp"]
    assert view.files.count() == 3


def test_completed_jobs_reach_results_and_can_be_saved_and_repeated(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path], tmp_path: Path
) -> None:
    app = send_one(qtbot, make_app, fake, photos["shoe"])
    controller = app.controller
    qtbot.waitUntil(lambda: controller.jobs.rowCount() == 1, timeout=5000)
    fake.complete("gen_1")
    results = app.window.results_view
    # poll() is a no-op while a timer-driven poll is in flight, so ask again until the change lands.
    qtbot.waitUntil(lambda: (controller.poll(), results.grid.count() == 1)[1], timeout=10_000)
    qtbot.waitUntil(lambda: not results.grid.item(0).icon().isNull(), timeout=5000)
    assert results.grid.item(0).text().startswith("shoe.jpg")
    assert controller.jobs.data(controller.jobs.index(0, 1)) == "Completed"

    out = tmp_path / "export"
    controller.results.save(results.jobs(), str(out), "{name}_{style}_{index}")
    qtbot.waitUntil(lambda: "Saved 1 image" in results.message.text(), timeout=5000)
    saved = out / "shoe_studio_packshot_1.jpg"
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"

    controller.results.open_viewer(results.jobs()[0])
    viewer = controller.results.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.canvas.after is not None, timeout=5000)
    assert viewer.canvas.before is not None
    rows = dict(settings_rows(viewer.job))
    assert rows["Made by"] == "Classical cut-out (no model)" and rows["Seed"] == "11" and rows["Shadow"] == "Soft"
    assert "Classical cut-out (no model)" in viewer.info.text()
    assert viewer.again_button.isHidden()  # a studio packshot has no seed: "again" would give the same image
    viewer.reject()
    fake.reject_png = False
    scene = msgspec.structs.replace(results.jobs()[0], style="mockup")
    controller.results.open_viewer(scene)
    viewer = controller.results.viewer
    assert viewer is not None and not viewer.again_button.isHidden()
    viewer.again_button.click()
    assert viewer.action == "again"
    qtbot.waitUntil(lambda: "gen_2" in fake.jobs, timeout=5000)
    again = json.loads([r for r in fake.requests if r.method == "POST"][-1].content)
    assert again["product_image"].startswith("data:image/png;base64,")  # the stored original
    assert again["shadow"] == "soft" and isinstance(again["seed"], int)
    qtbot.waitUntil(lambda: app.window.current_page == "queue", timeout=5000)


def test_opening_a_create_tile_whose_result_expired_says_so_on_the_tile(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    """B16-14: the Create tile said "Done" and double-clicking it did nothing once retention had deleted the
    images; it now takes the job's state, as the queue and the Results page say it."""
    app = send_one(qtbot, make_app, fake, photos["shoe"])
    controller = app.controller
    fake.complete("gen_1")
    item = lambda: controller.batch.batch.get(photos["shoe"])  # noqa: E731
    qtbot.waitUntil(lambda: (controller.poll(), item().finished)[1], timeout=10_000)
    for link in ("image_url", "thumbnail_url", "input_url"):  # retention deleted the files: no links
        fake.jobs["gen_1"].pop(link)
    fake.jobs["gen_1"]["expired"] = True
    app.window.create_view.open_requested.emit("gen_1")  # double-click on the finished tile
    qtbot.waitUntil(lambda: item().state == "expired", timeout=5000)
    assert "retention" in item().message and controller.results.viewer is None
    assert controller.jobs.data(controller.jobs.index(0, 1)) == "Expired"


def test_history_pages_through_the_server(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    for i in range(45):
        fake.jobs[f"gen_h{i}"] = job_json(
            f"gen_h{i}",
            "completed" if i % 3 else "failed",
            error=None if i % 3 else {"code": "server_error", "message": "x"},
        )
    app = connect(qtbot, make_app, fake)
    queue = app.window.queue_view
    qtbot.waitUntil(lambda: app.controller.jobs.rowCount() == 20, timeout=5000)
    assert queue.page_label.text() == "1–20 of 45" and queue.next_button.isEnabled()
    assert not queue.prev_button.isEnabled()
    queue.next_button.click()
    qtbot.waitUntil(lambda: app.controller.jobs.offset == 20, timeout=5000)
    assert queue.page_label.text() == "21–40 of 45" and queue.prev_button.isEnabled()
    queue.filter.setCurrentIndex(queue.filter.findData("failed"))
    qtbot.waitUntil(lambda: app.controller.jobs.total == 15, timeout=5000)
    assert all(j.status == "failed" for j in app.controller.jobs.jobs())
    assert app.controller.jobs.data(app.controller.jobs.index(0, 1)).startswith("Failed: The server had")
    listed = [r for r in fake.requests if r.url.path == "/v1/generations"]
    assert listed[-1].url.params["status"] == "failed" and listed[-1].url.params["offset"] == "0"


def test_settings_survive_a_restart(qtbot: Any, make_app: Any, fake: FakeAppliance, tmp_path: Path) -> None:
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    qtbot.waitUntil(lambda: app.controller.settings.get("api_key") == "pk_good", timeout=5000)
    app.window.resize(1010, 690)
    app.controller.shutdown()  # what quitting does: saves geometry and settings
    settings_file = Path(app.controller.settings.file_name)
    assert settings_file.stat().st_mode & 0o077 == 0  # holds the API key: private to the user
    from paqshot_desktop.app import build

    again = build(app.brand, settings_path=settings_file, client_factory=fake.client, data_dir=tmp_path / "d")
    try:
        assert again.window.connect_view.url.text() == "http://appliance.test"
        assert again.window.connect_view.key.text() == "pk_good"  # from the file: no keyring in tests
        # (the offscreen screen is narrower than the window's minimum, so only the height survives intact)
        assert again.window.height() == 690
        again.controller.restore()
        qtbot.waitUntil(lambda: again.window.current_page == "create", timeout=5000)
    finally:
        again.controller.shutdown()
        again.window.deleteLater()


def test_damaged_file_with_valid_magic_bytes_is_caught_before_upload(
    qtbot: Any, make_app: Any, fake: FakeAppliance, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.jpg"
    damaged.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 300)
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    batch = app.controller.batch.batch
    app.controller.batch.add_files([damaged])
    qtbot.waitUntil(lambda: bool(batch.items) and batch.items[0].state == "invalid", timeout=5000)
    assert "cannot be read" in batch.items[0].message
    qtbot.waitUntil(lambda: "1 cannot be sent" in app.window.create_view.summary.text(), timeout=2000)
    assert not app.window.create_view.submit_button.isEnabled()
    assert not [r for r in fake.requests if r.method == "POST"]


def test_cancel_from_the_queue(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    fake.jobs["gen_c"] = job_json("gen_c", "processing", progress=0.3)
    app = connect(qtbot, make_app, fake)
    queue = app.window.queue_view
    qtbot.waitUntil(lambda: app.controller.jobs.rowCount() == 1, timeout=5000)
    queue.table.selectRow(0)
    assert queue.cancel_button.isEnabled() and not queue.open_button.isEnabled()
    queue.cancel_button.click()
    qtbot.waitUntil(lambda: app.controller.jobs.job_at(0).status == "failed", timeout=5000)
    assert app.controller.jobs.data(app.controller.jobs.index(0, 1)) == "Cancelled"
    assert [r.url.path for r in fake.requests if r.method == "POST"] == ["/v1/generate/gen_c/cancel"]
    assert not queue.cancel_button.isEnabled()


def test_local_appliance_log_hides_keys() -> None:
    from paqshot_desktop.branding import ServerIdentity
    from paqshot_desktop.local import redact

    server = ServerIdentity(key_prefix="pk_live_", webhook_secret_prefix="whsec_")
    line = "First API key (shown once):  pk_live_oPJqJ0q-jTYm_Bw and whsec_mfVhDsV"
    assert redact(line, server) == "First API key (shown once):  pk_live_…(hidden) and whsec_…(hidden)"
    standard = "Its webhook secret:  whsec_q0+Xb/8AhV1n2Jk9Lw3mR7tYpZs4uEoC6dFgHiJkLmA="  # standard base64
    assert redact(standard, server) == "Its webhook secret:  whsec_…(hidden)"


def test_polling_uses_one_list_call_plus_one_get_per_job_that_left_it(fake: FakeAppliance) -> None:
    from paqshot_desktop.controller import poll_jobs

    fake.jobs["a"] = job_json("a", "processing", progress=0.4)
    fake.jobs["b"] = job_json("b", "completed")
    client = fake.client("http://appliance.test", "pk_good")
    found = {job.id: job for job in poll_jobs(client, ["a", "b"])}
    assert found["a"].progress == 0.4 and found["b"].status == "completed"
    paths = [r.url.path for r in fake.requests]
    assert paths == ["/v1/generations", "/v1/generate/b"]


def test_dropping_files_on_the_create_page(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos["shoe"])), QUrl.fromLocalFile(str(photos["odd"]))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    app.window.create_view.drop.dropEvent(event)
    batch = app.controller.batch.batch
    qtbot.waitUntil(lambda: len(batch.items) == 2, timeout=5000)
    assert {i.path.name for i in batch.items} == {"shoe.jpg", "odd.webp"}
    qtbot.waitUntil(lambda: app.window.create_view.thumbnails_shown == 2, timeout=5000)


def test_statuses_are_coloured_by_the_brand(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    from PySide6.QtCore import Qt

    fake.jobs["ok"] = job_json("ok", "completed")
    fake.jobs["bad"] = job_json("bad", "failed", error={"code": "server_error", "message": "x"})
    app = connect(qtbot, make_app, fake)
    jobs = app.controller.jobs
    qtbot.waitUntil(lambda: jobs.rowCount() == 2, timeout=5000)
    colours = {jobs.job_at(r).status: jobs.data(jobs.index(r, 1), Qt.ItemDataRole.ForegroundRole) for r in range(2)}
    assert colours["completed"].name() == app.brand.colors["success"]
    assert colours["failed"].name() == app.brand.colors["danger"]
    assert jobs.data(jobs.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None


def test_last_options_come_back_after_reconnecting(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    form = app.window.create_view.form
    form.set_values({"background": "#A0B0C0", "shadow": "floating", "aspect_ratio": "4:3"})
    app.controller.batch.add_files([photos["shoe"]])
    qtbot.waitUntil(lambda: app.window.create_view.submit_button.isEnabled(), timeout=5000)
    app.window.create_view.submit_button.click()
    form.set_values({"background": "", "shadow": "none", "aspect_ratio": "1:1"})
    app.controller.connect_to("http://appliance.test", "pk_good")
    qtbot.waitUntil(lambda: form.values()["shadow"] == "floating", timeout=5000)
    assert form.values()["background"] == "#A0B0C0" and form.values()["aspect_ratio"] == "4:3"


def test_viewer_switches_between_variants(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    from PySide6.QtGui import QGuiApplication

    fake.jobs["gen_v"] = job_json("gen_v", "processing")
    fake.complete("gen_v")
    fake.jobs["gen_v"]["images"] = [
        {"image_url": f"http://appliance.test/files/v{i}.jpg?sig=1", "thumbnail_url": "x", "width": 8, "height": 8}
        for i in (1, 2)
    ]
    app = connect(qtbot, make_app, fake)
    results = app.window.results_view
    qtbot.waitUntil(lambda: results.grid.count() == 1, timeout=5000)
    assert "2 variants" in results.grid.item(0).text()
    app.controller.results.open_viewer(results.jobs()[0])
    viewer = app.controller.results.viewer
    assert viewer is not None and viewer.variant.count() == 2 and not viewer.variant.isHidden()
    qtbot.waitUntil(lambda: viewer.canvas.after is not None, timeout=5000)
    viewer.variant.setCurrentIndex(1)
    qtbot.waitUntil(lambda: any(r.url.path == "/files/v2.jpg" for r in fake.requests), timeout=5000)
    viewer.copy_url()
    assert QGuiApplication.clipboard().text() == "http://appliance.test/files/v2.jpg?sig=1"
    viewer.side_button.click()  # every variant next to each other
    qtbot.waitUntil(lambda: len(viewer.side_by_side.images) == 2, timeout=5000)
    assert viewer.views.currentWidget() is viewer.side_by_side and not viewer.split_slider.isEnabled()


def test_keyboard_shortcuts_switch_pages_and_submit(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    from PySide6.QtCore import Qt

    app = connect(qtbot, make_app, fake)
    window = app.window
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "queue"
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "create"
    app.controller.batch.add_files([photos["shoe"]])
    qtbot.waitUntil(window.create_view.submit_button.isEnabled, timeout=5000)
    qtbot.keyClick(window.create_view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(r.method == "POST" for r in fake.requests), timeout=5000)


def test_a_key_revoked_mid_session_leads_back_to_connect(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    fake.jobs["gen_p"] = job_json("gen_p", "processing")
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.controller.jobs.rowCount() == 1, timeout=5000)
    fake.key = "pk_rotated"  # the appliance's admin revoked our key
    qtbot.waitUntil(lambda: (app.controller.poll(), app.window.current_page == "connect")[1], timeout=10_000)
    assert "not accepted" in app.window.connect_view.status.text()
    assert not app.controller.poll_timer.isActive() and app.controller.client is None
    assert not app.window.nav_buttons["create"].isEnabled()


def test_results_search_by_file_name_review_filter_and_delete(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    for job_id, name, review in (("gen_a", "blue-mug.jpg", False), ("gen_b", "red-shoe.jpg", True)):
        fake.jobs[job_id] = job_json(job_id, "processing", filename=name)
        fake.complete(job_id)
        if review:
            reasons = [{"code": "low_confidence", "message": "the cut-out is uncertain"}]
            fake.jobs[job_id].update(needs_review=True, review_reasons=reasons)
    app = connect(qtbot, make_app, fake)
    results, controller = app.window.results_view, app.controller
    qtbot.waitUntil(lambda: results.grid.count() == 2, timeout=5000)
    names = {results.grid.item(i).text().split("\n")[0] for i in range(2)}
    assert names == {"blue-mug.jpg", "red-shoe.jpg"}  # the appliance's file names, not job ids
    flagged = next(j for j in results.jobs() if j.id == "gen_b")
    qtbot.waitUntil(lambda: controller.jobs.rowCount() == 2, timeout=5000)  # the queue's own page
    statuses = {controller.jobs.job_at(r).id: controller.jobs.data(controller.jobs.index(r, 1)) for r in range(2)}
    assert flagged.flagged and statuses == {"gen_a": "Completed", "gen_b": "Needs review"}
    results.search.setText("MUG")
    results.search.returnPressed.emit()
    qtbot.waitUntil(lambda: [j.id for j in results.jobs()] == ["gen_a"], timeout=5000)
    listed = [r for r in fake.requests if r.url.path == "/v1/generations"]
    assert listed[-1].url.params["filename"] == "MUG"
    results.search.clear()
    results.show_filter.setCurrentIndex(1)  # Needs review
    qtbot.waitUntil(lambda: [j.id for j in results.jobs()] == ["gen_b"], timeout=5000)
    controller.results.delete(results.jobs(), confirm=False)
    qtbot.waitUntil(lambda: results.grid.count() == 0, timeout=5000)
    assert [r.url.path for r in fake.requests if r.method == "DELETE"] == ["/v1/generate/gen_b"]
    assert "gen_b" not in fake.jobs and results.stack.currentWidget() is results.empty
    assert "Nothing needs review" in results.empty.text()


def test_a_delete_the_appliance_refuses_half_way_says_what_was_deleted(
    qtbot: Any, make_app: Any, fake: FakeAppliance
) -> None:
    """B16-9's kind in the Results page: the second of two deletes refused said "Could not delete: …" while the
    first job was gone from the appliance and still on the grid."""
    for job_id in ("gen_a", "gen_b"):
        fake.jobs[job_id] = job_json(job_id, "processing", filename=f"{job_id}.jpg")
        fake.complete(job_id)
    answer = fake.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and request.url.path.endswith("/gen_b"):
            return httpx.Response(404, json={"error": "not_found", "message": "Generation gen_b not found."})
        return answer(request)

    fake.handle = handle  # type: ignore[method-assign]
    app = connect(qtbot, make_app, fake)
    results, controller = app.window.results_view, app.controller
    qtbot.waitUntil(lambda: results.grid.count() == 2, timeout=5000)
    controller.results.delete(results.jobs(), confirm=False)
    qtbot.waitUntil(lambda: results.grid.count() == 1, timeout=5000)  # gen_a went; gen_b stays, as on the appliance
    assert [j.id for j in results.jobs()] == ["gen_b"]
    assert results.message.text().startswith("Deleted 1 job; 1 could not be: "), results.message.text()


def test_the_api_key_goes_to_the_keyring_not_the_file(
    qtbot: Any, make_app: Any, fake: FakeAppliance, tmp_path: Path
) -> None:
    import keyring
    import keyring.backend
    from keyring.backends import fail

    class MemoryKeyring(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.store.pop((service, username), None)

    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        app = connect(qtbot, make_app, fake)
        qtbot.waitUntil(lambda: bool(memory.store), timeout=5000)
        service = app.controller.settings.keyring_service
        assert memory.store == {(service, "http://appliance.test"): "pk_good"}
        app.controller.shutdown()
        settings_file = Path(app.controller.settings.file_name)
        assert "pk_good" not in settings_file.read_text()
        from paqshot_desktop.app import build

        again = build(app.brand, settings_path=settings_file, client_factory=fake.client, data_dir=tmp_path / "d")
        try:  # a fresh start reads the key back from the keyring
            qtbot.waitUntil(lambda: again.window.connect_view.key.text() == "pk_good", timeout=5000)
        finally:
            again.controller.shutdown()
            again.window.deleteLater()
    finally:
        keyring.set_keyring(fail.Keyring())


def test_a_finished_batch_is_announced_once(
    qtbot: Any, make_app: Any, fake: FakeAppliance, photos: dict[str, Path]
) -> None:
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    notes: list[str] = []
    app.window.notify = lambda _title, text: notes.append(text)  # type: ignore[method-assign]
    controller = app.controller
    controller.batch.add_files([photos["shoe"]])
    qtbot.waitUntil(app.window.create_view.submit_button.isEnabled, timeout=5000)
    app.window.create_view.submit_button.click()
    qtbot.waitUntil(lambda: "gen_1" in fake.jobs, timeout=5000)
    fake.jobs["gen_1"]["progress"] = 0.4
    qtbot.waitUntil(lambda: (controller.poll(), controller.batch.batch.items[0].state == "processing")[1], timeout=5000)
    assert controller.batch.batch.items[0].progress == 0.4 and notes == []
    fake.complete("gen_1")
    fake.jobs["gen_1"].update(needs_review=True, review_reasons=[{"code": "x", "message": "the product is cut"}])
    qtbot.waitUntil(lambda: (controller.poll(), bool(notes))[1], timeout=5000)
    item = controller.batch.batch.items[0]
    assert item.state == "review" and item.message == "The product is cut."
    assert notes == ["Batch finished: 0 ready, 1 to review."]


def test_no_procedural_hint_when_backdrop_plates_serve_the_scenes(
    qtbot: Any, make_app: Any, fake: FakeAppliance
) -> None:
    for style in fake.caps_json["styles"]:
        plate = {"name": "plate", "available": True, "detail": "3 backdrop plates in the library"}
        style.update(available=True, engine=style["engine"] or "procedural", reason=None, engines=[plate])
    app = connect(qtbot, make_app, fake)
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    assert app.window.create_view.hint.isHidden()


def test_the_procedural_hint_shows_until_dismissed(qtbot: Any, make_app: Any, fake: FakeAppliance) -> None:
    for style in fake.caps_json["styles"]:
        style.update(available=True, engine=style["engine"] or "procedural", reason=None)
    app = connect(qtbot, make_app, fake)
    view = app.window.create_view
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=5000)
    # a hint about scenes, shown only while a scene is chosen (breaker9 F11: it sat beside Studio packshot)
    view.form.editor("style").set_value("studio_packshot")
    assert view.hint.isHidden()
    view.form.editor("style").set_value("lifestyle")
    assert not view.hint.isHidden() and "models install" in view.hint_text.text()
    assert "backdrops add" in view.hint_text.text()
    view.form.editor("style").set_value("studio_packshot")
    assert view.hint.isHidden()
    view.form.editor("style").set_value("lifestyle")
    view.hint.findChild(QPushButton).click()
    assert view.hint.isHidden() and app.controller.settings.get("procedural_hint_seen")
    app.controller.connect_to("http://appliance.test", "pk_good")
    qtbot.waitUntil(lambda: app.window.connect_view.connect_button.isEnabled(), timeout=5000)
    assert view.hint.isHidden()
