"""Entry script of a branded desktop bundle (what the PyInstaller executable runs).

``<App> [app options]`` starts the desktop app with the brand folder bundled next to it (``--brand`` still wins).

``<App> --self-test [--screenshot FILE.png]`` builds the app with that brand, shows the main window (offscreen
unless ``QT_QPA_PLATFORM`` says otherwise), checks that the window, the application identity, the palette and the
rendered pixels follow the brand and that Qt and the licence texts come from the bundle, prints a one-line JSON
report and exits 0 (1 on any mismatch). Run from a source checkout (``python packaging/desktop/entry.py
--self-test``) it checks the reference brand folder of the checkout instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BRAND_DIR = "brand"  # the brand folder, inside the bundle's data folder
LICENSE_DIR = "licenses"  # licence texts and notices, next to the executable
REQUIRED_LICENSE_FILES = ("LGPL-3.0.txt", "GPL-3.0.txt", "THIRD_PARTY_NOTICES.md")


def frozen() -> bool:
    """Whether this runs inside a built bundle."""
    return bool(getattr(sys, "frozen", False))


def bundle_root() -> Path:
    """The bundle folder (the executable's folder), or this script's folder in a source checkout."""
    return Path(sys.executable).resolve().parent if frozen() else Path(__file__).resolve().parent


def bundled_brand() -> Path:
    """The brand folder the bundle was built for (the checkout's reference brand when not frozen)."""
    if frozen():
        return Path(getattr(sys, "_MEIPASS", bundle_root())) / BRAND_DIR
    from paqshot_desktop.branding import DEFAULT_BRAND_ID

    return Path(__file__).resolve().parents[1] / "brands" / DEFAULT_BRAND_ID


def _loaded_library(fragment: str) -> str | None:
    """Path of a loaded shared library whose file name contains ``fragment`` (Linux /proc; None elsewhere)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if fragment in Path(path).name:
            return path
    return None


def _pixel_share(image: Any, color: str) -> float:
    """Share of a QImage's pixels (sampled on a grid) that are exactly ``color``."""
    step = 4
    hits = total = 0
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            total += 1
            hits += image.pixelColor(x, y).name() == color
    return hits / max(total, 1)


def _settle(qapp: Any, window: Any) -> None:
    """Let the window be shown, laid out and painted (bounded wait)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        qapp.processEvents()
        if window.isVisible() and window.windowHandle() is not None and window.windowHandle().isExposed():
            break
        time.sleep(0.02)
    for _ in range(5):
        qapp.processEvents()


def _formats_round_trip(folder: Path, suffixes: Sequence[str]) -> bool:
    """Every product-photo format the app accepts can be written and read back (needs the image-format plugins)."""
    from PySide6.QtGui import QColor, QImage

    image = QImage(48, 32, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    for suffix in suffixes:
        path = folder / f"probe{suffix}"
        if not image.save(str(path)):
            return False
        back = QImage(str(path))
        if back.isNull() or back.size() != image.size():
            return False
    return True


def _version() -> str:
    """The app's version from its package metadata ("" when the metadata is missing, as in a bundle built
    without it)."""
    from importlib.metadata import PackageNotFoundError

    import paqshot_desktop

    try:
        return str(paqshot_desktop.__version__)
    except PackageNotFoundError:  # the "version" check reports it
        return ""


def self_test(brand_dir: Path, screenshot: Path | None = None) -> dict[str, Any]:
    """Build and show the branded app, check the brand was applied; the report's ``ok`` says whether all passed.

    ``screenshot``: also save the rendered main window there (PNG), to look at a partner's build.
    """
    started = time.monotonic()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from paqshot_desktop.app import build
    from paqshot_desktop.branding import Brand, load_brand
    from paqshot_desktop.options import IMAGE_SUFFIXES
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QLibraryInfo, qVersion
    from PySide6.QtGui import QIcon, QPalette

    brand = load_brand(brand_dir)
    checks: dict[str, bool] = {}
    version = _version()

    def check(name: str, passed: Callable[[], bool]) -> None:
        try:
            checks[name] = bool(passed())
        except Exception:
            checks[name] = False

    with tempfile.TemporaryDirectory(prefix="bundle-self-test-") as scratch:
        app = build(brand, settings_path=Path(scratch) / "settings.ini", data_dir=Path(scratch) / "data")
        qapp, window = app.qapp, app.window
        window.show()
        _settle(qapp, window)
        role = QPalette.ColorRole
        palette = qapp.palette()
        image = window.grab().toImage()
        if screenshot is not None:
            check("screenshot_saved", lambda: image.save(str(screenshot)))
        check("window_title", lambda: window.windowTitle() == brand.app_name)
        check("display_name", lambda: qapp.applicationDisplayName() == brand.app_name)
        check("organisation", lambda: qapp.organizationName() == brand.organisation)
        check("organisation_domain", lambda: qapp.organizationDomain() == brand.organisation_domain)
        check("palette_window", lambda: palette.color(role.Window).name() == brand.colors["window"])
        check("palette_text", lambda: palette.color(role.WindowText).name() == brand.colors["text"])
        check("palette_highlight", lambda: palette.color(role.Highlight).name() == brand.colors["accent"])
        # The style sheet really painted the brand: the sidebar colour covers a good part of the window.
        check("painted_sidebar", lambda: _pixel_share(image, brand.colors["sidebar"]) > 0.05)
        check("window_shown", lambda: window.isVisible() and not image.isNull())
        # The brand icon renders (for an SVG icon this needs the bundled SVG icon-engine plugin).
        icon_file = str(brand.icon_path) if brand.icon_path else ""
        check("brand_icon", lambda: bool(icon_file) and not QIcon(icon_file).pixmap(64, 64).isNull())
        check("window_icon", lambda: not window.windowIcon().isNull())
        check("image_formats", lambda: _formats_round_trip(Path(scratch), IMAGE_SUFFIXES))
        check("version", lambda: bool(version))  # the package's metadata travelled with the bundle
        if brand.id != Brand().id:
            check("no_reference_name", lambda: Brand().app_name not in window.windowTitle())
        if frozen():
            root = str(bundle_root())
            check("qt_from_bundle", lambda: (_loaded_library("libQt6Core") or "").startswith(root))
            check(
                "plugins_from_bundle",
                lambda: QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath).startswith(root),
            )
            licenses = bundle_root() / LICENSE_DIR
            check("licenses", lambda: all((licenses / n).is_file() for n in REQUIRED_LICENSE_FILES))
        app.controller.shutdown()
        window.close()
        qapp.processEvents()
    return {
        "ok": all(checks.values()),
        "brand_id": brand.id,
        "app_name": brand.app_name,
        "frozen": frozen(),
        "platform": qapp.platformName(),
        "qt": qVersion(),
        "pyside6": pyside_version,
        "version": version,
        "qt_core": _loaded_library("libQt6Core"),
        "failed": sorted(name for name, passed in checks.items() if not passed),
        "checks": len(checks),
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the self-test (``--self-test``) or the app with the bundled brand."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "--self-test" in args:
        parser = argparse.ArgumentParser(description="Check that the bundle starts with its brand applied.")
        parser.add_argument("--self-test", action="store_true", required=True)
        parser.add_argument("--brand", type=Path, default=None, help="brand folder (default: the bundled one)")
        parser.add_argument("--screenshot", type=Path, default=None, help="save the rendered main window (PNG)")
        options = parser.parse_args(args)
        try:
            report = self_test(options.brand or bundled_brand(), options.screenshot)
        except Exception as exc:
            report = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(report), flush=True)
        return 0 if report["ok"] else 1
    from paqshot_desktop.app import main as app_main

    if not any(a == "--brand" or a.startswith("--brand=") for a in args):
        args = ["--brand", str(bundled_brand()), *args]
    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
