"""The docs page in a real headless browser, with no network but loopback: Redoc renders the whole reference from
this appliance alone, and the page asks nothing of any other host, however it is reached (``/``, or one of
Litestar's schema UI paths)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e_support import Appliance

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium")
# Flags for Debian's chromium on these machines (no sandbox as root, no background services); every host but
# loopback resolves to nothing, as in a studio without internet.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=30000",
)


def page_requests(net_log: Path, origin: str) -> list[str]:
    """URLs the page itself asked for (its navigation and what it initiated), from Chromium's net log."""
    text = net_log.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # the browser may stop before closing the JSON array
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start_job and (
            params.get("initiator") == origin or params.get("url", "").startswith(origin)
        ):
            urls.append(params["url"])
    return urls


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (./dev test installs it when run as root)")
def test_docs_render_offline_with_no_request_beyond_the_appliance(appliance: Appliance, tmp_path: Path) -> None:
    appliance.start()
    # the root, and Litestar's schema UI pages (their own pages load scripts from CDNs): each leads to the docs
    for n, entry in enumerate(("/", "/schema/swagger", "/schema/redoc")):
        net_log = tmp_path / f"net{n}.json"
        done = subprocess.run(
            [
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={tmp_path / f'profile{n}'}",
                f"--log-net-log={net_log}",
                "--dump-dom",
                f"{appliance.url}{entry}",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        dom = done.stdout
        assert done.returncode == 0, done.stderr[-2000:]
        for rendered in (
            "Authentication",
            "Verifying both signatures",
            "input_expired",  # every error code, the extensions' too
            "Submit a generation job",  # an operation
            "A generation ended",  # the webhook
            "mask_hint",  # an extension field
            "https://shop.example/photos/mug.jpg",  # the request sample shows the field's example, not "string"
        ):
            assert rendered in dom, (entry, rendered)
        requests = page_requests(net_log, appliance.url)
        assert (
            f"{appliance.url}/docs/redoc.standalone.js" in requests
            and f"{appliance.url}/schema/openapi.json" in requests
        ), (entry, requests)
        assert [url for url in requests if not url.startswith(appliance.url)] == [], entry
