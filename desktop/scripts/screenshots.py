"""Real screenshots of every main screen, in each sample brand, against a real local appliance.

Run under a virtual X server (needs ``apt-get install xvfb libxcb-icccm4 libxcb-keysyms1``)::

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python desktop/scripts/screenshots.py --out build/screenshots

It starts the appliance program on loopback with a temporary data folder, generates product photos with
Pillow, submits them through the app, waits for the results, and grabs the X server's pixels of each
window, for every brand folder given, at the app's default window size AND at 1024×700 (a form that fits
only a big window was once hidden by screenshots taken at 1280×800): connect (after a refused connection),
empty create and results, create with files, live progress, done, queue, results, the viewer (and one that
needs review; with a marketplace preset, its compliance report), the repair brush when the appliance offers it,
a catalogue run (the second brand finds its rows unchanged) and the about dialog.
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

import paqshot_desktop
from paqshot_desktop.app import App, build
from paqshot_desktop.branding import Brand, ServerIdentity, load_brand
from paqshot_desktop.local import free_port, wait_healthy
from paqshot_desktop.views.about import AboutDialog
from paqshot_desktop.views.editors import PresetEditor
from paqshot_desktop.views.mainwindow import DEFAULT_SIZE
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
    # A product on a busy, product-coloured background: the cut-out should be unsure (needs review).
    busy = Image.new("RGB", (900, 700), (120, 84, 60))
    draw = ImageDraw.Draw(busy)
    for i in range(0, 900, 30):
        draw.line((i, 0, 900 - i, 700), fill=(150 + i % 90, 100, 70), width=12)
    draw.rounded_rectangle((380, 200, 540, 600), 30, fill=(140, 92, 58))
    busy_path = folder / "bottle-on-rug.jpg"
    busy.save(busy_path, quality=90)
    paths.append(busy_path)
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
        # The reference appliance (its default brand) serves every brand's screenshots; same environment as this script.
        exe = Path(sys.executable).parent / Brand().server_executable
        self.env = {**os.environ, f"{ServerIdentity().env_prefix}HOME": str(home)}
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


SIZES = {"default": DEFAULT_SIZE, "small": (1024, 700)}


def grab_pages(qapp: QApplication, app: App, out: Path, tag: str, pages: list[str]) -> None:
    """Grab each page at every size (the window is resized; the pages relayout)."""
    window = app.window
    for size_name, size in SIZES.items():
        window.resize(*size)
        for page in pages:
            window.show_page(page)
            grab(qapp, window, out / f"{tag}-{size_name}-{page}.png")


def shoot_brand(
    qapp: QApplication, app: App, appliance: Appliance, photos: list[Path], out: Path, submit: bool
) -> None:
    """Drive one branded window through every screen and save the grabs, at the default size and 1024×700."""
    window, controller = app.window, app.controller
    tag = app.brand.id
    window.resize(*DEFAULT_SIZE)
    window.show()
    # A refused connection: the error is there at once, with the buttons back.
    controller.connect_to(f"http://127.0.0.1:{free_port()}", appliance.key)
    wait_for(qapp, lambda: window.connect_view.connect_button.isEnabled(), 5, "refused connection")
    window.connect_view.set_fields(appliance.url, appliance.key)
    grab_pages(qapp, app, out, f"{tag}-1", ["connect"])

    controller.connect_to(appliance.url, appliance.key)
    wait_for(qapp, lambda: window.current_page == "create", 30, "connection")
    grab_pages(qapp, app, out, f"{tag}-2-empty", ["create", "results"])
    controller.batch.add_files(photos)
    wait_for(qapp, lambda: len(controller.batch.batch.items) == len(photos), 30, "files")
    wait_for(qapp, window.create_view.submit_button.isEnabled, 30, "batch summary")
    form = window.create_view.form
    picker = form.editor("preset")
    if isinstance(picker, PresetEditor):  # the marketplace picker, as a user picks it (the form shows its values)
        index = picker.combo.findData("amazon_main")
        picker.combo.setCurrentIndex(index)
        picker.combo.activated.emit(index)
        form.set_values({"compliance_check": ["ebay"]})
    form.set_values({"shadow": "soft"})  # the user's own choice over the preset's: its report says so
    settle(qapp, 1.0)
    grab_pages(qapp, app, out, f"{tag}-3", ["create"])

    if submit:
        window.create_view.submit_button.click()
        wait_for(
            qapp,
            lambda: all(i.state not in ("ready", "sending", "waiting") for i in controller.batch.batch.items),
            60,
            "submission",
        )
        controller.poll_timer.setInterval(300)
        wait_for(
            qapp,
            lambda: (
                any(i.state == "processing" for i in controller.batch.batch.items)
                or all(i.finished for i in controller.batch.batch.items)
            ),
            60,
            "progress",
        )
        grab_pages(qapp, app, out, f"{tag}-4-progress", ["create"])
        wait_for(qapp, lambda: all(i.finished for i in controller.batch.batch.items), 300, "generation")
        settle(qapp, 1.0)
        grab_pages(qapp, app, out, f"{tag}-5-done", ["create"])
    controller.load_page(0, "")
    wait_for(qapp, lambda: controller.jobs.rowCount() > 0, 30, "history")
    controller.results.load_results(0)
    grid = window.results_view.grid
    wait_for(
        qapp,
        lambda: grid.count() > 0 and all(not grid.item(i).icon().isNull() for i in range(grid.count())),
        60,
        "thumbnails",
    )
    grab_pages(qapp, app, out, f"{tag}-6", ["queue", "results"])

    jobs = window.results_view.jobs()
    flagged = [job for job in jobs if job.flagged]
    for label, job in (("viewer", jobs[0]), ("viewer-review", flagged[0] if flagged else None)):
        if job is None:
            continue
        controller.results.open_viewer(job)
        viewer = controller.results.viewer
        assert viewer is not None
        wait_for(qapp, lambda v=viewer: v.canvas.after is not None, 30, "viewer images")  # type: ignore[misc]
        viewer.split_slider.setValue(45)
        for size_name, size in SIZES.items():
            viewer.resize(min(1100, size[0] - 24), min(720, size[1] - 24))
            settle(qapp, 0.3)
            viewer.fit()
            grab(qapp, viewer, out / f"{tag}-7-{size_name}-{label}.png")
        viewer.reject()
        settle(qapp, 0.2)

    if controller.results.repairs:
        controller.results.ask_repair(jobs[0])
        wait_for(qapp, lambda: controller.results.dialog is not None, 30, "repair dialog")
        dialog = controller.results.dialog
        assert dialog is not None
        dialog.resize(1000, 680)
        settle(qapp, 0.5)
        grab(qapp, dialog, out / f"{tag}-8-repair.png")
        dialog.reject()

    shoot_catalogue(qapp, app, photos, out / "catalogue-output", out / f"{tag}-10")

    connected = f"Connected to {controller.caps.product} {controller.caps.version}"
    about = AboutDialog(app.brand, paqshot_desktop.__version__, connected, window)
    about.show()
    grab(qapp, about, out / f"{tag}-9-about.png")
    about.close()


def shoot_catalogue(qapp: QApplication, app: App, photos: list[Path], target: Path, prefix: Path) -> None:
    """A three-row catalogue (one row a missing file) rendered into ``target``: a second brand finds the same
    rows unchanged there and skips them."""
    manifest = photos[0].parent / "catalogue.csv"
    rows = [
        "sku,image,preset,compliance_check,shadow",
        f"BTL-AMBER-500,{photos[0].name},amazon_main,ebay,",
        f"MUG/BLUE/350,{photos[1].name},etsy,,soft",
        "TIN-0042,missing-photo.jpg,amazon_main,,",
    ]
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dialog = app.controller.open_catalogue(manifest, target)
    assert dialog is not None
    wait_for(qapp, lambda: " rows: " in dialog.status.text(), 300, "catalogue")
    for size_name, size in SIZES.items():
        dialog.resize(min(900, size[0] - 300), min(480, size[1] - 240))  # the default size, and a narrow one
        grab(qapp, dialog, Path(f"{prefix}-{size_name}-catalogue.png"))
    dialog.reject()


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
