"""The seal on an output's product map: proof that the map was written by this appliance for these very pixels.

The compliance check of a file trusts the product map in its XMP (:mod:`.productmap`: the background, prop and
text rules skip what the map calls product). A map anyone can write is a way to pass any photo: a seller declares
the whole frame, or a watermark, "product", and the marketplace's audit measures nothing there; and an edited
output that kept its XMP (the product moved, a logo pasted on it) is judged with a stale map. So the job seals the
map: an HMAC-SHA256, keyed with a key derived from the appliance's own secret (``<home>/secret.key``, the one
that signs file URLs), over the digest of the file's decoded pixels and the map's text. The check uses the map
only when the seal it recomputes from the file in hand is the recorded one; any other file (no seal, a wrong
seal, other pixels, another appliance's output) has its product found instead.

The pixel digest is SHA-256 over the decoded image's mode, size and raw pixel bytes, as PIL decodes the file at
full size: the XMP label and the C2PA manifest added after the seal do not touch the coded image data, so the
delivered file digests as the encoded one did; any changed pixel (an edit, a lossy re-save, a resize) gives
another digest.
"""

from __future__ import annotations

import hashlib
import hmac
import io

from PIL import Image

# The key's label: the URL-signing secret's other messages are "name:expires" (signing.signature), which always
# hold a colon, so no file URL's signature is ever this key.
_KEY_LABEL = b"product-map-seal/1"


def key(secret: bytes) -> bytes:
    """The 32-byte seal key derived from the appliance's secret (HMAC-SHA256 of a fixed label, RFC 2104 as a
    PRF, as HKDF-Expand does): a leaked seal says nothing of the secret and no URL signature is a seal."""
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def decode(data: bytes) -> Image.Image:
    """The image file ``data`` decoded at full size, as the seal's digest reads it (loaded; a 2000 px JPEG: 12 MB,
    15-40 ms). Raises OSError/ValueError (PIL) when ``data`` is no image."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def digest(image: Image.Image) -> bytes:
    """SHA-256 (32 bytes) of a decoded image's pixels (:func:`decode`): mode, width x height, then the raw bytes in
    PIL's layout."""
    hashed = hashlib.sha256(f"{image.mode} {image.width}x{image.height}\n".encode())
    hashed.update(image.tobytes())
    return hashed.digest()


def pixel_digest(data: bytes) -> bytes:
    """:func:`digest` of the image file ``data`` (decoded once, here). Raises OSError/ValueError (PIL) when ``data``
    is no image."""
    with decode(data) as image:
        return digest(image)


def seal(seal_key: bytes, text: str, pixels: bytes) -> str:
    """Lowercase hex HMAC-SHA256 (64 characters) of the map ``text`` (:func:`.productmap.encode`'s base64) for
    the image whose :func:`pixel_digest` is ``pixels``. The digest has a fixed length, so digest + text parse
    one way only."""
    return hmac.new(seal_key, pixels + text.encode("ascii"), hashlib.sha256).hexdigest()


def verify(seal_key: bytes, text: str, recorded: str, data: bytes) -> bool:
    """True when ``recorded`` is the seal of ``text`` for the pixels of the file ``data`` (compared in constant
    time). Raises OSError/ValueError (PIL) when ``data`` is no image."""
    return hmac.compare_digest(seal(seal_key, text, pixel_digest(data)).encode(), recorded.encode("ascii", "replace"))
