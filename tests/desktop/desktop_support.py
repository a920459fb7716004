"""Helpers shared by the desktop tests (importable as ``desktop_support``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from paqshot_desktop.client import ApiClient, RetryPolicy
from PIL import Image


def product_bytes(fmt: str = "JPEG", size: tuple[int, int] = (320, 240)) -> bytes:
    """A small product photo: a red box with a white label on light grey."""
    img = Image.new("RGB", size, (236, 236, 236))
    w, h = size
    img.paste((190, 30, 35), (w // 4, h // 5, 3 * w // 4, 4 * h // 5))
    img.paste((250, 250, 250), (w // 3, h // 3, 2 * w // 3, h // 2))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def job_json(job_id: str = "gen_1", status: str = "processing", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job_id,
        "status": status,
        "style": "studio_packshot",
        "aspect_ratio": "1:1",
        "created_at": "2026-06-09T14:00:00Z",
    }
    body.update(extra)
    return body


Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, sleeps: list[float] | None = None, **kwargs: Any) -> ApiClient:
    """An ApiClient over ``httpx.MockTransport``; waits are recorded in ``sleeps`` instead of slept."""
    record = sleeps if sleeps is not None else []
    return ApiClient(
        "http://appliance.test",
        "pk_test_key",
        transport=httpx.MockTransport(handler),
        sleep=record.append,
        retry=kwargs.pop("retry", RetryPolicy(attempts=4, backoff=1.0)),
        **kwargs,
    )


REPO = Path(__file__).resolve().parents[2]
BRANDS = REPO / "packaging" / "brands"


EXE = Path(sys.executable).parent / "paqshot"


@dataclass
class RunningAppliance:
    url: str
    key: str
    home: Path
    process: subprocess.Popen | None = None  # ``serve``'s process (a test may stop it)

    @property
    def env(self) -> dict[str, str]:
        """The environment of this appliance's own commands (its data folder)."""
        return {**os.environ, "PAQSHOT_HOME": str(self.home)}
