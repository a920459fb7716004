"""Inputs are validated and normalised at the door; stored files carry no metadata."""

from __future__ import annotations

import binascii
import contextlib
import io
import threading
import time
import tracemalloc
from pathlib import Path

import anyio
import pybase64
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jpeg_corpus import progressive_with_metadata_between_scans
from paqshot_server.errors import ImageTooLarge, InvalidRequest, StorageFull, UnsupportedImage
from paqshot_server.imaging.decode import decode_image
from paqshot_server.imaging.passthrough import jpeg_passthrough_plan, strip_jpeg_metadata
from paqshot_server.jobs.intake import decode_base64, normalise, store_input
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from PIL import Image, ImageCms, ImageFile
from support import linear_rgb_icc, product_jpeg

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}


def jpeg_with_exif(orientation: int) -> bytes:
    img = Image.open(io.BytesIO(product_jpeg((320, 200))))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude: private data that must not survive
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), comment=b"shot at home")
    return out.getvalue()


def test_plain_jpeg_is_stored_as_is_minus_metadata() -> None:
    data = jpeg_with_exif(orientation=1)
    stored, ext, _notes = normalise(data, LIMITS["max_bytes"], LIMITS["max_pixels"])
    assert ext == "jpg"
    assert b"Exif" not in stored and b"shot at home" not in stored
    reopened = Image.open(io.BytesIO(stored))
    assert reopened.size == (320, 200) and not reopened.getexif()
    original = Image.open(io.BytesIO(data)).convert("RGB")
    assert reopened.convert("RGB").tobytes() == original.tobytes()  # pixels untouched


@pytest.mark.parametrize("orientation", range(2, 9))
def test_a_turned_jpeg_is_stored_as_sent_with_its_orientation_alone(orientation: int) -> None:
    # lead, session 7: a JPEG with an EXIF orientation (a phone photo taken upright) was decoded, turned and stored
    # as a lossless PNG: ~380 ms of the API's CPU for 12 MP against ~1 ms for the same photo unturned
    sent = jpeg_with_exif(orientation)
    stored, ext, notes = normalise(sent, **LIMITS)
    assert ext == "jpg" and notes == () and b"shot at home" not in stored
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {0x0112: orientation}  # no GPS, nothing else
    worker, door = decode_image(stored, **LIMITS), decode_image(sent, **LIMITS)
    assert worker.image.tobytes() == door.image.tobytes()  # what the door stored as a PNG before, pixel for pixel
    shown = (200, 320) if orientation >= 5 else (320, 200)  # 5-8 transpose the stored rows
    assert worker.image.size == worker.source_size == door.source_size == shown
    plan = jpeg_passthrough_plan(sent, LIMITS["max_pixels"])
    assert plan is not None and plan.size == shown


def test_a_turned_jpeg_with_an_icc_profile_keeps_both() -> None:
    profile = linear_rgb_icc()
    img = Image.open(io.BytesIO(product_jpeg((320, 200))))
    exif = Image.Exif()
    exif[0x0112] = 8
    out = io.BytesIO()
    img.save(out, "JPEG", icc_profile=profile, exif=exif.tobytes())
    stored, ext, _notes = normalise(out.getvalue(), **LIMITS)
    reopened = Image.open(io.BytesIO(stored))
    assert ext == "jpg" and reopened.info["icc_profile"] == profile and dict(reopened.getexif()) == {0x0112: 8}
    worker, door = decode_image(stored, **LIMITS).image, decode_image(out.getvalue(), **LIMITS).image
    assert worker.size == (200, 320) and worker.tobytes() == door.tobytes()


def test_a_turned_jpeg_whose_drafted_decode_is_asked_for_is_upright_and_says_its_shown_size() -> None:
    sent = jpeg_with_exif(6)
    stored, _ext, _notes = normalise(sent, **LIMITS)
    small = decode_image(stored, **LIMITS, at_least=(160, 100))  # in the file's orientation, as its header reads
    assert small.image.size == (100, 160) and small.source_size == (200, 320)


def jpeg_with_icc(profile: bytes) -> bytes:
    img = Image.open(io.BytesIO(product_jpeg((320, 200))))
    exif = Image.Exif()
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude: private data that must not survive
    out = io.BytesIO()
    img.save(out, "JPEG", icc_profile=profile, exif=exif.tobytes(), comment=b"shot at home")
    return out.getvalue()


def padded(profile: bytes, extra: int) -> bytes:
    """``profile`` made ``extra`` bytes longer (its header's size too): stored in more than one APP2 segment."""
    return (len(profile) + extra).to_bytes(4, "big") + profile[4:] + b"\0" * extra


@pytest.mark.parametrize("extra", [0, 150_000], ids=["one APP2 segment", "three APP2 segments"])
def test_a_jpeg_with_an_icc_profile_is_stored_as_sent_but_for_its_other_metadata(extra: int) -> None:
    # breaker, session 4: a JPEG with an ICC profile (every phone photo) was decoded, converted and stored as a
    # lossless PNG: for 40 MP, 4.8 s to the 202, +295 MB in the API process and an 80 MB file
    profile = padded(linear_rgb_icc(), extra)
    sent = jpeg_with_icc(profile)
    stored, ext, notes = normalise(sent, **LIMITS)
    assert ext == "jpg" and notes == () and len(stored) < len(sent)
    assert b"GPS" not in stored and b"Exif" not in stored and b"shot at home" not in stored
    assert Image.open(io.BytesIO(stored)).info["icc_profile"] == profile
    worker = decode_image(stored, max_bytes=LIMITS["max_bytes"], max_pixels=LIMITS["max_pixels"]).image
    door = decode_image(sent, max_bytes=LIMITS["max_bytes"], max_pixels=LIMITS["max_pixels"]).image
    assert worker.tobytes() == door.tobytes()  # what the door stored as a PNG before, pixel for pixel
    plain = Image.open(io.BytesIO(sent))
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    srgb = ImageCms.profileToProfile(plain, source, ImageCms.createProfile("sRGB"))
    assert srgb is not None and worker.tobytes() == srgb.tobytes() != plain.tobytes()  # lcms's conversion, a new image


def test_truncated_jpeg_is_refused() -> None:
    with pytest.raises(UnsupportedImage):
        normalise(product_jpeg()[:-600], **LIMITS)


def test_too_many_pixels_is_refused_before_decoding() -> None:
    big = io.BytesIO()
    Image.new("L", (8000, 6000)).save(big, "PNG")
    with pytest.raises(UnsupportedImage, match="MP"):
        normalise(big.getvalue(), 10_000_000, 40_000_000)


def test_base64_forms() -> None:
    assert decode_base64("aGVs bG8=\n", 100) == b"hello"
    assert decode_base64("data:image/png;base64,aGVsbG8=", 100) == b"hello"
    with pytest.raises(InvalidRequest):
        decode_base64("data:image/png,hello", 100)
    with pytest.raises(InvalidRequest):
        decode_base64("aGVsbG8", 100)  # bad padding: strict decoding
    with pytest.raises(ImageTooLarge):
        decode_base64("A" * 200, 100)


def _decoded_or_error(text: str) -> bytes | str:
    try:
        return decode_base64(text, 10_000)
    except InvalidRequest as exc:
        return exc.message


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ABab09+/=-_ \n\r\t\x0b\x0c\u00a0\u2003", max_size=64))
def test_base64_with_or_without_white_space_decodes_as_the_scan_first_code_did(text: str) -> None:
    # The white-space scan runs only when strict decoding fails; the answer is the one the scan-first code gave:
    # white space of the four kinds (and then any white space) removed, then pybase64's strict rules.
    cleaned = "".join(text.split()) if any(c in text for c in " \n\r\t") else text
    try:
        expected: bytes | str = pybase64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        expected = "product_image is neither an http(s) URL nor valid base64 image data."
    assert _decoded_or_error(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_the_door(data: bytes) -> None:
    with contextlib.suppress(UnsupportedImage, ImageTooLarge):  # any other exception fails the test
        normalise(data, **LIMITS)


@given(st.binary(max_size=512))
def test_metadata_stripper_is_total(data: bytes) -> None:
    out = strip_jpeg_metadata(b"\xff\xd8" + data)
    assert out is None or out.startswith(b"\xff\xd8")


def test_a_jpeg_without_metadata_is_kept_as_the_same_bytes_not_copied() -> None:
    plain = product_jpeg()
    assert strip_jpeg_metadata(plain) is plain  # a 1 MB copy is ~1.5 ms at the door
    stored, ext, _notes = normalise(plain, **LIMITS)
    assert ext == "jpg" and stored is plain


_SEGMENTS = {
    "exif": b"\xff\xe1\x00\x08Exif\x00\x00",
    "jfif": b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00",
    "short jfif": b"\xff\xe0\x00\x06JFIF",  # less than libjpeg reads: nothing of it is used
    "comment": b"\xff\xfe\x00\x05abc",
    "quant": b"\xff\xdb\x00\x04qq",
    "fill": b"\xff",
    "adobe": b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01",
    "short adobe": b"\xff\xee\x00\x03a",
}
_DROPPED = {"exif", "short jfif", "comment", "fill", "short adobe"}


@given(st.lists(st.sampled_from(sorted(_SEGMENTS)), max_size=8))
def test_the_stripper_drops_exactly_the_metadata_segments_and_keeps_the_rest_in_order(names: list[str]) -> None:
    scan = b"\xff\xda\x00\x02scan data \xff\x00 to the end"
    out = strip_jpeg_metadata(b"\xff\xd8" + b"".join(_SEGMENTS[n] for n in names) + scan)
    assert out == b"\xff\xd8" + b"".join(_SEGMENTS[n] for n in names if n not in _DROPPED) + scan


def stripped_with_peak(data: bytes) -> tuple[bytes | None, int]:
    """``strip_jpeg_metadata(data)`` and the most memory it held at once (bytes)."""
    tracemalloc.start()
    try:
        out = strip_jpeg_metadata(data)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_stripping_costs_at_most_one_copy_of_the_file_whatever_its_structure() -> None:
    # breaker, session 2: a 7 MB run of fill bytes took 1.9 GB and 7 s (a memoryview per dropped part); before
    # the frame such a run is now refused (a step per byte in Pillow's parser: jpegstructure.MAX_MARKERS), between
    # scans it is one step and dropped
    _sent, plain = progressive_with_metadata_between_scans()
    second_scan = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2)
    data = plain[:second_scan] + b"\xff" * 1_000_000 + plain[second_scan:]
    out, peak = stripped_with_peak(data)
    assert out == plain
    assert peak < 3 * len(data)


@pytest.mark.parametrize("where", ["before the frame", "between scans"])
def test_a_file_of_a_million_markers_is_refused_in_words_at_little_cost(where: str) -> None:
    # breaker, session 4: 2.25 M empty comments before the frame cost 6.4 s of the API's CPU; beyond 4,096 after the
    # first scan the file was decoded and re-encoded as a lossless PNG
    _sent, plain = progressive_with_metadata_between_scans()
    second_scan = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2)
    at = plain.index(b"\xff\xdb") if where == "before the frame" else second_scan
    data = plain[:at] + b"\xff\xfe\x00\x02" * 1_000_000 + plain[at:]
    tracemalloc.start()
    try:
        with pytest.raises(UnsupportedImage, match="more than 4,096 markers"):
            normalise(data, **LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(data)  # stopped at the bound: not even one copy


def test_metadata_after_the_first_scan_and_data_after_eoi_are_not_stored() -> None:
    # breaker, session 2: stripping stopped at the first scan, so EXIF between the scans of a progressive JPEG, or
    # a second image after EOI, was stored as sent
    sent, plain = progressive_with_metadata_between_scans()
    stored, ext, _notes = normalise(sent, **LIMITS)
    assert ext == "jpg" and stored == plain
    assert pixels_of(stored) == pixels_of(sent)


def pixels_of(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).tobytes()


@pytest.mark.parametrize("stray", [b"", b"\x00"], ids=["segments", "a stray byte, then segments"])
def test_metadata_behind_more_segments_than_the_walk_follows_is_not_stored(stray: bytes) -> None:
    # breaker, session 3 (left by walkfix): beyond the walk's bound (4,096 segments after the first scan, also when
    # it resyncs after a stray byte) the rest of the file was stored as sent, EXIF and all; then (door4) such a
    # file was decoded and stored as a lossless PNG; now it is refused (jpegstructure.MAX_MARKERS): nothing stored
    _sent, plain = progressive_with_metadata_between_scans()
    second_scan = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2)
    exif = b"\xff\xe1\x00\x1cExif\x00\x00GPS 51.50135N 0.14189W"
    sent = plain[:second_scan] + stray + b"\xff\xfe\x00\x02" * 5_000 + exif + plain[second_scan:]
    with pytest.raises(UnsupportedImage, match="more than 4,096 markers"):
        normalise(sent, **LIMITS)


@pytest.mark.parametrize("profile", [None, "linear RGB"])
def test_a_jpeg_whose_markers_vouch_for_it_is_not_decoded_at_the_door(
    monkeypatch: pytest.MonkeyPatch, profile: str | None
) -> None:
    plan = jpeg_passthrough_plan(jpeg_with_icc(linear_rgb_icc()) if profile else product_jpeg(), LIMITS["max_pixels"])
    assert plan is not None and plan.certain

    def no_decode(self: ImageFile.ImageFile) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    assert plan.verify()


def stored_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.files_dir.rglob("*") if p.is_file())


def test_a_jpeg_is_stored_while_it_is_verified_and_only_kept_when_it_decodes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    res = Resources(settings)
    photo = product_jpeg()
    name, notes = anyio.run(store_input, res, "gen_ok", photo)
    assert (name, notes) == ("gen_ok_input.jpg", ())
    assert res.files.read(name) == photo
    broken = photo[:-600]  # headers intact: it is written while its entropy-coded data fails to decode
    with pytest.raises(UnsupportedImage):
        anyio.run(store_input, res, "gen_broken", broken)
    assert stored_files(settings) == ["gen_ok_input.jpg"]  # the refused photo's file is gone, no temp file left


def test_a_full_disk_while_the_jpeg_is_verified_is_the_requests_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home")
    res = Resources(settings)

    def full(name: str, data: bytes) -> Path:
        raise StorageFull("disk")

    monkeypatch.setattr(res.files, "put", full)
    with pytest.raises(StorageFull):
        anyio.run(store_input, res, "gen_full", product_jpeg())
    assert not settings.files_dir.exists() or stored_files(settings) == []


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_too_long_for_its_width_is_refused_at_the_door_as_a_png_is(tmp_path: Path, progressive: bool) -> None:
    # breaker, session 2: a 2000x15 JPEG was accepted (202) and its job failed later; the same PNG got a 422
    res = Resources(Settings(home=tmp_path / "home"))
    out = io.BytesIO()
    Image.new("RGB", (2000, 15), (120, 60, 30)).save(out, "JPEG", progressive=progressive)
    with pytest.raises(UnsupportedImage, match="133 times the other"):
        anyio.run(store_input, res, "gen_strip", out.getvalue())


def test_full_decodes_at_the_door_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # breaker, session 2: 150 concurrent truncated 40 MP JPEGs, each decoded whole (~660 MB) before its 422,
    # peaked the API process at 11.2 GB
    from paqshot_server.jobs import intake

    monkeypatch.setattr(intake, "FULL_DECODES", threading.BoundedSemaphore(2))
    running, most, lock = [0], [0], threading.Lock()
    real = intake.normalise

    def counted(*args: object) -> tuple[bytes, str, tuple[str, ...]]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return real(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(intake, "normalise", counted)
    res = Resources(Settings(home=tmp_path / "home"))
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 60, 30)).save(png, "PNG")  # not a JPEG: the full path

    async def many() -> None:
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(store_input, res, f"gen_{i}", png.getvalue())

    anyio.run(many)
    assert most[0] == 2
    assert len(stored_files(res.settings)) == 8


@pytest.mark.parametrize("data", [b"PNG", b"broken"])
def test_a_full_decode_hands_its_freed_memory_back_stored_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes
) -> None:
    # breaker6, F2: the request threads' malloc arenas kept 40 MP decodes' freed blocks (16 concurrent 40 MP PNGs:
    # the API process 110 MB -> 2.0 GB); each full decode now returns them, whether the photo is kept or refused
    from paqshot_server.jobs import allocator, intake

    calls: list[str] = []
    monkeypatch.setattr(allocator, "hand_back", lambda: calls.append("trim"))
    res = Resources(Settings(home=tmp_path / "home"))
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 60, 30)).save(png, "PNG")
    raw = png.getvalue() if data == b"PNG" else png.getvalue()[:-40]
    try:
        anyio.run(intake.store_input, res, "gen_png", raw)
    except UnsupportedImage:
        assert data == b"broken"
    assert calls == ["trim"]
    anyio.run(intake.store_input, res, "gen_jpeg", product_jpeg())  # the JPEG fast path decodes nothing whole
    assert calls == ["trim"]
