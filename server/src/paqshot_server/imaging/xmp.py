"""Embed an XMP packet into an already-encoded JPEG, PNG or WebP file without touching its image data.

Our own code because Pillow writes XMP only while encoding, and re-encoding a finished JPEG or lossy WebP
would change its pixels. Placement follows Adobe's XMP Specification Part 3 (storage in files): JPEG — an
APP1 segment ``http://ns.adobe.com/xap/1.0/\\0`` + packet right after SOI; PNG — an uncompressed ``iTXt``
chunk with keyword ``XML:com.adobe.xmp`` before the first IDAT; WebP — an ``XMP `` chunk in the extended
(``VP8X``) format with the XMP flag set (Google's WebP container specification, "Extended File Format").
"""

from __future__ import annotations

import struct
import zlib

JPEG_XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_XMP_KEY = b"XML:com.adobe.xmp"
_WEBP_XMP_FLAG = 0x04
_WEBP_ALPHA_FLAG = 0x10
MAX_JPEG_SEGMENT = 65533  # payload bytes an APP segment can hold after its length field


def embed(data: bytes, fmt: str, packet: bytes) -> bytes:
    """``data`` (a ``fmt`` file: jpeg, png or webp, with no XMP yet) with ``packet`` embedded.

    Raises:
        ValueError: ``data`` is not a well-formed file of ``fmt``, or the packet is too large for JPEG.
    """
    if fmt == "jpeg":
        return _jpeg(data, packet)
    if fmt == "png":
        return _png(data, packet)
    if fmt == "webp":
        return _webp(data, packet)
    raise ValueError(f"cannot embed XMP in {fmt!r}")


def _jpeg(data: bytes, packet: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file (no SOI marker)")
    payload = JPEG_XMP_NS + packet
    if len(payload) > MAX_JPEG_SEGMENT:
        raise ValueError("XMP packet too large for one JPEG APP1 segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def _png(data: bytes, packet: bytes) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    # iTXt: keyword \0 compression-flag(0) compression-method(0) language-tag \0 translated-keyword \0 text
    body = PNG_XMP_KEY + b"\x00\x00\x00\x00\x00" + packet
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            return data[:pos] + chunk + data[pos:]
        pos += 12 + length
    raise ValueError("PNG file has no IDAT chunk")


def _webp(data: bytes, packet: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunks = _riff_chunks(data[12:])
    xmp = _riff_chunk(b"XMP ", packet)
    kind, body = chunks[0]
    if kind == b"VP8X":
        flags = body[0] | _WEBP_XMP_FLAG
        chunks[0] = (b"VP8X", bytes([flags]) + body[1:])
    else:
        width, height, alpha = _simple_size(kind, body)
        flags = _WEBP_XMP_FLAG | (_WEBP_ALPHA_FLAG if alpha else 0)
        vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", vp8x))
    payload = b"WEBP" + b"".join(_riff_chunk(k, b) for k, b in chunks) + xmp
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    pos = 0
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        out.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    if not out:
        raise ValueError("WebP file has no chunks")
    return out


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def _simple_size(kind: bytes, body: bytes) -> tuple[int, int, bool]:
    """(width, height, has alpha) of a simple-format WebP's VP8 or VP8L bitstream header."""
    if kind == b"VP8 ":
        if body[3:6] != b"\x9d\x01\x2a":
            raise ValueError("bad VP8 key frame start code")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if kind == b"VP8L":
        if body[0] != 0x2F:
            raise ValueError("bad VP8L signature")
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise ValueError(f"unexpected first WebP chunk {kind!r}")
