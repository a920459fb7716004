"""The product map an output records (breaker13 B13-9): the check reads it back exactly, ignores one that is not
this image's, and still measures everything outside it (an edit that adds a prop is found)."""

from __future__ import annotations

import io

import numpy as np
from paqshot_server.imaging import compliance, productmap, xmp
from paqshot_server.imaging.presets import load_presets
from PIL import Image

AMAZON = load_presets(None).get("amazon_main")


def _packet(text: str) -> bytes:
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description {productmap.attribute(text)}/></x:xmpmeta>'.encode()


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


def _jpeg(rgb: np.ndarray, packet: bytes | None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=95)
    return buf.getvalue() if packet is None else xmp.embed(buf.getvalue(), "jpeg", packet)


def test_the_map_reads_back_as_the_levels_compliance_measures() -> None:
    alpha = np.zeros((300, 200), np.uint8)
    alpha[50:250, 40:160] = 255
    alpha[45:50, 40:160] = 60  # the matte's soft fringe
    alpha[44, 40:160] = 5  # below the fringe threshold: background
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None
    back = productmap.read(_packet(text), (300, 200), 300 * 200)
    assert back is not None
    assert np.array_equal(back >= compliance.PRODUCT_ALPHA, alpha >= compliance.PRODUCT_ALPHA)
    assert np.array_equal(back > compliance.FRINGE_ALPHA, alpha > compliance.FRINGE_ALPHA)
    half = productmap.read(_packet(text), (150, 100), 300 * 200)  # a reduced copy's grid
    assert half is not None and half.shape == (150, 100)
    assert productmap.read(_packet(text), (200, 200), 300 * 200) is None  # another aspect: not this image's
    assert productmap.read(_packet(text), (300, 200), 100 * 100) is None  # more pixels than the file has
    assert productmap.read(_packet("iVBORw0KGgo="), (300, 200), 300 * 200) is None  # damaged
    assert productmap.read(b"<x:xmpmeta/>", (300, 200), 300 * 200) is None


def test_a_recorded_map_is_the_product_and_what_is_added_outside_it_is_still_measured() -> None:
    rgb, alpha = _lamp()
    text = productmap.encode(alpha, compliance.PRODUCT_ALPHA, compliance.FRINGE_ALPHA)
    assert text is not None

    def finder(image: Image.Image) -> np.ndarray:  # a cut-out found again: the dark parts, not the lining
        return np.where(np.asarray(image.convert("L")) < 128, 255, 0).astype(np.uint8)

    def failed(data: bytes) -> tuple[str, set[str]]:
        done = compliance.audit(data, [AMAZON], finder, "test")
        return done.product_source, {r.rule for r in done.reports[0].rules if not r.passed}

    assert failed(_jpeg(rgb, _packet(text))) == (compliance.RECORDED, set())
    source, rules = failed(_jpeg(rgb, None))  # the same pixels without the record: the lining reads as shadow
    assert source == "test" and "shadow" in rules
    edited = rgb.copy()
    edited[60:90, 20:60] = (200, 30, 30)  # a prop painted onto the delivered file
    assert failed(_jpeg(edited, _packet(text))) == (compliance.RECORDED, {"props"})
