"""Fixtures of the desktop tests: recorded capabilities, brands, a built app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_support import BRANDS
from paqshot_desktop import refguard
from paqshot_desktop.app import App, build
from paqshot_desktop.branding import Brand, default_brand, load_brand
from paqshot_desktop.wire import Capabilities

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _reference_guard(qapp: Any) -> None:
    """The bindings' refcount bug (see paqshot_desktop.refguard) would abort a long test session too."""
    refguard.install(qapp)


@pytest.fixture
def caps_json() -> dict[str, Any]:
    """``GET /v1/capabilities`` as a real appliance answered it (classical engine only)."""
    return json.loads((FIXTURES / "capabilities.json").read_text())


@pytest.fixture
def caps(caps_json: dict[str, Any]) -> Capabilities:
    return Capabilities.from_json(caps_json)


@pytest.fixture
def brand() -> Brand:
    return default_brand()


@pytest.fixture
def noir() -> Brand:
    return load_brand(BRANDS / "noir")


@pytest.fixture
def make_app(qapp: Any, tmp_path: Path) -> Iterator[Callable[..., App]]:
    """Build the app with settings in a temp file; stops its workers afterwards."""
    built: list[App] = []

    def factory(brand: Brand | None = None, client_factory: Any = None) -> App:
        app = build(
            brand or default_brand(),
            settings_path=tmp_path / f"settings{len(built)}.ini",
            data_dir=tmp_path / f"data{len(built)}",
            client_factory=client_factory,
        )
        built.append(app)
        return app

    yield factory
    for app in built:
        app.controller.shutdown()
        app.window.close()
        app.window.deleteLater()
