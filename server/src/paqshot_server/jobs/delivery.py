"""Webhooks: the payload written with the job's end, and the dispatcher that delivers it at least once.

Headers: the brand's signature header (default ``X-Paqshot-Signature``: lowercase hex HMAC-SHA256 of the
raw body with the key's webhook secret) plus Standard Webhooks ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (``v1,`` + base64 HMAC of ``{id}.{timestamp}.{body}``). Retries follow the Standard
Webhooks schedule with jitter; 410 stops delivery to that URL; ``Retry-After`` on 429/503 is honoured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any

from ..ids import new_id, parse_iso
from ..signing import file_url
from ..storage import keys as keys_sql
from ..storage import webhooks as webhooks_sql

if TYPE_CHECKING:
    from ..storage.jobs import Job
    from .context import WorkerContext

log = logging.getLogger(__name__)

# Seconds after the previous attempt (Standard Webhooks' example schedule).
RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


def secret_bytes(secret: str, prefix: str) -> bytes:
    """Standard Webhooks signs with the base64-decoded part after the prefix; fall back to raw bytes."""
    body = secret.removeprefix(prefix)
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError:
        return body.encode()


def sign(body: bytes, secret: str, event_id: str, timestamp: int, prefix: str) -> tuple[str, str]:
    """(brand signature hex over the raw body with the whole secret, Standard Webhooks ``v1,`` signature)."""
    legacy = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    signed = f"{event_id}.{timestamp}.".encode() + body
    standard = base64.b64encode(hmac.new(secret_bytes(secret, prefix), signed, hashlib.sha256).digest()).decode()
    return legacy, f"v1,{standard}"


def payload(job: Job, base_url: str, secret: bytes) -> dict[str, Any]:
    """The spec's webhook payload; extensions: ``error`` on failure, variant URLs, and on completion the
    ``engine`` that ran with the review fields (``confidence``, ``needs_review``, ``review_reasons``) and the
    ``compliance`` reports."""
    body: dict[str, Any] = {
        "event": f"generation.{job.state}",
        "id": job.id,
        "status": job.state,
        "style": job.style,
        "created_at": job.created_at,
    }
    if job.state == "completed" and job.result and job.expires_at:
        expires = int(parse_iso(job.expires_at))
        images = [
            {
                "image_url": file_url(base_url, secret, img.file, expires),
                "thumbnail_url": file_url(base_url, secret, img.thumb, expires),
                "width": img.width,
                "height": img.height,
            }
            for img in job.result.images
        ]
        body.update(images[0])
        body["expires_at"] = job.expires_at
        if len(images) > 1:
            body["images"] = images
        body["engine"] = job.engine
        body["confidence"] = job.result.confidence
        body["needs_review"] = job.result.needs_review
        body["review_reasons"] = [{"code": r.code, "message": r.message} for r in job.result.review_reasons]
        if job.result.compliance:
            body["compliance"] = job.result.compliance
    if job.state == "failed":
        body["error"] = {"code": job.error_code, "message": job.error_message}
    return body


def build_event(base_url: str, secret: bytes, job: Job, now: float) -> webhooks_sql.NewEvent | None:
    """The outbox row for a job's end, or None when the request had no webhook_url."""
    if not job.webhook_url:
        return None
    return webhooks_sql.NewEvent(
        id=new_id("evt"),
        job_id=job.id,
        key_id=job.key_id,
        url=job.webhook_url,
        event=f"generation.{job.state}",
        body=json.dumps(payload(job, base_url, secret), separators=(",", ":")).encode(),
        next_attempt_at=now,
    )


def _next_delay(attempt: int, retry_after: float | None, scale: float) -> float | None:
    """Delay before attempt number ``attempt + 1`` (attempt counts from 1), or None when out of retries."""
    if attempt >= len(RETRY_SCHEDULE):
        return None
    delay = RETRY_SCHEDULE[attempt] * random.uniform(0.9, 1.1)  # jitter spreads retry storms
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay * scale


def deliver(ctx: WorkerContext, event: webhooks_sql.WebhookEvent) -> str:
    """One attempt at one event; records it and schedules the next. Returns the event's new state."""
    db = ctx.db.get()
    brand = ctx.settings.brand
    key = keys_sql.get(db, event.key_id)
    now = time.time()
    if key is None:
        webhooks_sql.record_attempt(
            db,
            event,
            now=now,
            status_code=None,
            latency_ms=0,
            error="API key deleted",
            next_state="failed",
            next_attempt_at=None,
        )
        return "failed"
    timestamp = int(now)
    legacy, standard = sign(event.body, key.webhook_secret, event.id, timestamp, brand.webhook_secret_prefix)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": brand.user_agent,
        brand.signature_header: legacy,
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }
    schemes = ("http", "https") if ctx.settings.allow_private_network else ("https",)
    from ..net.fetch import post  # httpx loads only in processes that deliver

    outcome = post(event.url, event.body, headers, ctx.policy, schemes=schemes)
    code = outcome.status_code
    attempt = event.attempts + 1
    if code is not None and 200 <= code < 300:
        state, next_at = "delivered", None
    elif code == 410:
        state, next_at = "stopped", None
    else:
        retry_after = outcome.retry_after if code in (429, 503) else None
        delay = _next_delay(attempt, retry_after, ctx.settings.webhook_retry_scale)
        state, next_at = ("pending", time.time() + delay) if delay is not None else ("failed", None)
    error = outcome.error or (None if state == "delivered" else f"HTTP {code}")
    webhooks_sql.record_attempt(
        db,
        event,
        now=now,
        status_code=code,
        latency_ms=outcome.latency_ms,
        error=error,
        next_state=state,
        next_attempt_at=next_at,
    )
    log.info("webhook %s attempt %d for %s: %s", event.id, attempt, event.job_id, error or code)
    return state


def dispatch_due(ctx: WorkerContext) -> int:
    """Deliver every due event once; returns how many attempts were made."""
    events = webhooks_sql.claim_due(ctx.db.get(), time.time(), lease_seconds=60)
    for event in events:
        try:
            deliver(ctx, event)
        except Exception:  # one broken event must not stop the others; its lease expires and it is retried
            log.exception("webhook %s could not be attempted", event.id)
    return len(events)
