"""Entry point of the desktop app (the package's gui script): ``[--brand PATH] [--settings FILE]``."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

from . import icons, theme
from .branding import Brand, BrandError, default_brand, load_brand
from .controller import ClientFactory, Controller
from .icons import app_icon
from .model import JobsModel
from .settings import Settings
from .views.mainwindow import MainWindow
from .workers import Runner


@dataclass
class App:
    """The running application's parts (tests and the screenshot script drive them directly)."""

    qapp: QApplication
    brand: Brand
    window: MainWindow
    controller: Controller


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Desktop client of the product-imagery appliance.")
    parser.add_argument("--brand", type=Path, help="brand folder or brand.toml (default: the built-in brand)")
    parser.add_argument("--settings", type=Path, help="settings file to use instead of the per-user one")
    parser.add_argument("--no-restore", action="store_true", help="do not reconnect to the last server")
    return parser.parse_args(list(argv))


def build(
    brand: Brand,
    settings_path: Path | None = None,
    data_dir: Path | None = None,
    qapp: QApplication | None = None,
    client_factory: ClientFactory | None = None,
) -> App:
    """Create the branded application and its main window (not shown yet)."""
    app = qapp or QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(brand.settings_organisation)
    app.setOrganizationDomain(brand.organisation_domain)
    app.setApplicationName(brand.settings_application)
    app.setApplicationDisplayName(brand.app_name)
    app.setWindowIcon(app_icon(brand))
    theme.apply(app, brand)
    icons.use_brand(brand)
    jobs = JobsModel()
    jobs.status_colors = theme.status_colors(brand)
    window = MainWindow(brand, jobs, theme.colors(brand))
    settings = Settings(brand, settings_path)
    controller = Controller(brand, window, settings, Runner(), jobs, client_factory, data_dir)
    # Whatever ends the session (last window closed, Quit, log-out), the local appliance stops with it.
    app.aboutToQuit.connect(controller.shutdown)
    return App(app, brand, window, controller)


_WAKEUP: list[object] = []


def stop_on_signals(qapp: QApplication) -> None:
    """Quit cleanly on SIGTERM/SIGINT/SIGHUP (log-out, ``kill``, a closed terminal), so ``aboutToQuit`` stops
    the local appliance. Python runs signal handlers only between bytecodes, and Qt's event loop is C++: the
    wake-up file descriptor (a socket pair watched by a QSocketNotifier) gets the loop to let Python run them.
    """
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, qapp)

    def drain() -> None:
        try:
            while reader.recv(64):
                pass
        except BlockingIOError:
            pass

    notifier.activated.connect(drain)
    _WAKEUP[:] = [reader, writer, notifier]  # alive as long as the process
    for number in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)):
        if number is not None:
            signal.signal(number, lambda *_args: qapp.quit())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the app until its window closes."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        brand = load_brand(args.brand) if args.brand else default_brand()
    except BrandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = build(brand, args.settings)
    stop_on_signals(app.qapp)
    app.window.show()
    if not args.no_restore:
        # After the first paint, so a slow reconnect never delays the window.
        QTimer.singleShot(0, app.controller.restore)
    return int(app.qapp.exec())


if __name__ == "__main__":
    sys.exit(main())
