"""Every number option of every command is bounded and finite, refused in words with exit 2 (breaker17 B17-3;
``cli.numbers``). The kind: numbers without bounds on the command line (B16-10's kind): ``keys create --quota
99999999999999999999`` exited 70 (OverflowError), ``--quota -7 --rate-limit -5`` were stored, ``--rate-limit 0``
became 60, ``keys rotate-secret --grace-hours 1e300`` exited 70 and ``-5``/``nan`` were taken. The options are found
by walking the parser, so a new number option without bounds fails here."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from paqshot_server.api.wire import request_fields
from paqshot_server.cli import build_parser, main
from paqshot_server.cli.numbers import Bounded

BAD = ("nan", "inf", "-inf", "1e300", "99999999999999999999", "-99999999999999999999", "-7", "ten")
REQUEST_FIELDS = {f.name for f in request_fields()}


def options(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, argparse.Action]]:
    """``(command path, action)`` of every option of ``parser`` and its sub-commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from options(sub, (*path, name))
        elif action.option_strings:
            yield " ".join(path), action


NUMBERS = [
    pytest.param(path, action, id=f"{path} {action.option_strings[-1]}")
    for path, action in options(build_parser())
    if action.type in (int, float) or isinstance(action.type, Bounded)
]


def test_the_walk_finds_the_options_of_the_report() -> None:
    found = {(path, action.option_strings[-1]) for path, action in (p.values for p in NUMBERS)}
    assert {("keys create", "--quota"), ("keys create", "--rate-limit"), ("keys rotate-secret", "--grace-hours")} <= (
        found
    ), found


@pytest.mark.parametrize(("path", "action"), NUMBERS)
def test_every_number_option_is_bounded(path: str, action: argparse.Action) -> None:
    if path == "generate" and action.dest in REQUEST_FIELDS:  # bounded by the API's request schema: the next test
        return
    assert isinstance(action.type, Bounded), f"{path} {action.option_strings}: a plain {action.type} has no bounds"
    for text in BAD:
        if text == "-7" and action.type.low <= -7:
            continue
        with pytest.raises(argparse.ArgumentTypeError, match=r"^must be (a whole number|a number) from "):
            action.type(text)
    for edge in (action.type.low, action.type.high):
        assert action.type(str(action.type.kind(edge))) == edge


@pytest.mark.parametrize(
    "flag",
    [a.option_strings[-1] for p, a in (p.values for p in NUMBERS) if p == "generate" and a.dest in REQUEST_FIELDS],
)
def test_generate_refuses_request_fields_out_of_the_api_bounds(
    flag: str, cli_cwd: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for text in ("nan", "1e300", "-99999999999999999999"):
        try:  # argparse refuses text that is no int at all (exit 2); the request schema the rest
            code = main(["generate", "photo.jpg", "-o", "out", "--cutout-engine", "classical", flag, text])
        except SystemExit as stopped:
            code = stopped.code
        err = capsys.readouterr().err
        assert code == 2 and ("must be" in err or "invalid int value" in err), err
    assert not (cli_cwd / "out").exists()


def test_keys_create_and_rotate_refuse_the_report_s_values(cli_cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["keys", "create", "--name", "k", "--quota", "99999999999999999999"],
        ["keys", "create", "--name", "k", "--rate-limit", "99999999999999999999"],
        ["keys", "create", "--name", "k", "--quota", "-7", "--rate-limit", "-5"],
        ["keys", "create", "--name", "k", "--rate-limit", "0"],
        ["keys", "rotate-secret", "k", "--grace-hours", "1e300"],
        ["keys", "rotate-secret", "k", "--grace-hours", "-5"],
        ["keys", "rotate-secret", "k", "--grace-hours", "nan"],
    ):
        with pytest.raises(SystemExit) as stopped:
            main(args)
        assert stopped.value.code == 2, args
        assert "must be a" in capsys.readouterr().err, args
    assert main(["keys", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing stored
