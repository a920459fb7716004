"""The connection every part of the app shares: the current client, what the appliance offers, and names.

The controller owns one :class:`Session` and hands it to the helpers (batch, results), which read what they
need from it instead of reaching through the controller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import ApiClient
from .options import spec_capabilities
from .wire import Capabilities, Job, PresetInfo


@dataclass
class Session:
    """The connected appliance (``client`` is None while not connected) and the local names of its jobs."""

    client: ApiClient | None = None
    caps: Capabilities = field(default_factory=spec_capabilities)
    presets: tuple[PresetInfo, ...] = ()  # the marketplace presets it offers (GET /v1/presets), when it does
    # job id -> local file name it was made from (appliances without the ``filename`` extension forget it)
    sources: dict[str, str] = field(default_factory=dict)

    def name_of(self, job: Job) -> str:
        """What to call a job: its local file, the appliance's file name, else its id."""
        return self.sources.get(job.id) or job.filename or job.id

    def preset_titles(self) -> dict[str, str]:
        """Preset id -> its title, for showing a job's preset and compliance report in words."""
        return {p.id: p.title for p in self.presets if p.title}

    def offers(self, name: str) -> bool:
        """Whether the appliance accepts request field ``name`` (an extension such as ``mask_hint``)."""
        return self.caps.field(name) is not None
