"""Server-side brand identity: the only module that names the product.

Private-label partners replace these values with a brand file (``brand.toml``, the same file the desktop
bundle uses); every product string the server emits (OpenAPI title, docs page, key prefixes, webhook
signature header, User-Agent, environment prefix) comes from here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from . import __version__


@dataclass(frozen=True)
class Brand:
    """What a partner may rename. Defaults are the reference brand."""

    product_name: str = "Paqshot"
    slug: str = "paqshot"
    env_prefix: str = "PAQSHOT_"
    key_prefix: str = "pk_live_"
    webhook_secret_prefix: str = "whsec_"  # noqa: S105 - a prefix, not a secret
    signature_header: str = "X-Paqshot-Signature"
    description: str = "Self-hosted product-imagery appliance implementing the Paqshot v1 API."
    website: str = ""

    @property
    def user_agent(self) -> str:
        """User-Agent of every outgoing request (image fetches, webhooks)."""
        return f"{self.product_name}-Appliance/{__version__}"

    @property
    def cli_name(self) -> str:
        """Name of the command-line program as shown in help and messages."""
        return self.slug


DEFAULT_BRAND = Brand()


def load_brand(path: Path | None) -> Brand:
    """Read the ``[server]`` table of a brand file (or a plain table of the same keys) over the defaults."""
    if path is None:
        return DEFAULT_BRAND
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("server", data)
    known = {f.name for f in fields(Brand)}
    values = {k: v for k, v in table.items() if k in known and isinstance(v, str)}
    if "name" in data and "product_name" not in values and isinstance(data["name"], str):
        values["product_name"] = data["name"]
    return replace(DEFAULT_BRAND, **values)
