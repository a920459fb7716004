"""A corpus of real and damaged JPEGs for the differential test of ``imaging.jpegstructure`` against Pillow.

Real files: Pillow encodes of textured images (baseline, progressive, optimised tables, restart intervals,
4:4:4 / 4:2:2 / 4:2:0, grey, metadata) and the case photos in ``shared/cases/photos`` when present. Damage, each
named by its class: truncation at every kind of place, byte changes in every header and table and in the
entropy-coded data, scan component lists reordered, shortened or repeated, markers inserted and segments removed,
scans duplicated or dropped, fill-byte runs, metadata after the first scan, data after EOI.
Deterministic (seeded). Run as a script, it prints the comparison by class.
"""

from __future__ import annotations

import io
import itertools
import random
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Oracle limit: a damaged frame header may claim a huge image; Pillow would allocate it whole.
MAX_ORACLE_PIXELS = 2_000_000


@dataclass(frozen=True)
class Segment:
    marker: int
    start: int  # the marker's 0xFF
    end: int  # after its length's bytes (== start + 2 for EOI)
    data_end: int  # after its entropy-coded data (SOS), else == end


def segments(data: bytes) -> list[Segment]:
    """The marker segments of a well-formed JPEG (a plain reading, independent of the code under test)."""
    out, pos = [], 2
    while pos + 2 <= len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            out.append(Segment(marker, pos, pos + 2, pos + 2))
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        data_end = end
        if marker == 0xDA:
            found = _SCAN_END.search(data, end)
            data_end = found.start() if found else len(data)
        out.append(Segment(marker, pos, end, data_end))
        pos = data_end
    return out


def texture(size: tuple[int, int], seed: int, mode: str) -> Image.Image:
    """An image with edges, gradients and noise (so every Huffman table and scan has work)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 100 * np.sin(x / (3 + c) + y / (5 + 2 * c) + c) for c in range(3)], axis=-1)
    base[(x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2] = [200, 40, 30]
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels)
    return img.convert("L") if mode == "L" else img


def encodes() -> Iterator[tuple[str, bytes]]:
    """Real JPEGs: (a name, the file)."""
    variants: list[tuple[str, dict]] = [
        ("baseline", {}),
        ("progressive", {"progressive": True}),
        ("optimised", {"optimize": True}),
        ("progressive-444", {"progressive": True, "subsampling": 0}),
        ("422", {"subsampling": 1}),
        ("444", {"subsampling": 0}),
        ("restart-blocks", {"restart_marker_blocks": 3}),
        ("restart-rows-progressive", {"restart_marker_rows": 1, "progressive": True}),
        ("metadata", {"comment": b"shot at home", "exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"}),
        ("low-quality", {"quality": 20}),
        ("high-quality-progressive", {"quality": 98, "progressive": True, "optimize": True}),
    ]
    sizes = [(1, 1), (9, 7), (16, 16), (33, 17), (64, 48), (121, 90)]
    seed = 0
    for size in sizes:
        for mode in ("RGB", "L"):
            for name, options in variants:
                if mode == "L" and "subsampling" in options:
                    continue
                seed += 1
                out = io.BytesIO()
                texture(size, seed, mode).save(out, "JPEG", **{"quality": 85, **options})
                yield f"{name}-{mode}-{size[0]}x{size[1]}", out.getvalue()
    for photo in case_photos():
        yield f"case-{photo.stem}", photo.read_bytes()


def case_photos() -> list[Path]:
    root = Path(__file__).resolve().parents[1] / ".." / "shared"
    for folder in (root, Path("/work/shared")):
        photos = sorted((folder / "cases" / "photos").glob("*/*.jpg"))
        if photos:
            return photos
    return []


Mutation = tuple[str, bytes]


def mutations(data: bytes, rng: random.Random, budget: int) -> Iterator[Mutation]:
    """Damaged versions of ``data``, each with its class; about ``budget`` random ones per class family."""
    segs = segments(data)
    scans = [s for s in segs if s.marker == 0xDA]
    headers = [s for s in segs if s.marker not in (0xDA, 0xD9)]
    yield from _truncations(data, segs, rng, budget)
    yield from _header_changes(data, segs, headers, scans, rng, budget)
    yield from _entropy_changes(data, scans, rng, budget)
    yield from _structure_changes(data, segs, scans, rng, budget)


def _truncations(data: bytes, segs: list[Segment], rng: random.Random, budget: int) -> Iterator[Mutation]:
    for s in segs:
        for cut in {s.start, s.start + 1, s.start + 2, s.start + 3, (s.start + s.end) // 2, s.end - 1}:
            if 2 <= cut < len(data):
                yield "truncated at or in a header", data[:cut]
        if s.data_end > s.end:
            for _ in range(max(1, budget // 4)):
                yield "truncated in entropy-coded data", data[: rng.randrange(s.end, s.data_end)]
            yield "truncated at the end of a scan", data[: s.data_end]
    yield "last byte removed", data[:-1]


def _header_changes(
    data: bytes, segs: list[Segment], headers: list[Segment], scans: list[Segment], rng: random.Random, budget: int
) -> Iterator[Mutation]:
    for s in headers + scans:
        kind = {0xC4: "DHT", 0xDB: "DQT", 0xDA: "SOS", 0xC0: "SOF", 0xC1: "SOF", 0xC2: "SOF", 0xDD: "DRI"}.get(
            s.marker, "APPn/COM"
        )
        for _ in range(budget):
            at = rng.randrange(s.start + 1, s.end)
            yield f"{kind} byte changed", _put(data, at, rng.randrange(256))
        for _ in range(max(1, budget // 4)):
            at = rng.randrange(s.start + 2, s.end)
            yield f"{kind} byte +-1", _put(data, at, (data[at] + rng.choice((1, -1))) % 256)
    for s in segs:
        if s.marker == 0xC4:
            yield from _table_changes(data, s, rng, budget)
    for s in scans:
        yield from _scan_list_changes(data, s)


def _scan_list_changes(data: bytes, s: Segment) -> Iterator[Mutation]:
    """A scan's component list reordered (libjpeg refuses a component listed before one that precedes it in the
    frame), shortened or with a component repeated: changes a random byte almost never makes."""
    count = data[s.start + 4]
    specs = [data[s.start + 5 + 2 * i : s.start + 7 + 2 * i] for i in range(count)]
    rest = data[s.start + 5 + 2 * count : s.end]

    def with_specs(chosen: list[bytes]) -> bytes:
        length = (6 + 2 * len(chosen)).to_bytes(2, "big")
        return data[: s.start] + b"\xff\xda" + length + bytes([len(chosen)]) + b"".join(chosen) + rest + data[s.end :]

    for order in itertools.permutations(range(count)):
        if list(order) != sorted(order):
            yield "SOS components reordered", with_specs([specs[i] for i in order])
            ids = [specs[i][:1] for i in order]
            yield "SOS component ids reordered", with_specs([i + spec[1:] for i, spec in zip(ids, specs, strict=True)])
    if count > 1:
        for i in range(count):
            yield "SOS component left out", with_specs(specs[:i] + specs[i + 1 :])
        yield "SOS component repeated", with_specs([*specs, specs[0]])


def _table_changes(data: bytes, s: Segment, rng: random.Random, budget: int) -> Iterator[Mutation]:
    """Huffman tables whose counts over-fill the code space or whose DC symbols exceed 15 (libjpeg's own checks)."""
    at = s.start + 4
    while at + 17 <= s.end:
        counts_at, n = at + 1, sum(data[at + 1 : at + 17])
        dc = data[at] & 0x10 == 0
        for _ in range(max(1, budget // 2)):
            length = rng.randrange(16)
            yield "DHT count raised (same size)", _put(data, counts_at + length, min(255, data[counts_at + length] + 1))
        # move a symbol to a shorter code: the total stays, the code space may over-fill
        lengths = [i for i in range(16) if data[counts_at + i]]
        for i in lengths:
            if i > 0:
                moved = bytearray(data)
                moved[counts_at + i] -= 1
                moved[counts_at + i - 1] += 1
                yield "DHT code lengths shortened", bytes(moved)
        if dc and n:
            for _ in range(max(1, budget // 2)):
                yield "DHT DC symbol over 15", _put(data, at + 17 + rng.randrange(n), rng.randrange(16, 256))
        at += 17 + n


def _entropy_changes(data: bytes, scans: list[Segment], rng: random.Random, budget: int) -> Iterator[Mutation]:
    for s in scans:
        if s.data_end <= s.end:
            continue
        for value, kind in ((None, "random"), (0xFF, "0xFF"), (0x00, "0x00")):
            for _ in range(budget):
                at = rng.randrange(s.end, s.data_end)
                yield f"entropy byte set to {kind}", _put(data, at, rng.randrange(256) if value is None else value)
        for _ in range(budget):
            at = rng.randrange(s.end, s.data_end)
            yield "entropy bytes deleted", data[:at] + data[at + rng.randrange(1, 64) :]
        for _ in range(max(1, budget // 2)):
            at = rng.randrange(s.end, s.data_end)
            yield "entropy bytes inserted", data[:at] + rng.randbytes(rng.randrange(1, 64)) + data[at:]


def _structure_changes(
    data: bytes, segs: list[Segment], scans: list[Segment], rng: random.Random, budget: int
) -> Iterator[Mutation]:
    boundaries = sorted({s.start for s in segs} | {s.data_end for s in segs})
    for s in segs:
        yield f"segment {s.marker:02X} removed", data[: s.start] + data[s.data_end :]
    for s in scans:
        block = data[s.start : s.data_end]
        yield "scan duplicated", data[: s.data_end] + block + data[s.data_end :]
        yield "scan moved to the end", data[: s.start] + data[s.data_end : -2] + block + data[-2:]
    for _ in range(budget):
        at = rng.choice(boundaries)
        code = rng.randrange(1, 255)
        payload = rng.randbytes(rng.randrange(0, 8))
        with_length = bytes([0xFF, code]) + (len(payload) + 2).to_bytes(2, "big") + payload
        yield "marker inserted between segments", data[:at] + rng.choice((with_length, bytes([0xFF, code]))) + data[at:]
    for s in scans:
        if s.data_end > s.end:
            for _ in range(max(1, budget // 2)):
                at = rng.randrange(s.end, s.data_end)
                code = rng.choice((rng.randrange(1, 255), 0xD0 + rng.randrange(8), 0xD9, 0xD8, 0xDA, 0xC4, 0xE1))
                yield "marker inserted in entropy-coded data", data[:at] + bytes([0xFF, code]) + data[at:]
    for _ in range(max(1, budget // 2)):
        at = rng.choice(boundaries)
        yield "fill-byte run between segments", data[:at] + b"\xff" * rng.randrange(1, 300) + data[at:]
    for s in scans:
        if s.data_end > s.end:
            at = rng.randrange(s.end, s.data_end)
            yield "fill-byte run in entropy-coded data", data[:at] + b"\xff" * rng.randrange(1, 300) + data[at:]
    if scans:
        after = scans[0].data_end
        yield "metadata after the first scan", data[:after] + b"\xff\xe1\x00\x0aExif\x00\x00ab" + data[after:]
        yield "comment after the first scan", data[:after] + b"\xff\xfe\x00\x07hello" + data[after:]
    yield "data after EOI", data + rng.randbytes(rng.randrange(1, 200))
    yield "second image after EOI", data + data
    yield "EOI removed", data[:-2]


def _put(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + bytes([value]) + data[at + 1 :]


def pillow_decodes(data: bytes) -> bool | None:
    """Whether Pillow's full decode (not draft, truncated images refused) succeeds; None: not tried (the frame
    claims more than :data:`MAX_ORACLE_PIXELS`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            img = Image.open(io.BytesIO(data), formats=["JPEG"])
            if img.width * img.height > MAX_ORACLE_PIXELS:
                return None
            img.load()
        except Image.DecompressionBombError:  # open() itself refuses a frame over 2x MAX_IMAGE_PIXELS: too big to try
            return None
        except Exception:  # any other failure of Pillow is "does not decode" for the oracle
            return False
    return True


def progressive_with_metadata_between_scans() -> tuple[bytes, bytes]:
    """A progressive JPEG with EXIF and a comment after its first scan and a second image after EOI; and the
    same file without them."""
    out = io.BytesIO()
    Image.effect_mandelbrot((96, 64), (-2, -1, 1, 1), 50).convert("RGB").save(out, "JPEG", progressive=True)
    plain = out.getvalue()
    second_scan = plain.index(b"\xff\xda", plain.index(b"\xff\xda") + 2)
    sent = (
        plain[:second_scan]
        + b"\xff\xe1\x00\x10Exif\x00\x00GPS-here"
        + b"\xff\xfe\x00\x0eshot at home"
        + plain[second_scan:]
        + b"\xff\xd8 a second image \xff\xd9"
    )
    return sent, plain


def pixels(data: bytes) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Image.open(io.BytesIO(data)).tobytes()


def corpus(budget: int, seed: int = 14) -> Iterator[tuple[str, str, bytes]]:
    """(base file name, class, file): every real file (class "intact") and its damaged versions."""
    rng = random.Random(seed)
    for name, data in encodes():
        yield name, "intact", data
        for kind, mutated in mutations(data, rng, budget):
            yield name, kind, mutated


def summarise(rows: list[tuple[str, bool, bool | None]]) -> str:
    """A table by class: inputs, decoded by Pillow, vouched for by the walk, vouched but not decoded, unsure
    but decoded."""
    by: dict[str, list[int]] = {}
    for kind, certain, decodes in rows:
        row = by.setdefault(kind, [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += decodes is True
        row[2] += certain
        row[3] += certain and decodes is False
        row[4] += (not certain) and decodes is True
    lines = [
        f"{'class':45s} {'inputs':>7s} {'Pillow ok':>9s} {'walk sure':>9s} {'sure, fails':>11s} {'unsure, ok':>10s}"
    ]
    for kind, (n, ok, sure, wrong, missed) in sorted(by.items()):
        lines.append(f"{kind:45s} {n:7d} {ok:9d} {sure:9d} {wrong:11d} {missed:10d}")
    totals = [sum(r[i] for r in by.values()) for i in range(5)]
    lines.append(f"{'all':45s} {totals[0]:7d} {totals[1]:9d} {totals[2]:9d} {totals[3]:11d} {totals[4]:10d}")
    return "\n".join(lines)


def compare(budget: int, certain: Callable[[bytes], bool]) -> list[tuple[str, bool, bool | None]]:
    return [(kind, certain(data), pillow_decodes(data)) for _name, kind, data in corpus(budget)]


if __name__ == "__main__":  # PYTHONPATH=server/src python tests/jpeg_corpus.py [budget]
    from paqshot_server.imaging.jpegstructure import read_structure

    def sure(data: bytes) -> bool:
        s = read_structure(data)
        return s is not None and s.certain

    print(summarise(compare(int(sys.argv[1]) if len(sys.argv) > 1 else 6, sure)))
