"""A photo's pixel count from its header alone, cheaply enough for the event loop (the ETA at submission).

Own code, not Pillow's ``Image.open``: Pillow's JPEG parser walks every marker in Python before it knows the size
(``jpegstructure`` bounds that walk in a thread, later); this reads at most :data:`MAX_SEGMENTS` segments and a few
fixed offsets, microseconds per photo. It validates nothing: the door's decode (``decode``, ``passthrough``) does.
"""

from __future__ import annotations

import struct

MAX_SEGMENTS = 64  # JPEG segments read before the frame header at most (real files: fewer than 20)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # start-of-frame markers (DHT, JPG and DAC are not)
_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}  # markers without a length (RSTn, SOI, EOI, TEM)


def pixel_count(data: bytes) -> int | None:
    """Width × height (pixels, an int) in the header of a JPEG (its frame header), PNG (IHDR) or WebP (VP8, VP8L
    or VP8X) in ``data``; None when the header cannot be read that way (another format, a header past
    :data:`MAX_SEGMENTS` segments, a damaged file). Raises nothing."""
    try:
        if data[:2] == b"\xff\xd8":
            return _jpeg(data)
        if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width * height
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
    except (struct.error, IndexError):
        return None
    return None


def _jpeg(data: bytes) -> int | None:
    at = 2
    for _ in range(MAX_SEGMENTS):
        while data[at] == 0xFF and data[at + 1] == 0xFF:  # fill bytes before a marker
            at += 1
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in _SOF:  # FF Cn, length (2), precision (1), height (2), width (2)
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width * height or None  # a height of 0 is set later by a DNL marker: unknown here
        if marker == 0xDA:  # a scan before any frame header: not a JPEG that decodes
            return None
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None


def _webp(data: bytes) -> int | None:
    kind, body = data[12:16], data[20:30]
    if kind == b"VP8X":  # canvas width - 1 and height - 1, 24 bits each, after 4 bytes of flags
        return (int.from_bytes(body[4:7], "little") + 1) * (int.from_bytes(body[7:10], "little") + 1)
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return (width & 0x3FFF) * (height & 0x3FFF)
    if kind == b"VP8L" and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return ((bits & 0x3FFF) + 1) * (((bits >> 14) & 0x3FFF) + 1)
    return None
