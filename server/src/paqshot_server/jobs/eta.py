"""Honest ETAs: when a waiting or running job should be done, from this appliance's recent job times per engine and
photo size (:class:`JobTimes`) and the job's place under the fair policy (``storage.fair``).

A snapshot of the queue (queued jobs per key in serving order, running jobs, the policy's tags, the live worker
slots, recent job times) is read again after :data:`MAX_AGE` seconds, or :data:`MIN_AGE` once another writer has
changed what it reads (``storage.jobs.queue_changes``, counted by triggers, less the counts of this process's own
submissions, recorded inside their transactions), and extended in place by this process's own submissions, so a
burst of submissions is estimated in order without re-reading the queue each time. The plan is list scheduling: jobs in
the fair order, each started on the slot that frees first (a running job frees its slot after its job time, less
what it has run), each taking its engine's job time for its photo's size. Estimates are whole seconds (the spec's
type), the one nearest in relative error (:func:`whole_seconds`): rounding up would double a sub-second job's estimate.
"""

from __future__ import annotations

import heapq
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..imaging.options import AUTO_CUTOUT, CLASSICAL_CUTOUT
from ..imaging.styles import family
from ..resources import Resources
from ..storage import fair
from ..storage import jobs as jobs_sql
from ..storage import workers as workers_sql
from ..storage.fair import Pending, Waiting
from ..storage.jobs import Job

MAX_AGE = 1.0  # seconds a snapshot of the queue serves at most
# ... and at least, once another writer has changed the queue (a job started or ended, another process's submission);
# this process's own submissions are in the snapshot already (a busy door's group commits re-read a long queue on the
# event loop every MIN_AGE or so, for nothing: issue-14.md, "Door tail, session 8" and "session 9").
MIN_AGE = 0.25
# ... and, between those, at least the read's own CPU time over this share: the event loop spends at most ~2 % of its
# time reading a changed queue again, however long the queue (and reads it at MAX_AGE whatever). A read is O(queued
# jobs): with ~3,000 queued (bench_api's 16-client phase) each took milliseconds on the loop, 7.4 % of its GIL time,
# and stalled every request behind it (issue-14.md, "Door tail, session 6"). This process's own submissions keep
# the snapshot up to date meanwhile.
READ_SHARE = 0.02
RECENT = 20  # completed jobs per engine whose job times are fitted
SAMPLES = 400  # completed jobs read for those fits
OUTLIER = 5.0  # a job time over this many times the engine's median (for the job's photo size) is left out
# Seconds per job before this appliance has measured an engine (2-core machine, 2000² photo; bench/bench_eta.py
# prints the measured ones).
PRIOR_SECONDS = {"classical": 0.8, "procedural": 2.5}
PRIOR_MODEL_SECONDS = {"onnx": 2.0, "diffusion": 180.0}
PRIOR_OTHER_SECONDS = 15.0
PRIOR_MEGAPIXELS = 4.0  # the photo size the priors are for
# The share of a job's time at PRIOR_MEGAPIXELS that does not grow with the photo's pixels (the cut-out at its model's
# size, compose and encode at the output's size), used while the recent jobs give no slope; the rest grows in
# proportion to the pixels. Measured (issue-14.md, "ETA by the photo's size, session 7"): ~0.7 for the classical
# studio job (JPEG and PNG, 1-40 MP) and for u2netp (breaker6: ~2 s at 4 MP, 7-8 s at 40 MP).
FIXED_SHARE = 0.7
MIN_POINTS = 3  # jobs of known photo size needed to fit an engine's line
# ... and their largest photo at least this many times their smallest and this many megapixels larger (else the
# slope is noise: the tests' 0.01 MP photos would extrapolate it to 40 MP)
MIN_SPREAD, MIN_RANGE = 2.0, 1.0
REMAINING_FLOOR = 0.1  # a running job past its expected time is taken to need this share of it still


def prior_seconds(engine: str) -> float:
    """The job time assumed for ``engine`` (a photo of :data:`PRIOR_MEGAPIXELS`) until one of its jobs has
    completed here."""
    if engine in PRIOR_SECONDS:
        return PRIOR_SECONDS[engine]
    return PRIOR_MODEL_SECONDS.get(engine.split(":", 1)[0], PRIOR_OTHER_SECONDS)


def whole_seconds(seconds: float) -> int:
    """``estimated_seconds`` for a job planned to be done in ``seconds``: the whole second ``n >= 1`` nearest in
    relative error (``seconds / n - 1``, the issue's measure of an estimate: done within ±50 % of it), i.e. ``n + 1``
    from the harmonic mean of ``n`` and ``n + 1`` on (1.33 s is told 2, 2.4 s is told 3). Rounding to the nearest
    told a 1.45 s plan "1", 45 % short, where "2" is 27 % long; with 2 workers a burst's first dozen jobs are planned
    at 1-2 s (issue-14.md, "ETA with 2 workers, session 14")."""
    whole = max(1, math.floor(seconds))
    return whole + 1 if seconds > 2 * whole * (whole + 1) / (2 * whole + 1) else whole


def shape(megapixels: float) -> float:
    """A job's time for a photo of ``megapixels`` over its time at :data:`PRIOR_MEGAPIXELS`, as assumed while the
    engine's recent jobs give no slope (:data:`FIXED_SHARE`)."""
    return FIXED_SHARE + (1 - FIXED_SHARE) * megapixels / PRIOR_MEGAPIXELS


class JobTimes:
    """Seconds per job by engine and photo size: ``a + b × megapixels``, a line fitted by least squares to the
    engine's last :data:`RECENT` completed jobs, each timed while it held its worker (claim, render and store:
    ``storage.jobs.recent_durations``), what the plan's slots wait for.

    The form: a job's time is a fixed part (the cut-out model at its own input size, compose and encode at the output's
    size) plus the decode, the working image and the full-resolution crop, which grow with the photo's pixels; the
    output's size matters less (breaker6's 40 MP photo: 7.1 s for a 512 px output, 8.4 s for 2048 px). Measured per size
    (issue-14.md, "ETA by the photo's size, session 7"): the classical studio job takes ~0.2 / 0.5 / 1.05 s for PNGs of
    1 / 12 / 40 MP (about linear) and ~0.2 / 0.5 / 0.7 s for JPEGs (DCT scaling flattens it: the line over-estimates the
    middle sizes a little). Outliers (over :data:`OUTLIER` times the median, each time divided by :func:`shape` of its
    size: a cold start, a stall) are left out. Fallbacks: fewer than :data:`MIN_POINTS` jobs of known size, or sizes too
    close (:data:`MIN_SPREAD`, :data:`MIN_RANGE`: no slope to see), or a negative slope: the :func:`shape` line scaled
    to the jobs' mean; a negative intercept: a line through zero; only jobs of unknown size (rows from before the door
    read it, a header it could not read): their mean, whatever the size; nothing measured: :func:`prior_seconds` along
    :func:`shape`.

    ``samples``: (engine, seconds, pixels or None), newest first (``storage.jobs.recent_durations``).
    """

    def __init__(self, samples: list[tuple[str, float, int | None]]) -> None:
        by_engine: dict[str, list[tuple[float | None, float]]] = {}
        for engine, seconds, pixels in samples:
            recent = by_engine.setdefault(engine, [])
            if len(recent) < RECENT:
                recent.append((None if pixels is None else pixels / 1e6, seconds))
        self._lines = {engine: _line(points) for engine, points in by_engine.items()}

    def seconds(self, engine: str, pixels: int | None = None) -> float:
        """Expected seconds of a job of ``engine`` for a photo of ``pixels`` (None: :data:`PRIOR_MEGAPIXELS`)."""
        megapixels = PRIOR_MEGAPIXELS if pixels is None else pixels / 1e6
        line = self._lines.get(engine)
        if line is None:
            return prior_seconds(engine) * shape(megapixels)
        return line[0] + line[1] * megapixels

    def line(self, engine: str) -> tuple[float, float] | None:
        """(a seconds, b seconds per megapixel) of ``engine``, None before one of its jobs has completed here."""
        return self._lines.get(engine)


def _line(points: list[tuple[float | None, float]]) -> tuple[float, float]:
    """(a, b) of :class:`JobTimes` from (megapixels or None, seconds) points (at least one): :func:`_fit` of those
    of known size, else their mean whatever the size (rows from before the door read it)."""
    sized = [(mp, s) for mp, s in points if mp is not None]
    if sized:
        return _fit(sized)
    median = statistics.median(s for _, s in points)
    return statistics.fmean([s for _, s in points if s <= OUTLIER * median]), 0.0


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of :class:`JobTimes` from (megapixels, seconds) points (at least one)."""
    median = statistics.median(s / shape(mp) for mp, s in points)
    kept = [(mp, s) for mp, s in points if s / shape(mp) <= OUTLIER * median] or points
    xs, ys = [p[0] for p in kept], [p[1] for p in kept]
    if len(kept) >= MIN_POINTS and max(xs) >= max(MIN_SPREAD * min(xs), min(xs) + MIN_RANGE):
        mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in kept) / sum((x - mean_x) ** 2 for x in xs)
        if slope >= 0:
            intercept = mean_y - slope * mean_x
            if intercept >= 0:
                return intercept, slope
            return 0.0, sum(x * y for x, y in kept) / sum(x * x for x in xs)
    scale = statistics.fmean(y / shape(x) for x, y in kept)  # seconds at PRIOR_MEGAPIXELS
    return scale * FIXED_SHARE, scale * (1 - FIXED_SHARE) / PRIOR_MEGAPIXELS


def expected_engine(engine_of_style: Callable[[str], str], style: str, cutout_engine: str | None) -> str:
    """The engine a job will record: the style's, or for a studio job the cut-out its request named."""
    if family(style) == "studio" and cutout_engine and cutout_engine != AUTO_CUTOUT:
        return cutout_engine if cutout_engine == CLASSICAL_CUTOUT else f"onnx:{cutout_engine}"
    return engine_of_style(style)


@dataclass
class Snapshot:
    """The queue at one moment, and the plan made from it (epoch seconds each job should be done)."""

    taken: float  # time.monotonic()
    now: float  # time.time()
    changes: int  # storage.jobs.queue_changes when it was read, then past this process's own submissions' counts
    queues: dict[str, list[Pending]]
    keys: dict[str, Waiting]
    clock: float
    running: list[Pending]
    slots: int  # job slots of live workers (0: none alive)
    times: JobTimes
    engine_of_style: Callable[[str], str]
    _engines: dict[tuple[str, str | None], str] = field(default_factory=dict)
    _done_at: dict[str, float] | None = None
    # The plan's end, to extend it by a job served after all planned ones (:meth:`_extend`): when each slot frees,
    # the last planned job's place in the fair order, each key's last place.
    _free: list[float] = field(default_factory=list)
    _last: fair.Place | None = None
    _last_of: dict[str, fair.Place] = field(default_factory=dict)
    added: set[str] = field(default_factory=set)  # this process's submissions in it (:meth:`add`, :meth:`Eta._carry`)
    carried: set[str] = field(default_factory=set)  # ... of those, the ones added though not committed when it was read
    read_changes: int = 0  # storage.jobs.queue_changes when it was read

    def job_seconds(self, job: Pending) -> float:
        how = (job.style, job.cutout_engine)
        if how not in self._engines:
            self._engines[how] = expected_engine(self.engine_of_style, job.style, job.cutout_engine)
        return self.times.seconds(self._engines[how], job.pixels)

    def remaining(self, job: Pending, now: float) -> float:
        """Seconds a running job still needs."""
        expected = self.job_seconds(job)
        elapsed = now - (job.claimed_at or now)
        return max(expected - elapsed, REMAINING_FLOOR * expected)

    def add(self, job: Pending, waiting: Callable[[], Waiting]) -> None:
        """A job this process just queued (``waiting``: its key's tags when the key had nothing queued)."""
        self.added.add(job.id)
        queue = self.queues.setdefault(job.key_id, [])
        at = len(queue)
        while at and queue[at - 1].rank() > job.rank():
            at -= 1
        queue.insert(at, job)
        if job.key_id not in self.keys:
            self.keys[job.key_id] = waiting()
        if self._done_at is None or at < len(queue) - 1 or not self._extend(job):
            self._done_at = None  # planned again when next asked

    def _extend(self, job: Pending) -> bool:
        """Plan ``job``, the last of its key's queue, if the policy serves it after every planned job (a burst from
        one key, the key furthest behind): the plan made again would be the same plus this job. False otherwise.
        Spares each submission a plan of the whole queue (~1.5 ms at 1,000 queued jobs)."""
        assert self._done_at is not None
        key = self.keys[job.key_id]
        before = self._last_of.get(job.key_id)
        place = fair.next_place(before) if before else fair.first_place(key, self.clock)
        if self._last is not None and place <= self._last:
            return False
        start = heapq.heappop(self._free)
        self._done_at[job.id] = done = start + self.job_seconds(job)
        heapq.heappush(self._free, done)
        self._last = self._last_of[job.key_id] = place
        return True

    def done_at(self) -> dict[str, float]:
        """Epoch seconds each queued or running job should be done (one slot assumed while none is alive)."""
        if self._done_at is None:
            now, done = self.now, {}
            free = []
            for job in self.running:
                done[job.id] = now + self.remaining(job, now)
                free.append(done[job.id])
            slots = max(self.slots, 1)
            free = sorted(free)[:slots] + [now] * max(0, slots - len(free))
            heapq.heapify(free)
            self._last, self._last_of = None, {}
            for place, job in fair.tagged_order(self.queues, list(self.keys.values()), self.clock):
                start = heapq.heappop(free)
                done[job.id] = start + self.job_seconds(job)
                heapq.heappush(free, done[job.id])
                self._last = self._last_of[job.key_id] = place
            self._free, self._done_at = free, done
        return self._done_at


class Eta:
    """One per process (the jobs service holds it). Thread-safe."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._read_seconds = 0.0  # what the last read of the queue cost
        self._inflight: dict[str, Pending] = {}  # estimated (admit), not yet committed (counted) nor forgotten
        # queue_changes before -> (after, job id) of this process's submissions, recorded inside their write
        # transactions (:meth:`counting`), committed or about to be; those below the snapshot's count are dropped.
        # Its own lock: the recording thread holds the database's write lock, and ``_lock`` can be held through a read
        # of the queue.
        self._spans: dict[int, tuple[int, str]] = {}
        self._spans_lock = threading.Lock()

    def _read(self) -> Snapshot:
        settings, conn = self.res.settings, self.res.db.get().conn
        now = time.time()
        changes = jobs_sql.queue_changes(conn)  # first: a change made while the rest is read is read again later
        queues = fair.queued_in_order(conn)
        keys, clock = fair.waiting(conn)
        alive, problems = workers_sql.live_problems(self.res.db.get(), now - worker_timeout(settings.sweep_seconds))
        return Snapshot(
            taken=time.monotonic(),
            now=now,
            changes=changes,
            read_changes=changes,
            queues=queues,
            keys={k.key_id: k for k in keys},
            clock=clock,
            running=fair.running(conn),
            slots=max(0, alive - len(problems)) * settings.worker_threads,
            times=JobTimes(jobs_sql.recent_durations(self.res.db.get(), SAMPLES)),
            engine_of_style=lambda style: self.res.catalog.status(style).engine,
        )

    def _current(self, max_age: float | None = None) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is None or self._stale(snapshot, MAX_AGE if max_age is None else max_age):
            started = time.thread_time()  # this thread's own work: not the waits for the GIL meanwhile
            snapshot = self._snapshot = self._read()
            self._read_seconds = time.thread_time() - started
            self._carry(snapshot)
            with self._spans_lock:  # spans of submissions committed after the read are the new snapshot's own
                self._spans = {before: span for before, span in self._spans.items() if before >= snapshot.changes}
        return snapshot

    def _carry(self, snapshot: Snapshot) -> None:
        """Put this process's submissions that were estimated but not committed when ``snapshot`` was read into it,
        as they will be queued (a busy door always has some: without them every read was followed by their commits,
        counted as changes the snapshot did not have, and the queue was read again at each spacing). Those it read
        are marked as its own too: their commits' counts, if after the read's, are stepped over."""
        if not self._inflight:
            return
        read = {job.id for queue in snapshot.queues.values() for job in queue}
        read.update(job.id for job in snapshot.running)
        for job in self._inflight.values():
            if job.id not in read:
                snapshot.add(job, self._waiting(job))
                snapshot.carried.add(job.id)
            snapshot.added.add(job.id)

    def _waiting(self, job: Pending) -> Callable[[], Waiting]:
        return lambda: fair.key_state(self.res.db.get().conn, job.key_id, job.seq)

    def _stale(self, snapshot: Snapshot, max_age: float) -> bool:
        age = time.monotonic() - snapshot.taken
        if age > max_age:
            return True
        spacing = max(min(MIN_AGE, max_age), self._read_seconds / READ_SHARE)
        if age <= spacing:
            return False
        return not self._own_changes_only(snapshot, jobs_sql.queue_changes(self.res.db.get().conn))

    def _own_changes_only(self, snapshot: Snapshot, changes: int) -> bool:
        """Whether the queue's change count went from the snapshot's to ``changes`` through this process's own
        submissions only, each in the snapshot (then the snapshot's count becomes ``changes``). Any other change
        (another writer's, a job the snapshot does not hold) breaks the chain: False."""
        with self._spans_lock:
            count = snapshot.changes
            while count != changes:
                span = self._spans.get(count)
                if span is None or span[0] <= count or span[1] not in snapshot.added:
                    return False
                count = span[0]
            snapshot.changes = changes
            self._spans = {before: span for before, span in self._spans.items() if before >= changes}
            return True

    def counting(self, job_id: str, before: int, after: int) -> None:
        """Inside the write transaction that inserts ``job_id`` (which :meth:`admit` estimated), once its insert has
        run: the queue's change count goes from ``before`` to ``after`` with it (``storage.jobs.create``'s
        ``counting``). Recorded now, not once committed: the event loop may see the commit before the committing
        thread gets back to report it (at 16 concurrent submissions one nearly always was in that window, and the
        queue was read again for it: issue-14.md, "session 9", "session 10"). Should the transaction not commit, the
        submission fails and :meth:`forget` drops the snapshot and the span."""
        if job_id in self._inflight:
            with self._spans_lock:
                self._spans[before] = (after, job_id)

    def counted(self, job_id: str, before: int, after: int) -> None:
        """``job_id``, which :meth:`admit` estimated, is committed, and the queue's change count went from ``before``
        to ``after`` with it (``storage.jobs.create``'s ``counted``; its span was recorded by :meth:`counting`). A job
        carried into the snapshot as not yet committed (:meth:`_carry`) whose commit came before the read, yet was not
        read, has ended meanwhile: the snapshot is dropped."""
        with self._lock:
            self._inflight.pop(job_id, None)
            snapshot = self._snapshot
            if snapshot is not None and job_id in snapshot.carried and before < snapshot.read_changes:
                self._snapshot = None

    def admit(self, job: Pending) -> int:
        """Whole seconds until ``job``, about to be queued, should be done (the 202's ``estimated_seconds``).

        Call :meth:`counted` once it is committed, :meth:`forget` with its id if it is not queued after all."""
        with self._lock:
            snapshot = self._current()
            snapshot.add(job, self._waiting(job))
            self._inflight[job.id] = job
            return whole_seconds(snapshot.done_at()[job.id] - time.time())

    def forget(self, job_id: str | None = None) -> None:
        """Drop the snapshot (``job_id``, which :meth:`admit` counted, was not queued; or a job's place changed)."""
        with self._lock:
            if job_id is not None:
                self._inflight.pop(job_id, None)
                with self._spans_lock:  # its transaction did not commit: its count is not its own (nor anyone's yet)
                    self._spans = {before: span for before, span in self._spans.items() if span[1] != job_id}
            self._snapshot = None

    def seconds(self, job: Job) -> float | None:
        """Seconds until ``job`` (queued or running) should be done, now; None while no worker is alive or when
        the job is not waiting any more."""
        with self._lock:
            snapshot = self._current()
            unknown = job.id not in snapshot.done_at() or snapshot.slots == 0
            if unknown and time.monotonic() - snapshot.taken > MAX_AGE / 10:
                snapshot = self._current(max_age=0)  # queued by another process, or a worker came, since
            if snapshot.slots == 0:
                return None
            now = time.time()
            if job.state == "running":
                cutout = job.options.get("cutout_engine")
                pending = Pending(
                    job.id, job.key_id, job.style, cutout, job.priority, 0, job.claimed_at, job.input_pixels
                )
                return round(snapshot.remaining(pending, now), 1)
            done = snapshot.done_at().get(job.id)
            return None if done is None else round(max(0.0, done - now), 1)


def worker_timeout(sweep_seconds: float) -> float:
    """A worker whose last heartbeat is older than this is taken for dead (heartbeats come every sweep)."""
    return max(30.0, sweep_seconds * 3)
