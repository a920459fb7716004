"""Review fields and the cut-out engine choice, end to end in process: request → worker → GET, list, webhook."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.inference.store import ModelStore
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, Receiver, b64, make_key, product_jpeg

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"
needs_tiny_seg = pytest.mark.skipif(not (FIXTURES / "tiny-seg").is_dir(), reason="tiny segmentation fixture not built")


def plain_product() -> str:
    """A red box on a plain grey backdrop: the classical cut-out is sure of it (confidence 1.0)."""
    img = Image.new("RGB", (640, 480), (236, 236, 236))
    img.paste((190, 30, 35), (160, 96, 480, 384))
    out = io.BytesIO()
    img.save(out, "PNG")
    return b64(out.getvalue())


def _run(settings: Settings, body: dict, key: Key | None = None) -> tuple[dict, dict, dict | None]:
    """Submit, process, deliver: (GET body, the list item, the webhook payload or None)."""
    key = key or make_key(settings)
    receiver = Receiver()
    try:
        with TestClient(create_app(settings)) as client:
            response = client.post("/v1/generate", json={**body, "webhook_url": receiver.url}, headers=key.headers)
            assert response.status_code == 202, response.text
            job_id = response.json()["id"]
            ctx = WorkerContext(settings)
            process(ctx, job_id)
            dispatch_due(ctx)
            got = client.get(f"/v1/generate/{job_id}", headers=key.headers).json()
            listed = client.get("/v1/generations", headers=key.headers).json()["data"][0]
        hook = json.loads(receiver.requests[0]["body"]) if receiver.requests else None
    finally:
        receiver.close()
    return got, listed, hook


def test_a_confident_result_is_not_flagged_everywhere(settings: Settings) -> None:
    got, listed, hook = _run(settings, {"product_image": plain_product(), "style": "studio_packshot"})
    assert got["status"] == "completed"
    for view in (got, listed, hook):
        assert view is not None
        assert view["needs_review"] is False and view["review_reasons"] == []
        assert 0.5 <= view["confidence"] <= 1
    assert got["engine"] == "classical" == hook["engine"]  # type: ignore[index]
    assert got["cutout_engine"] == "classical"


def test_under_the_threshold_the_result_is_flagged_with_a_reason(settings: Settings) -> None:
    strict = replace(settings, review_threshold=1.0)  # no real matte is that certain
    got, listed, hook = _run(strict, {"product_image": b64(product_jpeg()), "style": "studio_packshot"})
    assert got["status"] == "completed"
    for view in (got, listed, hook):
        assert view is not None and view["needs_review"] is True
        codes = [r["code"] for r in view["review_reasons"]]
        assert codes[0] == "low_confidence"
        assert "confidence" in view["review_reasons"][0]["message"]
    lax = replace(settings, review_threshold=0.0)  # the threshold is the setting's, not a constant
    got, _listed, _hook = _run(lax, {"product_image": b64(product_jpeg()), "style": "studio_packshot"})
    assert all(r["code"] != "low_confidence" for r in got["review_reasons"])


def test_on_low_confidence_fail_ends_the_job_failed_naming_the_reason(settings: Settings) -> None:
    strict = replace(settings, review_threshold=1.0)
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "on_low_confidence": "fail"}
    got, _listed, hook = _run(strict, body)
    assert got["status"] == "failed"
    assert got["error"]["code"] == "unsupported_image"
    assert "uncertain" in got["error"]["message"] and "on_low_confidence" in got["error"]["message"]
    assert hook is not None and hook["status"] == "failed" and hook["error"]["code"] == "unsupported_image"


def test_on_low_confidence_fail_completes_a_confident_result(settings: Settings) -> None:
    body = {"product_image": plain_product(), "style": "studio_packshot", "on_low_confidence": "fail"}
    got, _listed, _hook = _run(settings, body)
    assert got["status"] == "completed" and got["needs_review"] is False


def test_the_engine_a_cut_by_its_own_alpha_names_can_be_sent_back(client: TestClient, settings: Settings) -> None:
    # breaker12 B12-9: a photo with transparency names cutout_engine "alpha", which a re-run copying it refused (400)
    cut = Image.new("RGBA", (80, 60), (0, 0, 0, 0))
    cut.paste((200, 40, 40, 255), (20, 15, 60, 45))
    out = io.BytesIO()
    cut.save(out, "PNG")
    key = make_key(settings)
    first, _, _ = _run(settings, {"product_image": b64(out.getvalue()), "style": "studio_packshot"}, key)
    assert first["status"] == "completed" and first["cutout_engine"] == "alpha", first
    again = client.post(f"/v1/generate/{first['id']}/rerun", json={"cutout_engine": "alpha"}, headers=key.headers)
    assert again.status_code == 202, again.text
    assert process(WorkerContext(settings), again.json()["id"]) == "completed"
    rerun = client.get(f"/v1/generate/{again.json()['id']}", headers=key.headers).json()
    assert rerun["cutout_engine"] == "alpha" and rerun["options"]["cutout_engine"] == "auto", rerun


def test_request_fields_are_validated(client: TestClient, key: Key) -> None:
    base = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    for bad in ({"on_low_confidence": "maybe"}, {"cutout_engine": "../etc"}, {"cutout_engine": ""}):
        response = client.post("/v1/generate", json={**base, **bad}, headers=key.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
    missing = client.post("/v1/generate", json={**base, "cutout_engine": "birefnet-general"}, headers=key.headers)
    assert missing.status_code == 403
    assert "birefnet-general" in missing.json()["message"] and "not installed" in missing.json()["message"]
    fields = {f["name"]: f for f in client.get("/v1/capabilities", headers=key.headers).json()["fields"]}
    assert fields["cutout_engine"]["default"] == "auto" and fields["cutout_engine"]["extension"] is True
    assert fields["on_low_confidence"]["enum"] == ["complete", "fail"]


@needs_tiny_seg
def test_cutout_engine_picks_the_model_or_classical(settings: Settings) -> None:
    ModelStore(settings.models_dir).install(FIXTURES / "tiny-seg", accept_licence=True)
    key = make_key(settings)
    photo = b64(product_jpeg())
    auto, _, hook = _run(settings, {"product_image": photo, "style": "studio_packshot"}, key)
    assert auto["engine"] == "onnx:tiny-seg" == auto["cutout_engine"]
    assert hook is not None and hook["engine"] == "onnx:tiny-seg"
    classical, _, _ = _run(settings, {"product_image": photo, "style": "studio_packshot", "cutout_engine": "classical"})
    assert classical["engine"] == "classical" == classical["cutout_engine"]
    named, _, _ = _run(settings, {"product_image": photo, "style": "studio_packshot", "cutout_engine": "tiny-seg"})
    assert named["engine"] == "onnx:tiny-seg"
    # the engine a result names can be sent back as it is (breaker6, F4: a 400 before)
    again, _, _ = _run(settings, {"product_image": photo, "style": "studio_packshot", "cutout_engine": auto["engine"]})
    assert again["engine"] == "onnx:tiny-seg" and again["options"]["cutout_engine"] == "tiny-seg"
    with TestClient(create_app(settings)) as client:
        body = {"product_image": photo, "style": "studio_packshot", "cutout_engine": "onnx:nosuch"}
        missing = client.post("/v1/generate", json=body, headers=key.headers)
    # an id of no model is the request's mistake (breaker11 B11-5: it was 403)
    assert missing.status_code == 400 and "installed here: tiny-seg" in missing.json()["message"], missing.text
    scene, _, _ = _run(settings, {"product_image": photo, "style": "lifestyle", "cutout_engine": "classical"})
    assert scene["engine"] == "procedural" and scene["cutout_engine"] == "classical"


def plain_backdrop() -> str:
    """A plain grey photo with nothing on it: the classical cut-out runs and finds no product."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (236, 236, 236)).save(out, "PNG")
    return b64(out.getvalue())


def test_a_refusal_after_the_cutout_ran_records_its_engine_and_confidence(settings: Settings) -> None:
    """breaker9 F10: a job the cut-out refused (on_low_confidence: fail; no product found) said engine,
    cutout_engine and confidence null though its message quoted the confidence."""
    strict = replace(settings, review_threshold=1.0)
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "on_low_confidence": "fail"}
    got, listed, hook = _run(strict, body)
    assert got["status"] == "failed" and got["error"]["code"] == "unsupported_image"
    for view in (got, listed, hook):
        assert view is not None and view["engine"] == "classical", view
        assert isinstance(view["confidence"], float) and 0 <= view["confidence"] < 1
        assert f"{view['confidence']:.2f}" in got["error"]["message"]  # the figure the message quotes
    assert got["cutout_engine"] == "classical" == listed["cutout_engine"]
    assert "image_url" not in got and not got.get("images")
    nothing, listed, hook = _run(settings, {"product_image": plain_backdrop(), "style": "studio_packshot"})
    assert nothing["status"] == "failed" and nothing["error"]["code"] == "unsupported_image"
    assert nothing["error"]["message"].startswith("no product found")
    assert nothing["engine"] == "classical" == nothing["cutout_engine"] and nothing["confidence"] == 0.0
    assert hook is not None and hook["engine"] == "classical" and hook["confidence"] == 0.0
    for view in (nothing, listed, hook):  # no result to review: no review fields
        assert "needs_review" not in view and "review_reasons" not in view, view


def test_a_job_failed_for_review_keeps_its_review_fields(settings: Settings) -> None:
    """breaker11 B11-9: a job failed by on_low_confidence: fail had review_reasons null (the reasons only inside
    the error's message): a client could not read their codes."""
    strict = replace(settings, review_threshold=1.0)
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "on_low_confidence": "fail"}
    got, listed, hook = _run(strict, body)
    assert got["status"] == "failed"
    for view in (got, listed, hook):
        assert view is not None and view["needs_review"] is True, view
        codes = [r["code"] for r in view["review_reasons"]]
        assert codes[0] == "low_confidence", codes
        for reason in view["review_reasons"]:  # the reasons the error's message names, one by one
            assert reason["message"] in got["error"]["message"]


def test_a_refused_job_is_not_listed_as_a_result_without_review(settings: Settings) -> None:
    """The refused job keeps a result without images (its confidence): a needs_review filter lists results only."""
    key = make_key(settings)
    _run(settings, {"product_image": plain_backdrop(), "style": "studio_packshot"}, key)
    with TestClient(create_app(settings)) as client:
        for flag in ("true", "false"):
            page = client.get(f"/v1/generations?needs_review={flag}", headers=key.headers).json()
            assert page["data"] == [], (flag, page)
