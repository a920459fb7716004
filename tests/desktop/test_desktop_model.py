"""State without widgets: the batch, the jobs table model, ETA and file naming."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop_support import job_json
from paqshot_desktop.model import (
    Batch,
    JobsModel,
    eta_seconds,
    image_extension,
    parse_time,
    render_name,
    status_text,
)
from paqshot_desktop.wire import ImageRef, Job, decode
from PySide6.QtCore import Qt


def job(**extra: Any) -> Job:
    return decode(Job, job_json(**extra))


def test_batch_keeps_per_file_state(qapp: Any) -> None:
    batch = Batch()
    changes: list[int] = []
    batch.changed.connect(lambda: changes.append(1))
    added: list[Any] = []
    batch.added.connect(added.append)
    updated: list[Any] = []
    batch.item_changed.connect(updated.append)
    a, b, c = Path("/x/a.jpg"), Path("/x/b.png"), Path("/x/c.gif")
    assert batch.add([a, b, c, a], {c: "Not a JPEG, PNG or WebP image."}) == 3
    assert batch.add([a], {}) == 0
    assert [[i.path for i in chunk] for chunk in added] == [[a, b, c]]
    assert [i.state for i in batch.items] == ["ready", "ready", "invalid"]
    assert [i.path for i in batch.sendable()] == [a, b]
    batch.update(a, state="submitted", job_id="gen_1")
    batch.update(b, state="failed", message="The server had an internal error.")
    assert [i.path for i in batch.sendable()] == [b]  # failed files can be sent again, invalid ones not
    assert [(u.path, u.state) for u in updated] == [(a, "submitted"), (b, "failed")]
    batch.clear_sent()
    assert [i.path for i in batch.items] == [b, c]
    assert changes


def test_jobs_model_pages_and_updates_in_place(qapp: Any) -> None:
    model = JobsModel()
    model.set_page([job(job_id="b"), job(job_id="a", status="completed")], total=2, offset=0)
    model.remember_source("b", "bottle.jpg")
    assert model.rowCount() == 2 and model.unfinished_ids() == ["b"]
    assert model.data(model.index(0, 0)) == "bottle.jpg"
    model.upsert(job(job_id="b", progress=0.5))
    assert model.rowCount() == 2 and model.data(model.index(0, 1)) == "Processing 50%"
    model.upsert(job(job_id="c"))
    assert model.rowCount() == 3 and model.job_at(0).id == "c" and model.total == 3
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole).id == "c"
    assert model.page_text == "1–3 of 3"


def test_new_jobs_do_not_jump_into_a_filtered_or_older_page(qapp: Any) -> None:
    model = JobsModel()
    model.status_filter = "failed"
    model.set_page([], total=0, offset=0)
    model.upsert(job(job_id="new"))
    assert model.rowCount() == 0
    model.status_filter = ""
    model.set_page([], total=40, offset=20)
    model.upsert(job(job_id="new"))
    assert model.rowCount() == 0


def test_status_text_is_plain_words() -> None:
    failed = job(status="failed", error={"code": "unsupported_image", "message": "Cannot decode"})
    assert status_text(failed) == (
        "Failed: The file is not a JPEG, PNG or WebP image the server can read: Cannot decode"
    )
    assert status_text(job(status="failed", error={"code": "cancelled", "message": "by user"})) == "Cancelled"
    assert status_text(job(status="completed")) == "Completed"


def test_eta_from_progress_or_estimate() -> None:
    start = parse_time("2026-06-09T14:00:00Z")
    assert start is not None
    assert eta_seconds(job(estimated_seconds=12), now=start + 5) == 7
    assert eta_seconds(job(progress=0.25), now=start + 10) == 30
    assert eta_seconds(job(status="completed", estimated_seconds=12), now=start) is None
    assert eta_seconds(job(), now=start) is None


def test_names_follow_the_pattern_and_stay_safe() -> None:
    done = job(job_id="gen_7", status="completed", seed=99, completed_at="2026-06-10T01:02:03Z")
    assert render_name("{name}_{style}_{index}", done, 0, "red shoe.jpg", "jpg") == "red_shoe_studio_packshot_1.jpg"
    assert render_name("{date}-{id}-{seed}-{ratio}", done, 1, None, "png") == "2026-06-10-gen_7-99-1x1.png"
    assert render_name("../../{name}", done, 0, "x.jpg", "jpg") == "x.jpg"
    # An unknown field falls back to the default pattern instead of failing the whole save.
    assert render_name("{nope}", done, 0, "x.jpg", "jpg") == "x_studio_packshot_1.jpg"


def test_extension_from_url_or_requested_format() -> None:
    done = job(status="completed", options={"output_format": "webp"})
    assert image_extension(done, ImageRef("http://a/f/x.png?sig=1")) == "png"
    assert image_extension(done, ImageRef("http://a/f/x?sig=1")) == "webp"
