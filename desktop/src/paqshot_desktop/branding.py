"""Desktop brand identity: the only module that names the product (no Qt here).

A partner rebrands the app with a folder ``<id>/brand.toml`` plus assets (icon, logo). Everything the user
sees that carries a name, a colour, a URL or a feature switch comes from :class:`Brand`; the built-in
defaults below are the reference brand, used when no brand file is given and the reference brand folder
of a source checkout is not present (e.g. an installed wheel).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_BRAND_ID = "paqshot"

# Colour tokens every theme must define; theme.py renders them into QSS and a QPalette.
COLOR_TOKENS: tuple[str, ...] = (
    "window",
    "surface",
    "surface_alt",
    "sidebar",
    "sidebar_text",
    "text",
    "text_muted",
    "accent",
    "accent_text",
    "border",
    "success",
    "warning",
    "danger",
)

_DEFAULT_COLORS: dict[str, str] = {
    "window": "#f4f6f8",
    "surface": "#ffffff",
    "surface_alt": "#eef1f4",
    "sidebar": "#1f2a37",
    "sidebar_text": "#e6ebf1",
    "text": "#1b2430",
    "text_muted": "#5d6b7a",
    "accent": "#1769e0",
    "accent_text": "#ffffff",
    "border": "#d3d9e0",
    "success": "#1f8a4c",
    "warning": "#b7791f",
    "danger": "#c53030",
}

# Optional features a partner may switch off; the UI hides what is off.
_DEFAULT_FEATURES: dict[str, bool] = {
    "local_server": True,
    "history": True,
    "generate_again": True,
    "copy_url": True,
    "tray_icon": True,
    "extensions": True,
}

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

# A brand ships its fonts in this sub-folder (with their licence); the app loads them before it sets the font.
FONTS_FOLDER = "fonts"
FONT_SUFFIXES = (".ttf", ".otf")


class BrandError(ValueError):
    """A brand file that cannot be used (missing, unreadable or with invalid values)."""


@dataclass(frozen=True)
class ServerIdentity:
    """The ``[server]`` table: how the appliance names itself (shared with the server's brand loader)."""

    product_name: str = "Paqshot"
    slug: str = "paqshot"
    env_prefix: str = "PAQSHOT_"
    key_prefix: str = "pk_live_"
    webhook_secret_prefix: str = "whsec_"  # noqa: S105 (a prefix, not a secret)
    signature_header: str = "X-Paqshot-Signature"
    description: str = "Self-hosted product-imagery appliance implementing the Paqshot v1 API."
    website: str = "https://paqshot.com"


@dataclass(frozen=True)
class Brand:
    """Everything a partner may rename, recolour or switch off in the desktop app."""

    id: str = DEFAULT_BRAND_ID
    app_name: str = "Paqshot Studio"
    organisation: str = "Paqshot"
    organisation_domain: str = "paqshot.com"
    tagline: str = "From product photos to finished packshots."
    about_text: str = (
        "Turns plain product photos into studio packshots, lifestyle and editorial images, on your own appliance."
    )
    support_url: str = "https://paqshot.com/support"
    website_url: str = "https://paqshot.com"
    default_server_url: str = "http://127.0.0.1:8000"  # where the README's `./dev start` serves
    # Name of the appliance executable in the same environment as the app ("Run on this computer").
    server_executable: str = "paqshot"
    font_family: str = ""
    font_size: int = 10
    icon_path: Path | None = None
    logo_path: Path | None = None
    colors: dict[str, str] = field(default_factory=lambda: dict(_DEFAULT_COLORS))
    features: dict[str, bool] = field(default_factory=lambda: dict(_DEFAULT_FEATURES))
    server: ServerIdentity = field(default_factory=ServerIdentity)
    folder: Path | None = None

    @property
    def settings_organisation(self) -> str:
        """Organisation name of the per-brand settings namespace (QSettings)."""
        return self.organisation

    @property
    def settings_application(self) -> str:
        """Application name of the per-brand settings namespace (QSettings)."""
        return self.app_name

    @property
    def user_agent(self) -> str:
        """User-Agent the HTTP client sends: the brand's app name and the package's version."""
        from . import __version__

        return f"{self.app_name.replace(' ', '-')}-Desktop/{__version__}"

    @property
    def monogram(self) -> str:
        """One or two letters used when the brand ships no icon (a drawn fallback icon)."""
        words = [w for w in re.split(r"\W+", self.app_name) if w]
        return "".join(w[0] for w in words[:2]).upper() or "?"

    @property
    def font_files(self) -> tuple[Path, ...]:
        """The font files the brand ships (``fonts/*.ttf|otf`` of its folder), sorted; empty when none."""
        fonts = self.folder / FONTS_FOLDER if self.folder is not None else None
        if fonts is None or not fonts.is_dir():
            return ()
        return tuple(sorted(p for p in fonts.iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.is_file()))

    def feature(self, name: str) -> bool:
        """Whether an optional feature is on (unknown names are off)."""
        return bool(self.features.get(name, False))


def _reference_brand_folder() -> Path | None:
    """The reference brand folder of a source checkout, if present (carries the drawn icon and logo)."""
    root = Path(__file__).resolve().parents[3]
    folder = root / "packaging" / "brands" / DEFAULT_BRAND_ID
    return folder if (folder / "brand.toml").is_file() else None


def default_brand() -> Brand:
    """The built-in brand: the reference brand folder when available, else the defaults above."""
    folder = _reference_brand_folder()
    if folder is None:
        return Brand()
    try:
        return load_brand(folder)
    except BrandError:
        # A broken checkout must not stop the app from starting; the built-in values still work.
        return Brand()


def _str(table: dict[str, Any], key: str, default: str, where: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise BrandError(f"{where}.{key} must be text")
    return value


def _reflow(text: str) -> str:
    """Join the lines of each paragraph (TOML multi-line strings carry the file's line breaks)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _asset(folder: Path, table: dict[str, Any], key: str) -> Path | None:
    name = table.get(key)
    if name is None:
        return None
    if not isinstance(name, str):
        raise BrandError(f"app.{key} must be a file name")
    path = (folder / name).resolve()
    if not path.is_file():
        raise BrandError(f"app.{key}: {name} not found in {folder}")
    return path


def _colors(table: dict[str, Any]) -> dict[str, str]:
    colors = dict(_DEFAULT_COLORS)
    for key, value in table.items():
        if key not in COLOR_TOKENS:
            raise BrandError(f"colors.{key} is not a known colour token ({', '.join(COLOR_TOKENS)})")
        if not isinstance(value, str) or not _HEX.match(value):
            raise BrandError(f"colors.{key} must be #RRGGBB, got {value!r}")
        colors[key] = value.lower()
    return colors


def _features(table: dict[str, Any]) -> dict[str, bool]:
    features = dict(_DEFAULT_FEATURES)
    for key, value in table.items():
        if key not in _DEFAULT_FEATURES:
            raise BrandError(f"features.{key} is not a known feature ({', '.join(_DEFAULT_FEATURES)})")
        if not isinstance(value, bool):
            raise BrandError(f"features.{key} must be true or false")
        features[key] = value
    return features


def _server(table: dict[str, Any]) -> ServerIdentity:
    known = {f.name for f in fields(ServerIdentity)}
    values = {k: v for k, v in table.items() if k in known}
    bad = [k for k, v in values.items() if not isinstance(v, str)]
    if bad:
        raise BrandError(f"server.{bad[0]} must be text")
    return replace(ServerIdentity(), **values)


def load_brand(path: Path) -> Brand:
    """Read a brand folder (or its ``brand.toml``) into a :class:`Brand`.

    Raises:
        BrandError: the file is missing or a value is invalid; the message names the key.
    """
    file = path / "brand.toml" if path.is_dir() else path
    if not file.is_file():
        raise BrandError(f"no brand file at {file}")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BrandError(f"cannot read {file}: {exc}") from exc
    folder = file.parent
    app = data.get("app", {})
    if not isinstance(app, dict):
        raise BrandError("[app] must be a table")
    base = Brand()
    font_size = app.get("font_size", base.font_size)
    if not isinstance(font_size, int) or not 6 <= font_size <= 24:
        raise BrandError("app.font_size must be a whole number from 6 to 24")
    return Brand(
        id=_str(data, "id", folder.name, "brand"),
        app_name=_str(app, "name", base.app_name, "app"),
        organisation=_str(app, "organisation", base.organisation, "app"),
        organisation_domain=_str(app, "organisation_domain", base.organisation_domain, "app"),
        tagline=_str(app, "tagline", base.tagline, "app"),
        about_text=_reflow(_str(app, "about", base.about_text, "app")),
        support_url=_str(app, "support_url", base.support_url, "app"),
        website_url=_str(app, "website_url", base.website_url, "app"),
        default_server_url=_str(app, "default_server_url", base.default_server_url, "app"),
        server_executable=_str(app, "server_executable", base.server_executable, "app"),
        font_family=_str(app, "font_family", base.font_family, "app"),
        font_size=font_size,
        icon_path=_asset(folder, app, "icon"),
        logo_path=_asset(folder, app, "logo"),
        colors=_colors(data.get("colors", {})),
        features=_features(data.get("features", {})),
        server=_server(data.get("server", {})),
        folder=folder,
    )
