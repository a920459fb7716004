"""Webhook secrets: how they are made, how the signing key is read from them, and their Standard Webhooks form.

A secret is the brand's prefix (``whsec_`` by default) followed by 32 random bytes in standard base64
(RFC 4648 section 4, with padding), which is what the Standard Webhooks spec requires and what its official
libraries decode after stripping ``whsec_``. Those libraries strip only ``whsec_``: under a brand with its
own prefix (e.g. ``noirsec_``), receivers give the library :func:`standard_form` (same key bytes, ``whsec_``
prefix); both spellings are shown when a secret is issued.

Secrets issued before this format were ``whsec_`` + URL-safe base64 without padding. They still sign as
before (the decoder accepts both alphabets), so existing receivers keep verifying; ``keys rotate-secret``
replaces one with a standard secret.
"""

from __future__ import annotations

import base64
import binascii
import secrets

STANDARD_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes


def new_secret(prefix: str) -> str:
    """A fresh secret: ``prefix`` + standard base64 of 32 random bytes (44 characters)."""
    return prefix + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _body(secret: str, prefix: str) -> str:
    for known in (prefix, STANDARD_PREFIX):
        if secret.startswith(known):
            return secret[len(known) :]
    return secret


def key_bytes(secret: str, prefix: str) -> bytes:
    """The HMAC key of ``webhook-signature``: the base64 part after the prefix, decoded.

    Accepts the standard and the URL-safe alphabet, padded or not (secrets issued before the standard
    format), so one secret always yields the same key. A body that is not base64 at all signs with its
    raw bytes (never issued by this appliance; kept so a hand-edited secret still signs consistently).
    """
    body = _body(secret, prefix)
    text = body.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return body.encode()


def is_standard(secret: str, prefix: str) -> bool:
    """True when the secret's base64 part is standard base64 that the official libraries accept."""
    body = _body(secret, prefix)
    try:
        return bool(body) and base64.b64encode(base64.b64decode(body, validate=True)).decode() == body
    except (binascii.Error, ValueError):
        return False


def standard_form(secret: str, prefix: str) -> str:
    """The secret as Standard Webhooks libraries take it: ``whsec_`` + the same base64 part."""
    return STANDARD_PREFIX + _body(secret, prefix)
