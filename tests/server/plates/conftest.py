"""Fixtures for the plate tests (helpers in ``plate_support``)."""

from __future__ import annotations

import pytest
from PIL import Image
from plate_support import bottle


@pytest.fixture
def bottle_rgba() -> Image.Image:
    return bottle()
