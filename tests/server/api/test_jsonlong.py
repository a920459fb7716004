"""A request body's long strings are not read by the parser (``api.jsonlong``), and the body reads the same as when
they are: the same value, or the same error in the same words."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paqshot_server.api import jsonbody, jsonlong
from paqshot_server.errors import InvalidRequest

SHORT_LONG = 8  # jsonlong.LONG in the property tests: bodies of a few hundred bytes exercise every path

KEYS = st.sampled_from(["a", "b", "product_image", "é", "a\\u0022"])
TEXTS = st.text(alphabet="AB+/= ~\x7f", min_size=SHORT_LONG, max_size=SHORT_LONG + 30) | st.text(
    alphabet='AB"\\é\x01\n', min_size=0, max_size=SHORT_LONG + 4
)


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"


VALUES = st.recursive(
    (st.integers(0, 9) | TEXTS).map(lambda v: json.dumps(v, ensure_ascii=False)),
    lambda inner: (
        st.lists(st.tuples(KEYS, inner), max_size=3).map(_object)
        | st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    ),
    max_leaves=6,
)
BODIES = st.lists(st.tuples(KEYS, VALUES), max_size=5).map(_object) | VALUES


def _outcome(body: bytes) -> tuple[str, Any]:
    try:
        return "value", jsonbody.parse_json(body)
    except InvalidRequest as exc:
        return "error", exc.message


def _read_whole(body: bytes) -> tuple[str, Any]:
    """``body`` read as before ``api.jsonlong``: whole, by the parser."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonlong, "split", lambda _body: None)
        return _outcome(body)


def _broken(body: bytes, seed: int) -> bytes:
    """``body`` cut short, or with one byte replaced by a quote, a backslash, a control byte or a non-ASCII byte."""
    rng = random.Random(seed)
    if not body or rng.random() < 0.3:
        return body[: rng.randrange(len(body) + 1)]
    at = rng.randrange(len(body))
    return body[:at] + rng.choice([b'"', b"\\", b"\x01", b"\xc3", b"}", b" "]) + body[at + 1 :]


@settings(max_examples=400, deadline=None)
@given(text=BODIES, seed=st.integers(0, 2**32), broken=st.booleans())
def test_a_body_reads_the_same_with_its_long_strings_cut_out(text: str, seed: int, broken: bool) -> None:
    body = text.encode()
    if broken:
        body = _broken(body, seed)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonlong, "LONG", SHORT_LONG)
        assert _outcome(body) == _read_whole(body)


class _Recording:
    """The parser, noting the length of each body it reads."""

    def __init__(self) -> None:
        self.read: list[int] = []
        self._decoder = msgspec.json.Decoder()

    def decode(self, body: bytes) -> Any:
        self.read.append(len(body))
        return self._decoder.decode(body)


def _submission(photo: bytes) -> bytes:
    return json.dumps({"product_image": base64.b64encode(photo).decode(), "style": "studio_packshot"}).encode()


def test_a_submissions_photo_is_not_read_by_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    recording = _Recording()
    monkeypatch.setattr(jsonbody, "_DECODER", recording)
    photo = random.Random(1).randbytes(780_000)
    parsed = jsonbody.parse_json(_submission(photo))
    assert base64.b64decode(parsed["product_image"]) == photo and parsed["style"] == "studio_packshot"
    assert recording.read and max(recording.read) < 200  # main: the whole 1 MB body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"product_image": "' + b"A" * 70_000 + b'\\/A", "style": "x"}', "an escape in the long string"),
        (b'{"a": "\\n", "product_image": "' + b"A" * 70_000 + b'"}', "an escape before it"),
        (b'{"product_image": "' + b"A" * 70_000 + b'\x01"}', "a control character"),
        (b'{"product_image": "' + "é".encode() * 40_000 + b'"}', "non-ASCII text"),
        (b'{"x": {"product_image": "' + b"A" * 70_000 + b'"}}', "not in the top-level object"),
        (b'["' + b"A" * 70_000 + b'"]', "not an object's value"),
        (b"[" + b'"a",' * jsonlong.MAX_STRINGS + b'"' + b"A" * 70_000 + b'"]', "too many strings before it"),
    ],
)
def test_what_the_scan_does_not_take_is_read_whole(body: bytes, reason: str) -> None:
    assert jsonlong.split(body) is None, reason
    assert _outcome(body) == _read_whole(body)


def test_a_long_string_named_twice_is_refused_in_the_words_of_the_whole_reading() -> None:
    body = b'{"product_image": "' + b"A" * 70_000 + b'", "product_image": "' + b"B" * 70_000 + b'"}'
    assert jsonlong.split(body) is not None
    kind, message = _outcome(body)
    assert kind == "error" and "'product_image' twice" in message
    assert (kind, message) == _read_whole(body)


def test_a_body_broken_after_its_long_string_reports_the_byte_of_the_whole_body() -> None:
    body = b'{"product_image": "' + b"A" * 70_000 + b'", "style": x}'
    kind, message = _outcome(body)
    assert kind == "error" and f"(at byte {body.index(b'x}')})" in message
    assert (kind, message) == _read_whole(body)
