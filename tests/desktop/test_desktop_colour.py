"""Photos the appliance serves with their colour profile (a JPEG input is stored as sent, its ICC profile kept:
door, session 5) are shown in sRGB, converted as the appliance's own decode converts them."""

from __future__ import annotations

import io
import sys

import pytest
from paqshot_desktop.transfers import decode_bytes
from PIL import Image, ImageCms
from support import linear_rgb_icc

SENT = (64, 128, 192)


def _with_profile(profile: bytes | None) -> bytes:
    out = io.BytesIO()
    extra = {} if profile is None else {"icc_profile": profile}
    Image.new("RGB", (40, 30), SENT).save(out, "PNG", **extra)  # PNG: the pixels exactly as sent, no JPEG noise
    return out.getvalue()


@pytest.mark.parametrize("size", [None, 20])
def test_a_photo_with_a_colour_profile_is_shown_converted_to_srgb(size: int | None) -> None:
    profile = linear_rgb_icc()
    data = _with_profile(profile)
    expected = ImageCms.profileToProfile(
        Image.open(io.BytesIO(data)), ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB")
    )
    assert expected is not None
    want = expected.getpixel((0, 0))
    assert isinstance(want, tuple) and max(abs(a - b) for a, b in zip(want, SENT, strict=True)) > 30  # it shows
    shown = decode_bytes(data, size).pixelColor(0, 0)
    got = (shown.red(), shown.green(), shown.blue())
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 3, (got, want)


def test_a_photo_without_a_profile_is_shown_as_sent() -> None:
    shown = decode_bytes(_with_profile(None)).pixelColor(0, 0)
    assert (shown.red(), shown.green(), shown.blue()) == SENT


@pytest.mark.parametrize("size", [None, 20])
def test_a_turned_photo_is_shown_upright(size: int | None) -> None:
    """A JPEG input is stored with its EXIF orientation (session 7): the before image and the repair view's photo
    are the photo as shown, on the grid the matte and the mask hint are on."""
    image = Image.new("RGB", (40, 30), (250, 250, 250))
    image.paste((200, 30, 30), (0, 0, 10, 10))  # a red corner, top left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise: the corner at the top right
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    shown = decode_bytes(out.getvalue(), size)
    width, height = (30, 40) if size is None else (15, 20)
    assert (shown.width(), shown.height()) == (width, height)
    corner = shown.pixelColor(width - 2, 1)
    assert corner.red() > 150 and corner.green() < 100, corner.name()


def test_decoding_calls_no_qt_reader_or_qobject() -> None:
    """Decoding runs on worker threads, and PySide6 holds the GIL through QImageReader's calls, whose format probing
    takes Qt's object mutexes: with the GUI thread holding one of those while it waits for the GIL, both threads
    hung (breaker7, session 7, a desktop test). Decoding therefore calls no QImageReader or QObject method."""
    from PySide6.QtCore import QObject
    from PySide6.QtGui import QImageReader

    out = io.BytesIO()
    Image.new("RGB", (64, 48), SENT).save(out, "JPEG", icc_profile=linear_rgb_icc())
    called: list[str] = []

    def watch(_frame: object, event: str, arg: object) -> None:
        owner = getattr(arg, "__self__", None)
        if event == "c_call" and isinstance(owner, QImageReader | QObject):
            called.append(getattr(arg, "__qualname__", repr(arg)))

    sys.setprofile(watch)
    try:
        images = [decode_bytes(out.getvalue()), decode_bytes(out.getvalue(), 16)]
    finally:
        sys.setprofile(None)
    assert called == []
    assert [(i.width(), i.height()) for i in images] == [(64, 48), (16, 12)]
