"""Peak memory of a real worker running studio packshots with the default cut-out model (issue 10: < 600 MB).

    .venv/bin/python bench/bench_worker_rss.py [--photos DIR] [--size 2000x1500] [--workers 1]
    .venv/bin/python bench/bench_worker_rss.py --sessions    # onnxruntime alone: memory pattern on vs off

Starts `serve` on loopback with a fresh data folder (the installation's default model at the install level, as a
user gets it), submits every photo (resized to --size, JPEG) through the API, waits for each job, then reads each
worker's peak resident set (VmHWM in /proc/<pid>/status) while it is still running. Prints one JSON object:
engine, jobs, per-job seconds (worker-side), peak RSS per worker in MB, each worker's CPU seconds and minor page
faults (warm-up included), load average. Photos default to
../shared/cases/photos (downscaled real photos); without them, synthetic products are used.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
from paqshot_server.branding import DEFAULT_BRAND
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SESSION_PROBE = """
import json, resource, sys, time
import numpy as np, onnxruntime as ort
from paqshot_server.inference.sessions import CpuPlan, session_options
path, pattern = sys.argv[1], sys.argv[2] == "on"
opts = session_options(CpuPlan(1, False), on_cpu=not pattern)
session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).random((1, 3, 320, 320), np.float32)
cpu = []
for _ in range(6):
    t = time.process_time(); session.run(None, {session.get_inputs()[0].name: x}); cpu.append(time.process_time() - t)
print(json.dumps({"memory_pattern": pattern, "cpu_ms_per_run": round(1000 * float(np.median(cpu[1:])), 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))
"""
BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name
PREFIX = DEFAULT_BRAND.env_prefix


def photos(folder: Path | None, size: tuple[int, int]) -> list[tuple[str, bytes]]:
    paths = sorted(folder.rglob("*.jpg")) if folder and folder.is_dir() else []
    images = [(p.name, Image.open(p).convert("RGB")) for p in paths]
    if not images:  # synthetic: a red box with a label on grey
        rng = np.random.default_rng(0)
        for i in range(6):
            img = Image.new("RGB", (800, 600), tuple(int(v) for v in rng.integers(200, 245, 3)))
            img.paste(tuple(int(v) for v in rng.integers(0, 200, 3)), (200 + 10 * i, 120, 600, 480 - 10 * i))
            images.append((f"synthetic-{i}", img))
    out = []
    for name, img in images:
        buf = io.BytesIO()
        img.resize(size, Image.Resampling.LANCZOS).save(buf, "JPEG", quality=92)
        out.append((name, buf.getvalue()))
    return out


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def cpu_seconds_and_faults(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) a process has used so far and its minor page faults (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command's ")": state is field 3, so minflt (10), utime (14), stime (15) are at 7, 11, 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[7])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_photos = next(
        (p for p in (ROOT.parent / "shared" / "cases" / "photos", Path("/work/shared/cases/photos")) if p.is_dir()),
        None,
    )
    parser.add_argument("--photos", type=Path, default=default_photos)
    parser.add_argument("--size", default="2000x1500")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sessions", action="store_true", help="the default model's session alone, one core")
    args = parser.parse_args()
    if args.sessions:
        from paqshot_server.inference.catalogue import DEFAULT_CUTOUT
        from paqshot_server.inference.store import install_level_dir

        model = install_level_dir() / DEFAULT_CUTOUT / f"{DEFAULT_CUTOUT}.onnx"
        for pattern in ("on", "off", "on", "off"):  # one core each, CPU time (load on the machine inflates wall time)
            cmd = ["taskset", "-c", "0", sys.executable, "-c", SESSION_PROBE, str(model), pattern]
            print(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip())
        print(json.dumps({"loadavg": os.getloadavg()}))
        return 0
    size = tuple(int(v) for v in args.size.split("x"))
    inputs = photos(args.photos, size)  # type: ignore[arg-type]
    home = Path(tempfile.mkdtemp(prefix="rss-bench-"))
    port = 8700 + os.getpid() % 200
    env = {**os.environ, f"{PREFIX}HOME": str(home), f"{PREFIX}LOG_LEVEL": "WARNING"}
    env.pop(f"{PREFIX}INSTALL_MODELS_DIR", None)  # the installation's models, as a user runs it
    serve = subprocess.Popen(
        [BIN, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        key_file = home / "first-api-key.txt"
        key = next(w for w in key_file.read_text().split() if w.startswith(DEFAULT_BRAND.key_prefix))
        headers = {"Authorization": f"Bearer {key}"}
        jobs = []
        for _name, data in inputs:
            body = {"product_image": base64.b64encode(data).decode(), "style": "studio_packshot"}
            jobs.append(httpx.post(f"{url}/v1/generate", json=body, headers=headers, timeout=60).json()["id"])
        results = []
        for job_id in jobs:
            while True:
                done = httpx.get(f"{url}/v1/generate/{job_id}", headers=headers, timeout=10).json()
                if done["status"] != "processing":
                    results.append(done)
                    break
                time.sleep(0.2)
        with closing(sqlite3.connect(home / "app.db")) as conn:
            pids = [r[0] for r in conn.execute("SELECT pid FROM workers")]
            durations = [
                json.loads(r[0])["meta"]["duration_ms"] / 1000
                for r in conn.execute("SELECT result FROM jobs WHERE result IS NOT NULL")
            ]
        report = {
            "engine": sorted({r["engine"] for r in results if r.get("engine")}),  # a refused photo has none
            "jobs": len(results),
            "failed": sum(r["status"] != "completed" for r in results),
            "input_size": list(size),
            "seconds_per_job_median": round(float(np.median(durations)), 3) if durations else None,
            "worker_peak_rss_mb": [round(peak_rss_mb(pid), 1) for pid in pids if Path(f"/proc/{pid}").exists()],
            # Warm-up included (the same in every run of one code); the jobs' own cost is the difference.
            "worker_cpu_s_and_minor_faults": [
                cpu_seconds_and_faults(pid) for pid in pids if Path(f"/proc/{pid}").exists()
            ],
            "loadavg": os.getloadavg(),
        }
        print(json.dumps(report))
    finally:
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
