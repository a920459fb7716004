"""Shared test set-up: Qt runs offscreen, no proxy variables leak into clients under test, and no test sees
the models this installation happens to have (the install-level model folder) unless it asks for it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)

# Processes that tests start read settings from the environment: no install-level models for them.
os.environ["PAQSHOT_INSTALL_MODELS_DIR"] = ""


@pytest.fixture(autouse=True)
def _no_install_level_models(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process settings with ``install_models_dir = "auto"`` resolve to an empty folder, not the venv's."""
    from paqshot_server.inference import store

    empty = tmp_path_factory.mktemp("no-install-models")
    monkeypatch.setattr(store, "install_level_dir", lambda: Path(empty))
