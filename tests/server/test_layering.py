"""The import directions of docs/architecture.md, checked on the source (a wrong import fails here).

Every module of the server belongs to a unit (a package such as ``jobs``, or a top-level module such as
``settings``); each unit may import only the units listed for it, and only the third-party packages it is
meant to use. Imports inside functions count: a lazy import is still a direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "server" / "src" / "paqshot_server"

# Unit -> the units it may import (docs/architecture.md, "Import directions").
ALLOWED: dict[str, set[str]] = {
    "__init__": set(),
    "errors": set(),
    "ids": set(),
    "patterns": set(),
    "logs": set(),
    "signing": set(),
    "webhook_secret": set(),
    "words": set(),
    "branding": {"__init__"},
    "imaging": {"errors", "patterns", "words"},
    "net": {"errors", "patterns", "words"},
    "inference": {"imaging", "errors"},
    "settings": {"branding", "imaging", "inference"},
    "credentials": {"imaging", "settings"},
    "finishing": {"__init__", "credentials", "imaging", "settings", "signing"},
    "storage": {"errors", "ids", "imaging", "webhook_secret", "words"},
    "catalog": {"errors", "imaging", "inference", "settings"},
    "engines": {"catalog", "errors", "imaging", "inference", "resources", "settings"},
    "checking": {"errors", "imaging", "settings", "signing"},
    "resources": {"catalog", "finishing", "imaging", "net", "settings", "signing", "storage"},
    "jobs": {
        "__init__",
        "api.request_bodies",
        "branding",
        "engines",
        "errors",
        "finishing",
        "ids",
        "imaging",
        "logs",
        "net",
        "resources",
        "settings",
        "signing",
        "storage",
        "webhook_secret",
        "words",
    },
    "api": {
        "__init__",
        "branding",
        "catalog",
        "checking",
        "errors",
        "ids",
        "imaging",
        "jobs",
        "net",
        "logs",
        "patterns",
        "resources",
        "settings",
        "signing",
        "storage",
        "words",
    },
    "app": {"__init__", "api", "settings"},
    "cli": {"*"},
    "__main__": {"cli"},
}

# Unit -> third-party packages it must not import.
FORBIDDEN: dict[str, set[str]] = {
    "imaging": {"litestar", "huey", "sqlite_utils", "onnxruntime", "httpx"},
    "inference": {"litestar", "huey", "sqlite_utils", "torch", "diffusers", "transformers", "optimum"},
    "storage": {"litestar", "huey", "onnxruntime", "httpx"},
    "net": {"litestar", "huey", "sqlite_utils", "onnxruntime"},
    "jobs": {"litestar"},
    "catalog": {"onnxruntime", "litestar", "huey"},
    "settings": {"litestar", "huey", "onnxruntime"},
}
# Modules the API process must never load, directly or through anything it imports (even lazily).
NEVER_IN_THE_API = {"onnxruntime", "paqshot_server.engines", "paqshot_server.jobs.runner", "paqshot_server.jobs.worker"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """Import nodes under ``if TYPE_CHECKING:`` (never run)."""
    nodes: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                nodes.update(ast.walk(child))
    return nodes


def imports_of(path: Path, *, at_run_time: bool = False) -> set[str]:
    """Every module ``path`` imports, anywhere in it, as absolute dotted names (``from x import y`` gives
    ``x.y`` too, since ``y`` may be a module). ``at_run_time`` leaves out ``if TYPE_CHECKING:`` imports."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    skip = _type_checking_only(tree) if at_run_time else set()
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def unit_of(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_every_unit_has_declared_directions() -> None:
    assert {unit_of(m) for m in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_unit_imports_only_what_it_may(unit: str) -> None:
    allowed = ALLOWED[unit]
    bad = []
    for module, path in sorted(MODULES.items()):
        if unit_of(module) != unit or "*" in allowed:
            continue
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in FORBIDDEN.get(unit, set()):
                bad.append(f"{module} imports {name}")
            if top != "paqshot_server" or name not in MODULES:
                continue  # third-party, or a name imported from a module
            target = unit_of(name)
            if target != unit and target not in allowed and name.removeprefix("paqshot_server.") not in allowed:
                bad.append(f"{module} imports {name} ({unit} -> {target} is not a declared direction)")
    assert not bad, "\n".join(bad)


def closure(start: str) -> set[str]:
    """Every module ``start`` loads, counting imports inside functions and the packages above each module."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parent = module.rpartition(".")[0]
        if parent in MODULES:
            todo.append(parent)
        if module in MODULES:
            found = imports_of(MODULES[module], at_run_time=True)
            todo += [n for n in found if n in MODULES or not n.startswith("paqshot_server")]
    return seen


def test_the_api_process_never_loads_an_inference_runtime() -> None:
    loaded = closure("paqshot_server.app")
    reached = {m for m in loaded if m.split(".")[0] in NEVER_IN_THE_API or m in NEVER_IN_THE_API}
    assert not reached, f"the API would load {sorted(reached)}"


def test_api_runs_no_sql() -> None:
    for path in (SRC / "api").rglob("*.py"):
        text = path.read_text()
        assert ".execute(" not in text and "SELECT " not in text, path


def test_sql_lives_in_storage_only() -> None:
    outside = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.parent.name != "storage" and (".execute(" in path.read_text() or ".executemany(" in path.read_text())
    ]
    assert not outside, outside


def test_desktop_never_imports_the_server() -> None:
    desktop = SRC.parents[2] / "desktop" / "src"
    for path in desktop.rglob("*.py"):
        assert "paqshot_server" not in path.read_text(), path
