"""The app against a real appliance process on loopback (classical engine, no models needed)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from desktop_support import BRANDS, RunningAppliance, product_bytes
from paqshot_desktop.branding import load_brand
from paqshot_desktop.local import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_photo_to_saved_packshot_against_a_real_appliance(
    qtbot: Any, make_app: Any, appliance: RunningAppliance, tmp_path: Path
) -> None:
    photo = tmp_path / "bottle.jpg"
    photo.write_bytes(product_bytes("JPEG", (480, 360)))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # right magic bytes, undecodable body
    app = make_app()
    controller, window = app.controller, app.window
    controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=20_000)
    assert window.create_view.form.values()["style"] == "studio_packshot"

    controller.batch.add_files([photo, broken])
    qtbot.waitUntil(lambda: len(controller.batch.batch.items) == 2, timeout=10_000)
    window.create_view.form.editor("background").set_value("#F0E6D2")
    qtbot.waitUntil(window.create_view.submit_button.isEnabled, timeout=5000)
    window.create_view.submit_button.click()
    batch = controller.batch.batch
    qtbot.waitUntil(lambda: all(i.state not in ("ready", "sending", "waiting") for i in batch.items), timeout=30_000)
    states = {i.path.name: i for i in batch.items}
    assert states["bottle.jpg"].state == "submitted", states["bottle.jpg"].message
    # The server's 422 is shown on that file, in plain words.
    assert states["broken.png"].state == "invalid" and "JPEG, PNG or WebP" in states["broken.png"].message

    job_id = states["bottle.jpg"].job_id
    controller.poll_timer.setInterval(300)
    qtbot.waitUntil(lambda: window.results_view.grid.count() >= 1, timeout=60_000)
    job = window.results_view.jobs()[0]
    assert job.id == job_id and job.status == "completed" and job.engine
    qtbot.waitUntil(lambda: not window.results_view.grid.item(0).icon().isNull(), timeout=20_000)

    out = tmp_path / "out"
    controller.results.save([job], str(out), "{name}-{index}")
    qtbot.waitUntil(lambda: "Saved" in window.results_view.message.text(), timeout=20_000)
    saved = out / "bottle-1.jpg"
    assert saved.read_bytes()[:3] == b"\xff\xd8\xff"

    controller.results.open_viewer(job)
    viewer = controller.results.viewer
    assert viewer is not None
    qtbot.waitUntil(lambda: viewer.canvas.after is not None, timeout=20_000)
    assert viewer.canvas.after.width() == job.width
    assert viewer.canvas.before is not None  # the stored original, for before/after
    viewer.reject()

    # History comes from the server: a fresh app (restart) lists the same job.
    again = make_app()
    again.controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: again.controller.jobs.rowCount() >= 1, timeout=20_000)
    listed = {j.id: j.status for j in again.controller.jobs.jobs()}
    assert listed[job_id] == "completed"


def test_the_sidebar_says_when_the_appliance_stops_answering(
    qtbot: Any, make_app: Any, appliance: RunningAppliance
) -> None:
    """breaker15 B15-4: the server killed, the sidebar still said "Connected to …" on every page 25 s later (the
    app polled only while it had unfinished jobs)."""
    app = make_app()
    controller, window = app.controller, app.window
    controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=20_000)
    assert window.connection_label.text().startswith("Connected to")
    controller.poll_timer.setInterval(200)
    assert appliance.process is not None
    appliance.process.send_signal(signal.SIGINT)
    appliance.process.wait(30)
    qtbot.waitUntil(lambda: window.connection_label.text().startswith("Not answering"), timeout=20_000)
    assert appliance.url.split("://", 1)[1] in window.connection_label.text()


@pytest.mark.parametrize("brand_id", ["paqshot", "noir"])
def test_run_on_this_computer_starts_and_stops_the_appliance(qtbot: Any, make_app: Any, brand_id: str) -> None:
    brand = load_brand(BRANDS / brand_id)
    app = make_app(brand)
    controller = app.controller
    app.window.connect_view.local_button.click()
    qtbot.waitUntil(lambda: app.window.current_page == "create", timeout=60_000)
    local = controller.local
    assert local.running and local.endpoint is not None
    assert local.endpoint.url.startswith("http://127.0.0.1:")
    key_file = local.data_dir / "desktop-api-key.json"
    assert json.loads(key_file.read_text())["key"] == local.endpoint.api_key
    assert "this computer" in app.window.connect_view.status.text()
    # The appliance was started with the same brand file: it names itself and its keys after the brand.
    assert controller.caps.product == brand.server.product_name
    assert local.endpoint.api_key.startswith(brand.server.key_prefix)
    assert local.endpoint.api_key not in app.window.connect_view.log.toPlainText()  # the log on screen hides keys
    process = local.process
    assert process is not None
    pid = process.processId()
    controller.shutdown()
    assert not local.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # The appliance's own worker processes went with it (nothing left serving that data folder).
    leftovers = [p for p in Path("/proc").glob("[0-9]*") if _cmdline_has(p, str(local.data_dir))]
    assert leftovers == []


def _cmdline_has(proc_dir: Path, text: str) -> bool:
    try:
        return text in (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def busy_photo() -> bytes:
    """A product on a busy, product-coloured rug: the cut-out is unsure and the appliance flags it for review."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 700), (120, 84, 60))
    draw = ImageDraw.Draw(image)
    for i in range(0, 900, 30):
        draw.line((i, 0, 900 - i, 700), fill=(150 + i % 90, 100, 70), width=12)
    draw.rounded_rectangle((380, 200, 540, 600), 30, fill=(140, 92, 58))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_refused_then_submit_progress_review_and_repair_with_a_stroke(
    qtbot: Any, make_app: Any, appliance: RunningAppliance, tmp_path: Path
) -> None:
    """Issue 12's desktop e2e: a refused port is reported at once; a photo goes through live progress to a
    result that needs review; a "remove" stroke in the repair view re-renders it and the matte changes there."""
    import io

    import numpy as np
    from paqshot_desktop.views.repair import REMOVE, RepairDialog
    from PIL import Image
    from PySide6.QtCore import QPointF

    app = make_app()
    controller, window = app.controller, app.window
    controller.connect_to(f"http://127.0.0.1:{free_port()}", appliance.key)
    qtbot.waitUntil(window.connect_view.connect_button.isEnabled, timeout=5000)
    assert "connection was refused" in window.connect_view.status.text()

    controller.connect_to(appliance.url, appliance.key)
    qtbot.waitUntil(lambda: window.current_page == "create", timeout=20_000)
    assert controller.results.repairs  # the appliance offers mask_hint, rerun and delete
    photo = tmp_path / "bottle-on-rug.jpg"
    photo.write_bytes(busy_photo())
    states: list[str] = []
    controller.batch.batch.item_changed.connect(lambda item: states.append(item.state))
    controller.batch.add_files([photo])
    qtbot.waitUntil(window.create_view.submit_button.isEnabled, timeout=10_000)
    controller.poll_timer.setInterval(200)
    window.create_view.submit_button.click()
    item = lambda: controller.batch.batch.items[0]  # noqa: E731
    qtbot.waitUntil(lambda: item().finished, timeout=120_000)
    assert "submitted" in states and item().state == "review", (states, item().message)
    assert item().message  # the reason is written on the tile
    job_id = item().job_id
    assert job_id is not None
    qtbot.waitUntil(lambda: any(j.id == job_id for j in window.results_view.jobs()), timeout=20_000)
    first = next(j for j in window.results_view.jobs() if j.id == job_id)
    assert first.flagged and first.filename == "bottle-on-rug.jpg" and first.matte_url

    window.create_view.open_requested.emit(job_id)  # double-click on the finished tile
    qtbot.waitUntil(lambda: controller.results.viewer is not None, timeout=10_000)
    viewer = controller.results.viewer
    assert viewer is not None and not viewer.review.isHidden() and not viewer.repair_button.isHidden()
    qtbot.waitUntil(lambda: viewer.canvas.after is not None, timeout=20_000)
    assert first.product_box is not None and viewer.canvas.aligned  # before/after aligned on the product
    viewer.repair_button.click()
    qtbot.waitUntil(lambda: isinstance(controller.results.dialog, RepairDialog), timeout=20_000)
    dialog = controller.results.dialog
    assert isinstance(dialog, RepairDialog) and dialog.canvas.overlay is not None  # the current matte is shown
    assert dialog.shadow.isVisible() and dialog.shadow.isEnabled()  # the appliance lists remove_photo_shadow
    assert dialog.shadow_note.isVisible() and "paint Remove" in dialog.shadow_note.text()
    old_matte = np.asarray(Image.open(io.BytesIO(controller.client.download(first.matte_url))).convert("L"))
    box = (40, 40, 200, 120)  # x0, y0, x1, y1 in photo pixels: rug the unsure cut-out partly kept
    assert old_matte[box[1] + 20 : box[3] - 20, box[0] + 20 : box[2] - 20].max() > 64
    dialog.tools.button(REMOVE).click()
    dialog.canvas.radius = 20
    for y in range(box[1] + 20, box[3] - 19, 20):
        dialog.canvas.stroke(QPointF(box[0] + 20, y), QPointF(box[2] - 20, y))
    dialog.render_button.click()

    qtbot.waitUntil(lambda: any(j.rerun_of == job_id and j.finished for j in controller.jobs.jobs()), timeout=120_000)
    repaired = next(j for j in controller.jobs.jobs() if j.rerun_of == job_id)
    assert repaired.status == "completed" and repaired.matte_url
    new_matte = np.asarray(Image.open(io.BytesIO(controller.client.download(repaired.matte_url))).convert("L"))
    painted = new_matte[box[1] + 20 : box[3] - 20, box[0] + 20 : box[2] - 20]
    assert painted.max() == 0  # what the stroke covers is background now
    outside = np.ones(new_matte.shape, bool)
    outside[box[1] - 25 : box[3] + 25, box[0] - 25 : box[2] + 25] = False
    assert np.abs(new_matte.astype(int) - old_matte.astype(int))[outside].max() <= 1  # nothing else moved
