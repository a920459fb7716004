"""Stamps of where a submission's time goes in ``serve`` (loaded through ``PYTHONPATH`` by
``bench/bench_door_stamps.py``; does nothing in any process not started as ``serve``, nor without
``DOOR_STAMPS_OUT``).

Per ``POST`` (``time.perf_counter`` seconds): ``begin`` (the parser met the request line), ``headers`` (headers
complete), ``app`` (the ASGI app called), ``body`` (the last body chunk taken), ``json``/``b64`` (``parse_json``,
``decode_base64``: start, end), ``trip`` (handed over, started in its thread, ended there, the loop resumed the
request, the thread's CPU), within the trip ``store`` (``store_image``), ``put`` (the photo's atomic write and
fsyncs), ``create`` (the jobs row's grouped insert and commit), ``cae`` (row and queue entry), ``slow`` (a verify
or full decode outside the trip's lane), ``resp0``/``resp1`` (the response started, its body written).
Process-wide: the event loop's lateness every 2 ms with the loop thread's CPU and run-queue wait over the same window
(``/proc/thread-self/schedstat``), and every garbage collection (``gc.callbacks``: start, end, generation,
objects collected, thread). Written as JSON at exit.

The wrappers add a few microseconds a stage and the sleeper wakes the loop 500 times a second: read the stages'
shares and the slow requests against the median ones, not absolute milliseconds.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import threading
import time
from typing import Any

OUT = os.environ.get("DOOR_STAMPS_OUT")


def _install(out: str) -> None:
    import asyncio
    from contextlib import contextmanager

    import paqshot_server.app as app_module
    from paqshot_server.api import jsonbody, protocol
    from paqshot_server.jobs import intake, service, trip
    from paqshot_server.storage import files, jobs

    now = time.perf_counter
    recs: list[dict[str, Any]] = []
    lags: list[tuple[float, float, float, float]] = []
    gcs: list[tuple[float, float, int, int, str]] = []
    current: dict[Any, dict[str, Any]] = {}
    local = threading.local()
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = now()
        else:
            gcs.append((gc_start[0], now(), info["generation"], info["collected"], threading.current_thread().name))

    gc.callbacks.append(on_gc)

    def record() -> dict[str, Any] | None:
        held = getattr(local, "rec", None)
        if held is not None:
            return held
        try:
            return current.get(asyncio.current_task())
        except RuntimeError:  # a thread with no running loop and no trip
            return None

    def stamped(func: Any, name: str) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            rec, start = record(), now()
            try:
                return func(*args, **kwargs)
            finally:
                if rec is not None:
                    rec[name] = (start, now())

        return wrapper

    jsonbody.parse_json = stamped(jsonbody.parse_json, "json")
    intake.decode_base64 = stamped(intake.decode_base64, "b64")
    intake.store_image = stamped(intake.store_image, "store")
    jobs.create = stamped(jobs.create, "create")
    service.JobService._create_and_enqueue = stamped(service.JobService._create_and_enqueue, "cae")
    files.FileStore.put = stamped(files.FileStore.put, "put")
    real_slow, real_run = trip.slow, trip.run_in_thread

    @contextmanager
    def slow() -> Any:
        rec, start = record(), now()
        with real_slow():
            yield
        if rec is not None:
            rec["slow"] = (start, now())

    async def run_in_thread(func: Any, *args: Any) -> Any:
        rec, seen = current.get(asyncio.current_task()), {}

        def in_thread(*inner: Any) -> Any:
            local.rec, seen["start"], cpu = rec, now(), time.thread_time()
            try:
                return func(*inner)
            finally:
                seen["end"], seen["cpu"], local.rec = now(), time.thread_time() - cpu, None

        queued = now()
        try:
            return await real_run(in_thread, *args)
        finally:
            if rec is not None and "end" in seen:
                rec["trip"] = (queued, seen["start"], seen["end"], now(), seen["cpu"])

    trip.slow, trip.run_in_thread = slow, run_in_thread
    cls = protocol.SpecErrorsProtocol
    begin, headers_complete = cls.on_message_begin, cls.on_headers_complete

    def on_message_begin(self: Any) -> None:
        self._stamp_begin = now()
        begin(self)

    def on_headers_complete(self: Any) -> None:
        headers_complete(self)
        if isinstance(getattr(self, "scope", None), dict):
            self.scope["door_stamps"] = (getattr(self, "_stamp_begin", 0.0), now())

    cls.on_message_begin, cls.on_headers_complete = on_message_begin, on_headers_complete
    create_app = app_module.create_app

    def stamped_app(settings: Any) -> Any:
        app = create_app(settings)

        async def sleeper() -> None:
            fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)  # the loop thread's: on CPU, on a run queue (ns)

            def sched() -> tuple[float, float]:
                on_cpu, waiting = os.pread(fd, 100, 0).split()[:2]
                return int(on_cpu) / 1e9, int(waiting) / 1e9

            while True:
                start, (cpu0, wait0) = now(), sched()
                await asyncio.sleep(0.002)
                cpu1, wait1 = sched()
                lags.append((start, now() - start - 0.002, cpu1 - cpu0, wait1 - wait0))

        tasks: list[asyncio.Task[None]] = []
        app.on_startup.append(lambda: tasks.append(asyncio.get_running_loop().create_task(sleeper())))

        class Stamped:
            def __getattr__(self, name: str) -> Any:
                return getattr(app, name)

            async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
                if scope["type"] != "http" or scope["method"] != "POST":
                    return await app(scope, receive, send)
                first, parsed = scope.get("door_stamps", (0.0, 0.0))
                rec: dict[str, Any] = {"begin": first, "headers": parsed, "app": now()}
                current[asyncio.current_task()] = rec

                async def taken() -> Any:
                    message = await receive()
                    if message.get("type") == "http.request" and not message.get("more_body"):
                        rec["body"] = now()
                    return message

                async def sent(message: Any) -> None:
                    if message["type"] == "http.response.start":
                        rec["resp0"], rec["status"] = now(), message["status"]
                    await send(message)
                    if message["type"] == "http.response.body" and not message.get("more_body"):
                        rec["resp1"] = now()

                try:
                    return await app(scope, taken, sent)
                finally:
                    current.pop(asyncio.current_task(), None)
                    recs.append(rec)

        return Stamped()

    app_module.create_app = stamped_app

    def dump() -> None:
        with open(out, "w") as fh:
            json.dump({"recs": recs, "lags": lags, "gcs": gcs, "frozen": gc.get_freeze_count()}, fh)

    atexit.register(dump)


if OUT and "serve" in sys.argv:
    _install(OUT)
