"""Every setting, declared once: name, type, default, help.

Values come from (lowest to highest): the defaults below, a TOML file (``<prefix>CONFIG`` or
``<home>/config.toml``), environment variables ``<prefix><NAME>`` (prefix from the brand, e.g.
``PAQSHOT_HOME``), then explicit overrides (CLI flags, tests). Nothing is read at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .branding import Brand, load_brand
from .imaging.options import DEFAULT_LONG_SIDE


@dataclass(frozen=True)
class Setting:
    """Declaration of one setting (used for parsing, ``--help`` and the settings table in the docs)."""

    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("home", Path, Path("data"), "Data folder: databases, images, models, secrets."),
    Setting("host", str, "127.0.0.1", "Address the API listens on."),
    Setting("port", int, 8000, "TCP port of the API."),
    Setting("public_url", str, "", "Base URL clients see (behind a proxy); default http://HOST:PORT."),
    Setting(
        "allow_private_network",
        bool,
        False,
        "Let image URLs and webhooks reach loopback/private addresses and webhooks use plain http.",
    ),
    Setting("allowed_networks", list, [], "CIDRs that image URLs and webhooks may reach even when private."),
    Setting("retention_days", int, 7, "Days a generated image stays downloadable before it is purged."),
    Setting("max_image_bytes", int, 10 * 1024 * 1024, "Largest accepted product image, in bytes."),
    Setting("max_image_pixels", int, 40_000_000, "Largest accepted product image, in pixels."),
    Setting("default_rate_limit", int, 60, "Generate requests per minute for a key without its own limit."),
    Setting("lease_seconds", int, 60, "How long a worker's claim on a job lasts without a heartbeat."),
    Setting("heartbeat_seconds", float, 10.0, "How often a busy worker renews its lease."),
    Setting("max_attempts", int, 3, "Attempts per job before it is failed."),
    Setting("sweep_seconds", float, 10.0, "How often expired leases are re-queued and retention is enforced."),
    Setting(
        "output_long_side", int, DEFAULT_LONG_SIDE, "Long side of generated images in px (unless a preset sets it)."
    ),
    Setting("jpeg_quality", int, 92, "JPEG quality of generated images."),
    Setting("require_gpu", bool, False, "Fail readiness instead of running models on the CPU."),
    Setting("brand_file", str, "", "Path of a brand.toml that renames the product (white-label)."),
    Setting("log_level", str, "INFO", "Logging level."),
    Setting("log_format", str, "text", "Log lines as text or json (one object per line, with request/job ids)."),
    Setting("idempotency_hours", int, 24, "How long an Idempotency-Key is remembered per API key."),
    Setting("webhook_retry_scale", float, 1.0, "Multiplies the webhook retry delays (tests use a small value)."),
    Setting("worker_threads", int, 1, "Jobs one worker process runs at once (1 per GPU is right)."),
    Setting("worker_stop_seconds", float, 300.0, "How long serve waits for its workers to finish their job."),
    Setting(
        "install_models_dir",
        str,
        "auto",
        "Install-level model folder every data folder also reads (the set-up puts the default cut-out model "
        "there); auto = <python prefix>/share/appliance/models, empty = none.",
    ),
    Setting(
        "review_threshold",
        float,
        0.5,
        "Cut-out confidence (0-1) under which a result is flagged needs_review (or failed: on_low_confidence).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Build with :func:`load_settings`; tests use ``Settings(home=tmp_path)``."""

    home: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    allow_private_network: bool = False
    allowed_networks: list[str] = field(default_factory=list)
    retention_days: int = 7
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    default_rate_limit: int = 60
    lease_seconds: int = 60
    heartbeat_seconds: float = 10.0
    max_attempts: int = 3
    sweep_seconds: float = 10.0
    output_long_side: int = DEFAULT_LONG_SIDE
    jpeg_quality: int = 92
    require_gpu: bool = False
    brand_file: str = ""
    log_level: str = "INFO"
    log_format: str = "text"
    idempotency_hours: int = 24
    webhook_retry_scale: float = 1.0
    worker_threads: int = 1
    worker_stop_seconds: float = 300.0
    install_models_dir: str = "auto"
    review_threshold: float = 0.5

    @property
    def brand(self) -> Brand:
        """The brand in force (defaults unless ``brand_file`` names one)."""
        return load_brand(Path(self.brand_file) if self.brand_file else None)

    @property
    def base_url(self) -> str:
        """Base of every URL the API hands out."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def app_db(self) -> Path:
        return self.home / "app.db"

    @property
    def queue_db(self) -> Path:
        return self.home / "queue.db"

    @property
    def files_dir(self) -> Path:
        return self.home / "files"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def shared_models_dirs(self) -> tuple[Path, ...]:
        """Model folders read after ``models_dir``: the install-level one unless ``install_models_dir`` is empty."""
        if not self.install_models_dir.strip():
            return ()
        if self.install_models_dir == "auto":
            from .inference.store import install_level_dir

            return (install_level_dir(),)
        return (Path(self.install_models_dir).expanduser(),)

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with some values replaced (values are coerced like environment strings)."""
        return replace(self, **{k: _coerce(_BY_NAME[k], v) for k, v in values.items() if v is not None})


def _coerce(setting: Setting, value: Any) -> Any:
    if setting.type is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"setting {setting.name}: {value!r} is not a boolean")
    if setting.type is list:
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if setting.type is Path:
        return Path(value).expanduser()
    try:
        return setting.type(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"setting {setting.name}: {value!r} is not a valid {setting.type.__name__}") from exc


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Resolve settings from defaults, the TOML file, the environment and explicit overrides."""
    env = os.environ if environ is None else environ
    prefix = Brand().env_prefix
    values: dict[str, Any] = {}
    home = Path(env.get(prefix + "HOME", (overrides or {}).get("home") or "data")).expanduser()
    config_path = Path(env[prefix + "CONFIG"]) if prefix + "CONFIG" in env else home / "config.toml"
    if config_path.is_file():
        for key, value in tomllib.loads(config_path.read_text(encoding="utf-8")).items():
            if key not in _BY_NAME:
                raise ValueError(f"{config_path}: unknown setting {key!r}")
            values[key] = value
    for setting in SETTINGS:
        if prefix + setting.name.upper() in env:
            values[setting.name] = env[prefix + setting.name.upper()]
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    resolved = {k: _coerce(_BY_NAME[k], v) for k, v in values.items()}
    assert {f.name for f in fields(Settings)} == set(_BY_NAME), "Settings and SETTINGS disagree"
    return Settings(**resolved)
