"""Compliance report: every rule of a preset measured on a finished image file, each with pass/fail.

Measured on the bytes as delivered (after encoding and labelling), so format, colour space and file size are
the file's own. The pixel rules need to know where the product is: generated images pass the product's
alpha on the canvas (exact, from compositing); the standalone check (``POST /v1/check``, ``paqshot check``)
passes the alpha a cut-out found. Rules and how each is measured (thresholds live in the preset files):

- ``background_purity``: share of background pixels exactly at the required colour. Background = not
  product (alpha >= :data:`PRODUCT_ALPHA`, plus the matte's soft fringe above :data:`FRINGE_ALPHA` within
  :data:`FRINGE_SHARE` of the long side) and farther than a guard band (:data:`GUARD_SHARE` of the long
  side, at least :data:`GUARD_MIN_PX`) from it, which keeps anti-aliased edges and JPEG ringing (8x8
  blocks) out.
  Transparent pixels never count as the colour (marketplaces render them grey or black).
- ``product_fill``: the product's bounding box as a share of the canvas side it limits: max(w/W, h/H).
- ``cropped_at_edge``: the product touches the canvas border (which sides).
- ``long_side``, ``short_side``, ``pixels``: the image's size.
- ``format``: the container as decoded (JPEG, PNG, WebP), not the file name.
- ``colour_space``: RGB pixels with no ICC profile (sRGB implied) or an ICC profile that converts colours as sRGB
  does (:func:`srgb_profile`): not its name, which anyone can write (breaker15 B15-11: a Lab profile named "sRGB"
  passed); a PNG with neither a profile nor an sRGB chunk has no gAMA other than sRGB's (:data:`SRGB_PNG_GAMMA`).
  Every rule measures the pixels as shown: turned by the file's EXIF orientation.
- ``still``: only for a file with more than one frame (an animated PNG, WebP or GIF), which fails it: the rules
  measure the first frame, and a marketplace shows a main image as one still picture (breaker15 B15-8: an APNG
  whose first frame was a compliant output passed, whatever its other frames showed).
- ``file_size``: bytes of the file.
- added content (a main-image slot's rules): background pixels that differ from the required colour by more
  than :data:`CONTENT_TOLERANCE` levels form connected regions of at least :data:`MIN_REGION_SHARE` of the
  image. Regions touching the product's guard band are attached (shadow or reflection); the others are
  ``props``. An attached region below the product whose colour deviations correlate (Pearson r >
  :data:`REFLECTION_CORRELATION`) with the product's own, mirrored about its bottom edge, is a
  ``reflection``; the rest are ``shadow``, measured as the 99th percentile of their darkening in levels of luma
  (ITU-R BT.601 weights, JPEG's Y) below the image's own backdrop: the median colour of the background at the
  frame's edges, the required colour where none shows. A red backdrop is not a 255-level shadow on a white
  preset (breaker11 B11-8): ``background_purity`` says it is not white; ``shadow`` measures what darkens it.

Every compliance report, the job's and the standalone check's (``POST /v1/check``, ``paqshot check``), comes
from :func:`audit` of the file's bytes, so one file gets one verdict (breaker13 B13-9: the check failed outputs
their job had passed, and the API and the command disagreed with each other). The product is where the file's own
product map says (:mod:`.productmap`: the job records its exact alpha there before it audits) when the map's seal
proves this appliance wrote it for these pixels (:mod:`.mapseal`), else where the caller's cut-out finds it. The
pixel rules are measured on a reduced copy of a big image (:func:`decode` with ``long_side``): every pixel rule is
a share of the image or a level, never a count of full-size pixels, and a 36 MP photo's full-size cut-out took
~1 GB of the API process (breaker, session 11). The file's own size, format and colour facts always come from the
file.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps
from scipy import ndimage

from ..words import counted
from . import mapseal, productmap
from .background import parse_background
from .presets import Preset, Rules

# Long side (px) of the copy the pixel rules measure a bigger image on (:func:`decode`: 1024-2047 px). The
# rules are shares of the image and levels: at 1024 px a region of MIN_REGION_SHARE is still 105 px (over
# MIN_REGION_PX) and the guard band is its GUARD_MIN_PX floor; the real photos the rules were tried on are
# 500-999 px. A 36 MP JPEG is measured at 1500 px (DCT-scaled 1/4), not at 6000.
MEASURE_LONG_SIDE = 1024
RECORDED = "recorded"  # Audit.product_source when the file's own sealed product map located the product

GUARD_SHARE = 0.004  # guard band around the product: share of the long side (8 px at 2000 px)
GUARD_MIN_PX = 8  # at least one JPEG block: ringing never reaches further
CONTENT_TOLERANCE = 6  # levels: JPEG noise on a flat background stays below this
MIN_REGION_SHARE = 1e-4  # regions smaller than this share of the image are noise, not content
MIN_REGION_PX = 16
PRODUCT_ALPHA = 128  # alpha at or above this is the product's body (fill, crop, reflection)
FRINGE_ALPHA = 12  # alpha above this still blends product colour into the pixel: never measured as background
# ... within this share of the long side of the body: u2netp's edge fade on a clean photo reaches 20 px (p99) /
# 26 px (max) at 2000 px; cast shadows it keeps reach 60-76 px and must stay measurable as shadow.
FRINGE_SHARE = 0.013
PRODUCT_PART_SHARE = 0.2  # a segmented part at least this share of the largest is product too (pairs, sets)
REFLECTION_CORRELATION = 0.5
LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 (JPEG's Y)
EDGE_SHARE = 0.02  # the frame's edge band, share of the short side, where the backdrop's own colour is read
_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "TIFF": "tiff", "BMP": "bmp"}

ProductFinder = Callable[[Image.Image], np.ndarray]  # image -> uint8 (H, W) alpha of the product


@dataclass(frozen=True)
class RuleResult:
    """One rule: its measured value, what the preset requires, pass/fail, and a sentence for people."""

    rule: str
    passed: bool
    measured: Any
    required: str
    message: str


@dataclass(frozen=True)
class ComplianceReport:
    """Every rule of one preset measured on one image."""

    preset: str
    passed: bool
    rules: tuple[RuleResult, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"preset", "passed", "rules": [{"rule", "passed", "measured", "required", "message"}]}``."""
        return {"preset": self.preset, "passed": self.passed, "rules": [_plain(asdict(r)) for r in self.rules]}


def _plain(value: Any) -> Any:
    """numpy scalars inside a measurement as plain Python numbers (JSON and msgspec take only those)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Decoded:
    """What the file is: container, size (``width``, ``height``: the file's, as its header reads), colour facts
    and pixels (RGBA uint8, (h, w, 4): the file's size, or a reduced copy's, see :func:`decode`)."""

    fmt: str
    width: int
    height: int
    mode: str
    icc_description: str | None
    rgba: np.ndarray
    size_bytes: int
    xmp: bytes | None = None
    icc_srgb: bool = True  # no ICC profile (sRGB implied), or one that converts as sRGB does (:func:`srgb_profile`)
    frames: int = 1  # frames in the file (more than one: animated)
    oriented: bool = False  # an EXIF orientation turned the pixels (``width``, ``height``, ``rgba``: as shown)
    gamma: float | None = None  # a PNG's gAMA that is not sRGB's (no profile or sRGB chunk overrides it)


def decode(data: bytes, long_side: int | None = None, pixels: Image.Image | None = None) -> Decoded:
    """Open an image file for measurement. With ``long_side``, a bigger image's pixels are a reduced copy whose long
    side is ``long_side`` to ``2 * long_side - 1`` px: a JPEG decoded smaller by libjpeg's DCT scaling (1/2, 1/4,
    1/8: a fraction of the memory), then any format averaged over whole blocks (``Image.reduce``: a flat colour
    stays exactly that colour, which the background's purity counts). ``pixels``: ``data``'s pixels already decoded
    at full size (:func:`.mapseal.decode`), used instead of decoding them again unless the copy is a JPEG's DCT-scaled
    read (its own, smaller decode: 11 ms at 2048² against 40-50 ms to reduce the full one, session 15); the file's
    facts (format, colour profile, XMP) are read from ``data`` either way. Raises OSError/ValueError (PIL) on a
    file that is no image."""
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    longest = max(width, height)
    if long_side is not None and longest >= 2 * long_side:
        image.draft(image.mode, (-(-width * long_side // longest), -(-height * long_side // longest)))
    if pixels is None or image.size != (width, height):
        image.load()
        pixels = image
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation != 1:  # measured as shown (breaker15 B15-9: an EXIF rotation added to a sealed output)
        pixels = ImageOps.exif_transpose(pixels)
        width, height = (height, width) if orientation in _QUARTER_TURNS else (width, height)
    icc = image.info.get("icc_profile")
    description, icc_srgb = None, True
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            description, icc_srgb = ImageCms.getProfileDescription(profile).strip(), srgb_profile(profile)
        except (OSError, ImageCms.PyCMSError):
            description, icc_srgb = "unreadable ICC profile", False
    fmt = _FORMATS.get(image.format or "", (image.format or "unknown").lower())
    mode = image.mode
    packet = image.info.get("xmp")
    packet = packet.encode() if isinstance(packet, str) else packet
    rgba_image = pixels.convert("RGBA")
    if long_side is not None and max(rgba_image.size) >= 2 * long_side:
        rgba_image = rgba_image.reduce(max(rgba_image.size) // long_side)
    frames = getattr(image, "n_frames", 1)
    gamma = image.info.get("gamma") if not icc and "srgb" not in image.info else None  # PNG 11.3.3.2, 11.3.3.5
    gamma = None if gamma is None or abs(gamma - SRGB_PNG_GAMMA) <= GAMMA_TOLERANCE else gamma
    return Decoded(
        fmt,
        width,
        height,
        mode,
        description,
        np.asarray(rgba_image),
        len(data),
        packet,
        icc_srgb,
        frames,
        orientation != 1,
        gamma,
    )


_QUARTER_TURNS = {5, 6, 7, 8}  # EXIF orientations that swap width and height (CIPA DC-008, 4.6.4 A)
# A PNG without a colour profile or sRGB chunk whose gAMA is not sRGB's 1/2.2 (the PNG spec's gAMA value for sRGB,
# 45455 / 100000) displays as another tone curve (breaker15 B15-9: gAMA 0.2 added to a sealed output showed dark
# grey and passed). The tolerance covers 1/2.2's roundings (0.45, 0.4545).
SRGB_PNG_GAMMA = 0.45455
GAMMA_TOLERANCE = 0.01


# Most a colour of :data:`_SWATCH` may move, in levels (0..255), converted from a profile to sRGB for the profile to
# count as sRGB. Measured on published sRGB profiles (Pillow's test set: IEC 61966-2.1 v2 and its black-scaled
# variant 1 level; the ICC's v4 preference profile, a LUT profile with no colorant tags, 0 with black point
# compensation) against another RGB profile (Pillow's "TIFF RGB": 53 levels).
SRGB_TOLERANCE_LEVELS = 3


def srgb_profile(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether an ICC profile describes sRGB, by what it does rather than its name: an RGB colour space in which
    the colours of :data:`_SWATCH` (a 5-level cube of 0..255 RGB), converted to LittleCMS's built-in sRGB
    (relative colorimetric, black point compensation, as v4 sRGB profiles expect), move at most
    :data:`SRGB_TOLERANCE_LEVELS`. Raises ImageCms.PyCMSError on a profile LittleCMS cannot use."""
    if profile.profile.xcolor_space.strip() != "RGB":
        return False
    transform = ImageCms.buildTransform(
        profile,
        _SRGB,
        "RGB",
        "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )
    moved = np.asarray(ImageCms.applyTransform(_SWATCH, transform), dtype=np.int16) - np.asarray(_SWATCH)
    return int(np.abs(moved).max()) <= SRGB_TOLERANCE_LEVELS


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_LEVELS = np.array([0, 64, 128, 192, 255], dtype=np.uint8)
_SWATCH = Image.fromarray(np.stack(np.meshgrid(_LEVELS, _LEVELS, _LEVELS), axis=-1).reshape(1, -1, 3), "RGB")


@dataclass(frozen=True)
class Audit:
    """:func:`audit`'s answer: the file's facts, one report per preset, and what located the product
    (:data:`RECORDED`, or the name the caller gave its cut-out)."""

    facts: Decoded
    reports: tuple[ComplianceReport, ...]
    product_source: str


def audit(
    data: bytes,
    presets: Sequence[Preset],
    find_product: ProductFinder | None,
    finder: str,
    seal_key: bytes | None,
    *,
    own: tuple[Image.Image | None, str] | None = None,
) -> Audit:
    """Measure the image file ``data`` against every preset: how every compliance report is made (the job's on its
    own output, ``POST /v1/check``, ``paqshot check``).

    The pixel rules measure a copy reduced to :data:`MEASURE_LONG_SIDE` (:func:`decode`). The product is where
    the file's product map says (:func:`.productmap.read`) when its seal holds for ``seal_key`` and these pixels
    (:func:`.mapseal.verify`: this appliance wrote it for this file; a map anyone could write would let a seller
    declare a watermark "product"), else ``find_product`` finds it, once, on that copy (``finder`` names it in the
    answer). Blocking (CPU).

    ``own``: the job's audit of the file it has just written, (its full-size pixels as :func:`.mapseal.decode`
    read them, or None when the job did not need them to seal; the map text the job sealed for those pixels and
    recorded in ``data``). The caller vouches for both, so the seal is not recomputed and the pixels are not
    decoded again (:func:`decode`'s ``pixels``); the measurement is the one a check of ``data`` makes, so the job
    and the check give one verdict.

    Raises:
        OSError, ValueError: ``data`` is not an image PIL can open, or a pixel rule needs the product and the file
            records none and ``find_product`` is None.
    """
    if own is None:
        facts = decode(data, MEASURE_LONG_SIDE)
        recorded = _sealed_map(data, facts, seal_key)
    else:
        facts = decode(data, MEASURE_LONG_SIDE, own[0])
        recorded = productmap.read(own[1], facts.rgba.shape[:2], facts.width * facts.height)
    found: list[np.ndarray] = []

    def product(image: Image.Image) -> np.ndarray:  # every preset measures the same product
        if find_product is None:
            raise ValueError("the file records no product map and no way to find the product was given")
        if not found:
            found.append(find_product(image))
        return found[0]

    reports = tuple(measure(facts, p, product_alpha=recorded, find_product=product) for p in presets)
    source = RECORDED if recorded is not None else finder
    return Audit(facts, reports, source)


def _sealed_map(data: bytes, facts: Decoded, seal_key: bytes | None) -> np.ndarray | None:
    """The product map ``data`` records (alpha on ``facts.rgba``'s grid) when its seal holds, else None. The
    full-size decode the seal needs happens only for a file that records a sealed map."""
    found = productmap.recorded(facts.xmp)
    if found is None or seal_key is None or facts.oriented or not mapseal.verify(seal_key, *found, data):
        return None  # turned by EXIF: the map was sealed for the pixels as stored, not as shown
    return productmap.read(found[0], facts.rgba.shape[:2], facts.width * facts.height)


def product_mask(alpha: np.ndarray, *, segmented: bool) -> np.ndarray:
    """bool (H, W) product from an alpha (uint8). A segmenter's stray bits are dropped: of its connected
    parts only the largest and those at least PRODUCT_PART_SHARE of it count (the rest may be props)."""
    mask = alpha >= PRODUCT_ALPHA
    if not segmented or not mask.any():
        return mask
    labels, _count = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero(sizes >= PRODUCT_PART_SHARE * sizes.max()) + 1
    return np.isin(labels, keep)


def check(
    data: bytes,
    preset: Preset,
    *,
    product_alpha: np.ndarray | None = None,
    find_product: ProductFinder | None = None,
) -> ComplianceReport:
    """Measure every rule of ``preset`` on the image file ``data``.

    Args:
        data: the encoded file as delivered.
        preset: the preset whose rules apply.
        product_alpha: uint8 (H, W) alpha of the product on this canvas (generated images), or None.
        find_product: called with the decoded image when ``product_alpha`` is None and a pixel rule needs the
            product (standalone check); returns a uint8 (H, W) alpha.

    Raises:
        OSError, ValueError: ``data`` is not an image PIL can open.
    """
    return measure(decode(data), preset, product_alpha=product_alpha, find_product=find_product)


def measure(
    img: Decoded,
    preset: Preset,
    *,
    product_alpha: np.ndarray | None = None,
    find_product: ProductFinder | None = None,
) -> ComplianceReport:
    """:func:`check` on a file already decoded; ``product_alpha`` and what ``find_product`` returns have the shape
    of ``img.rgba``'s pixels (a reduced copy's, if it is one)."""
    rules = preset.rules
    results = _file_rules(img, rules)
    if _needs_product(rules):
        segmented = product_alpha is None
        if product_alpha is None:
            if find_product is None:
                raise ValueError("the product's alpha or a way to find it is needed for the pixel rules")
            rgba_image = Image.fromarray(img.rgba, mode="RGBA")
            product_alpha = find_product(rgba_image)
        if product_alpha.shape != img.rgba.shape[:2]:
            raise ValueError(f"product alpha {product_alpha.shape} does not match the image {img.rgba.shape[:2]}")
        body = product_mask(product_alpha, segmented=segmented)
        reach = max(_guard(body.shape), round(FRINGE_SHARE * max(body.shape)))
        fringe = (product_alpha > FRINGE_ALPHA) & _grow(body, reach)
        results += _pixel_rules(img, rules, body, body | fringe)
    return ComplianceReport(preset.id, all(r.passed for r in results), tuple(results))


def _needs_product(rules: Rules) -> bool:
    return (
        rules.background is not None
        or rules.min_fill is not None
        or rules.max_fill is not None
        or not rules.allow_crop
        or rules.max_shadow_darkening is not None
        or not rules.reflection
        or not rules.props
    )


def _file_rules(img: Decoded, rules: Rules) -> list[RuleResult]:
    out: list[RuleResult] = []
    long_side, short_side = max(img.width, img.height), min(img.width, img.height)
    if rules.min_long_side is not None or rules.max_long_side is not None:
        lo, hi = rules.min_long_side or 1, rules.max_long_side
        ok = long_side >= lo and (hi is None or long_side <= hi)
        req = f"{lo}–{hi} px" if hi else f">= {lo} px"
        out.append(RuleResult("long_side", ok, long_side, req, f"long side {long_side} px (needs {req})"))
    if rules.min_short_side is not None:
        ok = short_side >= rules.min_short_side
        req = f">= {rules.min_short_side} px"
        out.append(RuleResult("short_side", ok, short_side, req, f"short side {short_side} px (needs {req})"))
    if rules.max_pixels is not None:
        pixels = img.width * img.height
        ok = pixels <= rules.max_pixels
        req = f"<= {rules.max_pixels} px"
        out.append(RuleResult("pixels", ok, pixels, req, f"{pixels / 1e6:.1f} MP (needs {req})"))
    if rules.formats is not None:
        ok = img.fmt in rules.formats
        req = " or ".join(rules.formats)
        out.append(RuleResult("format", ok, img.fmt, req, f"{img.fmt} file (needs {req})"))
    if img.frames > 1:
        measured = f"{img.frames} frames"
        out.append(RuleResult("still", False, measured, "one frame", f"animated, {measured} (needs one still image)"))
    if rules.srgb:
        cmyk = img.mode in {"CMYK", "YCbCr", "LAB", "I;16", "I", "F"}
        profile = f"ICC profile '{img.icc_description}'" + ("" if img.icc_srgb else ", not sRGB's colours")
        measured = f"{img.mode}, " + (profile if img.icc_description else "no ICC profile (sRGB)")
        if img.gamma is not None:
            measured = f"{img.mode}, PNG gamma {img.gamma:g} (sRGB's is {SRGB_PNG_GAMMA:g})"
        ok = not cmyk and img.icc_srgb and img.gamma is None
        out.append(RuleResult("colour_space", ok, measured, "sRGB", f"{measured} (needs sRGB)"))
    if rules.max_file_bytes is not None:
        ok = img.size_bytes <= rules.max_file_bytes
        req = f"<= {rules.max_file_bytes} bytes"
        out.append(RuleResult("file_size", ok, img.size_bytes, req, f"{img.size_bytes} bytes (needs {req})"))
    return out


def _grow(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` dilated by a (2r+1)² square: OR with shifted copies whose shift doubles each step, so the cost
    grows with log2(r) (scipy's iterated dilation and 1-D max filter took 0.1-0.9 s at 2048²)."""
    out = mask.copy()
    for axis in (0, 1):
        span = 0
        while span < radius:
            k = min(span + 1, radius - span)  # a shift up to span+1 keeps the covered run contiguous
            grown = out.copy()
            if axis == 0:
                grown[k:] |= out[:-k]
                grown[:-k] |= out[k:]
            else:
                grown[:, k:] |= out[:, :-k]
                grown[:, :-k] |= out[:, k:]
            out, span = grown, span + k
    return out


def _deviation(rgb: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """uint8 (H, W): the largest per-channel difference from ``colour`` (uint8 arithmetic, no wide copies)."""
    out = np.zeros(rgb.shape[:2], np.uint8)
    for channel, value in enumerate(colour):
        plane = rgb[..., channel]
        np.maximum(out, np.maximum(plane, value) - np.minimum(plane, value), out=out)
    return out


def _guard(shape: tuple[int, ...]) -> int:
    return max(GUARD_MIN_PX, round(GUARD_SHARE * max(shape)))


def _pixel_rules(img: Decoded, rules: Rules, product: np.ndarray, covered: np.ndarray) -> list[RuleResult]:
    """Rules on pixels. ``product``: the product's body (alpha >= PRODUCT_ALPHA); ``covered``: every pixel the
    product's matte touches (its soft fringe too), which is never measured as background."""
    out: list[RuleResult] = []
    height, width = product.shape
    if not product.any():
        return [RuleResult("product_found", False, 0, "a product", "no product found in the image")]
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if rules.min_fill is not None or rules.max_fill is not None:
        fill = round(max((right - left) / width, (bottom - top) / height), 4)
        lo, hi = rules.min_fill or 0.0, rules.max_fill or 1.0
        ok = lo <= fill <= hi
        req = f"{lo:.0%}–{hi:.0%}"
        out.append(RuleResult("product_fill", ok, fill, req, f"product fills {fill:.1%} of the frame (needs {req})"))
    if not rules.allow_crop:
        sides = [
            name
            for name, edge in (
                ("top", product[0]),
                ("bottom", product[-1]),
                ("left", product[:, 0]),
                ("right", product[:, -1]),
            )
            if edge.any()
        ]
        message = f"product touches the {', '.join(sides)} edge" if sides else "product is whole in the frame"
        out.append(RuleResult("cropped_at_edge", not sides, sides, "no side touched", message))
    needs_background = rules.background is not None or rules.max_shadow_darkening is not None
    if not needs_background and rules.reflection and rules.props:
        return out
    colour = parse_background(rules.background) or (255, 255, 255)
    ring = _grow(covered, _guard(covered.shape))
    background = ~ring
    rgb = img.rgba[..., :3]
    opaque = img.rgba[..., 3] == 255
    deviation = _deviation(rgb, colour)
    if rules.background is not None and rules.min_background_purity is not None:
        exact = (deviation == 0) & opaque
        total = int(background.sum())
        purity = round(float(exact[background].mean()), 4) if total else 1.0
        req = f">= {rules.min_background_purity:.0%} at {rules.background}"
        ok = purity >= rules.min_background_purity
        message = f"{purity:.2%} of the background is exactly {rules.background} (needs {req})"
        out.append(RuleResult("background_purity", ok, purity, req, message))
    backdrop = _backdrop(rgb, background & opaque, colour)
    if backdrop != colour:  # added content is what differs from the image's own backdrop
        deviation = _deviation(rgb, backdrop)
    out += _added_content(
        rgb, deviation, opaque, np.asarray(backdrop, np.int16), product, ring, background, bottom, rules
    )
    return out


def _backdrop(rgb: np.ndarray, background: np.ndarray, required: tuple[int, int, int]) -> tuple[int, int, int]:
    """The image's own backdrop colour: the median of ``background`` pixels in the frame's edge band (every 4th: a
    median of ~80k pixels at 2000 px), or ``required`` where fewer than a region's worth show."""
    height, width = background.shape
    band = max(1, round(EDGE_SHARE * min(height, width)))
    edge = np.zeros_like(background)
    edge[:band], edge[-band:], edge[:, :band], edge[:, -band:] = True, True, True, True
    picked = rgb[edge & background][::4]
    if len(picked) < MIN_REGION_PX:
        return required
    red, green, blue = (int(v) for v in np.median(picked, axis=0).round())
    return red, green, blue


def _added_content(
    rgb: np.ndarray,
    deviation: np.ndarray,
    opaque: np.ndarray,
    colour: np.ndarray,
    product: np.ndarray,
    ring: np.ndarray,
    background: np.ndarray,
    product_bottom: int,
    rules: Rules,
) -> list[RuleResult]:
    """Shadow, reflection and props: regions of background that are not the backdrop's ``colour`` (the image's own,
    :func:`_backdrop`); ``deviation`` is each pixel's from it."""
    if rules.max_shadow_darkening is None and rules.reflection and rules.props:
        return []
    height, width = product.shape
    content = background & ((deviation > CONTENT_TOLERANCE) | ~opaque)
    labels, count = ndimage.label(content, structure=np.ones((3, 3), bool))
    min_px = max(MIN_REGION_PX, round(MIN_REGION_SHARE * height * width))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    near = _grow(ring, 2) & background
    attached_ids = set(np.unique(labels[near & content]).tolist()) - {0}
    shadow_px: list[np.ndarray] = []
    reflection_px = 0
    props: list[int] = []
    for region in range(1, count + 1):
        if sizes[region] < min_px:
            continue
        if region not in attached_ids:
            props.append(int(sizes[region]))
            continue
        ys, xs = np.nonzero(labels == region)
        if _mirrors_product(rgb, colour, product, ys, xs, product_bottom):
            reflection_px += len(ys)
        else:
            shadow_px.append(np.clip(float(colour @ LUMA) - rgb[ys, xs] @ LUMA, 0, 255))
    out: list[RuleResult] = []
    if rules.max_shadow_darkening is not None:
        darkest = round(float(np.percentile(np.concatenate(shadow_px), 99))) if shadow_px else 0
        req = f"<= {rules.max_shadow_darkening} levels"
        ok = darkest <= rules.max_shadow_darkening
        message = f"shadow next to the product darkens the background by {darkest} levels (needs {req})"
        out.append(RuleResult("shadow", ok, darkest, req, message))
    if not rules.reflection:
        share = round(reflection_px / (height * width), 5)
        message = f"a floor reflection covers {share:.2%} of the image" if reflection_px else "no reflection"
        out.append(RuleResult("reflection", reflection_px == 0, share, "none", message))
    if not rules.props:
        share = round(sum(props) / (height * width), 5)
        message = (
            f"{counted(len(props), 'separate object')} besides the product ({share:.2%} of the image)"
            if props
            else ("nothing besides the product")
        )
        out.append(RuleResult("props", not props, {"count": len(props), "share": share}, "none", message))
    return out


def _mirrors_product(
    rgb: np.ndarray, colour: np.ndarray, product: np.ndarray, ys: np.ndarray, xs: np.ndarray, bottom: int
) -> bool:
    """Whether the region's pixels below the product repeat the product's colours mirrored about its bottom."""
    below = ys >= bottom
    if below.sum() < MIN_REGION_PX:
        return False
    ys, xs = ys[below], xs[below]
    mirror_y = 2 * bottom - 1 - ys
    inside = (mirror_y >= 0) & product[np.clip(mirror_y, 0, product.shape[0] - 1), xs]
    if inside.sum() < MIN_REGION_PX:
        return False
    here = (colour[None, :] - rgb[ys[inside], xs[inside]].astype(np.int16)).astype(np.float64)
    there = (colour[None, :] - rgb[mirror_y[inside], xs[inside]].astype(np.int16)).astype(np.float64)
    # a region of one colour mirrors nothing, whatever its channels' offsets (a plain dark-red shadow on red
    # "correlated" with any product through its channels alone)
    if here.std(axis=0).max() < 1e-6 or there.std(axis=0).max() < 1e-6:
        return False
    return float(np.corrcoef(here.ravel(), there.ravel())[0, 1]) > REFLECTION_CORRELATION
