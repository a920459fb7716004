"""Every setting, declared once: name, type, default, help (the fields of :class:`Settings`).

Values come from (lowest to highest): the defaults, a TOML file (``<prefix>CONFIG`` or ``<home>/config.toml``),
environment variables ``<prefix><NAME>``, then explicit overrides (CLI flags, tests). ``<prefix>`` is the
brand's ``env_prefix`` (``PAQSHOT_`` for the reference brand); under a partner brand a ``PAQSHOT_<NAME>`` is read
too, where the brand's own name is not set (the brand's wins): the shipped systemd units, Dockerfile and compose
file set ``PAQSHOT_*``, and a partner who adds a brand file to them must not get an appliance that silently drops
its data folder, public URL or GPU requirement (breaker14 B14-7). The brand file itself is named by
``PAQSHOT_BRAND_FILE`` (or an override), the one name fixed before the brand is known. Nothing is read at
import time.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_origin, get_type_hints

from .branding import DEFAULT_BRAND, Brand, load_brand
from .imaging.options import DEFAULT_LONG_SIDE

REFERENCE_PREFIX = DEFAULT_BRAND.env_prefix  # names the brand file: the brand is not known before it is read
# A lease outlasts this many heartbeats, so two late beats (a loaded host, a long GIL hold) do not lose it: etcd's
# clients renew a lease at a third of its TTL for the same reason.
LEASE_HEARTBEATS = 3


def _setting(default: Any, help: str, minimum: float | None = None, maximum: float | None = None) -> Any:
    """One setting's declaration: its default, help and, for a number, the least and greatest values it may take
    (name and type are the field's). Every number has both: past a sane greatest value a date overflows or a
    delay never ends (breaker16 B16-10: ``retention_days`` 99999999999 was taken at start, then every job's end
    failed "year out of range")."""
    metadata = {"help": help, "minimum": minimum, "maximum": maximum}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Every setting, declared once (name, type, default, help). Build with :func:`load_settings`; tests use
    ``Settings(home=tmp_path)``. :data:`SETTINGS` (parsing, ``init``'s config file, the README table) derives
    from these fields. To add a setting: one field here, then regenerate the README table
    (``tests/server/test_settings.py`` prints it when it differs)."""

    home: Path = _setting(Path("data"), "Data folder: databases, images, models, secrets.")
    host: str = _setting("127.0.0.1", "Address the API listens on.")
    port: int = _setting(8000, "TCP port of the API (0: any free port).", minimum=0, maximum=65535)
    public_url: str = _setting("", "Base URL clients see (behind a proxy); default http://HOST:PORT.")
    allow_private_network: bool = _setting(
        False,
        "Let image URLs and webhooks reach loopback/private addresses and webhooks use plain http; link-local "
        "and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, ...) stay refused.",
    )
    allowed_networks: list[str] = _setting(
        [],
        "CIDRs that image URLs and webhooks may reach even when private; link-local or metadata addresses only "
        "through a CIDR inside their block (e.g. 169.254.169.254/32).",
    )
    retention_days: int = _setting(
        7, "Days a generated image stays downloadable before it is purged.", minimum=1, maximum=36_500
    )
    record_retention_days: int = _setting(
        30,
        "Days the record of an ended generation (its status, webhook events and delivery log) is kept after it "
        "ended; then GET answers 404. Never before its images are purged (retention_days) nor while an "
        "Idempotency-Key names it (idempotency_hours).",
        minimum=1,
        maximum=36_500,
    )
    max_image_bytes: int = _setting(
        10 * 1024 * 1024,
        "Largest accepted product image, in bytes (the request body limit follows from it).",
        minimum=1,
        maximum=500_000_000,
    )
    max_image_pixels: int = _setting(
        40_000_000, "Largest accepted product image, in pixels.", minimum=1, maximum=200_000_000
    )
    default_rate_limit: int = _setting(
        60, "Generate requests per minute for a key without its own limit.", minimum=1, maximum=1_000_000
    )
    lease_seconds: int = _setting(
        60, "How long a worker's claim on a job lasts without a heartbeat.", minimum=1, maximum=86400
    )
    heartbeat_seconds: float = _setting(
        10.0,
        f"How often a busy worker renews its lease. At most 1/{LEASE_HEARTBEATS} of lease_seconds.",
        minimum=0.01,
        maximum=3600,
    )
    max_attempts: int = _setting(3, "Attempts per job before it is failed.", minimum=1, maximum=100)
    sweep_seconds: float = _setting(
        10.0, "How often expired leases are re-queued and retention is enforced.", minimum=0.01, maximum=86400
    )
    output_long_side: int = _setting(
        DEFAULT_LONG_SIDE,
        "Long side of generated images, in px (unless a preset sets it). The long side is exact for every "
        "aspect ratio; the short side is rounded to the nearest pixel.",
        minimum=64,  # a preset's long_side has the same bounds (imaging.presets)
        maximum=10000,
    )
    jpeg_quality: int = _setting(92, "JPEG quality of generated images.", minimum=1, maximum=100)
    presets_dir: str = _setting("", "Folder of the operator's own marketplace presets (one TOML file each).")
    content_credentials: bool = _setting(True, "Sign a C2PA manifest into every output (the IPTC label stays).")
    c2pa_cert_file: str = _setting("", "PEM certificate chain that signs outputs; default HOME/c2pa/cert.pem.")
    c2pa_key_file: str = _setting("", "PEM private key of that certificate; default HOME/c2pa/key.pem.")
    require_gpu: bool = _setting(False, "Fail readiness instead of running models on the CPU.")
    brand_file: str = _setting(
        "",
        f"Path of a brand.toml that renames the product (white-label). Read from {REFERENCE_PREFIX}BRAND_FILE "
        "only (not the config file): the brand sets the prefix of every other variable.",
    )
    log_level: str = _setting("INFO", "Logging level.")
    log_format: str = _setting("text", "Log lines as text or json (one object per line, with request/job ids).")
    idempotency_hours: int = _setting(
        24, "How long an Idempotency-Key is remembered per API key.", minimum=0, maximum=87_600
    )
    webhook_retry_scale: float = _setting(
        1.0, "Multiplies the webhook retry delays (tests use a small value).", minimum=0, maximum=100
    )
    worker_threads: int = _setting(
        1, "Jobs one worker process runs at once (1 per GPU is right).", minimum=1, maximum=64
    )
    high_priority_limit: int = _setting(
        10,
        "High-priority generations one API key may have waiting at once (one more is refused with 403).",
        minimum=0,
        maximum=1_000_000,
    )
    worker_stop_seconds: float = _setting(
        300.0, "How long serve waits for its workers to finish their job.", minimum=0, maximum=86400
    )
    worker_processes: int = _setting(
        1,
        "Worker processes sharing this machine's CPUs (serve --workers sets it for the workers it starts); "
        "CPU inference threads are split among them.",
        minimum=1,
        maximum=64,
    )
    inference_threads: int = _setting(
        0,
        "onnxruntime threads per model session; 0 = the CPUs this process may run on (its affinity) divided by "
        "worker_processes x worker_threads, without spinning when shared.",
        minimum=0,
        maximum=256,
    )
    install_models_dir: str = _setting(
        "auto",
        "Install-level model folder every data folder also reads (the set-up puts the default cut-out model "
        "there); auto = <python prefix>/share/appliance/models, empty = none.",
    )
    review_threshold: float = _setting(
        0.6,
        "Cut-out confidence (0-1) under which a result is flagged needs_review (or failed: on_low_confidence).",
        minimum=0,
        maximum=1,
    )
    webhook_concurrency: int = _setting(
        32, "Webhook attempts in flight at once, per worker process.", minimum=1, maximum=1024
    )
    webhook_per_key: int = _setting(
        4,
        "Webhook attempts in flight at once for one API key, per worker process: one key's slow receivers "
        "leave the other slots to other keys.",
        minimum=1,
        maximum=1024,
    )
    webhook_timeout_seconds: float = _setting(
        15.0,
        "One deadline per webhook attempt: connect, send, the answer's status and body. An attempt's lease is "
        "this plus 45 s.",
        minimum=0.1,
        maximum=3600,
    )
    head_timeout_seconds: float = _setting(
        20.0,
        "Longest a client may take to send a request's line and headers (a new connection's first request: from "
        "the connection); past it the request gets a 408 and the connection is closed.",
        minimum=0.1,
        maximum=3600,
    )
    body_idle_seconds: float = _setting(
        20.0,
        "Longest silence while a request's body is being sent; past it the request gets a 408 and the connection "
        "is closed.",
        minimum=0.1,
        maximum=3600,
    )
    body_min_rate: float = _setting(
        500.0,
        "Bytes per second a request's body must average once its first body_idle_seconds are over (Apache "
        "mod_reqtimeout's body=20,MinRate=500); a slower one gets a 408 and the connection is closed. 0 = no "
        "minimum.",
        minimum=0,
        maximum=1e9,
    )
    max_connections_per_client: int = _setting(
        256,
        "Open connections one client address may hold; one more is answered 429 with Retry-After and closed. "
        "Behind a reverse proxy every client has the proxy's address: raise it there, or 0 = no cap.",
        minimum=0,
        maximum=100_000,
    )
    max_backdrops_per_key: int = _setting(
        100,
        "Backdrop plates one API key may keep (POST /v1/backdrops); the operator's shared plates do not count.",
        minimum=0,
        maximum=100_000,
    )

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


@dataclass(frozen=True)
class Setting:
    """One setting as declared on :class:`Settings` (for parsing, ``init``'s config file and the docs table)."""

    name: str
    type: type
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None


def _declarations() -> tuple[Setting, ...]:
    hints = get_type_hints(Settings)
    out = []
    for f in fields(Settings):
        kind = get_origin(hints[f.name]) or hints[f.name]
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        out.append(Setting(f.name, kind, default, f.metadata["help"], f.metadata["minimum"], f.metadata["maximum"]))
    return tuple(out)


SETTINGS: tuple[Setting, ...] = _declarations()
_BY_NAME = {s.name: s for s in SETTINGS}


def declared(name: str) -> Setting:
    """The declaration of the setting ``name`` (its type, default and bounds). Raises KeyError for an unknown name."""
    return _BY_NAME[name]


BOOTSTRAP = {"brand_file"}  # read before the brand (and so the prefix) is known


class SettingError(ValueError):
    """An operator's setting (environment or config file) that cannot be used: the message names it and says why."""


def _coerce(setting: Setting, value: Any) -> Any:
    if setting.type is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise SettingError(f"setting {setting.name}: {value!r} is not a boolean")
    if setting.type is list:
        if isinstance(value, list):
            return [str(v) for v in value]
        return [part.strip() for part in str(value).split(",") if part.strip()]
    if setting.type is Path:
        return Path(value).expanduser()
    try:
        coerced = setting.type(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise SettingError(f"setting {setting.name}: {value!r} is not a valid {setting.type.__name__}") from exc
    if setting.type in (int, float):
        # NaN compares false with every bound, and inf passes a minimum: a `nan` webhook timeout failed every
        # delivery for good, `inf` held a hung receiver's slot for ever (breaker8).
        if not math.isfinite(coerced):
            raise SettingError(f"setting {setting.name}: {value!r} is not a finite number")
        if setting.minimum is not None and coerced < setting.minimum:
            raise SettingError(f"setting {setting.name}: {value!r} is less than its minimum, {setting.minimum:g}")
        if setting.maximum is not None and coerced > setting.maximum:
            raise SettingError(f"setting {setting.name}: {value!r} is more than its maximum, {setting.maximum:g}")
    return coerced


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Resolve settings from defaults, the TOML file, the environment and explicit overrides.

    Raises SettingError (a ValueError) naming the setting for a value of the wrong type, not finite or out of its
    range, a heartbeat longer than a third of the lease (``LEASE_HEARTBEATS``), an unknown key in the file, or
    ``brand_file`` set in the file (the file is found through the brand's prefix, so it cannot name the brand).
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    brand_file = str(given.get("brand_file") or env.get(REFERENCE_PREFIX + "BRAND_FILE", ""))
    prefix = load_brand(Path(brand_file) if brand_file else None).env_prefix
    values: dict[str, Any] = {"brand_file": brand_file} if brand_file else {}
    sources: dict[str, str] = {}  # where each value came from, for the error that names it
    names = (prefix, REFERENCE_PREFIX) if prefix != REFERENCE_PREFIX else (prefix,)  # the brand's name wins

    def variable(name: str) -> str | None:
        """The environment variable that sets ``name`` (``HOME``…): the brand's, else the reference's."""
        return next((p + name for p in names if p + name in env), None)

    home_variable, config_variable = variable("HOME"), variable("CONFIG")
    home = Path(given.get("home") or (env[home_variable] if home_variable else "") or Settings.home).expanduser()
    config_path = Path(env[config_variable]) if config_variable else home / "config.toml"
    if config_path.is_file():
        for key, value in tomllib.loads(config_path.read_text(encoding="utf-8")).items():
            if key not in _BY_NAME:
                raise SettingError(f"{config_path}: unknown setting {key!r}")
            if key in BOOTSTRAP:
                raise SettingError(
                    f"{config_path}: {key} cannot be set in the config file; set {REFERENCE_PREFIX}BRAND_FILE"
                )
            values[key], sources[key] = value, str(config_path)
    for setting in SETTINGS:
        name = variable(setting.name.upper()) if setting.name not in BOOTSTRAP else None
        if name is not None:
            values[setting.name] = env[name]
            sources[setting.name] = f"environment variable {name}"
    values.update(given)
    coerced = {}
    for key, value in values.items():
        try:
            coerced[key] = _coerce(_BY_NAME[key], value)
        except SettingError as exc:
            raise SettingError(f"{exc} (from the {sources.get(key, 'command line')})") from None
    settings = Settings(**coerced)
    if settings.heartbeat_seconds * LEASE_HEARTBEATS > settings.lease_seconds:
        # breaker17 B17-2: lease 1 s with the 10 s heartbeat was taken; a busy job's lease ran out between beats, the
        # sweeper re-queued it twice and it failed "the worker stopped 3 times", though no worker stopped.
        raise SettingError(
            f"setting heartbeat_seconds: {settings.heartbeat_seconds:g} s is more than 1/{LEASE_HEARTBEATS} of "
            f"lease_seconds ({settings.lease_seconds} s), so a busy worker's lease would run out between its "
            "heartbeats and its job be run again: lower heartbeat_seconds or raise lease_seconds (from the "
            f"{sources.get('heartbeat_seconds', 'default')} and the {sources.get('lease_seconds', 'default')})"
        )
    return settings


def settings_table(prefix: str = REFERENCE_PREFIX) -> str:
    """The README's settings table (Markdown), made from the declarations."""
    rows = ["| setting | environment | default | what it does |", "|---|---|---|---|"]
    for s in SETTINGS:
        env = f"{REFERENCE_PREFIX}BRAND_FILE" if s.name in BOOTSTRAP else f"{prefix}{s.name.upper()}"
        default = "(none)" if s.default in ("", []) else str(s.default)
        least = "" if s.minimum is None else f" At least {s.minimum:g}."
        most = "" if s.maximum is None else f" At most {s.maximum:g}."
        rows.append(f"| `{s.name}` | `{env}` | `{default}` | {s.help}{least}{most} |")
    return "\n".join(rows) + "\n"
