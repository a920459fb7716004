"""Per-process resources built from settings, shared by the API and the workers: DB connections, file
store, engine catalogue, URL-signing secret, outgoing-request policy. Each loads on first use. (The engines
themselves are the workers' and the CLI's: ``jobs.context.WorkerContext.engines``.)"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .catalog import EngineCatalog
from .finishing import Finisher
from .imaging.presets import PresetCatalogue, load_presets
from .net.addresses import AddressPolicy
from .settings import Settings
from .signing import load_or_create_secret
from .storage.db import ThreadLocalDB
from .storage.files import FileStore


@dataclass
class Resources:
    """Build once per process; cheap until a resource is first used. ``create_db=False`` (workers): a missing
    database is an error, never a new empty one (``storage.db.ThreadLocalDB``)."""

    settings: Settings
    create_db: bool = True

    @cached_property
    def db(self) -> ThreadLocalDB:
        return ThreadLocalDB(self.settings.app_db, create=self.create_db)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.settings.files_dir)

    @cached_property
    def catalog(self) -> EngineCatalog:
        return EngineCatalog(self.settings)

    @cached_property
    def presets(self) -> PresetCatalogue:
        """Built-in presets plus the operator's folder; raises PresetError on a bad file (checked at start)."""
        folder = self.settings.presets_dir
        return load_presets(Path(folder).expanduser() if folder else None)

    @cached_property
    def finisher(self) -> Finisher:
        return Finisher(self.settings, self.presets)

    @cached_property
    def secret(self) -> bytes:
        return load_or_create_secret(self.settings.home)

    @cached_property
    def policy(self) -> AddressPolicy:
        return AddressPolicy(self.settings.allow_private_network, self.settings.allowed_networks)
