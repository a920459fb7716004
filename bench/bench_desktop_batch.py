"""A large batch in the desktop app: how long it takes, and how long the GUI thread ever stalls.

    .venv/bin/python bench/bench_desktop_batch.py [--files 300] [--size 1600x1200]

Adds a folder of N camera-sized JPEGs to the Create page (scan, checks and thumbnails on workers), then
submits them all to a fake appliance on an in-process transport that accepts each upload after 20 ms.
A 10 ms QTimer runs throughout; its largest gap is the longest time the window could not react.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
from paqshot_desktop.app import build
from paqshot_desktop.branding import default_brand
from paqshot_desktop.client import ApiClient
from paqshot_desktop.options import spec_capabilities
from PIL import Image, ImageDraw
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

CAPS = {
    "product": "bench",
    "version": "0",
    "styles": [{"name": "studio_packshot", "available": True, "engine": "classical", "reason": None}],
    "fields": [
        {
            "name": f.name,
            "type": f.type,
            "enum": list(f.enum) or None,
            "default": f.default,
            "description": "",
            "extension": False,
            "max_length": f.max_length,
            "pattern": f.pattern,
        }
        for f in spec_capabilities().fields
    ],
    "limits": {"max_image_bytes": 10 * 1024 * 1024, "max_prompt_chars": 500, "max_variants": 1},
}


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    """Camera-sized JPEGs with a product-like shape (different per file)."""
    folder.mkdir()
    for i in range(count):
        img = Image.new("RGB", size, (230, 230, 228))
        draw = ImageDraw.Draw(img)
        w, h = size
        colour = ((i * 53) % 200 + 30, (i * 97) % 200 + 30, (i * 31) % 200 + 30)
        draw.rounded_rectangle((w // 3, h // 5, 2 * w // 3, 4 * h // 5), 30, fill=colour)
        img.save(folder / f"sku-{i:04d}.jpg", quality=88)


def handler(request: httpx.Request) -> httpx.Response:
    """A fake appliance: capabilities, and a 202 for every upload after a short pause."""
    if request.url.path == "/v1/capabilities":
        return httpx.Response(200, json=CAPS)
    if request.url.path == "/v1/generate":
        time.sleep(0.02)
        n = handler.count = getattr(handler, "count", 0) + 1  # type: ignore[attr-defined]
        body = {
            "id": f"gen_{n}",
            "status": "processing",
            "style": "studio_packshot",
            "aspect_ratio": "1:1",
            "estimated_seconds": 5,
            "created_at": "2026-01-01T00:00:00Z",
        }
        return httpx.Response(202, json=body)
    return httpx.Response(200, json={"data": [], "total": 0, "limit": 20, "offset": 0, "has_more": False})


def run_until(qapp: QApplication, condition, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError
        qapp.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--size", default="1600x1200")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    qapp = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        make_photos(tmp / "shoot", args.files, size)  # type: ignore[arg-type]
        print(f"made {args.files} JPEGs {args.size} in {time.perf_counter() - t:.1f} s")
        app = build(
            default_brand(),
            settings_path=tmp / "s.ini",
            data_dir=tmp / "d",
            qapp=qapp,
            client_factory=lambda url, key: ApiClient(url, key, transport=httpx.MockTransport(handler)),
        )
        app.window.show()
        controller = app.controller
        controller.connect_to("http://bench.test", "k")
        run_until(qapp, lambda: app.window.current_page == "create", 30)

        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start()
        batch = controller.batch.batch
        controller.batch.add_files([tmp / "shoot"])
        listed = run_until(qapp, lambda: len(batch.items) == args.files, 120)
        view = app.window.create_view
        thumbs = listed + run_until(qapp, lambda: view.thumbnails_shown == args.files, 300)
        add_ticks = list(ticks)
        app.window.create_view.submit_button.click()
        sent = run_until(qapp, lambda: all(i.state == "submitted" for i in batch.items), 600)
        timer.stop()

        def worst_gap(values: list[float]) -> float:
            return max((b - a for a, b in itertools.pairwise(values)), default=0.0)

        print(f"files listed and checked: {listed:.2f} s; all thumbnails shown: {thumbs:.2f} s")
        print(f"all {args.files} submitted (20 ms per upload on the fake): {sent:.2f} s")
        print(
            f"longest GUI-thread stall while adding: {worst_gap(add_ticks) * 1000:.0f} ms; "
            f"over the whole run: {worst_gap(ticks) * 1000:.0f} ms"
        )
        controller.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
