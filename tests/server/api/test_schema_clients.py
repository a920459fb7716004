"""The served schema in the forms that client generators read, and agreeing with what the server does."""

from __future__ import annotations

import jsonschema_rs  # the validator schemathesis itself uses
from litestar.testing import TestClient
from support import Key, b64, product_jpeg


def test_check_presets_are_named_in_a_form_generators_read_and_the_server_agrees(client: TestClient, key: Key) -> None:
    schema = client.get("/schema/openapi.json").json()
    body = schema["components"]["schemas"]["CheckRequest"]
    # Branches that restate a field's type made openapi-python-client 0.29 drop POST /v1/check (breaker8, F4).
    assert body["anyOf"] == [{"required": ["preset"]}, {"required": ["compliance_check"]}]
    image = b64(product_jpeg())
    for sent, valid in (
        ({"image": image, "compliance_check": ["ebay"]}, True),
        ({"image": image, "preset": "ebay"}, True),
        ({"image": image, "preset": None, "compliance_check": ["ebay"]}, False),  # null is no preset
        ({"image": image, "preset": None}, False),
        ({"image": image}, False),
    ):
        assert jsonschema_rs.Draft202012Validator(body).is_valid(sent) is valid, sent
        answer = client.post("/v1/check", json=sent, headers=key.headers)
        assert (answer.status_code == 200) is valid, (sent.keys(), answer.text)


def test_a_files_answer_lists_every_type_a_file_may_have(client: TestClient) -> None:
    answer = client.get("/schema/openapi.json").json()["paths"]["/files/{name}"]["get"]["responses"]["200"]
    binary = {"schema": {"type": "string", "format": "binary"}}
    assert answer["content"] == {"image/jpeg": binary, "image/png": binary, "image/webp": binary}


def test_cancel_tells_a_client_that_a_running_generation_may_still_complete(client: TestClient) -> None:
    # breaker8 F7: cancel answered 200 "processing" and the job then completed; the schema said nothing of it.
    paths = client.get("/schema/openapi.json").json()["paths"]
    words = paths["/v1/generate/{generation_id}/cancel"]["post"]["description"]
    assert "`cancelled`" in words and "finishes first" in words and "`completed`" in words


def test_a_null_field_on_check_is_refused_in_words_that_say_what_to_send(client: TestClient, key: Key) -> None:
    # Session 8's replay: null was refused (400) with "preset must be a value of the documented form".
    for field, sent in (
        ("preset", {"preset": None}),
        ("preset", {"preset": None, "compliance_check": ["ebay"]}),
        ("compliance_check", {"preset": "ebay", "compliance_check": None}),
    ):
        answer = client.post("/v1/check", json={"image": b64(product_jpeg()), **sent}, headers=key.headers)
        assert answer.status_code == 400, answer.text
        words = answer.json()["message"]
        assert "documented form" not in words and "ebay" in words and f"leave {field} out" in words, words
