"""The backdrop plate library: add, list and delete plates (a key's own, or shared by the operator), and the
plates a job may stand on (:class:`StoredPlates`, the engine's ``PlateSource``).

An added plate passes the same door as a product photo (``intake``: SSRF-safe fetch or strict base64, magic
bytes, size and pixel limits, EXIF orientation, sRGB, metadata stripped), is stored in the file store with a
thumbnail, and has its floor line and light measured now (``imaging.plates.light``) unless the uploader gave
them. Nothing here knows HTTP; SQL is in ``storage/backdrops.py``.
"""

from __future__ import annotations

import io
import time
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import anyio.to_thread
import numpy as np
from PIL import Image

from ..errors import ImageTooLarge, InvalidRequest, NotFound, UnsupportedImage
from ..ids import iso, new_id, shown
from ..imaging.decode import decode_image, sniff_format
from ..imaging.encode import encode, thumbnail
from ..imaging.plates.light import ANALYSIS_SIDE, estimate_floor, estimate_light
from ..imaging.plates.plate import LIGHT_AZIMUTH, Light, LoadedPlate, PlateInfo, area_from
from ..resources import Resources
from ..storage import backdrops as backdrops_sql
from ..storage.backdrops import Backdrop, NewBackdrop
from . import intake

PREFIX = "bdp"
# The shortest side a backdrop may have, px. Every output is a crop of the plate at the output's ratio, enlarged
# to the output (``imaging.plates.geometry.fit_plate``), and the plate's floor line and light are measured on a
# copy 160 px long (``imaging.plates.light.ANALYSIS_SIDE``, the size the measures were tuned at): a plate under
# that on its short side is enlarged over 12x into a 2048 px output and gives the measures fewer rows than they
# were tuned on (breaker13 B13-7: a 1x1 plate was taken and rendered as a flat colour).
MIN_PLATE_SIDE = ANALYSIS_SIDE


@dataclass(frozen=True)
class PlateUpload:
    """What the uploader says about a plate (None: measured from the plate)."""

    tags: Sequence[str] = ()
    name: str | None = None
    floor_y: float | None = None
    area_left: float | None = None
    area_width: float | None = None
    light_from: str | None = None  # a name of imaging.plates.plate.LIGHT_AZIMUTH
    softness: float | None = None


def clean_tags(tags: Sequence[str]) -> list[str]:
    """Tags as matched: NFKC-normalised (one form of each letter, as ``plates.select.words`` reads them),
    lowercase, inner whitespace collapsed, empty ones and repeats dropped, order kept."""
    cleaned = (" ".join(unicodedata.normalize("NFKC", tag).lower().split()) for tag in tags)
    return list(dict.fromkeys(t for t in cleaned if t))


def plate_info(row: Backdrop) -> PlateInfo:
    """The engine's view of a library row."""
    return PlateInfo(
        id=row.id,
        tags=tuple(row.tags),
        floor_y=row.floor_y,
        area=(row.area_left, row.area_right),
        light=Light(row.light_azimuth, row.light_softness, "given" if row.light_given else "estimated"),
        shared=row.shared,
        name=row.name,
    )


class BackdropLibrary:
    """Build once per process from its resources."""

    def __init__(self, res: Resources) -> None:
        self.res = res

    async def add_from_request(self, key_id: str | None, image: str, upload: PlateUpload) -> Backdrop:
        """Fetch or decode ``image`` (URL or base64, the ``image`` field of ``POST /v1/backdrops``) and add it."""
        raw = await intake.load_image(self.res, image, "image")
        return await anyio.to_thread.run_sync(self.add, key_id, raw, upload)

    def add(self, key_id: str | None, raw: bytes, upload: PlateUpload) -> Backdrop:
        """Store the image bytes ``raw`` as a plate of ``key_id`` (None: shared by the operator). Blocking.

        Raises:
            ImageTooLarge, UnsupportedImage: the image fails the door check.
            Forbidden: the key keeps ``max_backdrops_per_key`` plates already.
        """
        settings = self.res.settings
        check_plate_file(raw)
        data, ext, _notes = intake.normalise(raw, settings.max_image_bytes, settings.max_image_pixels)
        # As a job's photo is read: in sRGB and turned upright (a stored JPEG keeps its profile and orientation).
        decoded = decode_image(data, max_bytes=len(data), max_pixels=settings.max_image_pixels).image
        refuse_transparent(decoded)
        image = decoded.convert("RGB")
        floor = upload.floor_y if upload.floor_y is not None else estimate_floor(image)
        measured = estimate_light(image, floor)
        azimuth = LIGHT_AZIMUTH[upload.light_from] if upload.light_from is not None else measured.azimuth
        softness = upload.softness if upload.softness is not None else measured.softness
        left, right = area_from(upload.area_left, upload.area_width)
        plate_id = new_id(PREFIX)
        image_file, thumb_file = f"{plate_id}_plate.{ext}", f"{plate_id}_thumb.jpg"
        files = self.res.files
        written: list[str] = []
        try:
            for name, content in ((image_file, data), (thumb_file, encode(thumbnail(image), "jpeg", 85))):
                written.append(name)
                files.put(name, content)
            return backdrops_sql.create(
                self.res.db.get(),
                NewBackdrop(
                    id=plate_id,
                    key_id=key_id,
                    name=upload.name,
                    tags=clean_tags(upload.tags),
                    image_file=image_file,
                    thumb_file=thumb_file,
                    width=image.width,
                    height=image.height,
                    floor_y=float(floor),
                    floor_given=upload.floor_y is not None,
                    area_left=left,
                    area_right=right,
                    light_azimuth=azimuth,
                    light_softness=float(softness),
                    light_given=upload.light_from is not None,
                    created_at=iso(time.time()),
                ),
                limit=settings.max_backdrops_per_key,
            )
        except BaseException:  # refused (limit) or failed: keep no file
            for name in written:
                files.delete(name)
            raise

    def list(self, key_id: str | None) -> list[Backdrop]:
        """The plates ``key_id`` may use (its own first, then the shared ones); None: the shared ones. Blocking."""
        return backdrops_sql.list_for_key(self.res.db.get(), key_id)

    def find(self, key_id: str, plate_id: str) -> Backdrop:
        """``key_id``'s plate or a shared one, else NotFound (another key's plate is not found either)."""
        row = backdrops_sql.visible(self.res.db.get(), key_id, plate_id)
        if row is None:
            raise NotFound(f"Backdrop {shown(plate_id)} not found.")
        return row

    def delete(self, key_id: str | None, plate_id: str) -> Backdrop:
        """Delete ``key_id``'s plate (None: a shared one, the operator's) and its files. Jobs already accepted
        with it fail with a message saying so; later scenes no longer pick it. Blocking.

        Raises:
            NotFound: no such plate of that owner (a shared plate is not the key's to delete).
        """
        row = backdrops_sql.delete(self.res.db.get(), plate_id, key_id)
        if row is None:
            raise NotFound(f"Backdrop {shown(plate_id)} not found" + (" among your plates." if key_id else "."))
        for name in row.files():
            self.res.files.delete(name)
        return row


def store_background(res: Resources, job_id: str, raw: bytes) -> str:
    """Store a request's ``background_image`` (its bytes, fetched or decoded by ``intake.load_image``: the product
    photo's door and SSRF rules, and opaque: :func:`refuse_transparent`) normalised as
    ``<job_id>_background.<ext>``; returns the file name. Blocking."""
    try:
        check_plate_file(raw)
        if _may_be_transparent(raw):  # a JPEG never is: no second decode for it
            settings = res.settings
            image = decode_image(raw, max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels).image
            refuse_transparent(image)
        name, _notes = intake.store_image(res, job_id, raw, role="background")
    except (ImageTooLarge, UnsupportedImage, InvalidRequest) as exc:
        raise type(exc)(f"background_image: {exc.message}") from exc
    return name


def check_plate_file(raw: bytes) -> None:
    """Refuse a backdrop image file that cannot be a plate, from its header (before anything is decoded or
    stored): an animated image (a plate is one still photograph, and a plate has no notes to say which frame
    was used), or one under :data:`MIN_PLATE_SIDE` on its short side. A file Pillow cannot open passes: the
    door's decode says what is wrong with it.

    Raises:
        UnsupportedImage: animated (naming its frame count).
        InvalidRequest: too small (naming its size and the least side).
    """
    fmt = sniff_format(raw)
    if fmt is None:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # the door's pixel limit answers it
            with Image.open(io.BytesIO(raw), formats=[fmt]) as header:
                width, height = header.size
                # a JPEG's extra pictures (MPO) are previews and depth maps, not frames
                frames = 1 if fmt == "JPEG" else getattr(header, "n_frames", 1)
    except (OSError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        return
    if frames > 1:
        raise UnsupportedImage(
            f"A backdrop must be one still photograph, and this image is animated ({frames} frames); send the "
            "frame you want as a JPEG or PNG."
        )
    if min(width, height) < MIN_PLATE_SIDE:
        raise InvalidRequest(
            f"The backdrop is {width}x{height} pixels: too small to stand a product on (every output is cropped "
            f"from it and enlarged); send a photograph at least {MIN_PLATE_SIDE} pixels on its short side."
        )


def refuse_transparent(image: Image.Image) -> None:
    """Refuse a backdrop image (a decoded one: ``imaging.decode`` keeps alpha only where it says something) with
    transparent pixels: a plate is the whole background, and its transparent parts came out black (breaker13
    B13-7: a fully transparent PNG plate rendered as a black backdrop).

    Raises:
        UnsupportedImage: saying the transparent share of the image.
    """
    if image.mode != "RGBA":
        return
    alpha = np.asarray(image.getchannel("A"))
    share = float((alpha < 255).mean())
    if share > 0:
        # both figures: a plate at alpha 254 everywhere is 100 % not opaque but 0.4 % see-through (breaker15 B15-10:
        # it was called "100 % transparent")
        see_through = 1 - int(alpha.min()) / 255
        shown_share, shown_most = (f"{v:.0%}" if v >= 0.01 else "under 1 %" for v in (share, see_through))
        raise UnsupportedImage(
            f"A backdrop must be opaque (it is the whole background), and {shown_share} of this image's pixels are "
            f"not (the most see-through of them is {shown_most} transparent); flatten it onto a colour first."
        )


def _may_be_transparent(raw: bytes) -> bool:
    """Whether an image file's header allows transparency (an alpha band or a colour key); False for a file
    Pillow cannot open (the door's decode then says what is wrong)."""
    try:
        with Image.open(io.BytesIO(raw)) as header:
            return "A" in header.getbands() or "transparency" in header.info
    except (OSError, ValueError):
        return False


class StoredPlates:
    """A job's plates for the engine: its stored ``background_image`` (or, from the CLI, an image in hand: its
    decoded image and its file), the library plate it names, or the library plates its key may use
    (``imaging.plates.plate.PlateSource``). ``key_id`` None (the operator's CLI): the shared plates only."""

    def __init__(
        self,
        res: Resources,
        key_id: str | None,
        *,
        background_file: str | None = None,
        backdrop: str | None = None,
        background: tuple[Image.Image, bytes] | None = None,
    ) -> None:
        self.res, self.key_id = res, key_id
        self.background_file, self.backdrop, self.background = background_file, backdrop, background

    @cached_property
    def _given(self) -> LoadedPlate | None:
        if self.background is not None:
            image, data = self.background
            return LoadedPlate(PlateInfo(None), image.convert("RGB"), data)
        if self.background_file is not None:
            return self._load(PlateInfo(None), self.background_file)
        if self.backdrop is None:
            return None
        row = backdrops_sql.get(self.res.db.get(), self.backdrop)
        if row is None or not (row.shared or row.key_id == self.key_id):
            raise InvalidRequest(
                f"The backdrop plate {self.backdrop} was deleted after this generation was accepted; "
                "send it again with another backdrop."
            )
        return self._load(plate_info(row), row.image_file)

    def given(self) -> LoadedPlate | None:
        return self._given

    @cached_property
    def _library(self) -> dict[str, Backdrop]:
        return {row.id: row for row in backdrops_sql.list_for_key(self.res.db.get(), self.key_id)}

    def candidates(self) -> list[PlateInfo]:
        return [plate_info(row) for row in self._library.values()]

    def load(self, info: PlateInfo) -> LoadedPlate:
        return self._load(info, self._library[str(info.id)].image_file)

    def _load(self, info: PlateInfo, name: str) -> LoadedPlate:
        data = self.res.files.read(name)  # validated at the door; decoding again normalises it
        settings = self.res.settings
        image = decode_image(data, max_bytes=len(data), max_pixels=settings.max_image_pixels).image.convert("RGB")
        return LoadedPlate(info, image, data)
