"""Fixtures for in-process server tests: a temp data folder, the app factory, keys, images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.settings import Settings
from support import Key, make_key


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", allow_private_network=True, sweep_seconds=0.2, lease_seconds=5)


@pytest.fixture
def key(settings: Settings) -> Key:
    return make_key(settings)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
