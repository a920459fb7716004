"""A photo's pixel count from its header (the ETA at the door): every format the door accepts, and nothing for
what it cannot read cheaply."""

from __future__ import annotations

import io

import pytest
from paqshot_server.imaging.dimensions import MAX_SEGMENTS, pixel_count
from PIL import Image


def encoded(fmt: str, mode: str, size: tuple[int, int] = (1234, 567), **kw: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode == "L" else (10, 200, 30, 255)[: len(mode)]).save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "kw"),
    [
        ("JPEG", "RGB", {}),
        ("JPEG", "L", {}),
        ("JPEG", "RGB", {"progressive": True}),
        ("JPEG", "CMYK", {}),
        ("JPEG", "RGB", {"exif": Image.Exif(), "icc_profile": b"\0" * 5000}),
        ("PNG", "RGB", {}),
        ("PNG", "RGBA", {}),
        ("WEBP", "RGB", {}),  # VP8
        ("WEBP", "RGB", {"lossless": True}),  # VP8L
        ("WEBP", "RGBA", {}),  # VP8X
    ],
)
def test_the_pixel_count_is_read_from_the_header(fmt: str, mode: str, kw: dict) -> None:
    assert pixel_count(encoded(fmt, mode, **kw)) == 1234 * 567
    assert pixel_count(encoded(fmt, mode, (5, 3), **kw)) == 15


def test_a_header_it_cannot_read_cheaply_is_none() -> None:
    jpeg = encoded("JPEG", "RGB")
    comments = b"".join(b"\xff\xfe\x00\x04ab" for _ in range(MAX_SEGMENTS))
    assert pixel_count(jpeg[:2] + comments + jpeg[2:]) is None  # its frame header past MAX_SEGMENTS segments
    assert pixel_count(jpeg[:2] + comments[: -6 * 8] + jpeg[2:]) == 1234 * 567
    for damaged in (b"", b"\xff\xd8", jpeg[:30], b"\xff\xd8\x00\x00", encoded("PNG", "RGB")[:20], b"GIF89a" * 5):
        assert pixel_count(damaged) is None
    assert pixel_count(encoded("GIF", "P")) is None  # not a format the door accepts
