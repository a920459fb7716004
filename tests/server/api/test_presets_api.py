"""Presets through the API: the preset sets the values the request left out, explicit fields win, the result
records the preset and the values used, and the compliance report is on the job and in the webhook."""

from __future__ import annotations

import io
import json
import time

import msgspec
import pytest
from litestar.testing import TestClient
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, Receiver, b64, product_jpeg


def _run(client: TestClient, key: Key, settings: Settings, **fields: object) -> dict:
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", **fields}
    accepted = client.post("/v1/generate", json=body, headers=key.headers)
    assert accepted.status_code == 202, accepted.text
    assert process(WorkerContext(settings), accepted.json()["id"]) == "completed"
    return client.get(f"/v1/generate/{accepted.json()['id']}", headers=key.headers).json()


def test_amazon_main_sets_its_values_and_its_report_passes(client: TestClient, key: Key, settings: Settings) -> None:
    job = _run(client, key, settings, preset="amazon_main")
    assert (job["width"], job["height"]) == (2000, 2000)  # the preset's long side beats the 1024 setting
    options = job["options"]
    assert options["preset"] == "amazon_main"
    assert options["shadow"] == "none" and options["background"] == "white" and options["padding"] == 0.05
    assert options["output_format"] == "jpeg" and options["long_side"] == 2000
    (report,) = job["compliance"]
    assert report["preset"] == "amazon_main"
    assert report["passed"], report
    rules = {r["rule"]: r for r in report["rules"]}
    assert rules["product_fill"]["measured"] >= 0.85 and rules["background_purity"]["measured"] >= 0.98
    assert rules["shadow"]["measured"] <= 8
    image = client.get(job["image_url"].removeprefix(settings.base_url))
    assert Image.open(io.BytesIO(image.content)).size == (2000, 2000)


def test_explicit_fields_beat_the_preset_and_the_report_says_what_that_breaks(
    client: TestClient, key: Key, settings: Settings
) -> None:
    job = _run(client, key, settings, preset="amazon_main", shadow="soft", aspect_ratio="4:3")
    assert job["options"]["shadow"] == "soft"  # sent explicitly: beats the preset's "none"
    assert job["aspect_ratio"] == "4:3" and (job["width"], job["height"]) == (2000, 1500)
    (report,) = job["compliance"]
    failed = {r["rule"] for r in report["rules"] if not r["passed"]}
    assert "shadow" in failed and not report["passed"]  # the drawn soft shadow is reported, not hidden


def test_compliance_check_names_more_presets(client: TestClient, key: Key, settings: Settings) -> None:
    job = _run(client, key, settings, compliance_check=["google_shopping", "fashion_packshot"])
    assert [r["preset"] for r in job["compliance"]] == ["google_shopping", "fashion_packshot"]
    fashion = {r["rule"]: r for r in job["compliance"][1]["rules"]}
    assert not fashion["background_purity"]["passed"]  # white is not the fashion preset's light grey


def test_unknown_presets_are_refused_with_the_known_ones_named(client: TestClient, key: Key) -> None:
    for body in ({"preset": "amazon_mian"}, {"compliance_check": ["ebay", "nope"]}):
        response = client.post(
            "/v1/generate",
            json={"product_image": b64(product_jpeg()), "style": "studio_packshot", **body},
            headers=key.headers,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_request"
        assert "amazon_main" in response.json()["message"]


def test_a_preset_id_with_a_final_newline_is_refused_as_not_a_preset_id(client: TestClient, key: Key) -> None:
    """Python's ``$`` let "amazon_main\\n" through the preset-id pattern (then it was an unknown preset)."""
    from paqshot_server.imaging.presets import PresetId

    with pytest.raises(msgspec.ValidationError):
        msgspec.convert("amazon_main\n", PresetId)
    photo = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    for path, body in (
        ("/v1/generate", {**photo, "preset": "amazon_main\n"}),
        ("/v1/generate", {**photo, "compliance_check": ["ebay\n"]}),
        ("/v1/check", {"image": b64(product_jpeg()), "preset": "amazon_main\n"}),
    ):
        response = client.post(path, json=body, headers=key.headers)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert " must be " in message and "Unknown preset" not in message and "\n" not in message, message


def test_the_webhook_payload_carries_the_compliance_report(client: TestClient, key: Key, settings: Settings) -> None:
    receiver = Receiver()
    try:
        job = _run(client, key, settings, preset="ebay", webhook_url=f"{receiver.url}/hook")
        ctx = WorkerContext(settings)
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            ctx.db.get().conn.execute("UPDATE webhook_events SET next_attempt_at = 0 WHERE state = 'pending'")
            dispatch_due(ctx)
            time.sleep(0.05)
        payload = json.loads(receiver.requests[0]["body"])
        assert payload["compliance"] == job["compliance"]
        assert payload["compliance"][0]["preset"] == "ebay"
    finally:
        receiver.close()


def test_presets_are_listed_with_their_values_rules_and_sources(client: TestClient, key: Key) -> None:
    listed = client.get("/v1/presets", headers=key.headers)
    assert listed.status_code == 200
    by_id = {p["id"]: p for p in listed.json()["data"]}
    amazon = by_id["amazon_main"]
    assert amazon["render"]["shadow"] == "none" and amazon["rules"]["min_fill"] == 0.85
    assert amazon["sources"][0]["url"].startswith("https://") and amazon["sources"][0]["read"]
    assert client.get("/v1/presets").status_code == 401


def test_check_measures_any_image_as_it_is(client: TestClient, key: Key) -> None:
    body = {"image": b64(product_jpeg()), "preset": "amazon_main", "compliance_check": ["ebay"]}
    checked = client.post("/v1/check", json=body, headers=key.headers)
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert (result["width"], result["height"], result["format"]) == (640, 480, "jpeg")
    amazon, ebay = result["compliance"]
    assert not amazon["passed"] and ebay["passed"]
    failed = {r["rule"] for r in amazon["rules"] if not r["passed"]}
    assert {"background_purity", "long_side"} <= failed  # grey backdrop, 640 px
    for bad, code in (({"image": b64(product_jpeg())}, 400), ({"image": "bm90IGFuIGltYWdl", "preset": "ebay"}, 422)):
        answer = client.post("/v1/check", json=bad, headers=key.headers)
        assert answer.status_code == code, answer.text
        assert set(answer.json()) == {"error", "message"}
    unknown = client.post("/v1/check", json={"image": b64(product_jpeg()), "preset": "nope"}, headers=key.headers)
    assert unknown.status_code == 400 and "amazon_main" in unknown.json()["message"]


def test_the_fields_sent_are_read_from_the_body_parsed_once(
    client: TestClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handler passes the keys of the JSON it parsed for the request; parsing a megabyte again for them cost
    # the event loop ~0.7 ms a submission (docs/progress/issue-14.md, "Door tail, session 5").
    from paqshot_server.jobs import service

    def parsed_again(*_args: object) -> set[str]:
        raise AssertionError("the body was parsed again for its keys")

    monkeypatch.setattr(service, "_sent_fields", parsed_again)
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "preset": "amazon_main", "shadow": "soft"}
    accepted = client.post("/v1/generate", json=body, headers=key.headers)
    assert accepted.status_code == 202, accepted.text
    job = client.get(f"/v1/generate/{accepted.json()['id']}", headers=key.headers).json()
    assert job["options"]["shadow"] == "soft" and job["options"]["background"] == "white"  # sent; the preset's
