"""Fixtures for the inference tests: the committed tiny models and a fresh model store per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from paqshot_server.inference import sessions
from paqshot_server.inference.store import ModelStore

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"
TINY = ("tiny-sd-inpaint", "tiny-sdxl-inpaint", "tiny-sd", "tiny-seg")


@pytest.fixture
def fixture_models() -> Path:
    missing = [name for name in TINY if not (FIXTURES / name / "manifest.toml").is_file()]
    assert not missing, f"committed tiny models missing: {missing} (models/build_tiny.py rebuilds them)"
    return FIXTURES


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models", device="cpu", runs_on=sessions.probe)


@pytest.fixture
def model_copy(tmp_path: Path, fixture_models: Path):
    """Copy one tiny model folder somewhere writable (to tamper with it)."""

    def copy(name: str) -> Path:
        dest = tmp_path / "src" / name
        shutil.copytree(fixture_models / name, dest)
        return dest

    return copy


@pytest.fixture(autouse=True)
def _fresh_sessions():
    yield
    sessions.clear_cache()
