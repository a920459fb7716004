"""A job's state in words, decided once for every page that shows one.

The queue table, the Results tiles, the Create page's tiles, the viewer and the catalogue dialog all read
:func:`job_state`, so a job is never "Completed" on one page and "Expired" or "Needs review" on another
(breaker16 B16-14: the queue said "Completed" for a job whose images retention had deleted while its result tile
said "Expired"). No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from .labels import EXPIRED_MESSAGE, sentence, value_label
from .wire import Job, plain_error

# key -> (words, colour role). The keys are the states a job can be in as the user sees it; ``role`` is one of
# muted, accent, ok, warn, error (the theme's colours).
STATES: dict[str, tuple[str, str]] = {
    "processing": ("Processing", "accent"),
    "completed": ("Completed", "ok"),
    "review": ("Needs review", "warn"),
    "expired": ("Expired", "muted"),
    "cancelled": ("Cancelled", "error"),
    "refused": ("Refused", "error"),
    "failed": ("Failed", "error"),
}
FLAGGED = "The appliance flagged this result."


@dataclass(frozen=True)
class JobState:
    """What a page says about a job: ``key`` (a :data:`STATES` key), ``words`` ("Needs review", "Processing
    40%"), ``role`` (the colour) and ``detail`` (why, as sentences; "" when there is nothing to add)."""

    key: str
    words: str
    role: str
    detail: str = ""

    @property
    def has_result(self) -> bool:
        """The job completed and its images are still on the appliance (open, save)."""
        return self.key in ("completed", "review")


def state(key: str, detail: str = "", words: str = "") -> JobState:
    """The :class:`JobState` of ``key`` with its words and colour from :data:`STATES`."""
    default_words, role = STATES[key]
    return JobState(key, words or default_words, role, detail)


def job_state(job: Job) -> JobState:
    """``job``'s state (the spec's statuses are processing, completed and failed): expired (its files purged after
    retention) before needs review before completed; a cancel, a refused cut-out (:attr:`Job.refused`) and any
    other failure apart; a running job with its progress."""
    if job.status == "completed":
        if job.expired:
            return state("expired", EXPIRED_MESSAGE)
        if job.needs_review:
            reasons = " ".join(sentence(r.message) for r in job.review_reasons if r.message)
            return state("review", reasons or FLAGGED)
        return state("completed")
    if job.status == "failed":
        if job.error is not None and job.error.code == "cancelled":
            return state("cancelled")
        return state("refused" if job.refused else "failed", failure_text(job))
    if job.status == "processing":
        return state("processing", words="" if job.progress is None else f"Processing {job.progress:.0%}")
    return JobState(job.status, value_label(job.status), "accent")  # a status a newer appliance added


def failure_text(job: Job) -> str:
    """Why a failed job failed, in words: a refused cut-out (:attr:`Job.refused`) in the appliance's own words
    (the photo was read: never "not a JPEG, PNG or WebP image"), any other failure by its code's plain words."""
    if job.error is None:
        return ""
    if job.refused:
        return sentence(job.error.message or "the appliance's cut-out found no product")
    return plain_error(job.error.code, job.error.message)
