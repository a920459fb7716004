"""Product images as real clients send them: each kind below failed at ``df217cc`` (``shared/cases/api/...``).

- animated-input-note-missing: notes made while decoding at the door reach the job's ``notes``.
- extreme-aspect-ratio-server-error: very wide or tall photos complete, or are refused at the door in words.
- jpeg-missing-eoi-rejected: a JPEG missing only its end marker decodes (as libjpeg and browsers show it); one whose
  image data is cut short is refused, saying so; a PNG missing its end chunk is treated the same way.
- png-trns-transparency-dropped: a tRNS colour key (RGB, greyscale, 16-bit) is kept as alpha.
- error-messages-leak-internals: damaged files are refused in words (no reprs, no parser text).
"""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.errors import UnsupportedImage
from paqshot_server.imaging.decode import decode_image
from paqshot_server.jobs.context import WorkerContext
from paqshot_server.jobs.runner import process
from paqshot_server.settings import Settings
from PIL import Image, ImageDraw, ImageFile, JpegImagePlugin, PngImagePlugin
from support import Key, assert_plain_words, b64, linear_rgb_icc, shared_case


def run(client: TestClient, key: Key, settings: Settings, image: bytes, **fields: object) -> dict:
    """Submit ``image``, run its job in this process, return the generation (or the refusal's body)."""
    response = client.post(
        "/v1/generate", json={"product_image": b64(image), "style": "studio_packshot", **fields}, headers=key.headers
    )
    if response.status_code != 202:
        return {"status_code": response.status_code, **response.json()}
    job_id = response.json()["id"]
    process(WorkerContext(settings), job_id)
    return client.get(f"/v1/generate/{job_id}", headers=key.headers).json()


def stored_input(client: TestClient, job: dict) -> Image.Image:
    url = httpx.URL(job["input_url"])
    return Image.open(io.BytesIO(client.get(url.raw_path.decode()).content))


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def product(size: tuple[int, int], colour: tuple[int, int, int] = (190, 30, 35)) -> Image.Image:
    img = Image.new("RGB", size, (240, 240, 240))
    w, h = size
    ImageDraw.Draw(img).rectangle([w // 5, h // 5, 4 * w // 5, 4 * h // 5], fill=colour)
    return img


# ---- animated input -------------------------------------------------------------------------------------------


def test_the_cases_animated_webp_says_first_frame_used(client: TestClient, key: Key, settings: Settings) -> None:
    data = (shared_case("api", "animated-input-note-missing") / "animated_3frames.webp").read_bytes()
    job = run(client, key, settings, data)
    assert job["status"] == "completed", job
    assert job["notes"][0] == "animated image: first frame used"
    r, g, b = stored_input(client, job).convert("RGB").getpixel((100, 100))[:3]
    assert r > 150 and g < 80 and b < 80  # frame 1 is the red one


def test_an_animated_png_says_so_too(client: TestClient, key: Key, settings: Settings) -> None:
    frames = [product((160, 160), c) for c in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100, loop=0)
    job = run(client, key, settings, data)
    assert job["status"] == "completed" and "animated image: first frame used" in job["notes"]


# ---- extreme aspect ratios -------------------------------------------------------------------------------------


def test_the_cases_2500x40_strip_completes_both_ways(client: TestClient, key: Key, settings: Settings) -> None:
    strip = Image.open(shared_case("api", "extreme-aspect-ratio-server-error") / "strip_2500x40.jpg")
    for img in (strip, strip.transpose(Image.Transpose.ROTATE_90)):
        job = run(client, key, settings, encode(img, "JPEG"))
        assert job["status"] == "completed", job


@pytest.mark.parametrize("size", [(20000, 40), (40, 20000), (5000, 1)])
def test_a_photo_beyond_the_aspect_limit_is_refused_at_the_door(
    client: TestClient, key: Key, settings: Settings, size: tuple[int, int]
) -> None:
    refused = run(client, key, settings, encode(product(size), "PNG"))
    assert refused["status_code"] == 422 and refused["error"] == "unsupported_image"
    assert "times the other; the limit is 100 times" in refused["message"]
    assert_plain_words(refused["message"])


# ---- missing end markers ---------------------------------------------------------------------------------------


def test_the_cases_jpeg_without_end_marker_is_used_as_is(client: TestClient, key: Key, settings: Settings) -> None:
    path = shared_case("api", "jpeg-missing-eoi-rejected") / "product_no_eoi.jpg"
    job = run(client, key, settings, path.read_bytes())
    assert job["status"] == "completed", job
    assert any("end marker was missing" in note for note in job["notes"])
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what other tools show: Pillow's own tolerant decode
    try:
        expected = np.asarray(Image.open(path).convert("RGB"))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    assert np.array_equal(np.asarray(stored_input(client, job).convert("RGB")), expected)


def test_end_markers_are_treated_alike_across_formats(client: TestClient, key: Key, settings: Settings) -> None:
    photo = product((480, 360))
    progressive = encode(photo, "JPEG", progressive=True)
    png = encode(photo, "PNG")
    for data in (progressive[:-2], progressive[:-1], png[:-12]):
        job = run(client, key, settings, data)
        assert job["status"] == "completed" and any("was missing" in n for n in job["notes"]), job
    for data in (progressive[: len(progressive) * 2 // 3], encode(photo, "JPEG")[:-300], png[: len(png) // 2]):
        refused = run(client, key, settings, data)
        assert refused["status_code"] == 422 and refused["message"].endswith("the file is cut short."), refused


# ---- colour profiles -------------------------------------------------------------------------------------------


def output_pixels(client: TestClient, job: dict) -> bytes:
    url = httpx.URL(job["image_url"])
    return Image.open(io.BytesIO(client.get(url.raw_path.decode()).content)).convert("RGBA").tobytes()


def test_a_jpeg_with_a_colour_profile_is_stored_as_a_jpeg_and_renders_as_before(
    client: TestClient, key: Key, settings: Settings
) -> None:
    # breaker, session 4: such a JPEG was converted to sRGB at the door and stored as a lossless PNG (40 MP: 4.8 s
    # to the 202, +295 MB in the API, an 80 MB file); now the worker converts it, to the same pixels
    photo = product((480, 360), (150, 90, 60))
    sent = encode(photo, "JPEG", icc_profile=linear_rgb_icc(), quality=92)
    job = run(client, key, settings, sent)
    assert job["status"] == "completed", job
    stored = client.get(httpx.URL(job["input_url"]).raw_path.decode())
    assert stored.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(stored.content)).info["icc_profile"] == linear_rgb_icc()
    as_before = encode(decode_image(sent, max_bytes=10_000_000, max_pixels=40_000_000).image, "PNG")  # the old door
    job_before = run(client, key, settings, as_before)
    assert job_before["status"] == "completed", job_before
    assert output_pixels(client, job) == output_pixels(client, job_before)


# ---- tRNS transparency -----------------------------------------------------------------------------------------


def test_the_cases_rgb_trns_png_is_cut_out_by_its_alpha(client: TestClient, key: Key, settings: Settings) -> None:
    folder = shared_case("api", "png-trns-transparency-dropped")
    reference = run(client, key, settings, (folder / "rgba_reference.png").read_bytes())
    keyed = run(client, key, settings, (folder / "rgb_with_tRNS.png").read_bytes())
    assert keyed["status"] == reference["status"] == "completed"
    stored = stored_input(client, keyed)
    assert stored.mode == "RGBA"
    assert np.array_equal(np.asarray(stored)[..., 3], np.asarray(stored_input(client, reference))[..., 3])
    assert keyed["confidence"] == reference["confidence"] == 1.0


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16(samples: np.ndarray, colour_type: int, trns: bytes) -> bytes:
    """A 16-bit PNG (greyscale: colour type 0, RGB: 2) with a tRNS chunk, written by hand (Pillow cannot)."""
    height, width = samples.shape[:2]
    rows = samples.reshape(height, -1).astype(">u2")
    raw = b"".join(b"\0" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    parts = (b"IHDR", header), (b"tRNS", trns), (b"IDAT", zlib.compress(raw)), (b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + b"".join(_png_chunk(k, d) for k, d in parts)


def _keyed_pngs() -> dict[str, bytes]:
    grey = np.zeros((60, 80), np.uint16)
    grey[15:45, 20:60] = 30000
    rgb = np.zeros((60, 80, 3), np.uint16)
    rgb[15:45, 20:60] = (50000, 9000, 7000)
    grey8 = Image.fromarray((grey // 257).astype(np.uint8), "L")
    rgb8 = Image.fromarray((rgb // 257).astype(np.uint8), "RGB")
    return {
        "RGB 8-bit": encode(rgb8, "PNG", transparency=(0, 0, 0)),
        "grey 8-bit": encode(grey8, "PNG", transparency=0),
        "grey 1-bit": encode(Image.fromarray(grey > 0), "PNG", transparency=0),
        "grey 16-bit": png16(grey, 0, struct.pack(">H", 0)),
        "RGB 16-bit": png16(rgb, 2, struct.pack(">HHH", 0, 0, 0)),
    }


@pytest.mark.parametrize("kind", list(_keyed_pngs()))
def test_every_png_colour_key_becomes_alpha(client: TestClient, key: Key, settings: Settings, kind: str) -> None:
    job = run(client, key, settings, _keyed_pngs()[kind])
    assert job["status"] == "completed", job
    alpha = np.asarray(stored_input(client, job))[..., 3]
    expected = np.zeros((60, 80), np.uint8)
    expected[15:45, 20:60] = 255
    assert np.array_equal(alpha, expected), kind
    assert job["confidence"] == 1.0  # the photo's own alpha is the matte


def png_keyed(samples: np.ndarray, bit_depth: int, colour_type: int, key: tuple[int, ...]) -> bytes:
    """A PNG of any bit depth (greyscale: colour type 0, RGB: 2) with the tRNS colour key ``key``, written by hand.

    ``samples``: (H, W) or (H, W, 3) integers in the file's range (0..2**bit_depth - 1)."""
    height, width = samples.shape[:2]
    per_row = samples.reshape(height, -1).astype(np.uint16)
    if bit_depth == 16:
        rows = [row.astype(">u2").tobytes() for row in per_row]
    elif bit_depth == 8:
        rows = [row.astype(np.uint8).tobytes() for row in per_row]
    else:  # packed, most significant bits first
        bits = np.unpackbits(per_row.astype(np.uint8)[..., None], axis=-1)[..., 8 - bit_depth :]
        rows = [np.packbits(row.reshape(-1)).tobytes() for row in bits]
    raw = b"".join(b"\0" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    trns = struct.pack(f">{len(key)}H", *key)
    parts = (b"IHDR", header), (b"tRNS", trns), (b"IDAT", zlib.compress(raw)), (b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + b"".join(_png_chunk(k, d) for k, d in parts)


def _keyed_cases() -> list[tuple[int, int, int, int]]:
    """(bit depth, colour type, backdrop level = the key, product level): every level at 1, 2 and 4 bits."""
    cases = []
    for depth in (1, 2, 4, 8, 16):
        top = (1 << depth) - 1
        keys = range(top + 1) if depth <= 4 else (0, 1, top // 2, top - 1, top)
        cases += [(depth, 0, k, top - k if top - k != k else 0) for k in keys]
    cases += [(depth, 2, k, (1 << depth) - 1 - k) for depth in (8, 16) for k in (0, (1 << depth) - 1)]
    return [c for c in cases if c[2] != c[3]]


@pytest.mark.parametrize(("depth", "colour_type", "backdrop", "product"), _keyed_cases())
def test_a_colour_key_is_alpha_at_every_bit_depth(depth: int, colour_type: int, backdrop: int, product: int) -> None:
    """breaker9 F4: 1-, 2- and 4-bit greyscale with tRNS lost its transparency (Pillow's key stays unscaled)."""
    shape = (24, 32, 3) if colour_type == 2 else (24, 32)
    samples = np.full(shape, backdrop, np.int64)
    samples[6:18, 8:24] = product
    key = (backdrop,) * (3 if colour_type == 2 else 1)
    decoded = decode_image(png_keyed(samples, depth, colour_type, key), max_bytes=10_000_000, max_pixels=1_000_000)
    assert decoded.image.mode == "RGBA"
    expected = np.zeros((24, 32), np.uint8)
    expected[6:18, 8:24] = 255
    assert np.array_equal(np.asarray(decoded.image)[..., 3], expected)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_a_low_bit_grey_png_with_a_light_key_is_cut_out_by_its_alpha(
    client: TestClient, key: Key, settings: Settings, depth: int
) -> None:
    """breaker9 F4, through the API: the photo's own alpha is the matte (confidence 1.0), not the model's."""
    top = (1 << depth) - 1
    samples = np.full((60, 80), top, np.int64)
    samples[15:45, 20:60] = 0
    job = run(client, key, settings, png_keyed(samples, depth, 0, (top,)), background="transparent", shadow="none")
    assert job["status"] == "completed", job
    expected = np.zeros((60, 80), np.uint8)
    expected[15:45, 20:60] = 255
    assert np.array_equal(np.asarray(stored_input(client, job))[..., 3], expected)
    assert job["confidence"] == 1.0


# ---- damaged files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["broken.png", "jpeg_soi_only.jpg"])
def test_the_cases_damaged_files_are_refused_in_words(
    client: TestClient, key: Key, settings: Settings, name: str
) -> None:
    data = (shared_case("api", "error-messages-leak-internals") / name).read_bytes()
    refused = run(client, key, settings, data)
    assert refused["status_code"] == 422 and refused["error"] == "unsupported_image"
    assert "the file is damaged, cut short or not a" in refused["message"]
    assert_plain_words(refused["message"])


@pytest.mark.parametrize("path", ["/v1/generate", "/v1/check"])
def test_a_jpeg_of_millions_of_markers_is_refused_in_words(
    client: TestClient, key: Key, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    # breaker, session 4: 2.25 M empty comments before the frame (9 MB) took 6.4 s of the API's CPU, then a 202
    plain = encode(product((320, 200)), "JPEG")
    at = plain.index(b"\xff\xdb")
    data = plain[:at] + b"\xff\xfe\x00\x02" * 2_250_000 + plain[at:]

    def not_parsed(self: object) -> None:
        raise AssertionError("Pillow parsed the header")

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "_open", not_parsed)  # refused before Pillow's slow parser
    fields = {"product_image": b64(data), "style": "studio_packshot"} if path == "/v1/generate" else {}
    fields = fields or {"image": b64(data), "preset": "amazon_main"}
    response = client.post(path, json=fields, headers=key.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "unsupported_image" and "more than 4,096 markers" in body["message"]
    assert_plain_words(body["message"])


# ---- PNG text metadata ----------------------------------------------------------------------------------------


def png_with_text(text_bytes: int) -> bytes:
    """A product PNG carrying a compressed text chunk (zTXt) of ``text_bytes`` once decompressed."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "history " * (text_bytes // 8), zip=True)
    return encode(product((320, 240)), "PNG", pnginfo=info)


def test_a_png_with_megabytes_of_text_metadata_is_read(client: TestClient, key: Key, settings: Settings) -> None:
    """breaker16 B16-5: a valid PNG whose text chunk is 2 MB decompressed (an editor's XMP is this big) was refused
    as damaged by Pillow's 1 MiB bound: its pixels are read, at the door, by the job and by the check."""
    image = png_with_text(2_000_000)
    job = run(client, key, settings, image)
    assert job["status"] == "completed", job
    checked = client.post("/v1/check", json={"image": b64(image), "preset": "amazon_main"}, headers=key.headers)
    assert checked.status_code == 200, checked.text


def test_a_png_text_bomb_is_refused_naming_the_metadata() -> None:
    """Text beyond the raised bound (a decompression bomb: 20 MB from ~20 kB) is refused in words that name the
    metadata, not as a damaged file."""
    with pytest.raises(UnsupportedImage) as refused:
        decode_image(png_with_text(20_000_000), max_bytes=10_000_000, max_pixels=40_000_000)
    assert "metadata" in refused.value.message and "damaged" not in refused.value.message
    assert_plain_words(refused.value.message)


def png_with_text_chunks(count: int) -> bytes:
    """A product PNG carrying ``count`` empty text chunks (tEXt) before its image data."""
    info = PngImagePlugin.PngInfo()
    for i in range(count):
        info.add_text(f"k{i}", "")
    return encode(product((320, 240)), "PNG", pnginfo=info)


def test_a_png_of_more_chunks_than_libpng_keeps_is_refused_before_it_is_parsed() -> None:
    """breaker17 B17-8: 600,000 empty tEXt chunks (9 MB) took 2.5 s of intake CPU a request as Pillow walked them;
    beyond libpng's 1000 the file is refused in words naming the metadata; a file within it is read."""
    with pytest.raises(UnsupportedImage) as refused:
        decode_image(png_with_text_chunks(1500), max_bytes=10_000_000, max_pixels=40_000_000)
    assert "metadata chunks" in refused.value.message and "damaged" not in refused.value.message
    assert_plain_words(refused.value.message)
    assert decode_image(png_with_text_chunks(900), max_bytes=10_000_000, max_pixels=40_000_000).image.size == (320, 240)
