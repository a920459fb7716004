"""The jobs service: every operation a client asks of its jobs, whoever asks (API handler or CLI).

Submission runs, in this order: style permission, option combinations, Idempotency-Key replay, rate limit,
webhook URL policy, intake (fetch/decode, validate, normalise, store), insert (quota and idempotency in the
same transaction), enqueue. Cancel ends a queued job at once and asks a running one to stop at its next
progress step (refused once it is storing its result). Reads stay in ``storage.jobs`` (a handler may call them
directly).

To add an operation (re-run, delete, …): a method here that takes the caller's :class:`ApiKey` first, raises
domain errors (``errors.py``), keeps its SQL in ``storage/`` and publishes a job's end through ``ending``;
the API handler and the CLI then call it in a line or two.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import msgspec

from ..api.request_bodies import GenerateRequest
from ..errors import DatabaseGone, Forbidden, InputExpired, InvalidRequest, NotFound, Unavailable
from ..ids import iso, new_id, shown
from ..imaging.dimensions import pixel_count
from ..imaging.options import AspectRatio, RenderOptions
from ..imaging.presets import PresetCatalogue, resolve_options
from ..resources import Resources
from ..storage import fair
from ..storage import jobs as jobs_sql
from ..storage.fair import Pending, Priority
from ..storage.jobs import Job, NewJob
from ..storage.keys import ApiKey
from ..words import counted
from . import backdrops, ending, intake, trip
from .eta import Eta
from .queue import JobQueue
from .ratelimit import RateLimiter

log = logging.getLogger(__name__)

# Request fields stored in their own columns; every other field goes to ``options`` as sent.
_COLUMN_FIELDS = frozenset(
    {
        "product_image",
        "webhook_url",
        "style",
        "aspect_ratio",
        "seed",
        "mask_hint",
        "filename",
        "priority",
        "background_image",
    }
)
_STORED = "stored"  # product_image of a re-run's request: the photo is taken from the source job


@dataclass(frozen=True)
class RateWindow:
    """The caller's rate-limit window after this request (the ``X-RateLimit-*`` headers)."""

    limit: int
    remaining: int
    reset_seconds: int


CountedListener = Callable[[RateWindow], None]
"""Told the caller's rate window as soon as a submission counts against the rate limit, before the rest of it
runs: the answer says where the caller stands whether the submission is then accepted or refused."""


@dataclass(frozen=True)
class Submitted:
    """What :meth:`JobService.submit` did: the job, and whether it is an earlier one replayed."""

    job: Job
    replayed: bool
    rate: RateWindow | None  # None when an Idempotency-Key replay was answered before the rate limit


class JobService:
    """Build once per process from the process resources, the queue it enqueues on, and its rate limiter."""

    def __init__(self, res: Resources, queue: JobQueue, limiter: RateLimiter) -> None:
        self.res, self.queue, self.limiter = res, queue, limiter
        self.eta = Eta(res)

    # ---- submission --------------------------------------------------------------------------------------

    async def submit(
        self,
        key: ApiKey,
        request: GenerateRequest,
        *,
        idempotency_key: str | None = None,
        body: bytes | None = None,
        sent: Collection[str] | None = None,
        on_counted: CountedListener | None = None,
        earlier: Sequence[bytes] = (),
    ) -> Submitted:
        """Validate, store the product image, insert and enqueue a job for ``key``.

        ``body`` is the request's JSON (the API passes its parsed form re-encoded with sorted keys), hashed to tell
        a replay from a reuse of the Idempotency-Key with another request (default: the request's JSON encoding),
        and whose keys are the fields the client sent
        (those beat the preset's values; default: the fields that differ from their defaults). ``sent``: those
        keys when the caller has them already (the body is then not parsed again). ``earlier``: the request in the
        forms earlier versions hashed, which an Idempotency-Key row written before an upgrade holds (the API's
        ``earlier_fingerprints``; see :func:`storage.jobs.idempotent_prior`). Raises
        Forbidden (style not enabled, quota),
        InvalidRequest (options, webhook URL, image, mask hint), IdempotencyConflict, RateLimited, ImageTooLarge,
        UnsupportedImage; a refused request leaves no stored file behind. ``on_counted``: see
        :data:`CountedListener`.
        """
        admitted = await self._admit(
            key, request, idempotency_key, body, sent=sent, on_counted=on_counted, earlier=earlier
        )
        if isinstance(admitted, Submitted):
            return admitted
        raw = await intake.load_image(self.res, request.product_image)
        job_id = new_id("gen")
        return await self._insert(
            key,
            request,
            job_id,
            admitted,
            lambda: intake.store_image(self.res, job_id, raw),
            rerun_of=None,
            pixels=pixel_count(raw),
        )

    async def rerun(
        self,
        key: ApiKey,
        job_id: str,
        changes: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        on_counted: CountedListener | None = None,
    ) -> Submitted:
        """A new job from ``key``'s job ``job_id``'s stored photo, with ``changes`` over its request.

        ``changes`` holds request fields (not ``product_image``) that replace the source's; the others are kept,
        except ``mask_hint``, which applies only when given. Raises NotFound, InputExpired (the photo is past
        retention), and what :meth:`submit` raises.
        """
        source = await anyio.to_thread.run_sync(self.get, key, job_id)
        fields, carried = _rerun_fields(source, changes, self.res.presets)
        try:
            request = msgspec.convert(fields, GenerateRequest)
        except msgspec.ValidationError as exc:  # the changes were valid alone; the combination is not
            raise InvalidRequest(_misfit(exc)) from exc
        # Every field in ``fields`` counts as sent (the source's preset was applied when it was submitted; those a
        # newly named preset fills are left out of it); the same changes re-running another job are another
        # request for the Idempotency-Key.
        body = msgspec.json.encode(fields)
        marker = b"rerun " + source.id.encode() + b" "
        admitted = await self._admit(
            key, request, idempotency_key, body, hash_prefix=marker, on_counted=on_counted, carried=carried
        )
        if isinstance(admitted, Submitted):
            return admitted
        new_job_id = new_id("gen")
        input_file = new_job_id + source.input_file.removeprefix(source.id)
        try:
            photo = await anyio.to_thread.run_sync(self.res.files.read, source.input_file)
        except FileNotFoundError:
            photo = None
        if source.purged or photo is None:
            raise InputExpired(
                f"The photo of generation {source.id} was deleted after the retention period; "
                "submit it again with POST /v1/generate."
            )

        def store_photo() -> tuple[str, Sequence[str]]:
            self.res.files.put(input_file, photo)
            return input_file, source.input_notes

        return await self._insert(
            key,
            request,
            new_job_id,
            admitted,
            store_photo,
            rerun_of=source.id,
            background_of=source,
            pixels=source.input_pixels,
        )

    async def _admit(
        self,
        key: ApiKey,
        request: GenerateRequest,
        idempotency_key: str | None,
        body: bytes | None,
        hash_prefix: bytes = b"",
        sent: Collection[str] | None = None,
        on_counted: CountedListener | None = None,
        carried: dict[str, Any] | None = None,
        earlier: Sequence[bytes] = (),
    ) -> Submitted | _Admission:
        """Checks before any file is stored: an earlier job replayed, or what the insert needs.

        ``hash_prefix`` goes before the body in the Idempotency-Key's hash (a re-run's source job); ``sent``: see
        :meth:`submit`; ``carried``: stored options that are no request field, kept over the preset's (a
        re-run's, :func:`_rerun_fields`)."""
        res = self.res
        if key.styles and request.style not in key.styles:
            raise Forbidden(f"Style '{request.style}' is not enabled for this API key.")
        options, aspect_ratio = self.options_with_preset(request, body, sent)
        options.update(carried or {})
        res.catalog.check_options(
            RenderOptions(
                style=request.style,
                aspect_ratio=aspect_ratio,
                shadow=options["shadow"],
                padding=options.get("padding"),
                num_variants=request.num_variants,
                long_side=options.get("long_side", res.settings.output_long_side),
                backdrop=request.backdrop,
                placement=options.get("placement"),
            ),
            background_image=request.background_image is not None,
        )
        res.catalog.check_cutout_engine(request.cutout_engine)
        if request.backdrop is not None:  # 404 when it is not the key's (or shared): before any file is stored
            await anyio.to_thread.run_sync(backdrops.BackdropLibrary(res).find, key.id, request.backdrop)
        idempotency = None
        if idempotency_key:
            body_hash = hashlib.sha256(
                hash_prefix + (msgspec.json.encode(request) if body is None else body)
            ).hexdigest()
            legacy_hashes = [hashlib.sha256(hash_prefix + form).hexdigest() for form in earlier]
            prior = await anyio.to_thread.run_sync(
                jobs_sql.idempotent_prior, res.db.get(), key.id, idempotency_key, body_hash, legacy_hashes
            )
            if prior is not None:
                return Submitted(prior, replayed=True, rate=None)
            idempotency = (idempotency_key, body_hash, time.time())
        # A request counts from here, whatever its outcome: what follows (the webhook host's DNS, the image's
        # fetch and full decode) is the work the limit protects, and a refused image costs as much of it as an
        # accepted one. What was refused above (style, options, replay: no I/O) did not count.
        rate = self.count(key, on_counted)
        if request.webhook_url:
            await intake.check_webhook_url(res, request.webhook_url)
        problem = res.db.identity_problem()
        if problem:  # the database file was deleted or replaced: accepting now would lose the job
            raise DatabaseGone(problem)
        return _Admission(idempotency, rate, options, aspect_ratio)

    def count(self, key: ApiKey, on_counted: CountedListener | None = None) -> RateWindow:
        """Count one request against ``key``'s rate limit (a submission, a check) and tell ``on_counted``.

        Raises:
            RateLimited: the key's limit per minute is reached (the request is not counted).
        """
        remaining, reset = self.limiter.hit(key.id, key.rate_limit)
        rate = RateWindow(key.rate_limit, remaining, reset)
        if on_counted is not None:
            on_counted(rate)
        return rate

    async def _insert(
        self,
        key: ApiKey,
        request: GenerateRequest,
        job_id: str,
        admitted: _Admission,
        store_photo: Callable[[], tuple[str, Sequence[str]]],
        *,
        rerun_of: str | None,
        background_of: Job | None = None,
        pixels: int | None = None,
    ) -> Submitted:
        """Store the photo (``store_photo``: its file name and notes), the mask hint and background image, insert
        the job (quota, idempotency) and enqueue it, in one trip to a thread; no file left on refusal.
        ``background_of``: a re-run's source, whose background image is kept unless the request sends another.
        ``pixels``: the photo's, from its header (``imaging.dimensions``; its job time grows with them)."""
        background = None
        if request.background_image:  # fetched (or decoded) here: a fetch waits on the event loop, not in a thread
            background = await intake.load_image(self.res, request.background_image, "background_image")
        cutout = admitted.options.get("cutout_engine")
        # The same as the row's seq after the insert: the last of its key's jobs of that priority. Estimated here:
        # the ETA's snapshot is checked against the event loop's connection (``Eta``).
        estimate = self.estimate(Pending(job_id, key.id, request.style, cutout, request.priority, 2**62, None, pixels))
        try:
            job, created = await trip.run_in_thread(
                self._store_and_create,
                key,
                request,
                job_id,
                admitted,
                store_photo,
                background,
                background_of,
                rerun_of,
                estimate,
                pixels,
            )
        except BaseException:
            self.eta.forget(job_id)
            raise
        if not created:  # a concurrent request with the same Idempotency-Key inserted first
            self.eta.forget(job_id)
        return Submitted(job, replayed=not created, rate=admitted.rate)

    def _store_and_create(
        self,
        key: ApiKey,
        request: GenerateRequest,
        job_id: str,
        admitted: _Admission,
        store_photo: Callable[[], tuple[str, Sequence[str]]],
        background: bytes | None,
        background_of: Job | None,
        rerun_of: str | None,
        estimate: int,
        pixels: int | None,
    ) -> tuple[Job, bool]:
        """:meth:`_insert`'s files and row, blocking: each trip to a thread and back costs a request its wait for
        a free thread, the GIL and the event loop, so a submission makes one. Files are deleted again when the row
        is not created (refused, or a concurrent request with the same Idempotency-Key inserted first)."""
        res, stored = self.res, []
        try:
            input_file, input_notes = store_photo()
            stored.append(input_file)
            hint_file = None
            if request.mask_hint:
                hint_file = intake.store_hint(res, job_id, request.mask_hint, input_file)
                stored.append(hint_file)
            background_file = None
            if background is not None:
                background_file = backdrops.store_background(res, job_id, background)
                stored.append(background_file)
            elif background_of is not None and background_of.background_file:
                background_file = job_id + background_of.background_file.removeprefix(background_of.id)
                res.files.put(background_file, res.files.read(background_of.background_file))
                stored.append(background_file)
            new = NewJob(
                id=job_id,
                key_id=key.id,
                style=request.style,
                aspect_ratio=admitted.aspect_ratio,
                options=admitted.options,
                webhook_url=request.webhook_url,
                seed=request.seed,
                input_file=input_file,
                created_at=iso(time.time()),
                estimated_seconds=estimate,
                input_pixels=pixels,
                hint_file=hint_file,
                filename=request.filename,
                rerun_of=rerun_of,
                input_notes=list(input_notes),
                background_file=background_file,
                priority=request.priority,
            )
            job, created = self._create_and_enqueue(key, new, admitted)
        except BaseException:  # any failure once files are stored (hint, quota, full disk, queue): keep none
            for name in stored:
                res.files.delete(name)
            raise
        if not created:
            for name in stored:
                res.files.delete(name)
        return job, created

    def options_with_preset(
        self, request: GenerateRequest, body: bytes | None, sent: Collection[str] | None = None
    ) -> tuple[dict[str, Any], AspectRatio]:
        """(stored options, aspect ratio) with the request's preset applied (see :func:`request_options`)."""
        fields = set(sent) if sent is not None else _sent_fields(request, body)
        return request_options(request, fields, self.res.presets)

    def _create_and_enqueue(self, key: ApiKey, new: NewJob, admitted: _Admission) -> tuple[Job, bool]:
        """Insert the job (quota, idempotency, cap on high) and put it on the queue, in one trip to a thread.

        When the queue cannot take it, the row is withdrawn so the client's error is the whole truth (no job runs
        later that the client was told had failed). Returns (job, created) as ``storage.jobs.create`` does.

        Raises:
            Unavailable: the queue could not be written (nothing was kept).
        """
        res = self.res
        job, created = jobs_sql.create(
            res.db.get(),
            new,
            quota=key.quota,
            idempotency=admitted.idempotency,
            high_limit=res.settings.high_priority_limit,
            counting=self.eta.counting,
            counted=self.eta.counted,
        )
        if not created:
            return job, created
        try:
            self.queue.enqueue(job.id)
        except Exception as exc:
            if not jobs_sql.withdraw(res.db.get(), job.id):  # a worker took it after all: it is durable, say 202
                return job, created
            log.error("queue %s cannot take job %s (withdrawn): %s", res.settings.queue_db, job.id, exc)
            raise Unavailable(
                "The job queue cannot be written right now, so this request was not accepted (nothing was kept). "
                "Retry later; the operator should run `doctor`."
            ) from exc
        return job, created

    def estimate(self, job: Pending) -> int:
        """Whole seconds until ``job``, about to be queued, should be done (``jobs.eta``)."""
        try:
            return self.eta.admit(job)
        except Exception:  # an estimate must never fail a submission; say why it is off
            log.warning("no estimate for %s (the queue could not be read); saying one minute", job.id, exc_info=True)
            return 60

    # ---- other operations --------------------------------------------------------------------------------

    def get(self, key: ApiKey, job_id: str) -> Job:
        """``key``'s job, or NotFound (another key's job is not found either)."""
        job = jobs_sql.get(self.res.db.get(), job_id, key.id)
        if job is None:
            raise generation_not_found(job_id, self.res.settings.record_retention_days)
        return job

    def cancel(self, key: ApiKey, job_id: str) -> Job:
        """Ask ``key``'s job to stop; a queued job ends ``failed``/``cancelled`` now, a running one at its next
        progress step (``jobs.runner``), an ended one is left as it is. Returns the job as it stands. Blocking
        (SQL).

        Raises NotFound, InvalidRequest (the job is storing its finished result: too late, it ends completed)."""
        job = self.get(key, job_id)
        asked = jobs_sql.request_cancel(self.res.db.get(), job.id)
        if job.state == "queued":
            ending.fail(self.res, job, "cancelled", "The generation was cancelled.", owner=None)
        now = self.get(key, job_id)
        if not asked and now.state == "running":
            raise InvalidRequest(
                f"Generation {job.id} is storing its finished images: too late to cancel it. It ends `completed`; "
                "poll it or wait for its webhook, and delete it if it is not wanted."
            )
        return now

    def reprioritise(self, key: ApiKey, job_id: str, priority: Priority) -> Job:
        """Give ``key``'s waiting job ``job_id`` another priority among the key's jobs. Blocking (SQL).

        Raises NotFound, InvalidRequest (it is not waiting any more: started or ended), Forbidden (``high`` while
        the key has ``high_priority_limit`` high-priority jobs waiting)."""
        job = self.get(key, job_id)
        if not fair.set_priority(self.res.db.get(), job.id, priority, self.res.settings.high_priority_limit):
            now = "has started" if self.get(key, job_id).state == "running" else "has ended"
            raise InvalidRequest(f"Generation {job_id} {now}; only a waiting generation can change its priority.")
        self.eta.forget()
        return self.get(key, job_id)

    def delete(self, key: ApiKey, job_id: str) -> None:
        """Delete ``key``'s job: its files go (their URLs then answer 404), a webhook not yet sent is not sent, a
        processing job ends without one; later reads answer NotFound. Blocking (SQL and files)."""
        job = jobs_sql.delete(self.res.db.get(), job_id, key.id, time.time())
        if job is None:
            raise generation_not_found(job_id, self.res.settings.record_retention_days)
        self.res.files.delete_owned(job.id, job.files())


def generation_not_found(job_id: str, record_retention_days: int) -> NotFound:
    """The spec's 404 ``not_found`` for a generation id this key cannot read, saying when records go."""
    return NotFound(
        f"Generation {shown(job_id)} not found (records are deleted {counted(record_retention_days, 'day')} after a "
        "generation ends)."
    )


@dataclass(frozen=True)
class _Admission:
    """A submission that passed the checks: its Idempotency-Key record to write, and the rate window."""

    idempotency: tuple[str, str, float] | None
    rate: RateWindow
    options: dict[str, Any]  # the stored options, preset applied
    aspect_ratio: AspectRatio


def _rerun_fields(
    source: Job, changes: dict[str, Any], presets: PresetCatalogue
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request fields, carried options) of a re-run of ``source`` with ``changes``.

    The request fields are the source's with ``changes`` applied (the photo is the stored one). The carried
    options are the source's stored options that are no request field, which the request would refuse: those a
    preset set (``long_side``, ``jpeg_quality``: ``imaging.presets.RenderValues``) and any an older version
    stored. They are kept as stored, unless the changes name another preset, whose values then apply.

    A re-run naming another preset is that preset's request: every field the preset sets takes the preset's
    value unless ``changes`` sends the field itself (as on a fresh request), so the source's stored values
    (its own preset's, or its defaults) do not outvote the new preset's rules (breaker13 B13-17). Fields the
    new preset leaves keep the source's values. Raises InvalidRequest naming the known presets for an unknown
    one."""
    request_names = set(GenerateRequest.__struct_fields__)
    stored = {k: v for k, v in source.options.items() if k in request_names}
    kept = {
        "style": source.style,
        "aspect_ratio": source.aspect_ratio,
        "seed": source.seed,
        "webhook_url": source.webhook_url,
        "filename": source.filename,
        "priority": source.priority,
        **stored,
    }
    merged = {k: v for k, v in {**kept, **changes}.items() if v is not None}
    if merged.get("preset") == source.options.get("preset"):
        carried = {k: v for k, v in source.options.items() if k not in request_names}
        return {**merged, "product_image": _STORED}, carried
    if "preset" in merged:
        render = msgspec.structs.asdict(presets.get(merged["preset"]).render)
        for name, value in render.items():
            if value is not None and name not in changes:
                merged.pop(name, None)  # left unsent: the new preset fills it (request_options)
    return {**merged, "product_image": _STORED}, {}


def _misfit(exc: msgspec.ValidationError) -> str:
    """The 400 message of a re-run whose changes, each valid, do not fit the source's stored options: it names
    the field msgspec names (``- at `$.field```), or says msgspec's problem when it names none (a check of the
    whole request); msgspec's path syntax stays in the log."""
    problem, _, at = str(exc).partition(" - at `$.")
    field = re.match(r"\w+", at)
    if field is not None:
        return (
            f"The re-run's options do not fit together: {field.group()} does not go with the source generation's "
            "other options; send it again with the re-run, or a value that fits."
        )
    return (
        f"The re-run's options do not fit together: {problem.replace('`', '')}; change the options that "
        "disagree in the re-run."
    )


def request_options(
    request: GenerateRequest, sent: set[str], presets: PresetCatalogue
) -> tuple[dict[str, Any], AspectRatio]:
    """(options to store, aspect ratio): the request's preset's values where the request did not send the field
    itself (``sent`` names the fields it did). Raises InvalidRequest for an unknown preset id."""
    options = _options(request)
    for preset_id in request.compliance_check or ():
        presets.get(preset_id)
    if request.preset is None:
        return options, request.aspect_ratio
    values = msgspec.structs.asdict(request)
    resolved = resolve_options(presets.get(request.preset), {name: values[name] for name in sent if name in values})
    options.update({k: v for k, v in resolved.items() if k not in _COLUMN_FIELDS})
    return options, resolved.get("aspect_ratio", request.aspect_ratio)


def _sent_fields(request: GenerateRequest, body: bytes | None) -> set[str]:
    """Fields the client sent: the keys of the JSON body; without one, the fields that differ from the default."""
    if body is not None:
        return set(msgspec.json.decode(body, type=dict[str, msgspec.Raw]))  # keys only: the image is not copied
    return {
        f.name
        for f in msgspec.structs.fields(request)
        if getattr(request, f.name) != (f.default if f.default is not msgspec.NODEFAULT else object())
    }


def _options(request: GenerateRequest) -> dict[str, Any]:
    """The request's option fields (those left null are left out)."""
    return {
        name: value
        for name, value in msgspec.structs.asdict(request).items()
        if name not in _COLUMN_FIELDS and value is not None
    }
