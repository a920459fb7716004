"""Desktop app start-up: from launching the process to its first window on screen. Goal: < 1.5 s.

    .venv/bin/python bench/bench_desktop_startup.py [--runs 7] [--brand packaging/brands/noir]

Each run is a fresh interpreter (cold imports, as a user's double-click). The child builds the branded
app exactly as ``main()`` does, shows the window and reports when the event loop has painted it. Uses the
offscreen platform unless DISPLAY is set (then a real X window, e.g. under xvfb-run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import time, json, sys
t0 = time.perf_counter()
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
t_qt = time.perf_counter()
from paqshot_desktop.app import build
from paqshot_desktop.branding import default_brand, load_brand
t_imports = time.perf_counter()
brand = load_brand(Path(sys.argv[1])) if sys.argv[1] else default_brand()
app = build(brand, settings_path=Path(sys.argv[2]))
t_built = time.perf_counter()
app.window.show()

def shown():
    t_shown = time.perf_counter()
    print(json.dumps({"qt_import": t_qt - t0, "app_import": t_imports - t_qt, "build": t_built - t_imports,
                      "show": t_shown - t_built, "in_process": t_shown - t0}), flush=True)
    app.qapp.quit()

QTimer.singleShot(0, shown)
app.qapp.exec()
"""


def run_once(brand: str, settings: Path) -> tuple[float, dict[str, float]]:
    """Wall time from spawn to the child's "window shown" line, plus the child's own breakdown."""
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, brand, str(settings)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    wall = time.perf_counter() - start
    proc.wait(30)
    return wall, json.loads(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--brand", default="", help="brand folder (default: built-in brand)")
    args = parser.parse_args()
    platform = "xcb (DISPLAY set)" if os.environ.get("DISPLAY") else "offscreen"
    with tempfile.TemporaryDirectory() as tmp:
        run_once(args.brand, Path(tmp) / "warm.ini")  # warm the OS file cache once, as after install
        results = [run_once(args.brand, Path(tmp) / f"s{i}.ini") for i in range(args.runs)]
    walls = sorted(r[0] for r in results)
    print(f"platform: {platform}; brand: {args.brand or 'built-in'}; runs: {args.runs}")
    print(
        f"spawn -> first window: min {walls[0]:.3f} s  median {statistics.median(walls):.3f} s  "
        f"max {walls[-1]:.3f} s  (goal < 1.5 s)"
    )
    for key in ("qt_import", "app_import", "build", "show", "in_process"):
        values = [r[1][key] for r in results]
        print(f"  {key:<11} median {statistics.median(values):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
