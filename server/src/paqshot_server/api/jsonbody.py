"""JSON request bodies: any body the parser cannot take is a 400 ``invalid_request`` in words, never a 500.

msgspec raises more than its ``DecodeError``: ``RecursionError`` for deep nesting, ``UnicodeDecodeError`` for
invalid UTF-8. Every one of them, and a byte-order mark (which JSON over HTTP must not carry, RFC 8259 §8.1),
becomes a plain sentence here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty

from ..errors import InvalidRequest
from . import jsonlong
from .jsonkeys import repeated_key

_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")
_DECODER = msgspec.json.Decoder()
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a key shown back as sent; any other is not echoed


def parse_json(body: bytes) -> Any:
    """Decode a request body; raise :class:`InvalidRequest` with a message a client can act on (also for a key
    repeated in one object, ``api.jsonkeys``)."""
    if not body.strip():
        raise InvalidRequest("Request body is empty; send a JSON object.")
    if body.startswith(_BOMS):
        raise InvalidRequest("Request body starts with a byte-order mark; send UTF-8 JSON without one.")
    fast = _without_reading_long_strings(body)
    if fast is not None:
        return fast
    try:
        parsed = _DECODER.decode(body)
        repeated = repeated_key(body, parsed)
    except RecursionError as exc:
        raise InvalidRequest("Request body is nested too deeply; a request object has at most a few levels.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid UTF-8 (at byte {exc.start}); send UTF-8 JSON.") from exc
    except (msgspec.DecodeError, ValueError) as exc:
        raise InvalidRequest(_describe(str(exc), body)) from exc
    if repeated is not None:
        named = f"the key '{repeated}'" if _NAME.fullmatch(repeated) else "one key"
        raise InvalidRequest(
            f"Request body names {named} twice in one object; send each field once (JSON readers disagree on "
            "which of the two counts)."
        )
    return parsed


def _without_reading_long_strings(body: bytes) -> Any:
    """``body`` parsed with its long strings cut out and put back (``api.jsonlong``), or None: nothing was cut, or
    the skeleton is not read cleanly (an error, a key named twice), which the whole body's reading then reports in
    its own words (byte offsets included)."""
    split = jsonlong.split(body)
    if split is None:
        return None
    try:
        parsed = _DECODER.decode(split.skeleton)
        if repeated_key(split.skeleton, parsed) is not None:
            return None
    except (RecursionError, UnicodeDecodeError, msgspec.DecodeError, ValueError):
        return None
    return parsed if split.restore(parsed) else None


def _describe(reason: str, body: bytes) -> str:
    at = _AT_BYTE.search(reason)
    where = f" (at byte {at.group(1)})" if at else ""
    # msgspec says "truncated" for a high surrogate escape standing alone, as for a body cut short
    if "surrogate" in reason or ("truncated" in reason and _complete(body)):
        return f"Request body is not valid JSON{where}: a \\u escape in a string is half of a surrogate pair."
    if "truncated" in reason:
        return "Request body is not valid JSON: it ends too early (cut short?)."
    if "trailing characters" in reason:
        return f"Request body is not valid JSON: there is more after the JSON value{where}."
    if "out of range" in reason:
        return "Request body is not valid JSON: a number in it is too large."
    return f"Request body is not valid JSON{where}."


def _complete(body: bytes) -> bool:
    """Whether the stdlib parser, which lets lone surrogate escapes through, reads ``body`` whole."""
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


_GZIP_MAGIC = b"\x1f\x8b"  # RFC 1952


def sent_as(content_type: str | None, content_encoding: str | None, body: bytes) -> str | None:
    """What a body that is not JSON was sent as, and what to send instead (a sentence), when its headers or its
    first bytes tell: a content-coding (this API reads bodies as sent), or a form or other non-JSON media type."""
    coding = (content_encoding or "").strip().lower()
    if coding and coding != "identity":
        return (
            f"It was sent compressed (Content-Encoding: {coding}), which this API does not read: send the JSON "
            "uncompressed, without a Content-Encoding header."
        )
    if body.startswith(_GZIP_MAGIC):
        return "It looks gzip-compressed, which this API does not read: send the JSON uncompressed."
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        shape = "a form" if media in ("multipart/form-data", "application/x-www-form-urlencoded") else "a body"
        return (
            f"It was sent as {shape} of type {media[:100]}: send a JSON object with Content-Type: "
            "application/json (images as base64 text or a URL in their field)."
        )
    return None


def _integral_floats_as_ints(value: Any) -> Any:
    """``value`` with every float that has no fractional part as an int: JSON Schema's ``integer`` is any number
    with a zero fractional part (``4.0`` is a valid ``num_variants``), which msgspec's strict mode refuses."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(v) for v in value]
    return value


class JsonRequest(Request):
    """Litestar's request whose ``json()`` (what ``JSONBody`` handlers receive) reports bad bodies in words, saying
    what was sent when its Content-Type or Content-Encoding was not JSON's."""

    async def json(self) -> Any:
        """The body parsed once per request, kept as Litestar's own ``json()`` keeps it (a handler that also reads
        the JSON value, such as the keys sent, does not parse a megabyte twice)."""
        if self._json is Empty:
            if (parsed := self._connection_state.json) is Empty:
                parsed = self._parsed(await self.body())
                self._strictly(parsed)
                self._connection_state.json = parsed
            self._json = parsed
        return self._json

    def _strictly(self, parsed: Any) -> None:
        """Refuse a body that only Litestar's lax conversion would take (``"seed": "5"``, ``"harmonize": "false"``).

        Litestar converts the parsed body to the handler's ``data`` type with ``strict=False``, which turns strings
        into the integers, numbers and booleans they spell, although the served schema (and JSON) says a string
        is not one. Here the body is converted strictly first; a value of the wrong JSON type is a 400 naming the
        field and what it must be, in the words of every other validation error (``api.explain``). Bodies the
        strict conversion also refuses for other reasons are left to Litestar's own validation, as before.
        Query, path and header parameters keep their string conversion (they are strings on the wire).

        Raises:
            ValidationException: a field of the wrong JSON type (``extra``: Litestar's item shape).
        """
        field = self.route_handler.parsed_fn_signature.parameters.get("data")
        body_type = getattr(field, "annotation", None)
        if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)):
            return
        try:
            msgspec.convert(_integral_floats_as_ints(parsed), body_type, strict=True)
        except msgspec.ValidationError as strict_exc:
            try:
                msgspec.convert(parsed, body_type, strict=False)
            except msgspec.ValidationError:
                return  # wrong for another reason too: Litestar's validation reports it
            text, _, at = str(strict_exc).partition(" - at `")
            key = "data" + at.removesuffix("`").removeprefix("$")
            raise ValidationException(
                detail="Validation failed", extra=[{"message": text, "key": key, "source": "body"}]
            ) from strict_exc

    def _parsed(self, body: bytes) -> Any:
        try:
            return parse_json(body)
        except InvalidRequest as exc:
            hint = sent_as(self.headers.get("content-type"), self.headers.get("content-encoding"), body)
            if hint is None:
                raise
            raise InvalidRequest(f"{exc.message.rstrip('.')}. {hint}") from exc
