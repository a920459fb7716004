"""``webhooks list | show | redeliver``: the delivery log for operators (works with the server running or not)."""

from __future__ import annotations

import argparse
import json
import time

from ..storage import webhooks as webhooks_sql
from ..storage.db import connect
from .common import add_home_flag, settings_from
from .numbers import Bounded

ENDED_BADLY = ("failed", "stopped")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("webhooks", help="read the webhook delivery log and redeliver events")
    wsub = parser.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    lst = wsub.add_parser("list", help="events, newest first, with their state and last error")
    lst.add_argument("--failed", action="store_true", help="only events that ended without delivery")
    lst.add_argument("--key", default=None, help="only this API key's events (key id)")
    lst.add_argument("--job", default=None, help="only this generation's events")
    lst.add_argument("--limit", type=Bounded(int, 1, 10_000), default=50, help="events to list (default 50)")
    lst.add_argument("--json", action="store_true")
    add_home_flag(lst)
    lst.set_defaults(func=_list)
    show = wsub.add_parser("show", help="one event and every attempt made (status, latency, error, response)")
    show.add_argument("event")
    show.add_argument("--json", action="store_true")
    add_home_flag(show)
    show.set_defaults(func=_show)
    again = wsub.add_parser("redeliver", help="send events again now, with a fresh retry schedule")
    again.add_argument("events", nargs="+", metavar="EVENT")
    add_home_flag(again)
    again.set_defaults(func=_redeliver)


def _list(args: argparse.Namespace) -> int:
    db = connect(settings_from(args).app_db)
    events = webhooks_sql.list_events(
        db, key_id=args.key, job_id=args.job, states=ENDED_BADLY if args.failed else (), limit=args.limit
    )
    if args.json:
        print(json.dumps(events))
        return 0
    if not events:
        print("no webhook events" + (" that failed" if args.failed else ""))
    for e in events:
        due = ""
        if e["state"] == "pending":
            due = f"  next try {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(e['next_attempt_at']))}"
        tries = "try " if e["total_attempts"] == 1 else "tries"  # the columns stay aligned
        print(f"{e['id']}  {e['state']:<9} {e['total_attempts']:>2} {tries}  {e['job_id']}  {e['url'][:60]}{due}")
        if e["last_error"] and e["state"] != "delivered":
            print(f"    last error: {e['last_error']}")
    return 0


def _show(args: argparse.Namespace) -> int:
    event = webhooks_sql.get_event(connect(settings_from(args).app_db), args.event)
    if event is None:
        print(f"no webhook event {args.event!r}")
        return 1
    if args.json:
        print(json.dumps(event))
        return 0
    print(f"{event['id']}  {event['event']}  {event['state']}  job {event['job_id']}  key {event['key_id']}")
    print(f"  url: {event['url']}")
    for a in event["attempt_log"]:
        result = a["status_code"] or "-"
        print(f"  #{a['attempt']}  {a['at']}  {result}  {a['latency_ms']:.0f} ms  {a['error'] or ''}")
        if a["response_excerpt"]:
            print(f"       response: {a['response_excerpt']}")
    return 0


def _redeliver(args: argparse.Namespace) -> int:
    db = connect(settings_from(args).app_db)
    code = 0
    for event_id in args.events:
        outcome = webhooks_sql.redeliver(db, event_id, time.time())
        if outcome == "scheduled":
            print(f"{event_id}: will be sent again within a second (a worker must be running)")
        elif outcome == "in_flight":
            print(f"{event_id}: an attempt is being made right now; try again once it ends")
            code = 1
        elif outcome == "deleted":
            print(f"{event_id}: its generation was deleted; there is nothing to deliver")
            code = 1
        else:
            print(f"no webhook event {event_id!r}")
            code = 1
    return code
