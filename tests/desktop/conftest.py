"""Fixtures of the desktop tests: recorded capabilities, brands, a built app."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from desktop_support import BRANDS, EXE, RunningAppliance
from paqshot_desktop.app import App, build
from paqshot_desktop.branding import Brand, default_brand, load_brand
from paqshot_desktop.local import free_port, wait_healthy
from paqshot_desktop.wire import Capabilities, decode

FIXTURES = Path(__file__).parent / "fixtures"
# Tests never touch the machine's keyring (whatever backend it happens to have): the "no keyring" backend, so
# the settings-file fallback is what runs unless a test installs its own in-memory keyring.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Theme assets and other cache files go to a temp folder, not the user's cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def caps_json() -> dict[str, Any]:
    """``GET /v1/capabilities`` as a real appliance answered it (classical engine only)."""
    return json.loads((FIXTURES / "capabilities.json").read_text())


@pytest.fixture
def caps(caps_json: dict[str, Any]) -> Capabilities:
    return decode(Capabilities, caps_json)


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


@pytest.fixture
def self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A freshly made self-signed certificate for 127.0.0.1: (certificate, private key) PEM files."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def appliance(tmp_path: Path) -> Iterator[RunningAppliance]:
    """A real appliance (``paqshot serve``: API and a worker) on loopback, with a fresh data folder and a key."""
    if not EXE.is_file():
        pytest.fail(f"the appliance program is not installed at {EXE}")
    home = tmp_path / "home"
    port = free_port()
    running = RunningAppliance(f"http://127.0.0.1:{port}", "", home)
    proc = subprocess.Popen(
        [str(EXE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=running.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    running.process = proc
    try:
        wait_healthy(running.url, threading.Event(), timeout=60)
        created = subprocess.run(
            [str(EXE), "keys", "create", "--name", "desktop-test", "--json"],
            env=running.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        running.key = json.loads(created.stdout)["key"]
        yield running
    finally:
        proc.send_signal(signal.SIGINT)  # SIGINT makes the appliance stop its worker processes too
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
