"""Webhooks: the payload written with the job's end, its signatures, and what one attempt's outcome means.

Headers: the brand's signature header (default ``X-Paqshot-Signature``: lowercase hex HMAC-SHA256 of the
raw body with the key's webhook secret) plus Standard Webhooks ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` (``v1,`` + base64 HMAC of ``{id}.{timestamp}.{body}``). Retries follow the Standard
Webhooks schedule with jitter; 410 stops delivery to that URL; ``Retry-After`` on 429/503 is honoured
(capped). Sending is ``jobs.dispatcher``'s job; this module has no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..ids import new_id, parse_iso
from ..net.post import PostOutcome
from ..signing import file_url
from ..storage import webhooks as webhooks_sql
from ..webhook_secret import key_bytes
from ..words import counted

if TYPE_CHECKING:
    from ..branding import Brand
    from ..storage.jobs import Job, JobResult
    from ..storage.keys import ApiKey
    from ..storage.webhooks import WebhookEvent

# Seconds after the previous attempt (Standard Webhooks' example schedule).
RETRY_SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


def sign(
    body: bytes, secret: str, event_id: str, timestamp: int, prefix: str, *, also: tuple[str, ...] = ()
) -> tuple[str, str]:
    """(brand signature, Standard Webhooks signature) of one delivery.

    The brand signature is the lowercase hex HMAC-SHA256 of the raw body keyed with the whole ``secret``
    string (the seed API's header). The standard one is ``v1,`` + base64 HMAC-SHA256 of
    ``{id}.{timestamp}.{body}`` keyed with the decoded secret; each secret in ``also`` (a rotated-out secret
    in its grace period) adds one more space-separated ``v1,`` signature, as the spec allows.
    """
    legacy = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    signed = f"{event_id}.{timestamp}.".encode() + body
    standard = " ".join(
        "v1," + base64.b64encode(hmac.new(key_bytes(s, prefix), signed, hashlib.sha256).digest()).decode()
        for s in (secret, *also)
    )
    return legacy, standard


def payload(job: Job, base_url: str, secret: bytes) -> dict[str, Any]:
    """The spec's webhook payload; extensions: ``error`` on failure, variant URLs, and on completion the
    ``engine`` that ran with the review fields (``confidence``, ``needs_review``, ``review_reasons``) and the
    ``compliance`` reports; on a failure the cut-out refused, its ``engine`` and ``confidence`` (and the review
    fields when it was refused because it needs review: ``on_low_confidence: fail``)."""
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
        body.update(_review(job.result))
        if job.result.compliance:
            body["compliance"] = job.result.compliance
    if job.state == "failed":
        body["error"] = {"code": job.error_code, "message": job.error_message}
        if job.result is not None:  # refused after the cut-out ran: which engine, how sure (jobs.ending.fail)
            body["engine"] = job.engine
            body["confidence"] = job.result.confidence
            if job.result.needs_review:  # refused because it needs review: the reasons' codes, as on a result
                body.update(_review(job.result))
    return body


def _review(result: JobResult) -> dict[str, Any]:
    """The review fields of a stored result: ``confidence``, ``needs_review``, ``review_reasons``."""
    return {
        "confidence": result.confidence,
        "needs_review": result.needs_review,
        "review_reasons": [{"code": r.code, "message": r.message} for r in result.review_reasons],
    }


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


def next_delay(attempt: int, retry_after: float | None, scale: float) -> float | None:
    """Delay before attempt number ``attempt + 1`` (attempt counts from 1), or None when out of retries.

    ``retry_after`` (already capped by ``net.post.parse_retry_after``) can lengthen a wait, never shorten it.
    """
    if attempt >= len(RETRY_SCHEDULE):
        return None
    delay = RETRY_SCHEDULE[attempt] * random.uniform(0.9, 1.1)  # jitter spreads retry storms
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay * scale


@dataclass(frozen=True)
class Verdict:
    """Where one attempt leaves its event."""

    state: str  # pending | delivered | stopped | failed
    next_attempt_at: float | None
    error: str | None


def judge(outcome: PostOutcome, attempt: int, scale: float, now: float, schedule_from: float) -> Verdict:
    """2xx delivered; 410 stops; a URL that can never be sent fails at once; anything else follows the schedule
    that started at ``schedule_from``: a wait a receiver's ``Retry-After`` lengthens ends, at the latest, when the
    whole schedule would have (``sum(RETRY_SCHEDULE)``, ~3.1 days, from its start); past that it gives up (the
    case webhook-retry-after-unbounded: ten waits of 24 h kept an event 9 days, past its images' retention)."""
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        return Verdict("delivered", None, None)
    if code == 410:
        return Verdict("stopped", None, "HTTP 410 Gone: the receiver asked for no more deliveries to this URL")
    if outcome.permanent:
        return Verdict("failed", None, f"{outcome.error} (not retried)")
    error = outcome.error or f"HTTP {code}"
    if code is not None and 300 <= code < 400:
        error += " (redirects are not followed; set webhook_url to the final address"
        error += f", Location: {outcome.location})" if outcome.location else ")"
    retry_after = outcome.retry_after if code in (429, 503) else None
    delay = next_delay(attempt, retry_after, scale)
    end = schedule_from + sum(RETRY_SCHEDULE) * scale
    if delay is None or now >= end:
        return Verdict("failed", None, f"{error}; gave up after {counted(attempt, 'attempt')}")
    return Verdict("pending", min(now + delay, end), error)


def headers_for(brand: Brand, key: ApiKey, event: WebhookEvent, now: float) -> dict[str, str]:
    """The request headers of one attempt, signed with the key's current (and, in grace, previous) secret."""
    timestamp = int(now)
    secrets = key.webhook_secrets(now)
    legacy, standard = sign(
        event.body, secrets[0], event.id, timestamp, brand.webhook_secret_prefix, also=tuple(secrets[1:])
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": brand.user_agent,
        brand.signature_header: legacy,
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
    }
