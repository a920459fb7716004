"""Peak RSS of the API process for 1 and N concurrent ``POST /v1/check`` of one image (breaker, session 11: a
36 MP JPEG's check took ~1 GB of the API process each, four at once 4.5 GB).

Starts ``paqshot serve --no-worker`` on loopback in a scratch home with the Python it runs under (run it with
``PYTHONPATH=OTHER_TREE/server/src`` to measure another tree), then for each concurrency resets the process's
peak (``/proc/PID/clear_refs``: 5) and reads ``VmHWM`` after the checks. Linux only.

    python bench/bench_check_memory.py IMAGE [--concurrency 1 4] [--preset amazon_main]
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from appliance_support import free_port, wait_until_200


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", type=Path)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--preset", default="amazon_main")
    args = parser.parse_args()
    body = json.dumps({"image": base64.b64encode(args.image.read_bytes()).decode(), "preset": args.preset})
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        cmd = [sys.executable, "-m", "paqshot_server", "serve", "--no-worker", "--home", home, "--port", str(port)]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_200(f"{base}/healthz", timeout=120)  # readyz waits for a worker: none here
            first = (Path(home) / "first-api-key.txt").read_text().splitlines()[0]
            key = first.split()[-1]  # "API key (default, key_…):  pk_…"
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            for n in args.concurrency:
                Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS now
                before = _status_kb(server.pid, "VmRSS")
                start = time.perf_counter()

                def one(_: int) -> int:
                    return httpx.post(f"{base}/v1/check", content=body, headers=headers, timeout=600).status_code

                with ThreadPoolExecutor(n) as pool:
                    codes = list(pool.map(one, range(n)))
                seconds = time.perf_counter() - start
                peak, after = _status_kb(server.pid, "VmHWM"), _status_kb(server.pid, "VmRSS")
                print(
                    f"concurrency {n}: answers {codes}, RSS before {before / 1024:.0f} MB, peak {peak / 1024:.0f} MB "
                    f"(+{(peak - before) / 1024:.0f}), after {after / 1024:.0f} MB, {seconds:.1f} s",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
