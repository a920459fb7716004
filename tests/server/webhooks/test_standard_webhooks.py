"""Interop with the official Standard Webhooks verifier (PyPI ``standardwebhooks``) on real deliveries, under
the default brand and a partner brand with its own secret prefix; secret rotation; old secrets still sign."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from paqshot_server.jobs.delivery import sign
from paqshot_server.jobs.dispatcher import dispatch_due
from paqshot_server.resources import Resources
from paqshot_server.settings import Settings
from paqshot_server.storage import keys as keys_sql
from paqshot_server.webhook_secret import key_bytes, standard_form
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from support import make_key
from webhook_support import HostileReceiver, ended_job_with_webhook

NOIR = Path(__file__).resolve().parents[3] / "packaging" / "brands" / "noir" / "brand.toml"


def deliveries(settings: Settings, key_id: str, receiver: HostileReceiver, count: int) -> list[dict]:
    """``count`` real deliveries for the key, as the receiver got them."""
    batch = secrets.token_hex(4)
    for i in range(count):
        ended_job_with_webhook(settings, key_id, f"{receiver.url}/ok/{batch}/{i}")
    dispatch_due(Resources(settings))
    posts = receiver.posts_to(f"/ok/{batch}/")
    assert len(posts) == count
    return posts


def test_case_webhook_secret_not_standard_base64() -> None:
    """Fresh secrets verify with the official library, every one (74 % were rejected at df217cc)."""
    from paqshot_server.storage.db import connect

    home = Path(__import__("tempfile").mkdtemp())
    db = connect(home / "app.db")
    body = b'{"event":"generation.completed","id":"gen_x"}'
    for i in range(60):
        key, _ = keys_sql.create_key(db, name=f"k{i}", key_prefix="pk_live_", secret_prefix="whsec_", rate_limit=60)
        ts = int(time.time())
        _legacy, standard = sign(body, key.webhook_secret, "evt_test", ts, "whsec_")
        headers = {"webhook-id": "evt_test", "webhook-timestamp": str(ts), "webhook-signature": standard}
        Webhook(key.webhook_secret).verify(body, headers)
    db.conn.close()


@pytest.mark.parametrize("brand_file", ["", str(NOIR)], ids=["default-brand", "noir-brand"])
def test_official_library_verifies_real_deliveries(settings: Settings, brand_file: str) -> None:
    branded = replace(settings, brand_file=brand_file)
    brand = branded.brand
    receiver = HostileReceiver()
    try:
        for n in range(8):
            key = make_key(branded, name=f"k{n}", secret_prefix=brand.webhook_secret_prefix)
            assert key.webhook_secret.startswith(brand.webhook_secret_prefix)
            for post in deliveries(branded, key.id, receiver, 2):
                # What receivers are told (docs/webhooks.md): give the library the whsec_ form of the secret,
                # which `keys create` prints beside the branded one; the bare base64 part works too.
                for form in (
                    standard_form(key.webhook_secret, brand.webhook_secret_prefix),
                    key.webhook_secret.removeprefix(brand.webhook_secret_prefix),
                ):
                    payload = Webhook(form).verify(post["body"], post["headers"])
                    assert payload["status"] == "failed"  # the parsed body the library returns
    finally:
        receiver.close()


def test_a_brand_prefix_is_not_what_the_library_strips(settings: Settings) -> None:
    """Why receivers under a partner brand need the whsec_ form: the branded string itself does not verify."""
    branded = replace(settings, brand_file=str(NOIR))
    key = make_key(branded, secret_prefix=branded.brand.webhook_secret_prefix)
    receiver = HostileReceiver()
    try:
        (post,) = deliveries(branded, key.id, receiver, 1)
        with pytest.raises((WebhookVerificationError, ValueError)):
            Webhook(key.webhook_secret).verify(post["body"], post["headers"])
    finally:
        receiver.close()


def test_secrets_issued_before_the_standard_format_still_sign_as_before() -> None:
    """Old secrets were whsec_ + URL-safe base64 without padding; their key bytes must not change."""
    for _ in range(200):
        raw = secrets.token_bytes(32)
        old = "whsec_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
        assert key_bytes(old, "whsec_") == raw


def test_rotate_secret_keeps_the_old_one_signing_during_its_grace(settings: Settings) -> None:
    raw = secrets.token_bytes(32)
    old = "whsec_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    key = make_key(settings)
    db = Resources(settings).db.get()
    db.conn.execute("UPDATE api_keys SET webhook_secret = ? WHERE id = ?", (old, key.id))
    rotated = keys_sql.rotate_secret(db, key.id, secret_prefix="whsec_", grace_seconds=3600, now=time.time())
    assert rotated is not None and rotated.webhook_secret != old
    receiver = HostileReceiver()
    try:
        (post,) = deliveries(settings, key.id, receiver, 1)
        Webhook(rotated.webhook_secret).verify(post["body"], post["headers"])  # the new, standard secret
        Webhook(raw).verify(post["body"], post["headers"])  # the old one, as receivers decoded it until now
        db.conn.execute("UPDATE api_keys SET previous_secret_until = ? WHERE id = ?", (time.time() - 1, key.id))
        (post,) = deliveries(settings, key.id, receiver, 1)
        assert len(post["headers"]["webhook-signature"].split(" ")) == 1  # grace over: only the new secret
    finally:
        receiver.close()


def test_cli_rotate_secret_prints_both_spellings(settings: Settings) -> None:
    key = make_key(settings)
    cli = [sys.executable, "-m", "paqshot_server", "keys", "rotate-secret", key.id, "--home", str(settings.home)]
    out = json.loads(subprocess.run([*cli, "--json"], capture_output=True, text=True, check=True).stdout)
    assert out["id"] == key.id and out["webhook_secret"] != key.webhook_secret
    assert out["standard_webhooks_secret"] == out["webhook_secret"]  # default brand: already the whsec_ form
    assert out["previous_secret_valid_until"]
    Webhook(out["webhook_secret"])  # decodes
    missing = subprocess.run([*cli[:-3], "key_nope", "--home", str(settings.home)], capture_output=True, text=True)
    assert missing.returncode == 1 and "no active key" in missing.stderr
