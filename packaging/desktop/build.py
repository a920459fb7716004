"""Build a branded desktop bundle: ``python packaging/desktop/build.py packaging/brands/<id> [--self-test]``.

Checks the brand folder (the brand validator's checks), then runs PyInstaller in one-folder mode on
``entry.py``: Qt stays a set of separate, replaceable shared libraries (LGPL-3.0), never packed into the
executable. The bundle is named after the brand's app name and carries the brand folder (icon, logo, brand.toml),
the licence texts and the third-party notices (the repository's notices plus a generated list of every Python
distribution in the bundle, with their licence files). Prints the bundle's size and the build time; with
``--self-test`` it then runs the bundle's self-test offscreen and prints its report and duration.

Run it with the virtual environment's Python (it needs PyInstaller and the desktop package).
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DESKTOP_PACKAGE = "paqshot_desktop"  # import name; its distribution is found from its entry points
ICONSET = REPO / "desktop" / "src" / DESKTOP_PACKAGE / "iconset"
# Imported by nothing the app needs, but present in the build environment: keep them out of the bundle.
EXCLUDED_MODULES = (
    "tkinter",
    "numpy",
    "scipy",
    "click",
    "rich",
    "rich_click",
    "pygments",
    "IPython",
    "pytest",
    "hypothesis",
    "onnxruntime",
    "uvloop",  # anyio's optional event loop; httpx runs on plain asyncio/threads here
    "paqshot_server",
    "PySide6.QtNetwork",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtUiTools",
    "PySide6.QtXml",
    "PySide6.QtConcurrent",
    "PySide6.QtDBus",
    "PySide6.QtPrintSupport",
    "PySide6.QtSvgWidgets",
)


def bundle_name(app_name: str) -> str:
    """Folder and executable name for an app name: spaces become dashes ("Acme Studio" -> "Acme-Studio")."""
    return re.sub(r"\s+", "-", app_name.strip())


def folder_size(folder: Path) -> int:
    """Bytes in all files under ``folder`` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def desktop_distribution() -> str:
    """Name of the installed distribution that provides the desktop package (editable installs included)."""
    for dist in metadata.distributions():
        if any(ep.value.startswith(DESKTOP_PACKAGE + ".") for ep in dist.entry_points):
            return str(dist.metadata["Name"])
    raise SystemExit(f"{DESKTOP_PACKAGE} is not installed in this environment (run: uv sync)")


def bundled_distributions() -> list[metadata.Distribution]:
    """The desktop package's runtime dependency closure (what the bundle contains besides Python and Qt's libs)."""
    root = desktop_distribution()
    seen: dict[str, metadata.Distribution] = {}
    queue = [root]
    while queue:
        name = queue.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = dist
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append(requirement.name)
    return [d for k, d in sorted(seen.items()) if k != re.sub(r"[-_.]+", "-", root).lower()]


def _field(dist: metadata.Distribution, name: str) -> str:
    values = dist.metadata.get_all(name) or []
    return str(values[0]) if values else ""


def _licence_of(dist: metadata.Distribution) -> str:
    expression = _field(dist, "License-Expression")
    text = _field(dist, "License").strip()
    classifiers = [c.split(" :: ")[-1] for c in dist.metadata.get_all("Classifier") or [] if c.startswith("License")]
    if expression:
        return expression
    if text and "\n" not in text and len(text) < 80:
        return text
    return ", ".join(classifiers) or "see licence files"


def write_notices(licenses: Path) -> list[str]:
    """Licence texts, the repository's notices plus a generated table of bundled distributions; returns names."""
    licenses.mkdir(parents=True, exist_ok=True)
    for name in ("LGPL-3.0.txt", "GPL-3.0.txt"):
        shutil.copy2(HERE / "licenses" / name, licenses / name)
    shutil.copy2(REPO / "LICENSE", licenses / "LICENSE")
    python_licence = Path(sys.base_prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    if (python_licence / "LICENSE.txt").is_file():
        shutil.copy2(python_licence / "LICENSE.txt", licenses / "Python-LICENSE.txt")
    rows, names = [], []
    for dist in bundled_distributions():
        name = dist.metadata["Name"]
        names.append(name)
        copied = []
        for file in dist.files or []:
            if re.match(r"(?i)(licen[cs]e|copying|notice)", Path(str(file)).name):
                target = licenses / name / Path(str(file)).name
                target.parent.mkdir(exist_ok=True)
                shutil.copy2(Path(str(dist.locate_file(file))), target)
                copied.append(f"`{name}/{target.name}`")
        rows.append(f"| {name} | {dist.version} | {_licence_of(dist)} | {', '.join(copied) or '-'} |")
    notices = (REPO / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    table = "\n".join(rows)
    notices += (
        "\n## In this desktop bundle\n\n"
        "Generated when the bundle was built. Python runtime: PSF License (`Python-LICENSE.txt`).\n"
        "Qt and PySide6 are under LGPL-3.0 (`LGPL-3.0.txt`, which builds on `GPL-3.0.txt`); see `QT-LGPL.txt`\n"
        "for how to replace them.\n\n"
        "| distribution | version | licence | licence files |\n|---|---|---|---|\n"
        f"{table}\n"
    )
    (licenses / "THIRD_PARTY_NOTICES.md").write_text(notices, encoding="utf-8")
    return names


def system_packages(sources: list[str]) -> dict[str, list[str]]:
    """Debian/Ubuntu package of each collected library outside the virtual environment (empty without dpkg)."""
    dpkg = shutil.which("dpkg-query")
    system = [s for s in sources if s.startswith(("/usr/", "/lib"))]
    if dpkg is None or not system:
        return {}
    candidates: dict[str, str] = {}  # path dpkg may know -> library name
    for source in system:
        # Merged-/usr systems: dpkg may list a library under /lib or /usr/lib, by its link or its real name.
        for real in {source, os.path.realpath(source)}:
            for path in {real, real.removeprefix("/usr"), "/usr" + real if real.startswith("/lib") else real}:
                candidates[path] = Path(source).name
    done = subprocess.run([dpkg, "-S", *candidates], capture_output=True, text=True, check=False)
    packages: dict[str, set[str]] = {}
    for line in done.stdout.splitlines():
        owner, _, path = line.partition(": ")
        if path in candidates:
            packages.setdefault(owner.split(":")[0], set()).add(candidates[path])
    return {package: sorted(libs) for package, libs in sorted(packages.items())}


def write_system_notices(licenses: Path, work: Path) -> int:
    """Copyright files of the build machine's libraries the bundle carries; returns how many packages."""
    collected = json.loads((work / "binaries.json").read_text())
    packages = system_packages([src for _, src in collected])
    if not packages:
        return 0
    folder = licenses / "system"
    folder.mkdir(exist_ok=True)
    rows = []
    for package, libs in packages.items():
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        if copyright_file.is_file():
            shutil.copy2(copyright_file, folder / f"{package}.copyright")
        rows.append(f"| {package} | {', '.join(libs)} | `system/{package}.copyright` |")
    with (licenses / "THIRD_PARTY_NOTICES.md").open("a", encoding="utf-8") as notices:
        notices.write(
            "\n## System libraries in this desktop bundle\n\n"
            "Copied from the build machine's distribution packages, each as a separate shared library; their\n"
            "copyright and licence terms are in the files named.\n\n"
            "| package | libraries | copyright |\n|---|---|---|\n" + "\n".join(rows) + "\n"
        )
    return len(packages)


def write_qt_notice(bundle: Path, licenses: Path) -> None:
    """How the user can replace the bundle's Qt libraries (the LGPL's relinking freedom), with versions."""
    import PySide6
    from PySide6.QtCore import qVersion

    qt_core = next((p for p in bundle.rglob("libQt6Core.so*") if not p.is_symlink()), None)
    lib = qt_core.parent.relative_to(bundle) if qt_core else Path("_internal/PySide6/Qt/lib")
    plugins, modules = lib.parent / "plugins", lib.parent.parent
    (licenses / "QT-LGPL.txt").write_text(
        f"This application uses Qt {qVersion()} through PySide6 {PySide6.__version__} (Qt for Python), both under\n"
        "the GNU Lesser General Public License v3 (LGPL-3.0.txt; it builds on GPL-3.0.txt). They are unmodified\n"
        "builds from the Python Package Index, shipped as separate shared libraries in:\n\n"
        f"    {lib}/   (Qt libraries)\n    {plugins}/   (Qt plugins)\n"
        f"    {modules}/   (PySide6 modules; shiboken6 next to it)\n\n"
        "You may replace these files with your own compatible builds (same Qt major/minor version, same ABI);\n"
        "the application loads whatever is there. Sources: https://download.qt.io/official_releases/qt/ and\n"
        "https://download.qt.io/official_releases/QtForPython/ (or ask the vendor of this application for them).\n",
        encoding="utf-8",
    )


SPEC = """\
# Generated by packaging/desktop/build.py for one brand: edit build.py, not this file.
import json
import sys

from PyInstaller.depend.bindepend import get_imports
from PyInstaller.utils.hooks import copy_metadata

CONFIG = json.loads({config!r})
sys.path.insert(0, CONFIG["here"])
from prune import prune

a = Analysis(
    [CONFIG["entry"]],
    pathex=CONFIG["pathex"],
    # The desktop's metadata too: the app reads its version from it (paqshot_desktop.__version__).
    datas=[tuple(d) for d in CONFIG["datas"]] + copy_metadata(CONFIG["distribution"]),
    excludes=CONFIG["excludes"],
)
a.binaries, a.datas, removed = prune(list(a.binaries), list(a.datas), lambda p: [n for n, _ in get_imports(p)])
with open(CONFIG["removed_log"], "w") as log:
    json.dump(removed, log, indent=1)
with open(CONFIG["collected_log"], "w") as log:
    json.dump([[dest, src] for dest, src, kind in a.binaries if kind != "SYMLINK"], log, indent=1)
pyz = PYZ(a.pure)
exe = EXE(pyz, a.scripts, [], exclude_binaries=True, name=CONFIG["name"], console=CONFIG["console"],
          icon=CONFIG["icon"], upx=False)
coll = COLLECT(exe, a.binaries, a.datas, name=CONFIG["name"], upx=False)
"""


def write_spec(brand_dir: Path, name: str, work: Path, icon: Path | None) -> Path:
    """The PyInstaller spec for one brand (one-folder: EXE without binaries, then COLLECT)."""
    desktop_os = sys.platform in ("win32", "darwin")
    config = {
        "here": str(HERE),
        "entry": str(HERE / "entry.py"),
        "pathex": [str(REPO / "desktop" / "src")],
        "distribution": desktop_distribution(),
        # The brand folder, and the app's drawn icon set (package data: PyInstaller collects only code).
        "datas": [[str(brand_dir), "brand"], [str(ICONSET), f"{DESKTOP_PACKAGE}/iconset"]],
        "excludes": list(EXCLUDED_MODULES),
        "name": name,
        # Windows/macOS: no console window, and the brand icon on the executable (Linux executables carry none;
        # the window icon comes from the brand at run time).
        "console": not desktop_os,
        "icon": str(icon) if icon is not None and desktop_os else None,
        "removed_log": str(work / "pruned.json"),
        "collected_log": str(work / "binaries.json"),
    }
    spec = work / f"{name}.spec"
    spec.write_text(SPEC.format(config=json.dumps(config)), encoding="utf-8")
    return spec


def run_pyinstaller(brand_dir: Path, name: str, dist: Path, work: Path, icon: Path | None) -> None:
    """PyInstaller on the generated spec (raises CalledProcessError on failure)."""
    spec = write_spec(brand_dir, name, work, icon)
    command = [sys.executable, "-m", "PyInstaller", str(spec), "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(dist), "--workpath", str(work)]
    subprocess.run(command, check=True, cwd=work)


def self_test(executable: Path) -> tuple[dict[str, object], float]:
    """Run the bundle's ``--self-test`` offscreen; its JSON report and how long it took."""
    started = time.monotonic()
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run([str(executable), "--self-test"], capture_output=True, text=True, env=env, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {"ok": False, "stderr": done.stderr[-2000:]}
    report["exit_code"] = done.returncode
    return report, time.monotonic() - started


def build(brand_dir: Path, dist: Path, work: Path) -> tuple[Path, dict[str, object]]:
    """Validate the brand, build its bundle into ``dist``; the bundle folder and its figures."""
    sys.path.insert(0, str(REPO / "desktop" / "src"))
    from paqshot_desktop.brandcheck import check_brand, render
    from paqshot_desktop.branding import load_brand

    if sys.platform.startswith("linux") and shutil.which("objdump") is None:
        raise SystemExit("PyInstaller needs objdump on Linux: install binutils (apt-get install binutils)")
    problems = check_brand(brand_dir)
    if any(p.severity == "error" for p in problems):
        raise SystemExit(render(brand_dir, problems) + "\nfix the brand folder first")
    brand = load_brand(brand_dir)
    name = bundle_name(brand.app_name)
    work = work / brand.id
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    run_pyinstaller(brand_dir.resolve(), name, dist.resolve(), work.resolve(), brand.icon_path)
    bundle = dist.resolve() / name
    for link in [p for p in bundle.rglob("*") if p.is_symlink() and not p.exists()]:
        link.unlink()  # PyInstaller re-creates top-level links to libraries the pruning removed
    licenses = bundle / "licenses"
    distributions = write_notices(licenses)
    system = write_system_notices(licenses, work)
    write_qt_notice(bundle, licenses)
    if brand.icon_path is not None:
        shutil.copy2(brand.icon_path, bundle / f"{name}{brand.icon_path.suffix}")  # for launchers/installers
    figures: dict[str, object] = {
        "bundle": str(bundle),
        "brand_id": brand.id,
        "app_name": brand.app_name,
        "build_seconds": round(time.monotonic() - started, 1),
        "size_mib": round(folder_size(bundle) / 2**20, 1),
        "files": sum(1 for p in bundle.rglob("*") if p.is_file()),
        "pruned_files": len(json.loads((work / "pruned.json").read_text())),
        "distributions": distributions,
        "system_packages": system,
    }
    return bundle, figures


def main(argv: list[str] | None = None) -> int:
    """Command line: build one brand's bundle, optionally self-test it; figures printed as JSON lines."""
    parser = argparse.ArgumentParser(description="Build a branded desktop bundle with PyInstaller (one folder).")
    parser.add_argument("brand", type=Path, help="brand folder, e.g. packaging/brands/<id>")
    parser.add_argument("--dist", type=Path, default=REPO / "dist", help="where the bundle goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller", help="PyInstaller work folder")
    parser.add_argument("--self-test", action="store_true", help="run the built bundle's --self-test offscreen")
    args = parser.parse_args(argv)
    bundle, figures = build(args.brand, args.dist, args.work)
    print(json.dumps({"built": figures}), flush=True)
    if not args.self_test:
        return 0
    report, seconds = self_test(bundle / bundle.name)
    print(json.dumps({"self_test": report, "self_test_seconds": round(seconds, 1)}), flush=True)
    return 0 if report.get("ok") and report.get("exit_code") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
