"""What the door's JPEG verification costs: the marker walk (``imaging.jpegstructure``) against the reduced-size
decode it replaces (Pillow draft 1/8: libjpeg Huffman-decodes every entropy-coded byte), same process, same files.

    .venv/bin/python bench/bench_jpeg_verify.py [--repeats 200]

Files: the ~0.8 MB photo of ``bench_api`` as it is (baseline 4:2:0) and re-encoded progressive and with restart
markers. Prints ms per file (median of the repeats, CPU time of this thread) and the ratio.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from bench_api import photo_jpeg
from paqshot_server.imaging.jpegstructure import read_structure
from PIL import Image


def draft_decode(data: bytes) -> None:
    img = Image.open(io.BytesIO(data), formats=["JPEG"])
    img.draft(img.mode, (max(1, img.width // 8), max(1, img.height // 8)))
    img.load()


def walk(data: bytes) -> None:
    structure = read_structure(data)
    assert structure is not None and structure.certain


def per_call_ms(fn: object, data: bytes, repeats: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        fn(data)
        times.append(time.thread_time() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    photo = photo_jpeg()
    files = {"baseline 4:2:0": photo}
    for name, options in (("progressive", {"progressive": True}), ("restart every row", {"restart_marker_rows": 1})):
        out = io.BytesIO()
        Image.open(io.BytesIO(photo)).save(out, "JPEG", quality=90, **options)
        files[name] = out.getvalue()
    print(f"{'file':20s} {'MB':>5s} {'draft decode ms':>15s} {'marker walk ms':>14s} {'ratio':>6s}")
    for name, data in files.items():
        old = per_call_ms(draft_decode, data, args.repeats)
        new = per_call_ms(walk, data, args.repeats)
        print(f"{name:20s} {len(data) / 1e6:5.2f} {old:15.2f} {new:14.2f} {old / new:6.1f}")


if __name__ == "__main__":
    main()
