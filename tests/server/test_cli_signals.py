"""serve and worker listen to SIGINT (their stop) from before their command modules load, whatever disposition
they inherited; other commands keep theirs."""

from __future__ import annotations

import signal

import pytest
from paqshot_server import cli


@pytest.mark.parametrize(("command", "expected"), [("serve", True), ("worker", True), ("doctor", False)])
def test_sigint_is_heard_from_before_the_command_modules_load(
    monkeypatch: pytest.MonkeyPatch, command: str, expected: bool
) -> None:
    """breaker7, session 7: started with SIGINT ignored (a shell's background job), a stop during serve's imports
    (about a second) was lost and the appliance ran on."""
    seen: list[object] = []

    def parser_at_import_time() -> None:  # build_parser imports every command module
        seen.append(signal.getsignal(signal.SIGINT))
        raise SystemExit(0)

    monkeypatch.setattr(cli, "build_parser", parser_at_import_time)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.default_int_handler if expected else signal.SIG_IGN]
