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


FILLS_FRAME = (
    "the product seems to fill the frame: the cut-out model found only a small detail of it (1.8 % of the photo) "
    "on a surface that covers the rest of the photo. Photograph the whole product on a plain backdrop with some "
    "space around it, or send a mask hint."
)


def refused_job(**extra: Any) -> Job:
    """A job the appliance's cut-out refused, as the API reports it (breaker9 F10: engine and confidence)."""
    error = {"code": "unsupported_image", "message": FILLS_FRAME}
    return job(status="failed", error=error, engine="onnx:u2netp-int8", confidence=0.05, **extra)


def test_a_refused_cutout_is_shown_in_the_appliances_words_and_not_offered_again(qapp: Any) -> None:
    """breaker9 F3: every refusal read "The file is not a JPEG, PNG or WebP image the server can read: the product
    seems to fill the frame…", and the Create button offered to send the refused photo again."""
    assert status_text(refused_job()) == "Refused: T" + FILLS_FRAME[1:]
    assert "JPEG" not in status_text(refused_job())
    batch = Batch()
    refused, broken = Path("/x/hoodie.jpg"), Path("/x/broken.jpg")
    batch.add([refused, broken], {})
    batch.update(refused, state="submitted", job_id="gen_r")
    batch.update(broken, state="submitted", job_id="gen_b")
    batch.follow(refused_job(job_id="gen_r"))
    unreadable = {"code": "unsupported_image", "message": "Image could not be decoded as JPEG: truncated."}
    batch.follow(job(job_id="gen_b", status="failed", error=unreadable))  # no engine ran: the file is at fault
    item = batch.get(refused)
    assert item is not None and item.state == "refused" and item.finished
    assert item.message == "T" + FILLS_FRAME[1:]
    assert [i.path for i in batch.sendable()] == [broken]  # the same photo would be refused the same way
    bad = batch.get(broken)
    assert bad is not None and bad.state == "failed" and "JPEG, PNG or WebP" in bad.message


def test_review_reasons_joined_after_a_bracket_keep_their_full_stop() -> None:
    """breaker9 F11: "…(confidence 0.31 < 0.60) The product looks…" had no full stop after the bracket."""
    from paqshot_desktop.labels import sentence

    assert sentence("check the outline (confidence 0.31 < 0.60)") == "Check the outline (confidence 0.31 < 0.60)."
    assert sentence("a remark (in brackets.)") == "A remark (in brackets.)"


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
