"""Per-process resources of a worker: the shared ones, the engines, and the worker's identity."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from ..engines import LocalResources
from ..ids import ulid


@dataclass
class WorkerContext(LocalResources):
    """Built once per worker process; heavy things (engines, model sessions) load on first use."""

    worker_id: str = field(default_factory=lambda: f"wrk_{socket.gethostname()}_{os.getpid()}_{ulid()[-6:]}")
