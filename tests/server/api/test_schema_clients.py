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


def test_cancel_tells_a_client_that_a_generation_storing_its_images_still_completes(client: TestClient) -> None:
    # breaker8 F7: cancel answered 200 "processing" and the job then completed; the schema said nothing of it.
    # breaker11 B11-1: a running job now stops at its next progress step; only one storing its images completes.
    paths = client.get("/schema/openapi.json").json()["paths"]
    words = paths["/v1/generate/{generation_id}/cancel"]["post"]["description"]
    assert "`cancelled`" in words and "next progress step" in words and "storing" in words and "400" in words
    assert "`completed`" in words


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


def _scalar_type(schema: dict) -> str | None:
    """integer, number or boolean when that is the only non-null type a property may have, else None."""
    types = {s.get("type") for s in schema.get("anyOf", [schema])} - {"null"}
    return types.pop() if len(types) == 1 and types <= {"integer", "number", "boolean"} else None


def _as_string(schema: dict, kind: str) -> str:
    """A valid value of the property, spelled as a JSON string ("5", "0.5", "true")."""
    branch = next(s for s in schema.get("anyOf", [schema]) if s.get("type") == kind)
    if kind == "boolean":
        return "true"
    if kind == "integer":
        return str(branch.get("minimum", 1))
    return str((branch.get("minimum", 0) + branch.get("maximum", 1)) / 2)


def test_a_number_or_boolean_sent_as_a_string_is_refused_as_the_schema_says(client: TestClient, key: Key) -> None:
    """breaker9 F9: "seed": "5", "harmonize": "false", "placement": {"x": "0.5"} were taken (202) and converted
    (Litestar converts bodies with strict=False) while the served schema says integer/number/boolean."""
    doc = client.get("/schema/openapi.json").json()
    schemas = doc["components"]["schemas"]
    image = b64(product_jpeg())
    bodies = (
        ("/v1/generate", "GenerateRequest", {"product_image": image, "style": "studio_packshot"}),
        ("/v1/backdrops", "BackdropRequest", {"image": image}),
    )
    tried = []
    for path, name, base in bodies:
        validator = jsonschema_rs.Draft202012Validator(
            {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        )
        assert validator.is_valid(base), name
        fields = [((field,), prop) for field, prop in schemas[name]["properties"].items()]
        if "placement" in schemas[name]["properties"]:
            fields += [(("placement", sub), prop) for sub, prop in schemas["Placement"]["properties"].items()]
        for where, prop in fields:
            kind = _scalar_type(prop)
            if kind is None:
                continue
            value = _as_string(prop, kind)
            sent = {**base, where[0]: value} if len(where) == 1 else {**base, where[0]: {where[1]: value}}
            assert not validator.is_valid(sent), (name, where)
            answer = client.post(path, json=sent, headers=key.headers)
            assert answer.status_code == 400, (path, where, answer.text)
            words = answer.json()["message"]
            assert ".".join(where) in words and "must be" in words, words
            tried.append(".".join(where))
    for field in ("seed", "padding", "background_blur", "reflection", "harmonize", "placement.x", "floor_y"):
        assert field in tried
    # JSON Schema's integer is any number with no fractional part: 4294967295.0 is a valid seed (test_schema_fuzz)
    sent = {"product_image": image, "style": "studio_packshot", "seed": 4294967295.0, "placement": {"x": 1}}
    assert client.post("/v1/generate", json=sent, headers=key.headers).status_code == 202
