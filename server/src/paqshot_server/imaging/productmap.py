"""The product map an output file carries: where the appliance put the product, so the compliance check of that
file measures what the job measured (breaker13 B13-9).

A cut-out found again in a finished image cannot tell a black lamp base or a near-white lamp shade from a shadow
on white, nor a detached pull chain from a prop: the audit of the appliance's own compliant output failed it
(shadow 253 levels, 1 prop) where the job, knowing its exact alpha, passed it. So the job records its alpha in
the file's XMP (an attribute of the packet ``provenance.xmp_packet`` writes) with its seal (:mod:`.mapseal`: this
appliance wrote it for these pixels), and the check of a file whose seal holds reads it instead of finding the
product.

The map has three levels (0 background, 1 the matte's soft fringe, 2 the product's body: the two thresholds
compliance measures with, :data:`.compliance.PRODUCT_ALPHA` and :data:`.compliance.FRINGE_ALPHA`), as a 2-bit
PNG in base64: 6-10 KB for a product at 1024 px, 14-23 KB at 2000 px (four real outputs, session 14). It says
only where the product is; every pixel outside it is still measured, so an edit that adds a prop, a shadow or a
logo is still found. A map whose aspect is not the image's (a cropped or resized file) is not used.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zlib

import numpy as np
from PIL import Image

NAMESPACE = "urn:x-product-imagery:compliance:1.0/"
PREFIX = "pim"
PROPERTY = "ProductMap"
SEAL_PROPERTY = "ProductMapSeal"
# Budget for the base64 text: the whole XMP packet must fit one JPEG APP1 segment (65,533 bytes,
# :data:`.xmp.MAX_JPEG_SEGMENT`); the rest of the packet is under 1 KB. A bigger map is recorded at half the
# size, then a quarter (the check scales it to the measured copy anyway).
MAX_TEXT = 48_000
FRINGE_LEVEL = 64  # what a fringe pixel reads as: above FRINGE_ALPHA (12), below PRODUCT_ALPHA (128)
_VALUES = np.array([0, FRINGE_LEVEL, 255], np.uint8)
# alpha of each grey level a map reads back as (:func:`read`): a 2-bit grey PNG reads back scaled to 8 bits, levels
# 0, 1, 2 as 0, 85, 170; the nearest level, at most 2 (a forged map's 255 is the body too). Applied as PIL's table
# (``Image.point``): ~3 ms at 2048² against ~18-40 for arithmetic on uint16 planes (session 15).
_ALPHA_OF_GREY = _VALUES[np.minimum((np.arange(256) * 3 + 127) // 255, 2)].tolist()
_PATTERN = re.compile(rb"\b" + PREFIX.encode() + rb":" + PROPERTY.encode() + rb'="([A-Za-z0-9+/=]+)"')
_SEAL_PATTERN = re.compile(rb"\b" + PREFIX.encode() + rb":" + SEAL_PROPERTY.encode() + rb'="([0-9a-f]{64})"')


def encode(alpha: np.ndarray, body: int, fringe: int) -> str | None:
    """Base64 text of the 3-level map of ``alpha`` (uint8 (H, W)): 2 where ``alpha >= body``, 1 where
    ``alpha > fringe``, else 0 (``body`` > ``fringe``). Halved until it fits :data:`MAX_TEXT`; None when even a 1/8
    map does not."""
    # two byte-wide comparisons summed: 2 ms at 2048² against 39 for nested np.where's int64 planes (session 15)
    levels = np.greater(alpha, fringe).view(np.uint8)
    levels += np.greater_equal(alpha, body).view(np.uint8)
    image = Image.fromarray(levels)
    for _ in range(4):
        buf = io.BytesIO()
        # zlib's run-length strategy: 5-8 ms and 4-8 % smaller than `optimize` (zlib level 9, 41-89 ms) on six real
        # products' maps at 2048² (session 15): a map is long runs of three values, RLE's case (zlib manual)
        image.save(buf, "PNG", bits=2, compress_type=zlib.Z_RLE)
        text = base64.b64encode(buf.getvalue()).decode("ascii")
        if len(text) <= MAX_TEXT:
            return text
        image = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.Resampling.NEAREST)
    return None


def attribute(text: str, seal: str) -> str:
    """The XMP attributes (with their namespace declaration) that record ``text`` from :func:`encode` and its
    ``seal`` (:func:`.mapseal.seal`)."""
    return f'xmlns:{PREFIX}="{NAMESPACE}"\n    {PREFIX}:{PROPERTY}="{text}"\n    {PREFIX}:{SEAL_PROPERTY}="{seal}"'


def recorded(xmp: bytes | None) -> tuple[str, str] | None:
    """(map text, seal) an XMP packet records; None when it lacks either (an unsealed map is not used)."""
    found, sealed = _PATTERN.search(xmp or b""), _SEAL_PATTERN.search(xmp or b"")
    if found is None or sealed is None:
        return None
    return found.group(1).decode("ascii"), sealed.group(1).decode("ascii")


def read(text: str, shape: tuple[int, int], max_pixels: int) -> np.ndarray | None:
    """uint8 (H, W) = ``shape`` alpha (0, :data:`FRINGE_LEVEL`, 255) from the map ``text`` (:func:`recorded`),
    scaled to ``shape`` (nearest neighbour); None when it does not decode, it has more than ``max_pixels`` (the
    file's own count: a map is never bigger than its image, and a small PNG can declare a huge one), or its aspect
    differs from ``shape``'s by more than one pixel of the map (not this image's map)."""
    try:
        with Image.open(io.BytesIO(base64.b64decode(text, validate=True)), formats=["PNG"]) as image:
            if image.width * image.height > max_pixels:
                return None
            image.load()
            alpha = (image if image.mode == "L" else image.convert("L")).point(_ALPHA_OF_GREY)
    except (OSError, ValueError, binascii.Error, Image.DecompressionBombError):
        return None
    height, width = shape
    if abs(alpha.height * width / height - alpha.width) > 1:
        return None
    if alpha.size != (width, height):
        alpha = alpha.resize((width, height), Image.Resampling.NEAREST)
    return np.asarray(alpha)
