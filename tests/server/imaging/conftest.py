"""Fixtures for the imaging tests: small synthetic product photos made in memory (no files needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from imaging_support import product_photo
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))  # the evaluation-set generator lives with the benchmarks


@pytest.fixture
def photo() -> Image.Image:
    return product_photo()
