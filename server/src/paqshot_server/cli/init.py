"""``init``: create the data folder and its config file, migrate, make the first admin key, say what next."""

from __future__ import annotations

import argparse
from pathlib import Path

import tomli_w

from ..settings import BOOTSTRAP, SETTINGS, Settings
from ..signing import load_or_create_secret
from ..storage.db import connect
from .common import add_home_flag, database_kept, settings_from
from .models import setup_default_model
from .serve import ensure_first_key


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("init", help="create the data folder, config file, database and first key")
    add_home_flag(parser)
    parser.add_argument(
        "--self-signed-cert",
        action="store_true",
        help="also make a SELF-SIGNED test certificate that signs the outputs' Content Credentials (C2PA); "
        "viewers show it as untrusted: use a certificate from a trusted CA in production",
    )
    parser.set_defaults(func=_init)


def config_template(settings: Settings) -> str:
    """Every setting the file may hold, with its help and default, commented out (uncomment to change)."""
    lines = ["# Appliance settings. Environment variables override this file; flags override both.", ""]
    for s in SETTINGS:
        if s.name in ("home", *BOOTSTRAP):  # the file lives in home; the brand names the file's prefix
            continue
        default = str(s.default) if isinstance(s.default, Path) else s.default
        lines += [f"# {s.help}", "# " + tomli_w.dumps({s.name: default}).strip(), ""]
    return "\n".join(lines)


def _credentials(settings: Settings, *, self_signed: bool) -> None:
    """Make the self-signed test certificate when asked, and say plainly what signs the outputs."""
    from ..credentials import credential_files, make_self_signed

    files = credential_files(settings)
    if self_signed:
        try:
            made = make_self_signed(settings)
        except FileExistsError as exc:
            print(f"content credentials: {exc}")
        else:
            print(f"content credentials: wrote a SELF-SIGNED TEST certificate {made.cert} (key {made.key}, 0600).")
            print("  It proves a file was not changed, not who made it: viewers show it as untrusted. For production")
            print("  put a certificate from a C2PA-trusted CA there (settings c2pa_cert_file, c2pa_key_file).")
    elif not settings.content_credentials:
        print("content credentials: off (content_credentials = false); outputs keep their IPTC label")
    elif not files.cert.exists():
        print(f"content credentials: no signing certificate at {files.cert}: outputs carry the IPTC label only")
        print(f"  (`{settings.brand.cli_name} init --self-signed-cert` makes a test one)")


def _init(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    home = settings.home.resolve()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)  # private: secrets and customer data
    config = home / "config.toml"
    if not config.exists():
        config.write_text(config_template(settings), encoding="utf-8")
        print(f"wrote {config}")
    if not database_kept(settings):
        return 1
    connect(settings.app_db).conn.close()
    load_or_create_secret(settings.home)
    (settings.files_dir).mkdir(exist_ok=True)
    (settings.models_dir).mkdir(exist_ok=True)
    print(f"data folder ready: {home}")
    setup_default_model(settings)  # installed once per installation; cached; one line when it cannot be had
    _credentials(settings, self_signed=args.self_signed_cert)
    ensure_first_key(settings)
    cli = settings.brand.cli_name
    print("\nNext steps:")
    print(f"  {cli} doctor --home {home}              check GPU, disk, database, queue and models")
    print(f"  {cli} models pull ID --home {home}      download a bigger cut-out model (docs/models.md)")
    print(f"  {cli} serve --home {home}               start the API and a worker (or use the systemd units in")
    print("                                          packaging/server/)")
    return 0
