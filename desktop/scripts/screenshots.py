"""Real screenshots of every main screen, in each sample brand, against a real local appliance.

Run under a virtual X server (needs ``apt-get install xvfb libxcb-icccm4 libxcb-keysyms1``)::

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python desktop/scripts/screenshots.py --out build/screenshots

It starts the appliance program on loopback with a temporary data folder, generates product photos with
Pillow, submits them through the app, waits for the results, and grabs the X server's pixels of each
window: connect, create, queue, results, the viewer and the about dialog, for every brand folder given.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from paqshot_desktop.app import App, build
from paqshot_desktop.branding import load_brand
from paqshot_desktop.local import free_port, wait_healthy
from paqshot_desktop.views.about import AboutDialog
from PIL import Image, ImageDraw, ImageFilter
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parents[2]


def product_photos(folder: Path) -> list[Path]:
    """A few plain-background product photos (drawn, not downloaded) and one broken file."""
    folder.mkdir(parents=True, exist_ok=True)
    specs = [
        ("amber-bottle.jpg", (176, 92, 28), "bottle"),
        ("blue-mug.jpg", (38, 88, 170), "mug"),
        ("gift-box.png", (170, 30, 60), "box"),
        ("green-tin.jpg", (40, 130, 80), "tin"),
    ]
    paths = []
    for name, colour, shape in specs:
        img = Image.new("RGB", (900, 700), (232, 232, 230))
        draw = ImageDraw.Draw(img)
        if shape == "bottle":
            draw.rounded_rectangle((360, 220, 540, 620), 40, fill=colour)
            draw.rectangle((415, 120, 485, 230), fill=colour)
            draw.rectangle((380, 360, 520, 470), fill=(245, 236, 210))
        elif shape == "mug":
            draw.rounded_rectangle((300, 240, 560, 600), 24, fill=colour)
            draw.ellipse((520, 320, 660, 500), outline=colour, width=30)
        elif shape == "box":
            draw.rectangle((280, 280, 620, 600), fill=colour)
            draw.rectangle((430, 280, 470, 600), fill=(240, 200, 80))
            draw.rectangle((280, 420, 620, 460), fill=(240, 200, 80))
        else:
            draw.ellipse((300, 200, 600, 280), fill=tuple(c + 30 for c in colour))
            draw.rectangle((300, 240, 600, 560), fill=colour)
            draw.ellipse((300, 520, 600, 600), fill=colour)
        img = img.filter(ImageFilter.GaussianBlur(1.2))
        path = folder / name
        img.save(path, quality=92)
        paths.append(path)
    broken = folder / "scan-0042.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)  # right magic bytes, unreadable body
    paths.append(broken)
    return paths


def wait_for(qapp: QApplication, condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Run the event loop until ``condition`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        qapp.processEvents()
        time.sleep(0.02)


def settle(qapp: QApplication, seconds: float = 0.4) -> None:
    """Let layouts, thumbnails and repaints finish before a grab."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.02)


def grab(qapp: QApplication, widget: QWidget, path: Path) -> None:
    """The X server's pixels of the window (falls back to rendering the widget)."""
    settle(qapp)
    screen = QGuiApplication.primaryScreen()
    pixmap = screen.grabWindow(int(widget.winId())) if screen is not None else widget.grab()
    if pixmap.isNull():
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"wrote {path} ({pixmap.width()}x{pixmap.height()})")


class Appliance:
    """The appliance program on loopback with a throw-away data folder."""

    def __init__(self, home: Path) -> None:
        exe = Path(sys.executable).parent / "paqshot"  # same environment as this script
        self.env = {**os.environ, "PAQSHOT_HOME": str(home)}
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_healthy(self.url, threading.Event(), timeout=60)
        out = subprocess.run(
            [str(exe), "keys", "create", "--name", "screenshots", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.key = json.loads(out.stdout)["key"]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # SIGINT also stops the appliance's workers
        self.proc.wait(60)


def shoot_brand(
    qapp: QApplication, app: App, appliance: Appliance, photos: list[Path], out: Path, submit: bool
) -> None:
    """Drive one branded window through every screen and save the grabs."""
    window, controller = app.window, app.controller
    tag = app.brand.id
    window.resize(1280, 800)
    window.show()
    window.connect_view.set_fields(appliance.url, appliance.key)
    grab(qapp, window, out / f"{tag}-1-connect.png")

    controller.connect_to(appliance.url, appliance.key)
    wait_for(qapp, lambda: window.current_page == "create", 30, "connection")
    controller.batch.add_files(photos)
    wait_for(qapp, lambda: len(controller.batch.batch.items) == len(photos), 30, "files")
    wait_for(qapp, window.create_view.submit_button.isEnabled, 30, "batch summary")
    form = window.create_view.form
    form.set_values({"background": "off_white", "shadow": "soft", "prompt": "clean catalogue look, centred"})
    settle(qapp, 1.0)
    grab(qapp, window, out / f"{tag}-2-create.png")

    if submit:
        window.create_view.submit_button.click()
        wait_for(
            qapp,
            lambda: all(i.state in ("submitted", "invalid") for i in controller.batch.batch.items),
            60,
            "submission",
        )
        grab(qapp, window, out / f"{tag}-2b-create-sent.png")  # per-file outcome of the upload
        controller.poll_timer.setInterval(400)
        wait_for(qapp, lambda: not controller.jobs.unfinished_ids(), 180, "generation")
    controller.load_page(0, "")
    window.show_page("queue")
    wait_for(qapp, lambda: controller.jobs.rowCount() > 0, 30, "history")
    grab(qapp, window, out / f"{tag}-3-queue.png")

    controller.results.load_results(0)
    window.show_page("results")
    grid = window.results_view.grid
    wait_for(
        qapp,
        lambda: grid.count() > 0 and all(not grid.item(i).icon().isNull() for i in range(grid.count())),
        60,
        "thumbnails",
    )
    grab(qapp, window, out / f"{tag}-4-results.png")

    controller.results.open_viewer(window.results_view.jobs()[0])
    viewer = controller.results.viewer
    assert viewer is not None
    wait_for(qapp, lambda: viewer.canvas.after is not None, 30, "viewer images")
    viewer.split_slider.setValue(45)
    grab(qapp, viewer, out / f"{tag}-5-viewer.png")
    viewer.reject()

    about = AboutDialog(app.brand, "0.1.0", f"Connected to {controller.caps.product} {controller.caps.version}", window)
    about.show()
    grab(qapp, about, out / f"{tag}-6-about.png")
    about.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "screenshots")
    parser.add_argument(
        "--brand",
        type=Path,
        action="append",
        help="brand folder (repeatable; default: every folder in packaging/brands)",
    )
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("no DISPLAY: run me under xvfb-run (see the module docstring)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    brands = args.brand or sorted(p for p in (REPO / "packaging" / "brands").iterdir() if p.is_dir())
    qapp = QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        photos = product_photos(tmp / "photos")
        appliance = Appliance(tmp / "appliance")
        try:
            for index, folder in enumerate(brands):
                brand = load_brand(folder)
                app = build(brand, settings_path=tmp / f"{brand.id}.ini", data_dir=tmp / brand.id, qapp=qapp)
                shoot_brand(qapp, app, appliance, photos, args.out, submit=index == 0)
                app.controller.shutdown()
                app.window.close()
        finally:
            appliance.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
