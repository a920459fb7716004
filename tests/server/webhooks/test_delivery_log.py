"""The delivery log an operator (CLI) and a key (API) can read and act on: list, show, redeliver."""

from __future__ import annotations

import json
import subprocess
import sys

from litestar.testing import TestClient
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from support import Key, make_key
from webhook_support import HostileReceiver, ended_job_with_webhook


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paqshot_server", "webhooks", *args, "--home", str(settings.home)],
        capture_output=True,
        text=True,
    )


def test_operator_lists_failures_reads_attempts_and_redelivers(settings: Settings, key: Key) -> None:
    receiver = HostileReceiver()
    try:
        good = ended_job_with_webhook(settings, key.id, receiver.url + "/ok/1")
        gone = ended_job_with_webhook(settings, key.id, receiver.url + "/status/410")
        dispatch_due(Resources(settings))
        listed = json.loads(cli(settings, "list", "--failed", "--json").stdout)
        assert [e["id"] for e in listed] == [gone] and listed[0]["state"] == "stopped"
        shown = cli(settings, "show", gone)
        assert shown.returncode == 0 and "410" in shown.stdout and "receiver says" in shown.stdout
        assert good in cli(settings, "list").stdout
        # the receiver is fixed (here: the event now goes to a path that accepts) and the operator redelivers
        db = Resources(settings).db.get()  # held: the connection closes when nothing holds its database
        db.conn.execute("UPDATE webhook_events SET url = ? WHERE id = ?", (receiver.url + "/ok/2", gone))
        again = cli(settings, "redeliver", gone)
        assert again.returncode == 0, again.stdout
        dispatch_due(Resources(settings))
        event = json.loads(cli(settings, "show", gone, "--json").stdout)
        assert event["state"] == "delivered" and [a["attempt"] for a in event["attempt_log"]] == [1, 2]
        assert cli(settings, "redeliver", "evt_nope").returncode == 1
    finally:
        receiver.close()


def test_a_key_reads_and_redelivers_only_its_own_events(client: TestClient, settings: Settings, key: Key) -> None:
    other = make_key(settings, name="other")
    receiver = HostileReceiver()
    try:
        mine = ended_job_with_webhook(settings, key.id, receiver.url + "/status/500")
        theirs = ended_job_with_webhook(settings, other.id, receiver.url + "/ok/x")
        dispatch_due(Resources(settings))
        listed = client.get("/v1/webhooks", headers=key.headers).json()["data"]
        assert [e["id"] for e in listed] == [mine] and listed[0]["state"] == "pending"
        assert client.get("/v1/webhooks?status=delivered", headers=key.headers).json()["data"] == []
        detail = client.get(f"/v1/webhooks/{mine}", headers=key.headers).json()
        assert detail["attempt_log"][0]["status_code"] == 500 and detail["attempt_log"][0]["error"] == "HTTP 500"
        assert client.get(f"/v1/webhooks/{theirs}", headers=key.headers).status_code == 404
        assert client.post(f"/v1/webhooks/{theirs}/redeliver", headers=key.headers).status_code == 404
        redone = client.post(f"/v1/webhooks/{mine}/redeliver", headers=key.headers)
        assert redone.status_code == 202 and redone.json()["state"] == "pending"
        assert client.get("/v1/webhooks", headers=other.headers).json()["data"][0]["id"] == theirs
        assert client.get("/v1/webhooks").status_code == 401
    finally:
        receiver.close()
