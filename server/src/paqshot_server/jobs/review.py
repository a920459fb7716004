"""The review fields of a job's result: how they are stored, shown, and when they fail a job."""

from __future__ import annotations

from typing import Any

from ..imaging.result import RenderResult
from ..storage.jobs import Job


def review_of(stored: dict[str, Any]) -> dict[str, Any]:
    """The review fields of a stored result, as the API, webhooks and CLI show them (one shape everywhere)."""
    return {
        "confidence": stored.get("confidence"),
        "needs_review": bool(stored.get("needs_review", False)),
        "review_reasons": [{"code": r["code"], "message": r["message"]} for r in stored.get("review_reasons") or []],
    }


def refused_for_review(job: Job, result: RenderResult) -> str | None:
    """The failure message when the request asked ``on_low_confidence: fail`` and the result needs review."""
    if not result.needs_review or job.options.get("on_low_confidence") != "fail":
        return None
    reasons = "; ".join(r.message for r in result.review_reasons)
    return f"The result needs review and the request asked to fail in that case (on_low_confidence: fail): {reasons}."
