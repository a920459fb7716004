"""Server-side brand identity: the only module that names the product.

Private-label partners replace these values with a brand file (``brand.toml``, the same file the desktop
bundle uses); every product string the server emits (OpenAPI title, docs page, key prefixes, webhook
signature header, User-Agent, environment prefix) comes from here.
"""

from __future__ import annotations

import re
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
    # The command that runs this appliance, as hints and the docs name it: the program this package installs
    # ([project.scripts]), or a brand file's [app] server_executable, the program the partner's packaging
    # installs (and the one the desktop starts). Not the slug: no `noir` command exists unless one is installed.
    cli_name: str = "paqshot"
    # Colours of the docs page, from the brand file's [colors] table (the desktop's tokens of the same names).
    accent: str = "#1769e0"
    sidebar: str = "#1f2a37"
    sidebar_text: str = "#e6ebf1"

    @property
    def user_agent(self) -> str:
        """User-Agent of every outgoing request (image fetches, webhooks): one RFC 9110 product token and its version,
        ``<Product>-Appliance/<version>`` (the product name's other characters, spaces included, become ``-``; no
        second "Appliance" when the name ends with it)."""
        name = re.sub(r"[^!#$%&'*+.^_`|~0-9A-Za-z-]+", "-", self.product_name).strip("-") or "Appliance"
        product = name if name.lower().endswith("appliance") else f"{name}-Appliance"
        return f"{product}/{__version__}"


DEFAULT_BRAND = Brand()


_COLOR_FIELDS = ("accent", "sidebar", "sidebar_text")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def load_brand(path: Path | None) -> Brand:
    """Read the ``[server]`` table of a brand file (or a plain table of the same keys) over the defaults, the
    docs page's colours from its ``[colors]`` table (``#RRGGBB`` values; others are ignored), and the command's
    name from ``[app] server_executable``."""
    if path is None:
        return DEFAULT_BRAND
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("server", data)
    known = {f.name for f in fields(Brand)} - {*_COLOR_FIELDS, "cli_name"}
    values = {k: v for k, v in table.items() if k in known and isinstance(v, str)}
    colors = data.get("colors", {})
    if isinstance(colors, dict):
        values |= {k: colors[k] for k in _COLOR_FIELDS if isinstance(colors.get(k), str) and _HEX.match(colors[k])}
    app = data.get("app", {})
    if isinstance(app, dict) and isinstance(app.get("server_executable"), str) and app["server_executable"]:
        values["cli_name"] = app["server_executable"]
    if "name" in data and "product_name" not in values and isinstance(data["name"], str):
        values["product_name"] = data["name"]
    return replace(DEFAULT_BRAND, **values)
