"""``paqshot serve`` raises its soft open-file limit to the hard one (breaker14 B14-1: under systemd's default soft
limit, 1024, 1,100 held connections took every descriptor of the API and every client was refused)."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

import pytest
from e2e_support import Appliance

pytestmark = pytest.mark.e2e

LOW = 256  # the soft limit serve is started with: well under any hard limit a test machine has


def test_serve_raises_its_soft_open_file_limit_to_the_hard_limit(tmp_path: Path) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= LOW:
        pytest.skip(f"the hard open-file limit here ({hard}) leaves nothing to raise")
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PAQSHOT_")},
        "PAQSHOT_HOME": str(home),
        "PAQSHOT_INSTALL_MODELS_DIR": "",
        "PAQSHOT_LOG_LEVEL": "INFO",
    }
    # the launcher lowers the soft limit, then becomes serve (as systemd starts it with its unit's limits)
    lower = f"import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, ({LOW}, {hard})); "
    lower += "os.execv(sys.argv[1], sys.argv[1:])"
    app = Appliance(home=home, env=env)
    app.start("--no-worker", launcher=[sys.executable, "-c", lower])
    try:
        assert app.proc is not None
        soft, _ = resource.prlimit(app.proc.pid, resource.RLIMIT_NOFILE)
    finally:
        app.stop()
    expected = 65536 if hard == resource.RLIM_INFINITY else hard
    assert soft == expected
    assert app.log_path is not None
    assert f"open-file limit (RLIMIT_NOFILE) raised from {LOW} to {expected}" in app.log_path.read_text()
