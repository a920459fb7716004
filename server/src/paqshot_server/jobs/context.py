"""Per-process resources of a worker: the shared ones plus the worker's identity."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property

from ..engines import Engines
from ..ids import ulid
from ..resources import Resources


@dataclass
class WorkerContext(Resources):
    """Built once per worker process; heavy things (engines, model sessions) load on first use."""

    worker_id: str = field(default_factory=lambda: f"wrk_{socket.gethostname()}_{os.getpid()}_{ulid()[-6:]}")

    @cached_property
    def engines(self) -> Engines:
        return Engines(self.settings)

    @property
    def catalog(self) -> Engines:  # one object answers both in a worker
        return self.engines
