"""Counts in words (the nit "may create 1 generations"): every message writes a count with ``counted``, singular
for exactly one, and no string the code shows or logs spells a plural as "file(s)"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paqshot_server.words import counted

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "server" / "src", ROOT / "desktop" / "src")


@pytest.mark.parametrize(
    ("count", "noun", "plural", "words"),
    [
        (1, "generation", "", "1 generation"),
        (0, "generation", "", "0 generations"),
        (3, "day", "", "3 days"),
        (1, "try", "tries", "1 try"),
        (2, "try", "tries", "2 tries"),
    ],
)
def test_a_count_is_singular_for_exactly_one(count: int, noun: str, plural: str, words: str) -> None:
    assert counted(count, noun, plural) == words


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (a docstring may explain "(s)"; it is never shown)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def plural_guesses(folder: Path) -> list[str]:
    """Every string constant (f-string parts included) outside docstrings that writes a plural as "word(s)"."""
    hits = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                text = node.value.replace("http(s)", "")
                if "(s)" in text:
                    hits.append(f"{path.relative_to(folder)}:{node.lineno}: {text.strip()[:80]}")
    return hits


def test_no_message_writes_a_plural_as_word_s() -> None:
    hits = [hit for folder in SOURCES for hit in plural_guesses(folder)]
    assert hits == [], "write these counts with counted():\n" + "\n".join(hits)


def test_the_check_finds_one(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('"""Doc about file(s)."""\nx = f"deleted {n} file(s)"\n')
    assert len(plural_guesses(tmp_path)) == 1
