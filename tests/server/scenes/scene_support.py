"""Helpers shared by the scene tests (importable by name; conftest modules are not)."""

from __future__ import annotations

import io

import numpy as np
from paqshot_server.imaging.result import RenderResult
from PIL import Image


def decode(result: RenderResult, index: int = 0) -> np.ndarray:
    """The result's image as a uint8 array."""
    return np.asarray(Image.open(io.BytesIO(result.images[index].data)).convert("RGB"))
