"""Desktop bundles: the entry script's self-test (in-process, fast) and a real PyInstaller build of the reference
brand that starts offscreen (and under Xvfb when available) and passes its self-test (slow)."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from paqshot_desktop import theme
from paqshot_desktop.branding import Brand, load_brand

REPO = Path(__file__).resolve().parents[2]
DESKTOP = REPO / "packaging" / "desktop"
BRANDS = REPO / "packaging" / "brands"
SOURCE = REPO / "desktop" / "src" / "paqshot_desktop"
PARTNER = next(p for p in sorted(BRANDS.iterdir()) if p.name != Brand().id)  # a sample partner brand


def load_script(name: str) -> ModuleType:
    """Import one of packaging/desktop's scripts by path (packaging/ is deliberately not a package)."""
    spec = importlib.util.spec_from_file_location(f"desktop_bundle_{name}", DESKTOP / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaging_is_not_a_python_package() -> None:
    assert not list((REPO / "packaging").rglob("__init__.py"))
    import packaging.version  # the library, not this repository's folder

    assert packaging.version.Version("1.0") < packaging.version.Version("1.1")


def test_self_test_passes_for_each_sample_brand(qapp: Any) -> None:
    entry = load_script("entry")
    for folder in sorted(BRANDS.iterdir()):
        report = entry.self_test(folder)
        assert report["ok"], report
        assert report["app_name"] == load_brand(folder).app_name and report["failed"] == []


def test_self_test_fails_when_the_brand_is_not_applied(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtGui import QPalette

    entry = load_script("entry")
    qapp.setPalette(QPalette())
    qapp.setStyleSheet("")
    monkeypatch.setattr(theme, "apply", lambda app, brand: None)
    report = entry.self_test(PARTNER)
    assert not report["ok"]
    assert {"palette_window", "palette_highlight", "painted_sidebar"} <= set(report["failed"])
    assert entry.main(["--self-test", "--brand", str(PARTNER)]) == 1


def test_excluded_modules_are_not_used_by_the_app() -> None:
    build = load_script("build")
    imported, own = set(), set()
    # The brand check is a console script for partners (Pillow reads their PNGs); the app never imports it.
    for path in (p for p in SOURCE.rglob("*.py") if p.name != "brandcheck.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
            elif isinstance(node, ast.ImportFrom) and node.module:
                own.add(node.module.rsplit(".", 1)[-1])
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
    clashes = {m for m in imported for x in build.EXCLUDED_MODULES if m == x or m.startswith(x + ".")}
    assert clashes == set()
    assert "PySide6.QtWidgets" in imported and "PySide6.QtSvg" in imported
    assert "brandcheck" not in own  # so leaving it out of the scan above is right


def test_bundle_names_and_notice_sources() -> None:
    build = load_script("build")
    assert build.bundle_name(" Acme  Photo Studio ") == "Acme-Photo-Studio"
    names = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() for d in build.bundled_distributions()}
    assert {"pyside6-essentials", "shiboken6", "httpx", "certifi"} <= names
    assert not names & {"pytest", "numpy", "pyinstaller", "paqshot-desktop"}
    licence = (DESKTOP / "licenses" / "LGPL-3.0.txt").read_text()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence
    assert "GNU GENERAL PUBLIC LICENSE" in (DESKTOP / "licenses" / "GPL-3.0.txt").read_text()


def test_build_refuses_a_broken_brand(tmp_path: Path) -> None:
    build = load_script("build")
    broken = Path(shutil.copytree(PARTNER, tmp_path / "broken"))
    (broken / "icon.svg").unlink()
    with pytest.raises(SystemExit, match=r"app\.icon: icon\.svg not found"):
        build.build(broken, tmp_path / "dist", tmp_path / "work")
    assert not (tmp_path / "dist").exists()


def test_notices_list_every_bundled_distribution_with_its_licence_files(tmp_path: Path) -> None:
    build = load_script("build")
    names = build.write_notices(tmp_path)
    notices = (tmp_path / "THIRD_PARTY_NOTICES.md").read_text()
    assert notices.startswith((REPO / "THIRD_PARTY_NOTICES.md").read_text())
    for name in names:
        assert f"| {name} |" in notices
    assert "| certifi |" in notices and "MPL-2.0" in notices and (tmp_path / "certifi" / "LICENSE").is_file()
    assert {"LGPL-3.0.txt", "GPL-3.0.txt", "LICENSE"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a Debian-based build machine")
def test_system_libraries_are_traced_to_their_packages() -> None:
    build = load_script("build")
    libc = next(Path(p) for p in ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6",
                                  "/usr/lib/aarch64-linux-gnu/libc.so.6") if Path(p).exists())  # fmt: skip
    packages = build.system_packages([str(libc), str(REPO / ".venv" / "lib" / "libQt6Core.so.6")])
    assert packages == {"libc6": ["libc.so.6"]}


def test_prune_drops_unused_qt_parts_and_only_their_libraries() -> None:
    prune = load_script("prune")
    lib = "PySide6/Qt/lib/"
    binaries = [
        ("PySide6/QtCore.abi3.so", "/s/QtCore.abi3.so", "EXTENSION"),
        (lib + "libQt6Core.so.6", "/s/libQt6Core.so.6", "BINARY"),
        ("libQt6Core.so.6", lib + "libQt6Core.so.6", "SYMLINK"),
        (lib + "libicuuc.so.73", "/s/libicuuc.so.73", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", "/s/libqxcb.so", "BINARY"),
        ("libxkbcommon.so.0", "/usr/lib/libxkbcommon.so.0", "BINARY"),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", "/s/libqvnc.so", "BINARY"),
        (lib + "libQt6Network.so.6", "/s/libQt6Network.so.6", "BINARY"),
        ("libQt6Network.so.6", lib + "libQt6Network.so.6", "SYMLINK"),
        ("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/s/libqgtk3.so", "BINARY"),
        ("libcairo.so.2", "/usr/lib/libcairo.so.2", "BINARY"),
    ]
    links = {
        "/s/QtCore.abi3.so": ["libQt6Core.so.6"],
        "/s/libQt6Core.so.6": ["libicuuc.so.73", "libc.so.6"],
        "/s/libqxcb.so": ["libQt6Core.so.6", "libxkbcommon.so.0"],
        "/s/libqvnc.so": ["libQt6Network.so.6", "libQt6Core.so.6"],
        "/s/libqgtk3.so": ["libcairo.so.2"],
    }
    datas = [("PySide6/Qt/translations/qtbase_de.qm", "/s/qtbase_de.qm", "DATA"), ("brand/brand.toml", "/b", "DATA")]
    kept, kept_datas, removed = prune.prune(binaries, datas, lambda path: links.get(path, []))
    assert {k[0] for k in kept} == {
        "PySide6/QtCore.abi3.so", lib + "libQt6Core.so.6", "libQt6Core.so.6", lib + "libicuuc.so.73",
        "PySide6/Qt/plugins/platforms/libqxcb.so", "libxkbcommon.so.0",
    }  # fmt: skip
    assert kept_datas == [("brand/brand.toml", "/b", "DATA")]
    assert "libcairo.so.2" in removed and lib + "libQt6Network.so.6" in removed and "libQt6Network.so.6" in removed
    assert "PySide6/Qt/translations/qtbase_de.qm" in removed


def run_bundle(executable: Path, platform: str, wrapper: list[str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "PYTHON"))}
    env["QT_QPA_PLATFORM"] = platform
    command = [*wrapper, str(executable), "--self-test"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report; exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0, report
    return report


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_reference_brand_bundle_builds_and_self_tests(tmp_path: Path) -> None:
    brand = load_brand(BRANDS / Brand().id)
    done = subprocess.run(
        [sys.executable, str(DESKTOP / "build.py"), str(BRANDS / brand.id), "--dist", str(tmp_path / "dist"),
         "--work", str(tmp_path / "work"), "--self-test"],
        capture_output=True, text=True, timeout=2300,
    )  # fmt: skip
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    built = next(line["built"] for line in lines if "built" in line)
    report = next(line["self_test"] for line in lines if "self_test" in line)
    print(f"\nbundle {built['size_mib']} MiB, {built['files']} files, built in {built['build_seconds']} s")
    assert report["ok"] and report["frozen"] and report["failed"] == [] and report["app_name"] == brand.app_name
    assert report["version"] == metadata.version("paqshot-desktop")  # the bundle reads its package's metadata

    bundle = Path(built["bundle"])
    executable = bundle / bundle.name
    assert bundle.name == brand.app_name.replace(" ", "-") and os.access(executable, os.X_OK)
    # LGPL: Qt is a set of separate shared libraries next to (not inside) a small executable.
    qt_libs = {p.name for p in bundle.rglob("libQt6*.so*") if p.is_file()}
    assert {"libQt6Core.so.6", "libQt6Gui.so.6", "libQt6Widgets.so.6", "libQt6Svg.so.6"} <= qt_libs
    assert executable.stat().st_size < 20 * 2**20
    assert b"libQt6Core" not in executable.read_bytes()
    assert any(p.name == "libqoffscreen.so" for p in bundle.rglob("platforms/*.so"))
    assert report["qt_core"].startswith(str(bundle))
    licenses = bundle / "licenses"
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in (licenses / "LGPL-3.0.txt").read_text()
    notices = (licenses / "THIRD_PARTY_NOTICES.md").read_text()
    assert "LGPL-3.0" in notices and "shiboken6" in notices and "certifi" in notices
    assert "## System libraries in this desktop bundle" in notices and list((licenses / "system").glob("*.copyright"))
    assert (licenses / "QT-LGPL.txt").is_file() and (bundle / "_internal" / "brand" / "brand.toml").is_file()
    # No unused Qt module, platform theme or translation made it in.
    for unused in ("libQt6Quick.so*", "libQt6Qml.so*", "libQt6Network.so*", "libqgtk3.so", "libqvnc.so", "*.qm"):
        assert not list(bundle.rglob(unused)), unused
    assert not [p for p in bundle.rglob("*") if p.is_symlink() and not p.exists()]
    # Pruning kept what every remaining plugin links (Wayland's client libraries come from the user's system).
    if shutil.which("ldd"):
        internal = bundle / "_internal"
        env = {**os.environ, "LD_LIBRARY_PATH": f"{internal}:{internal / 'PySide6' / 'Qt' / 'lib'}"}
        for plugin in (internal / "PySide6" / "Qt" / "plugins").rglob("*.so"):
            linked = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, env=env).stdout
            missing = {line.split()[0] for line in linked.splitlines() if "not found" in line}
            assert {m for m in missing if not m.startswith("libwayland-")} == set(), (plugin, missing)

    # The same bundle under a real X server, when the machine has one (CI installs xvfb).
    if shutil.which("xvfb-run"):
        xcb = run_bundle(executable, "xcb", ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"])
        assert xcb["ok"] and xcb["platform"] == "xcb", xcb
