"""Fixtures for in-process server tests: a temp data folder, the app factory, keys, images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from paqshot_server.app import create_app
from paqshot_server.settings import Settings
from support import Key, make_key


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Outputs at 1024 px keep in-process tests quick; the 2048 default is checked in test_layout.
    return Settings(
        home=tmp_path / "home", allow_private_network=True, sweep_seconds=0.2, lease_seconds=5, output_long_side=1024
    )


@pytest.fixture
def key(settings: Settings) -> Key:
    return make_key(settings)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def cli_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI run in-process as a new user would: in an empty folder, no data-folder or config variables from
    this machine (``*_HOME``, ``*_CONFIG``). Returns that folder."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.endswith("_HOME") or name.endswith("_CONFIG"):
            monkeypatch.delenv(name, raising=False)
    return tmp_path
