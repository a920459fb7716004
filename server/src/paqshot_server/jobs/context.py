"""Per-process resources of a worker: settings, DB connections, file store, engines, signing secret."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property

from ..engines import Engines
from ..ids import ulid
from ..net.addresses import AddressPolicy
from ..settings import Settings
from ..signing import load_or_create_secret
from ..storage.db import ThreadLocalDB
from ..storage.files import FileStore


@dataclass
class WorkerContext:
    """Built once per worker process; heavy things (engines, model sessions) load on first use."""

    settings: Settings
    worker_id: str = field(default_factory=lambda: f"wrk_{socket.gethostname()}_{os.getpid()}_{ulid()[-6:]}")

    @cached_property
    def db(self) -> ThreadLocalDB:
        return ThreadLocalDB(self.settings.app_db)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.settings.files_dir)

    @cached_property
    def engines(self) -> Engines:
        return Engines(self.settings)

    @cached_property
    def secret(self) -> bytes:
        return load_or_create_secret(self.settings.home)

    @cached_property
    def policy(self) -> AddressPolicy:
        return AddressPolicy(self.settings.allow_private_network, self.settings.allowed_networks)
