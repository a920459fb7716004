"""Blocking units of work the controller runs on workers: encode, submit, download, save, decode.

Each function takes plain values and a client and returns plain values or a QImage (QImage, unlike
QPixmap, may be created off the GUI thread). None of them touches a widget.
"""

from __future__ import annotations

import base64
import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageOps
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QImage

from .client import ApiClient
from .model import image_extension, render_name
from .options import build_request, sniff_image_type
from .wire import Capabilities, Job

Report = Callable[[Any], None]
_MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
SEED_RANGE = 2**31 - 1


def data_uri(data: bytes) -> str:
    """A ``data:`` URI for image bytes (type from magic bytes; the server checks them again)."""
    kind = sniff_image_type(data[:16]) or "jpeg"
    return f"data:{_MIME[kind]};base64,{base64.b64encode(data).decode('ascii')}"


def submit_file(
    client: ApiClient,
    path: Path,
    values: dict[str, Any],
    caps: Capabilities,
    idempotency_key: str,
    report: Report,
) -> Job:
    """Upload one file as a generation; waits (reported) on 429 and retries 5xx inside the client."""
    body = build_request(values, data_uri(path.read_bytes()), caps, filename=path.name)
    return client.generate(body, idempotency_key, on_wait=lambda reason, secs: report((reason, secs)))


_QT_FORMATS = {
    "L": QImage.Format.Format_Grayscale8,
    "RGB": QImage.Format.Format_RGB888,
    "RGBA": QImage.Format.Format_RGBA8888,
}


def _in_srgb(image: Image.Image) -> Image.Image:
    """``image`` in sRGB, converted from its embedded profile (an Adobe RGB or Display P3 photo) by lcms, as the
    appliance's own decode converts it: Qt draws pixels as sRGB whatever profile they carry, so a wide-gamut photo
    would look washed out. Unchanged without a profile or when the profile cannot be read."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError):
        return image
    return converted if converted is not None else image


def decode_bytes(data: bytes, size: int | None = None) -> QImage:
    """Decode image bytes (JPEG, PNG, WebP) upright (EXIF orientation, as the appliance reads the photo) and in
    sRGB, at most ``size`` px on the long side when given (a JPEG is decoded at reduced scale); a null QImage
    when the bytes are no image. 8-bit grey, RGB or RGBA.

    Pillow, not QImageReader: PySide6 calls QImageReader's methods without releasing the GIL, and its format
    probing (the SVG plugin builds a QTextStream, which connects a signal) takes a Qt mutex that the GUI thread
    may hold while it waits for the GIL (disconnecting a garbage-collected slot): a worker thread decoding a
    download and the GUI thread then wait for each other forever (breaker7, session 7: a desktop test hung).
    """
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if size is not None:
                opened.draft(opened.mode, (size, size))  # JPEG: DCT scaling to no less than size
            image = ImageOps.exif_transpose(opened)
    except (OSError, ValueError, Image.DecompressionBombError):
        return QImage()
    image = _in_srgb(image)
    if image.mode not in _QT_FORMATS:
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
    if size is not None:
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
    fmt = _QT_FORMATS[image.mode]
    stride = image.width * len(image.getbands())
    return QImage(image.tobytes(), image.width, image.height, stride, fmt).copy()  # copy: owns its pixels


def load_thumbnail(path: Path, size: int) -> QImage:
    """A small preview of a local file (null image when it cannot be read or decoded)."""
    try:
        data = path.read_bytes()
    except OSError:
        return QImage()
    return decode_bytes(data, size)


def download_image(client: ApiClient, url: str, size: int | None = None) -> QImage:
    """Fetch a signed image URL and decode it."""
    return decode_bytes(client.download(url), size)


def viewer_images(client: ApiClient, job: Job, variant: int = 0) -> tuple[QImage | None, QImage]:
    """Original (when the appliance exposes it) and one result image, for before/after."""
    images = job.all_images
    url = images[variant].image_url if 0 <= variant < len(images) else (job.image_url or "")
    after = download_image(client, url)
    before = download_image(client, job.input_url) if job.input_url else None
    return before, after


def repair_images(client: ApiClient, job: Job) -> tuple[QImage, QImage | None]:
    """The stored photo and, when the appliance exposes it, the cut-out's matte on the photo's pixel grid."""
    if not job.input_url:
        raise ValueError("This appliance does not keep the original photo, so the cut-out cannot be repaired here.")
    photo = download_image(client, job.input_url)
    matte = download_image(client, job.matte_url) if job.matte_url else None
    return photo, matte


def png_data_uri(image: QImage) -> str:
    """A QImage as a ``data:image/png;base64,`` URI (the ``mask_hint`` wire form)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; the binding takes str
    data = bytes(buffer.data().data())
    buffer.close()
    return f"data:image/png;base64,{base64.b64encode(data).decode('ascii')}"


def _free_path(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, with " (2)", " (3)"… added instead of overwriting an existing file."""
    target = folder / name
    stem, suffix = target.stem, target.suffix
    counter = 2
    while target.exists():
        target = folder / f"{stem} ({counter}){suffix}"
        counter += 1
    return target


def save_jobs(
    client: ApiClient,
    jobs: list[Job],
    folder: Path,
    pattern: str,
    sources: dict[str, str],
    report: Report,
) -> list[Path]:
    """Download every image of ``jobs`` into ``folder`` named by ``pattern``; reports (done, total)."""
    folder.mkdir(parents=True, exist_ok=True)
    work = [(job, i, image) for job in jobs for i, image in enumerate(job.all_images)]
    written: list[Path] = []
    for done, (job, index, image) in enumerate(work, start=1):
        name = render_name(pattern, job, index, sources.get(job.id), image_extension(job, image))
        target = _free_path(folder, name)
        target.write_bytes(client.download(image.image_url))
        written.append(target)
        report((done, len(work)))
    return written


def again_values(job: Job, caps: Capabilities) -> dict[str, Any]:
    """``job``'s options with a new seed (when the appliance takes one), so the result differs."""
    hidden = ("product_image", "webhook_url", "mask_hint", "filename")
    values: dict[str, Any] = {k: v for k, v in job.options.items() if k not in hidden}
    values.setdefault("style", job.style)
    values.setdefault("aspect_ratio", job.aspect_ratio)
    values.pop("seed", None)
    if caps.field("seed") is not None:
        values["seed"] = random.randrange(SEED_RANGE)
    return values


def again_request(client: ApiClient, job: Job, caps: Capabilities) -> tuple[dict[str, Any], str]:
    """Form values and image (data URI) to upload ``job`` again with the same settings and a new seed
    (for appliances without the re-run extension)."""
    if not job.input_url:
        raise ValueError("This appliance does not keep the original image, so the job cannot be repeated.")
    return again_values(job, caps), data_uri(client.download(job.input_url))
