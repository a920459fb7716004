"""Resources shared by the API's handlers, built once by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..engines import Engines
from ..jobs.queue import JobQueue
from ..net.addresses import AddressPolicy
from ..settings import Settings
from ..signing import load_or_create_secret
from ..storage.db import ThreadLocalDB
from ..storage.files import FileStore
from .ratelimit import RateLimiter


@dataclass
class ApiState:
    settings: Settings
    limiter: RateLimiter = field(default_factory=RateLimiter)

    @cached_property
    def db(self) -> ThreadLocalDB:
        return ThreadLocalDB(self.settings.app_db)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.settings.files_dir)

    @cached_property
    def queue(self) -> JobQueue:
        return JobQueue(str(self.settings.queue_db))

    @cached_property
    def engines(self) -> Engines:
        return Engines(self.settings)

    @cached_property
    def secret(self) -> bytes:
        return load_or_create_secret(self.settings.home)

    @cached_property
    def policy(self) -> AddressPolicy:
        return AddressPolicy(self.settings.allow_private_network, self.settings.allowed_networks)
