"""Fixtures for the end-to-end tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Appliance


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[Appliance]:
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAQSHOT_")},
        "PAQSHOT_HOME": str(home),
        "PAQSHOT_INSTALL_MODELS_DIR": "",  # the classical engine, whatever this installation has installed
        "PAQSHOT_ALLOW_PRIVATE_NETWORK": "true",
        "PAQSHOT_SWEEP_SECONDS": "0.5",
        "PAQSHOT_LEASE_SECONDS": "4",
        "PAQSHOT_HEARTBEAT_SECONDS": "0.5",
        "PAQSHOT_WEBHOOK_RETRY_SCALE": "0.01",
        "PAQSHOT_LOG_LEVEL": "WARNING",
        "PAQSHOT_OUTPUT_LONG_SIDE": "1024",  # quick renders; the 2048 default is checked in test_layout
    }
    app = Appliance(home=home, env=env)
    yield app
    app.stop()
