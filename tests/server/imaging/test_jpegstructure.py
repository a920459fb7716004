"""The marker walk vouches only for JPEGs that Pillow's full decode accepts (differential test over a generated
corpus of real and damaged files), and the file it stores decodes to the same pixels."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jpeg_corpus import (
    case_photos,
    corpus,
    encodes,
    pillow_decodes,
    pixels,
    progressive_with_metadata_between_scans,
    summarise,
)
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging import jpegstructure
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.jpegstructure import read_structure
from PIL import Image, JpegImagePlugin
from support import assert_plain_words


def walk_vouches(data: bytes) -> bool:
    structure = read_structure(data)
    return structure is not None and structure.certain


def test_every_file_the_walk_vouches_for_decodes_and_is_stored_with_the_same_pixels() -> None:
    rows, wrong, changed = [], [], []
    for name, kind, data in corpus(budget=1):
        structure = read_structure(data)
        certain = structure is not None and structure.certain
        decodes = pillow_decodes(data)
        rows.append((kind, certain, decodes))
        if certain and decodes is False:
            wrong.append((name, kind))
        stored = structure.data if structure is not None else data
        if certain and decodes and stored is not data and pixels(stored) != pixels(data):
            changed.append((name, kind))
    table = summarise(rows)
    assert not wrong, f"vouched for files Pillow cannot decode: {wrong[:10]}\n{table}"
    assert not changed, f"stored bytes decode differently: {changed[:10]}"
    # the corpus means something: thousands of inputs, many refused by Pillow, every intact file vouched for
    assert len(rows) > 5000, table
    assert sum(decodes is False for _k, _c, decodes in rows) > 2000, table
    assert all(certain for kind, certain, _d in rows if kind == "intact"), table
    vouched = sum(certain for _k, certain, _d in rows)
    decodable = sum(decodes is True for _k, _c, decodes in rows)
    assert vouched > 0.9 * decodable, table  # the walk spares most decodes


def _first_failure(classes: tuple[str, ...]) -> tuple[str, str] | None:
    for name, kind, data in corpus(budget=1):
        if kind.startswith(classes) and walk_vouches(data) and pillow_decodes(data) is False:
            return name, kind
    return None


@pytest.mark.parametrize(
    ("check", "classes"),
    [
        ("huffman_table_valid", ("DHT",)),
        ("progression_valid", ("SOS",)),
    ],
)
def test_the_corpus_catches_a_walk_that_skips_a_check(
    monkeypatch: pytest.MonkeyPatch, check: str, classes: tuple[str, ...]
) -> None:
    monkeypatch.setattr(jpegstructure, check, lambda *args, **kwargs: True)
    assert _first_failure(classes) is not None, f"no input of {classes} shows that {check} matters"


_BASES = [data for name, data in encodes() if name.endswith("x48") or name.endswith("x17")][:12]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(range(len(_BASES))),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["set", "insert", "delete", "cut"]),
            st.floats(0, 1),
            st.binary(min_size=1, max_size=6).map(lambda b: b"\xff" + b if b[0] % 3 == 0 else b),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_random_edits_never_make_the_walk_vouch_for_a_broken_file(
    base: int, edits: list[tuple[str, float, bytes]]
) -> None:
    data = _BASES[base]
    for op, where, blob in edits:
        at = min(len(data) - 1, 2 + int(where * (len(data) - 2)))
        if op == "set":
            data = data[:at] + blob + data[at + len(blob) :]
        elif op == "insert":
            data = data[:at] + blob + data[at:]
        elif op == "delete":
            data = data[:at] + data[at + len(blob) :]
        else:
            data = data[:at]
    if walk_vouches(data):
        assert pillow_decodes(data) is not False


def test_a_frame_claiming_a_decompression_bomb_is_not_tried_by_the_oracle_and_refused_by_the_door() -> None:
    # CI of ffe17ca (Hypothesis): one edit made the frame claim 2849x65280 (186 MP); Pillow's open() raised
    # DecompressionBombError, which the oracle read as "does not decode" although no decode was tried
    data = _BASES[0]
    sof = data.index(b"\xff\xc0")
    bomb = data[: sof + 5] + (65280).to_bytes(2, "big") + (2849).to_bytes(2, "big") + data[sof + 9 :]
    assert pillow_decodes(bomb) is None
    with pytest.raises(UnsupportedImage, match=r"the limit is 40,000,000 pixels") as refused:
        decode_image(bomb, max_bytes=10_000_000, max_pixels=40_000_000)
    assert_plain_words(refused.value.message)


def test_metadata_after_the_first_scan_and_data_after_eoi_are_dropped() -> None:
    sent, plain = progressive_with_metadata_between_scans()
    structure = read_structure(sent)
    assert structure is not None and structure.certain
    assert structure.data == plain


def test_a_file_with_nothing_to_drop_is_not_copied() -> None:
    for _name, data in encodes():
        structure = read_structure(data)
        if b"\xff\xe1" not in data and b"\xff\xfe" not in data:
            assert structure is not None and structure.data is data


@pytest.mark.skipif(not case_photos(), reason="shared/cases/photos is absent")
def test_every_case_photo_is_vouched_for_and_its_pixels_kept() -> None:
    for photo in case_photos():
        data = photo.read_bytes()
        structure = read_structure(data)
        assert structure is not None and structure.certain, photo.name
        assert pixels(structure.data) == pixels(data), photo.name


def test_a_progressive_dc_scan_that_could_overflow_the_predictor_is_left_to_the_decoder() -> None:
    # jdphuff.c refuses a DC predictor beyond int (JERR_BAD_DCT_COEF): only the entropy-coded data tells, so the
    # walk vouches only where blocks between resets x the largest coded difference cannot reach 2**31
    out = io.BytesIO()
    Image.new("L", (8 * 2048, 8 * 40), 128).save(out, "JPEG", progressive=True)  # 81,920 blocks, no restarts
    data = out.getvalue()
    structure = read_structure(data)
    assert structure is not None and structure.certain  # the standard DC table codes at most 11 bits
    dht = data.index(b"\xff\xc4")
    widened = _dc_tables_coding_15_bits(data[dht:])
    structure = read_structure(data[:dht] + widened)
    assert structure is not None and not structure.certain  # 81,920 x (2**15 - 1) > 2**31 - 1


def _dc_tables_coding_15_bits(tail: bytes) -> bytes:
    """``tail`` (from a DHT) with the first DC table's largest symbol changed to 15."""
    at = 4
    while tail[at] & 0x10:
        at += 17 + sum(tail[at + 1 : at + 17])
    n = sum(tail[at + 1 : at + 17])
    last = at + 17 + n - 1
    return tail[:last] + b"\x0f" + tail[last + 1 :]


def _inserted(plain: bytes, middle: bytes, *, between_scans: bool = False) -> bytes:
    """``plain`` with ``middle`` before its first DQT (before the frame) or before its second scan."""
    at = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2) if between_scans else plain.index(b"\xff\xdb")
    return plain[:at] + middle + plain[at:]


_MANY_MARKERS = {  # n markers of each kind in a valid progressive JPEG
    "empty comments before the frame": lambda plain, n: _inserted(plain, b"\xff\xfe\x00\x02" * n),
    "fill bytes before the frame": lambda plain, n: _inserted(plain, b"\xff" * n),
    "RST markers before the frame": lambda plain, n: _inserted(plain, b"\xff\xd0" * n),
    "a stray byte, then empty comments": lambda plain, n: _inserted(plain, b"\x00" + b"\xff\xfe\x00\x02" * n),
    "empty comments between scans": lambda plain, n: _inserted(plain, b"\xff\xfe\x00\x02" * n, between_scans=True),
}


@pytest.mark.parametrize("kind", sorted(_MANY_MARKERS))
def test_a_file_of_more_markers_than_real_files_have_is_refused_before_pillow_parses_it(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # breaker, session 4: 2.25 M empty comments before the frame (9 MB) cost 6.4 s of the API's CPU before its 202,
    # half of it Pillow's header parser (a Python step per marker and per fill byte); past 4,096 markers after the
    # first scan the file took the full path (decode and a lossless PNG re-encode)
    _sent, plain = progressive_with_metadata_between_scans()
    few = _MANY_MARKERS[kind](plain, 1_000)
    assert pillow_decodes(few)
    read_structure(few)  # a thousand: more than real files have, still not refused
    many = _MANY_MARKERS[kind](plain, jpegstructure.MAX_MARKERS + 1)
    assert pillow_decodes(many)  # a valid file, only an absurd one

    def not_parsed(self: object) -> None:
        raise AssertionError("Pillow parsed the header")

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "_open", not_parsed)
    with pytest.raises(UnsupportedImage, match=r"more than 4,096 markers .* Save the image again") as refused:
        read_structure(many)
    assert_plain_words(refused.value.message)
    with pytest.raises(UnsupportedImage, match="more than 4,096 markers"):
        decode_image(many, max_bytes=10_000_000, max_pixels=40_000_000)  # every door (check, CLI, worker) too


def test_a_file_of_more_scans_than_real_files_have_is_refused() -> None:
    # libjpeg visits every block in every scan: thousands of near-empty scans decode for minutes (breaker, session 5:
    # 4,000 empty AC scans in a 157 kB 40 MP file cost 13.8 s of the API's CPU before its 202, then the worker's);
    # such a file is refused as djpeg -maxscans refuses it, at every door, also when the walk is lost before its
    # first scan (a stray byte between segments: the decode still meets every scan)
    out = io.BytesIO()
    Image.new("L", (64, 48), 128).save(out, "JPEG", progressive=True)
    plain = out.getvalue()
    first = plain.index(b"\xff\xda")
    last = plain.rindex(b"\xff\xda")
    refinement = plain[last:-2]  # a scan that changes nothing when repeated (libjpeg warns only)
    many = plain[:-2] + refinement * (jpegstructure.MAX_SCANS - plain[first:].count(b"\xff\xda")) + b"\xff\xd9"
    assert pillow_decodes(many)
    structure = read_structure(many)
    assert structure is not None and structure.certain  # MAX_SCANS scans
    too_many = many[:-2] + refinement + b"\xff\xd9"
    assert pillow_decodes(too_many)  # libjpeg itself would decode it, at the cost of every scan
    lost = too_many[:first] + b"\x00" + too_many[first:]  # garbage before the first scan: the walk is lost there
    assert pillow_decodes(lost)
    for data in (too_many, lost):
        with pytest.raises(UnsupportedImage, match=r"more than 100 scans .* Save the image again") as refused:
            read_structure(data)
        assert_plain_words(refused.value.message)
        with pytest.raises(UnsupportedImage, match="more than 100 scans"):
            decode_image(data, max_bytes=10_000_000, max_pixels=40_000_000)


_SECRET = b"GPS 51.50135N 0.14189W"


def _split_at_second_scan(plain: bytes) -> tuple[bytes, bytes]:
    second_scan = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2)
    return plain[:second_scan], plain[second_scan:]


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


@pytest.mark.parametrize("where", ["before the metadata", "between later segments", "before EOI"])
def test_metadata_is_dropped_after_a_stray_byte_loses_the_walk(where: str) -> None:
    # libjpeg skips garbage between segments to the next marker (a warning): the walk is unsure there but still
    # drops metadata after it and what follows EOI, instead of keeping the rest of the file as sent
    _sent, plain = progressive_with_metadata_between_scans()
    head, tail = _split_at_second_scan(plain)
    exif = _segment(0xE1, b"Exif\x00\x00" + _SECRET)
    if where == "before the metadata":
        sent = head + b"\x00" + exif + tail
    elif where == "between later segments":
        sent = head + _segment(0xFE, b"x") + b"\x00" + exif + tail
    else:
        sent = plain[:-2] + _segment(0xFE, b"") + b"\x00\xff\xd9" + _SECRET
    structure = read_structure(sent)
    assert structure is not None and not structure.certain
    assert _SECRET not in structure.data
    assert pixels(structure.data) == pixels(sent)


def test_app0_keeps_only_the_jfif_header_without_its_thumbnail() -> None:
    _sent, plain = progressive_with_metadata_between_scans()
    jfif_end = 4 + int.from_bytes(plain[4:6], "big")
    thumbnail = _segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x02\x01" + _SECRET[:6])  # a 2x1 RGB thumbnail
    jfxx = _segment(0xE0, b"JFXX\x00\x10" + _SECRET)
    sent = plain[:2] + thumbnail + jfxx + plain[jfif_end:]
    structure = read_structure(sent)
    assert structure is not None and structure.certain
    assert _SECRET[:6] not in structure.data
    assert structure.data[2:20] == _segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00")
    assert structure.data[20:] == plain[jfif_end:]


def test_app14_keeps_only_the_adobe_fields_libjpeg_reads() -> None:
    _sent, plain = progressive_with_metadata_between_scans()
    adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01"  # version 100, transform 1 (YCbCr)
    sent = plain[:2] + _segment(0xEE, adobe + _SECRET) + plain[2:]
    structure = read_structure(sent)
    assert structure is not None and structure.certain
    assert structure.data == plain[:2] + _segment(0xEE, adobe) + plain[2:]
    assert pixels(structure.data) == pixels(sent)


def test_a_file_of_more_tables_than_real_files_have_is_left_to_the_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    # breaker, session 3: 5 MB of Huffman tables cost the walk a Python step each (0.67 s; the decode 0.05 s)
    plain = next(encodes())[1]
    first_scan = plain.index(b"\xff\xda")
    table = bytes([0x10]) + bytes([0, 1] + [0] * 14) + bytes([0])  # an AC table of one 2-bit code
    dht = _segment(0xC4, table * 3000)
    checked = 0
    real = jpegstructure.huffman_table_valid

    def counting(*args: object, **kwargs: object) -> bool:
        nonlocal checked
        checked += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jpegstructure, "huffman_table_valid", counting)
    structure = read_structure(plain[:first_scan] + dht * 3 + plain[first_scan:])
    assert structure is not None and not structure.certain
    assert checked <= jpegstructure.MAX_TABLES
    assert walk_vouches(plain)
