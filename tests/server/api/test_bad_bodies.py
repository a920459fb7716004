"""Bodies the JSON parser cannot take answer 400 ``invalid_request`` in words (never 500), and every
validation error says what was wrong and what is allowed, for every field of every operation.

Cases: ``shared/cases/faults/nested-json-500``, ``shared/cases/api/error-messages-leak-internals``.
"""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from paqshot_server.settings import Settings
from support import Key, assert_plain_words, b64, product_jpeg

JSON = {"content-type": "application/json"}
DEEP = 10_000


def post(client: TestClient, key: Key, body: bytes):
    return client.post("/v1/generate", content=body, headers={**key.headers, **JSON})


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"a":' + b"[" * DEEP + b"]" * DEEP + b"}", "nested too deeply"),
        (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "nested too deeply"),
        (b'{"product_image":"x","style":"studio_packshot","extra":' + b"[" * DEEP + b"]" * DEEP + b"}", "nested"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'\xef\xbb\xbf{"product_image":"x","style":"studio_packshot"}', "byte-order mark"),
        (b'{"product_image":"\xff\xfe","style":"studio_packshot"}', "UTF-8"),
        (b'{"product_image":"x","style":"studio_packshot"} x', "not valid JSON"),
        (b'{"product_image":"x","style":', "ends too early"),
        (b'{"product_image":"x","style":"studio_packshot","prompt":"\\ud800"}', "surrogate pair"),
        (b'{"product_image":"x","style":"studio_packshot","prompt":"\\udc00 ok"}', "surrogate pair"),
        (b'{"product_image":"x","style":"studio_packshot","seed":1e400}', "too large"),
        (b'{"product_image":"x","style":"studio_packshot","seed":' + b"9" * 5000 + b"}", "too large"),
        (b"[]", "JSON object"),
        (b"null", "JSON object"),
    ],
)
def test_bodies_the_parser_cannot_take_are_400_in_words(client: TestClient, key: Key, body: bytes, says: str) -> None:
    response = post(client, key, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert says in response.json()["message"]
    assert_plain_words(response.json()["message"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=300) | st.builds(lambda t: t.encode(), st.text(max_size=200)))
def test_any_body_is_a_4xx_in_words(client: TestClient, key: Key, body: bytes) -> None:
    response = post(client, key, body)
    assert 400 <= response.status_code < 500, response.text
    assert_plain_words(response.json()["message"])


# A value no field accepts: an object where a field wants text, a number, a boolean or an enum value.
INVALID = {"not": "valid"}


def test_every_body_field_error_says_what_is_allowed(client: TestClient, key: Key) -> None:
    doc = client.get("/schema/openapi.json").json()
    request = doc["components"]["schemas"]["GenerateRequest"]
    base = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    for name, schema in request["properties"].items():
        response = post(client, key, json.dumps({**base, name: INVALID}).encode())
        message = response.json()["message"]
        assert response.status_code == 400 and message.startswith(f"{name} must be "), (name, message)
        assert_plain_words(message)
        for variant in schema.get("anyOf", [schema]):
            for value in variant.get("enum") or []:  # every allowed value is listed
                assert value is None or str(value) in message, (name, value, message)
    missing = post(client, key, json.dumps({"product_image": "x"}).encode()).json()["message"]
    assert missing == "style is required: it must be studio_packshot, lifestyle, editorial or mockup."
    unknown = post(client, key, json.dumps({**base, "colour": "red"}).encode()).json()["message"]
    assert unknown.startswith("colour is not a field of this request; the fields are product_image, style,")


def test_the_issues_examples_read_as_asked(client: TestClient, key: Key) -> None:
    base = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    background = post(client, key, json.dumps({**base, "background": "blue"}).encode()).json()["message"]
    assert background == "background must be white, off_white, light_gray, black, transparent or #RRGGBB."
    ratio = post(client, key, json.dumps({**base, "aspect_ratio": "4:5"}).encode()).json()["message"]
    assert ratio == "aspect_ratio must be 1:1, 4:3, 16:9, 9:16, 3:2 or 2:3."


def _bad_query_value(schema: dict) -> str:
    return "-1" if schema.get("type") == "integer" else "not-a-listed-value"


def test_every_query_parameter_error_says_what_is_allowed(client: TestClient, key: Key) -> None:
    doc = client.get("/schema/openapi.json").json()
    checked = 0
    for path, item in doc["paths"].items():
        if "{" in path:
            continue
        for method, operation in item.items():
            for param in operation.get("parameters", []):
                schema = param["schema"]
                if param["in"] != "query" or not ({"enum", "minimum"} & set(schema)):
                    continue  # free text: any value is allowed
                response = client.request(
                    method.upper(), path, params={param["name"]: _bad_query_value(schema)}, headers=key.headers
                )
                message = response.json()["message"]
                assert response.status_code == 400, (path, param["name"], response.text)
                assert message.startswith(f"The query parameter {param['name']} must be "), message
                assert_plain_words(message)
                checked += 1
    assert checked >= 3  # limit, offset, status at least


def test_header_error_names_the_header(client: TestClient, key: Key) -> None:
    body = json.dumps({"product_image": b64(product_jpeg()), "style": "studio_packshot"}).encode()
    response = client.post("/v1/generate", content=body, headers={**key.headers, **JSON, "Idempotency-Key": "k" * 300})
    assert response.status_code == 400
    assert response.json()["message"] == "The header Idempotency-Key must be text, 1 to 255 characters long."


def test_no_message_quotes_a_pattern(client: TestClient) -> None:
    """Every pattern in the served schema has words (``api.request_bodies.PATTERN_WORDS``) for its error messages."""
    from paqshot_server.api.request_bodies import PATTERN_WORDS

    text = json.dumps(client.get("/schema/openapi.json").json())
    patterns = set(re.findall(r'"pattern":\s*"((?:[^"\\]|\\.)*)"', text))
    assert patterns
    for pattern in patterns:
        assert json.loads(f'"{pattern}"') in PATTERN_WORDS, pattern


def test_a_rerun_whose_options_do_not_fit_says_which_in_words(client: TestClient, key: Key, settings: Settings) -> None:
    """The source generation's stored options meet the changes: when they do not fit, the message names the
    field (an old job stored under other rules stands for any such mismatch)."""
    from paqshot_server.storage.db import connect

    job = post(client, key, json.dumps({"product_image": b64(product_jpeg()), "style": "studio_packshot"}).encode())
    db = connect(settings.app_db)
    db.conn.execute("UPDATE jobs SET options = ? WHERE id = ?", ('{"padding": -5}', job.json()["id"]))
    db.conn.close()
    response = client.post(f"/v1/generate/{job.json()['id']}/rerun", json={"seed": 3}, headers=key.headers)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("The re-run's options do not fit together: padding does not go with")
    assert_plain_words(message)


def test_no_pattern_ends_in_a_dollar(client: TestClient) -> None:
    """Python's ``$`` also matches before a final newline (ECMA's does not): every pattern, served or only
    registered with words (``preset``, ``compliance_check`` are served as the presets in force), ends with
    ``patterns.END``."""
    from paqshot_server.api.request_bodies import PATTERN_WORDS
    from paqshot_server.patterns import END

    text = json.dumps(client.get("/schema/openapi.json").json())
    served = {json.loads(f'"{p}"') for p in re.findall(r'"pattern":\s*"((?:[^"\\]|\\.)*)"', text)}
    for pattern in served | set(PATTERN_WORDS):
        assert not pattern.endswith("$"), pattern
        if pattern.startswith("^") and not pattern.startswith("^(?!"):  # whole-text patterns (not a prefix rule)
            assert pattern.endswith(END), pattern


_REQUEST = {"product_image": "x", "style": "studio_packshot"}


@pytest.mark.parametrize(
    ("headers", "body", "says"),
    [
        (
            {"content-type": "application/json", "content-encoding": "gzip"},
            gzip.compress(json.dumps(_REQUEST).encode()),
            "sent compressed (Content-Encoding: gzip), which this API does not read: send the JSON uncompressed",
        ),
        (
            {"content-type": "application/json"},
            gzip.compress(json.dumps(_REQUEST).encode()),
            "It looks gzip-compressed",
        ),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            b"product_image=x&style=studio_packshot",
            "sent as a form of type application/x-www-form-urlencoded: send a JSON object with Content-Type: "
            "application/json",
        ),
    ],
    ids=["gzip, said", "gzip, not said", "a urlencoded form"],
)
def test_a_body_sent_in_another_form_is_refused_saying_what_was_sent(
    client: TestClient, key: Key, headers: dict[str, str], body: bytes, says: str
) -> None:
    # breaker, session 4: each got the generic "Request body is not valid JSON (at byte 0)."
    response = client.post("/v1/generate", content=body, headers={**key.headers, **headers})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text
    message = response.json()["message"]
    assert message.startswith("Request body is not valid JSON") and says in message, message
    assert_plain_words(message)


def test_a_multipart_upload_is_refused_saying_what_was_sent(client: TestClient, key: Key) -> None:
    files = {"product_image": ("photo.jpg", product_jpeg(), "image/jpeg")}
    response = client.post("/v1/generate", data={"style": "studio_packshot"}, files=files, headers=key.headers)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "sent as a form of type multipart/form-data: send a JSON object with Content-Type: application/json" in (
        message
    ), message
    assert "base64 text or a URL" in message


@pytest.mark.parametrize(
    "odd", ["x" * 10_000, "gen_\x00evil", "gen_<script>", "a b"], ids=["long", "nul", "tag", "space"]
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/generate/{}"),
        ("POST", "/v1/generate/{}/cancel"),
        ("DELETE", "/v1/generate/{}"),
        ("GET", "/v1/webhooks/{}"),
        ("POST", "/v1/webhooks/{}/redeliver"),
        ("GET", "/v1/backdrops/{}"),
    ],
)
def test_a_not_found_message_does_not_repeat_an_id_of_any_shape(
    client: TestClient, key: Key, method: str, path: str, odd: str
) -> None:
    # breaker8: a 10,000-character or NUL-holding id came back whole in the 404's message.
    answer = client.request(method, path.format(quote(odd, safe="")), headers=key.headers)
    assert answer.status_code == 404, answer.text
    message = answer.json()["message"]
    assert odd not in message and len(message) < 120 and "with that id" in message, message
    plain = client.request(method, path.format("gen_01m8pqxqnmg5d98z5r8dxmhn43"), headers=key.headers)
    assert plain.status_code == 404 and "gen_01m8pqxqnmg5d98z5r8dxmhn43" in plain.json()["message"]


# breaker11 B11-4b: a repeated key was read last-wins (a proxy or WAF in front may read the first)
_PHOTO = b64(product_jpeg())
_OTHER_PHOTO = b64(product_jpeg((480, 640)))


@pytest.mark.parametrize(
    ("body", "named"),
    [  # IMG: a photo's base64, OTHER: another photo's
        ('{"product_image":"IMG","style":"studio_packshot","style":"lifestyle"}', "the key 'style'"),
        ('{"product_image":"IMG","product_image":"OTHER","style":"mockup"}', "the key 'product_image'"),
        ('{"product_image":"IMG","product_image":"IMG","style":"mockup"}', "the key 'product_image'"),
        # base64 with escaped slashes (PHP's json_encode): the long string is read whole, with the same answer
        ('{"style":"mockup","product_image":"IMG_ESCAPED","style":"lifestyle"}', "the key 'style'"),
        ('{"product_image":"IMG","style":"mockup","placement":{"x":0.1,"x":0.9}}', "the key 'x'"),
        ('{"product_image":"IMG","style":"mockup","compliance_check":[{"a":1,"a":2}]}', "the key 'a'"),
        ('{"product_image":"IMG","style":"mockup","\\u00e9\\n":1,"\\u00e9\\n":2}', "one key"),
    ],
)
def test_a_key_named_twice_is_refused_naming_it(client: TestClient, key: Key, body: str, named: str) -> None:
    body = body.replace("IMG_ESCAPED", _PHOTO.replace("/", "\\/")).replace("IMG", _PHOTO)
    response = post(client, key, body.replace("OTHER", _OTHER_PHOTO).encode())
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert response.json()["error"] == "invalid_request"
    assert named in message and "twice" in message, message
    assert_plain_words(message)
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0


def test_keys_that_differ_are_not_taken_for_repeats(client: TestClient, key: Key) -> None:
    """Two images of the same text, a prompt that quotes the image's start, escapes: all read as sent."""
    fields = {"product_image": _PHOTO, "style": "studio_packshot", "prompt": '"' + _PHOTO[:100] + '"'}
    assert client.post("/v1/generate", json=fields, headers=key.headers).status_code == 202
    escaped = json.dumps(fields).replace("/", "\\/").encode()
    assert post(client, key, escaped).status_code == 202


def _sent_as_lines(
    client: TestClient, path: str, body: bytes, headers: list[tuple[str, str]], method: str = "POST"
) -> httpx.Response:
    """POST with each header as its own field line, as uvicorn hands them on (the test client's transport joins
    repeated headers into one line, as a proxy may: ``a, b``)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as asgi:
            return await asgi.request(method, path, content=body, headers=headers)

    return client.blocking_portal.call(send)


def test_the_idempotency_key_header_sent_twice_is_refused(client: TestClient, key: Key) -> None:
    body = json.dumps({"product_image": _PHOTO, "style": "studio_packshot"}).encode()
    headers = [*key.headers.items(), *JSON.items(), ("Idempotency-Key", "order-1"), ("Idempotency-Key", "order-2")]
    response = _sent_as_lines(client, "/v1/generate", body, headers)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "Idempotency-Key header is sent more than once" in message, message
    assert_plain_words(message)
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0
    once = _sent_as_lines(client, "/v1/generate", body, headers[:-1])
    assert once.status_code == 202, once.text
    rerun = _sent_as_lines(client, f"/v1/generate/{once.json()['id']}/rerun", b"{}", headers)
    assert rerun.status_code == 400 and "more than once" in rerun.json()["message"], rerun.text


def test_the_authorization_header_sent_twice_is_refused(client: TestClient, key: Key) -> None:
    # breaker12 B12-8: the first header was used silently (a bogus first -> 401, the real key first -> 202)
    body = json.dumps({"product_image": _PHOTO, "style": "studio_packshot"}).encode()
    for first, second in [(key.clear, "pk_bogus"), ("pk_bogus", key.clear), (key.clear, key.clear)]:
        headers = [*JSON.items(), ("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {second}")]
        response = _sent_as_lines(client, "/v1/generate", body, headers)
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert "Authorization header is sent more than once" in message, message
        assert_plain_words(message)
    assert client.get("/v1/generations", headers=key.headers).json()["total"] == 0
    once = _sent_as_lines(client, "/v1/generate", body, [*JSON.items(), *key.headers.items()])
    assert once.status_code == 202, once.text
    poll = _sent_as_lines(client, f"/v1/generate/{once.json()['id']}", b"", headers, method="GET")
    assert poll.status_code == 400 and "more than once" in poll.json()["message"], poll.text


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [  # breaker11 B11-4c: list items were named in the parser's path syntax (compliance_check.0)
        (
            "/v1/generate",
            {"style": "studio_packshot", "compliance_check": ["amazon_main", 1]},
            "compliance_check item 2 must be ",
        ),
        ("/v1/generate", {"style": "studio_packshot", "compliance_check": [{"a": 1}]}, "compliance_check item 1 must"),
        ("/v1/backdrops", {"tags": ["a" * 3000]}, "tags item 1 must be a tag: a letter or a digit (A-Z, a-z, 0-9 or"),
        (
            "/v1/backdrops",
            {"tags": ["küche", "-x"]},
            "tags item 2 must be a tag: a letter or a digit (A-Z, a-z, 0-9 or",
        ),
    ],
)
def test_list_items_are_named_in_words(client: TestClient, key: Key, path: str, body: dict, says: str) -> None:
    image = {"product_image": _PHOTO} if path == "/v1/generate" else {"image": _PHOTO}
    response = client.post(path, json={**image, **body}, headers=key.headers)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith(says), message
    assert not re.search(r"\.\d", message), message
    assert_plain_words(message)
