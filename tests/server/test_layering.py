"""The import directions of docs/architecture.md, checked on the source (a wrong import fails here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "server" / "src" / "paqshot_server"

FORBIDDEN = {
    "imaging": (
        "litestar",
        "huey",
        "sqlite_utils",
        "paqshot_server.storage",
        "paqshot_server.api",
        "paqshot_server.jobs",
        "onnxruntime",
    ),
    "inference": (
        "litestar",
        "huey",
        "sqlite_utils",
        "paqshot_server.storage",
        "paqshot_server.api",
        "paqshot_server.jobs",
        "torch",
        "diffusers",
        "transformers",
        "optimum",
    ),
    "storage": ("litestar", "huey", "onnxruntime", "paqshot_server.api"),
    "jobs": ("litestar",),
    "net": ("litestar", "huey", "sqlite_utils", "paqshot_server.storage"),
}


def imports_of(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve relative imports against the module's package
                parts = path.relative_to(SRC.parent).with_suffix("").parts[: -node.level]
                base = ".".join(parts)
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    bad = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in imports_of(path, layer):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(SRC)} imports {name}")
    assert not bad, "\n".join(bad)


def test_api_runs_no_sql() -> None:
    for path in (SRC / "api").rglob("*.py"):
        text = path.read_text()
        assert ".execute(" not in text and "SELECT " not in text, path


def test_desktop_never_imports_the_server() -> None:
    desktop = SRC.parents[2] / "desktop" / "src"
    for path in desktop.rglob("*.py"):
        assert "paqshot_server" not in path.read_text(), path
