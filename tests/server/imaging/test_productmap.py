"""The product map an output records (breaker13 B13-9): the check reads it back exactly, ignores one that is not
this image's, and still measures everything outside it (an edit that adds a prop is found). It trusts only a map
this appliance sealed for these pixels (session 14): a map a file declares for itself, or one kept by an edited
file, is not used."""

from __future__ import annotations

import io
import struct

import numpy as np
from paqshot_server.checking import check_image, classical_product
from paqshot_server.imaging import compliance, mapseal, productmap, xmp
from paqshot_server.imaging.presets import load_presets
from paqshot_server.settings import Settings
from PIL import ExifTags, Image
from support import product_jpeg

AMAZON = load_presets(None).get("amazon_main")
KEY = mapseal.key(bytes(range(32)))


def _packet(text: str, seal: str) -> bytes:
    description = productmap.attribute(text, seal)
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description {description}/></x:xmpmeta>'.encode()


def _sealed(data: bytes, text: str, key: bytes = KEY) -> bytes:
    """``data`` (a JPEG) with ``text`` recorded and sealed for its pixels, as the job records it."""
    return xmp.embed(data, "jpeg", _packet(text, mapseal.seal(key, text, mapseal.pixel_digest(data))))


def _lamp() -> tuple[np.ndarray, np.ndarray]:
    """(RGB, alpha) 1200x1000: a black lamp with a near-white shade lining and a pull chain apart from it."""
    rgb = np.full((1200, 1000, 3), 255, np.uint8)
    alpha = np.zeros((1200, 1000), np.uint8)
    for rows, cols, colour in (
        ((100, 400), (120, 880), (15, 15, 15)),  # shade
        ((400, 410), (130, 870), (246, 246, 246)),  # lining: 9 levels under white
        ((400, 1080), (470, 530), (15, 15, 15)),  # pole
        ((1080, 1150), (200, 800), (15, 15, 15)),  # base
        ((450, 560), (700, 712), (30, 30, 30)),  # pull chain, 40 px below the lining
    ):
        rgb[rows[0] : rows[1], cols[0] : cols[1]] = colour
        alpha[rows[0] : rows[1], cols[0] : cols[1]] = 255
    return rgb, alpha


def _jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def test_the_map_reads_back_as_the_levels_compliance_measures() -> None:
    alpha = np.zeros((300, 200), np.uint8)
    alpha[50:250, 40:160] = 255
    alpha[45:50, 40:160] = 60  # the matte's soft fringe
    alpha[44, 40:160] = 5  # below the fringe threshold: background
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None
    assert productmap.recorded(_packet(text, "ab" * 32)) == (text, "ab" * 32)
    assert productmap.recorded(_packet(text, "ab" * 32).replace(b"pim:ProductMapSeal", b"pim:Other")) is None
    back = productmap.read(text, (300, 200), 300 * 200)
    assert back is not None
    assert np.array_equal(back >= compliance.PRODUCT_ALPHA, alpha >= compliance.PRODUCT_ALPHA)
    assert np.array_equal(back > compliance.FRINGE_ALPHA, alpha > compliance.FRINGE_ALPHA)
    half = productmap.read(text, (150, 100), 300 * 200)  # a reduced copy's grid
    assert half is not None and half.shape == (150, 100)
    assert productmap.read(text, (200, 200), 300 * 200) is None  # another aspect: not this image's
    assert productmap.read(text, (300, 200), 100 * 100) is None  # more pixels than the file has
    assert productmap.read("iVBORw0KGgo=", (300, 200), 300 * 200) is None  # damaged
    assert productmap.recorded(b"<x:xmpmeta/>") is None


def test_a_recorded_map_is_the_product_and_what_is_added_outside_it_is_still_measured() -> None:
    rgb, alpha = _lamp()
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None

    def finder(image: Image.Image) -> np.ndarray:  # a cut-out found again: the dark parts, not the lining
        return np.where(np.asarray(image.convert("L")) < 128, 255, 0).astype(np.uint8)

    def failed(data: bytes, key: bytes | None = KEY) -> tuple[str, set[str]]:
        done = compliance.audit(data, [AMAZON], finder, "test", key)
        return done.product_source, {r.rule for r in done.reports[0].rules if not r.passed}

    delivered = _sealed(_jpeg(rgb), text)
    assert failed(delivered) == (compliance.RECORDED, set())
    source, rules = failed(_jpeg(rgb))  # the same pixels without the record: the lining reads as shadow
    assert source == "test" and "shadow" in rules
    assert failed(delivered, mapseal.key(b"another appliance"))[0] == "test"
    assert failed(delivered, None)[0] == "test"
    edited = rgb.copy()
    edited[60:90, 20:60] = (200, 30, 30)  # a prop painted onto the delivered file, its XMP kept
    with Image.open(io.BytesIO(delivered)) as image:
        kept = image.info["xmp"]
    kept = kept.encode() if isinstance(kept, str) else kept
    source, rules = failed(xmp.embed(_jpeg(edited), "jpeg", kept))  # its map is stale: the product is found
    assert source == "test" and "props" in rules


def test_an_exif_rotation_added_to_a_sealed_output_is_measured_as_shown_without_the_map() -> None:
    """breaker15 B15-9: an EXIF orientation added to a sealed JPEG (the pixels, so the seal, unchanged; shown
    sideways) kept its map trusted and its verdict."""
    rgb, alpha = _lamp()
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None
    delivered = _sealed(_jpeg(rgb), text)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # shown turned a quarter clockwise
    payload = exif.tobytes()  # "Exif\0\0" and its TIFF structure: an APP1 segment's content
    turned = delivered[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + delivered[2:]
    assert mapseal.pixel_digest(turned) == mapseal.pixel_digest(delivered)  # the seal alone would still hold
    done = compliance.audit(turned, [AMAZON], lambda image: np.zeros(image.size[::-1], np.uint8), "test", KEY)
    assert done.product_source == "test"
    assert (done.facts.width, done.facts.height) == (1200, 1000)  # as shown: the 1000 x 1200 file turned


def test_a_map_a_file_declares_for_itself_is_not_trusted(settings: Settings) -> None:
    """A seller's photo on a grey background declares its whole frame "product" (the namespace is documented):
    the check finds the product itself, and the background fails. Through ``check_image``, as both checks run."""
    photo = product_jpeg()  # a red box on light grey (236)
    with Image.open(io.BytesIO(photo)) as image:
        width, height = image.size
    text = productmap.encode(np.full((height, width), 255, np.uint8), compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None
    declared = (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:pim="{productmap.NAMESPACE}" '
        f'pim:ProductMap="{text}" pim:ProductMapSeal="{"0" * 64}"/></x:xmpmeta>'
    ).encode()
    presets = load_presets(None)
    for forged in (declared, declared.replace(b"0" * 64, mapseal.seal(mapseal.key(b"guess"), text, b"").encode())):
        outcome = check_image(
            xmp.embed(photo, "jpeg", forged), ["amazon_main"], settings, presets, classical_product, "classical"
        )
        rules = {r["rule"]: r["passed"] for r in outcome.compliance[0]["rules"]}
        assert outcome.product_source == "classical"
        assert rules["background_purity"] is False, outcome.compliance
