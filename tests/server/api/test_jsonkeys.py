"""``api.jsonkeys.repeated_key`` finds a repeated key wherever it is, as the standard library's parser reading the
whole body does, although it cuts the long strings out first."""

from __future__ import annotations

import json

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from paqshot_server.api.jsonkeys import LONG, repeated_key

KEYS = st.sampled_from(["a", "b", "style", "x", "é", "a\\u0022"])
LONG_TEXT = st.text(alphabet='AB+/="\\é', min_size=LONG, max_size=LONG + 40) | st.just("A" * (LONG + 5))
SCALARS = st.integers(0, 9) | st.text(alphabet='ab"\\', max_size=4) | LONG_TEXT


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"


VALUES = st.recursive(
    SCALARS.map(json.dumps),
    lambda inner: (
        st.lists(st.tuples(KEYS, inner), max_size=4).map(_object)
        | st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    ),
    max_leaves=8,
)
BODIES = st.lists(st.tuples(KEYS, VALUES), max_size=6).map(_object)


def _reference(body: bytes) -> bool:
    found = []

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            found.append(True)
        return dict(pairs)

    json.loads(body, object_pairs_hook=hook)
    return bool(found)


@settings(max_examples=300, deadline=None)
@given(body=BODIES, escape_slashes=st.booleans())
def test_agrees_with_the_whole_body_read_by_the_standard_parser(body: str, escape_slashes: bool) -> None:
    raw = (body.replace("/", "\\/") if escape_slashes else body).encode()
    assert (repeated_key(raw, msgspec.json.decode(raw)) is not None) == _reference(raw)


def test_a_long_string_quoted_inside_another_does_not_hide_a_repeat() -> None:
    image = "Q" * (LONG + 10)
    body = json.dumps({"p": f'x"{image}', "image": image}).encode()[:-1] + b',"p":1}'
    assert repeated_key(body, msgspec.json.decode(body)) == "p"


def test_a_key_that_quotes_a_long_string_is_left_whole() -> None:
    """Cutting the long string's text out of a key would make it another key (here: a repeat that is not one)."""
    image = "Q" * (LONG + 10)
    body = b'{"x\\"' + image.encode() + b'":1,"x\\"":2,"image":"' + image.encode() + b'"}'
    assert repeated_key(body, msgspec.json.decode(body)) is None
