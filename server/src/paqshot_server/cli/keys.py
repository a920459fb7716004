"""``keys create | list | revoke | rotate-secret``: works on the data folder directly, server running or not."""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..errors import InvalidRequest
from ..ids import iso
from ..imaging.options import STYLES
from ..settings import Settings
from ..storage import fair
from ..storage import keys as keys_sql
from ..storage.db import connect
from ..webhook_secret import is_standard, standard_form
from .common import add_home_flag, settings_from
from .numbers import Bounded

# A trillion generations: more than one appliance makes in its life (31,700 years at one a second), and far inside
# SQLite's INTEGER (2**63 - 1), which 99999999999999999999 overflowed (B17-3).
MAX_QUOTA = 10**12
# Ten years, the bound of idempotency_hours: a longer grace is no rotation.
MAX_GRACE_HOURS = 87_600


def register(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = ksub.add_parser("create", help="create a key; prints it and its webhook secret once")
    create.add_argument("--name", required=True, help="a label for the key (who or what uses it)")
    create.add_argument(
        "--rate-limit",
        type=Bounded.setting("default_rate_limit"),
        default=None,
        help="generate requests per minute (default: the default_rate_limit setting, 60)",
    )
    create.add_argument(
        "--quota", type=Bounded(int, 0, MAX_QUOTA), default=None, help="total generations allowed (default unlimited)"
    )
    create.add_argument("--styles", nargs="+", choices=STYLES, default=None, help="styles this key may use")
    create.add_argument(
        "--weight",
        type=Bounded(float, fair.MIN_WEIGHT, fair.MAX_WEIGHT),
        default=1.0,
        help="share of the workers while other keys wait too: 2 is served twice as often as 1 (default 1)",
    )
    create.add_argument("--json", action="store_true", help="machine-readable output")
    add_home_flag(create)
    create.set_defaults(func=_create)
    lst = ksub.add_parser("list", help="list keys (no secrets)")
    lst.add_argument("--json", action="store_true", help="machine-readable output (a JSON array)")
    add_home_flag(lst)
    lst.set_defaults(func=_list)
    revoke = ksub.add_parser(
        "revoke", help="revoke a key by id, or by name when one active key has it (takes effect at once)"
    )
    revoke.add_argument("key", help="the key's id (key_…) or its name")
    add_home_flag(revoke)
    revoke.set_defaults(func=_revoke)
    rotate = ksub.add_parser(
        "rotate-secret",
        help="give a key a new webhook secret (standard base64); the old one keeps signing for --grace-hours",
    )
    rotate.add_argument("key", help="key id or name")
    rotate.add_argument(
        "--grace-hours",
        type=Bounded(float, 0, MAX_GRACE_HOURS),
        default=24.0,
        help="hours during which webhook-signature also carries a signature with the old secret (default 24)",
    )
    rotate.add_argument("--json", action="store_true")
    add_home_flag(rotate)
    rotate.set_defaults(func=_rotate)


def _secret_lines(settings: Settings, secret: str) -> dict[str, str]:
    prefix = settings.brand.webhook_secret_prefix
    return {"webhook_secret": secret, "standard_webhooks_secret": standard_form(secret, prefix)}


def _print_secret(settings: Settings, secret: str) -> None:
    shown = _secret_lines(settings, secret)
    print(f"Webhook secret:  {shown['webhook_secret']}")
    if shown["standard_webhooks_secret"] != secret:
        print(f"  the same secret for Standard Webhooks libraries:  {shown['standard_webhooks_secret']}")


def _create(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    brand = settings.brand
    try:
        key, clear = keys_sql.create_key(
            connect(settings.app_db),
            name=args.name,
            key_prefix=brand.key_prefix,
            secret_prefix=brand.webhook_secret_prefix,
            rate_limit=settings.default_rate_limit if args.rate_limit is None else args.rate_limit,
            quota=args.quota,
            styles=args.styles,
            weight=args.weight,
        )
    except InvalidRequest as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**key.as_public(), "key": clear, **_secret_lines(settings, key.webhook_secret)}))
    else:
        print(f"API key ({key.name}, {key.id}):   {clear}")
        _print_secret(settings, key.webhook_secret)
        print("Store both now: they are not shown again.")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    try:
        key = keys_sql.rotate_secret(
            connect(settings.app_db),
            args.key,
            secret_prefix=settings.brand.webhook_secret_prefix,
            grace_seconds=args.grace_hours * 3600,
            now=time.time(),
        )
    except InvalidRequest as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if key is None:
        print(f"error: no active key with the id or name {args.key!r} (see `keys list`)", file=sys.stderr)
        return 1
    until = iso(key.previous_secret_until or time.time())
    if args.json:
        print(
            json.dumps(
                {"id": key.id, **_secret_lines(settings, key.webhook_secret), "previous_secret_valid_until": until}
            )
        )
        return 0
    print(f"New webhook secret for {key.name} ({key.id}); shown once:")
    _print_secret(settings, key.webhook_secret)
    print(f"Until {until}, webhook-signature also carries a signature made with the old secret, so receivers")
    print(f"can switch without missing a delivery. {settings.brand.signature_header} uses the new secret at once.")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    keys = keys_sql.list_keys(connect(settings.app_db))
    prefix = settings.brand.webhook_secret_prefix
    if args.json:
        print(
            json.dumps(
                [{**k.as_public(), "webhook_secret_standard": is_standard(k.webhook_secret, prefix)} for k in keys]
            )
        )
        return 0
    for k in keys:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        quota = "no quota" if k.quota is None else f"quota {k.quota}"
        secret = "" if is_standard(k.webhook_secret, prefix) else "  old-format webhook secret: run keys rotate-secret"
        weight = "" if k.weight == 1 else f"  weight {k.weight:g}"
        print(f"{k.id}  {k.name:<20} {k.prefix}…{k.last4}  {k.rate_limit}/min  {quota}{weight}  {state}{secret}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        revoked = keys_sql.revoke(connect(settings_from(args).app_db), args.key)
    except InvalidRequest as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if revoked:
        print(f"revoked {args.key}")
        return 0
    print(f"error: no active key with the id or name {args.key!r} (see `keys list`)", file=sys.stderr)
    return 1
