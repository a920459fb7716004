"""Decode and validate untrusted image bytes; normalise to 8-bit sRGB with EXIF orientation applied.

This is the door check for every product image (API, CLI, worker). It trusts nothing: the format is
decided by magic bytes, Pillow only opens the three allowed formats, pixel count is checked from the
header before any pixel is decoded, and animated images give their first frame only.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from ..errors import ImageTooLarge, UnsupportedImage, megabytes

FORMATS = ("JPEG", "PNG", "WEBP")
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class DecodedImage:
    """A validated image: 8-bit sRGB ``RGB`` or ``RGBA`` (alpha kept only when it says something)."""

    image: Image.Image
    source_format: str
    source_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def sniff_format(data: bytes) -> str | None:
    """Return ``JPEG``, ``PNG`` or ``WEBP`` from the magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe(data: bytes) -> str:
    head = data[:16]
    for magic, name in (
        (b"GIF8", "GIF"),
        (b"BM", "BMP"),
        (b"%PDF", "PDF"),
        (b"II*\x00", "TIFF"),
        (b"MM\x00*", "TIFF"),
    ):
        if head.startswith(magic):
            return name
    if head[4:12] in (b"ftypavif", b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "AVIF/HEIC"
    return "unrecognised data"


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    """Validate and decode ``data``; raise ImageTooLarge / UnsupportedImage with a clear message."""
    if len(data) > max_bytes:
        raise ImageTooLarge(f"Product image is {len(data) / 1e6:.1f} MB; the limit is {megabytes(max_bytes)}.")
    if not data:
        raise UnsupportedImage("Product image is empty.")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedImage(f"Image format not supported ({_describe(data)}); use JPEG, PNG or WebP.")
    try:
        with warnings.catch_warnings():
            # A decompression-bomb warning is an error here: the pixel cap below is ours to enforce.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])
            width, height = img.size
            if width < 1 or height < 1:
                raise UnsupportedImage("Image has no pixels.")
            if width * height > max_pixels:
                raise UnsupportedImage(
                    f"Image is {width}x{height} ({width * height / 1e6:.0f} MP); "
                    f"the limit is {max_pixels / 1e6:.0f} MP."
                )
            notes: list[str] = []
            if getattr(img, "n_frames", 1) > 1:
                notes.append("animated image: first frame used")
                img.seek(0)
            img.load()
            normalised = _normalise(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedImage(f"Image has too many pixels (the limit is {max_pixels / 1e6:.0f} MP): {exc}") from exc
    except UnsupportedImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UnsupportedImage(f"Image could not be decoded as {fmt}: {exc}") from exc
    return DecodedImage(normalised, fmt, (width, height), tuple(notes))


def _to_srgb(img: Image.Image) -> Image.Image:
    icc = img.info.get("icc_profile")
    if not icc:
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        if img.mode not in ("RGB", "RGBA", "CMYK", "L"):
            img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
        converted = ImageCms.profileToProfile(img, src, dst, outputMode=out_mode)
        return converted if converted is not None else img
    except (ImageCms.PyCMSError, OSError):
        # A broken embedded profile is common in the wild; the pixels are still usable as sRGB.
        return img


def _normalise(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits (Pillow's convert("L") would clip instead of scale).
        img = img.point(lambda v: v / 257).convert("L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    img = _to_srgb(img)
    if img.mode == "RGBA":
        lo, _hi = img.getchannel("A").getextrema()
        if lo == 255:
            img = img.convert("RGB")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.info.clear()  # no EXIF/XMP/ICC travels further: stored and served files carry no metadata
    return img
