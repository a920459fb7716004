"""What one large photo costs the API at the door: time to the 202, the API process's CPU and peak memory, and the
size of the file it stores, for a 40 MP JPEG with an ICC profile (every phone photo has one), the same with an EXIF
orientation (a phone photo taken upright), and the same photo without either (the fast path: the baseline in the
same run).

Each submission goes to a fresh ``serve --no-worker`` (its peak RSS, ``VmHWM``, then belongs to that request
alone); kinds alternate within each round. ``--src DIR`` runs another checkout's ``server/src`` (e.g. a scratch
worktree of the code before a change) through this environment, for an A/B in one script.

    .venv/bin/python bench/bench_door_photo.py --rounds 3 [--src /tmp/old/server/src] [--photo PATH]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from appliance_support import free_port, wait_until_200
from paqshot_server.branding import DEFAULT_BRAND
from PIL import Image, ImageCms

BIN = Path(sys.executable).parent / DEFAULT_BRAND.cli_name
SIZE = (7300, 5475)  # 39.97 MP: just under the default 40 MP limit


def photo(path: str | None) -> Image.Image:
    """``path``, or a 40 MP textured photo (gradients and fine noise: ~5-9 MB as a quality-85 JPEG)."""
    if path:
        return Image.open(path).convert("RGB")
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0 : SIZE[1], 0 : SIZE[0]].astype(np.float32)
    base = 128 + 60 * np.sin(x / 180) * np.cos(y / 240)
    rgb = np.stack([base, base * 0.8 + 30, 255 - base], axis=2) + rng.normal(0, 6, (SIZE[1], SIZE[0], 1))
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def jpeg(img: Image.Image, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, **params)
    return out.getvalue()


def status(pid: int, field: str) -> int:
    """A ``kB`` field of /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def submit_once(body: bytes, src: str | None) -> tuple[dict[str, float], str]:
    """One submission to a fresh appliance: seconds to the 202, API CPU seconds, API peak RSS rise (MB), stored MB;
    and the stored file's extension."""
    home = Path(tempfile.mkdtemp(prefix="bench-door-"))
    prefix = DEFAULT_BRAND.env_prefix
    env = {**os.environ, f"{prefix}HOME": str(home), f"{prefix}LOG_LEVEL": "WARNING"}
    if src:
        env["PYTHONPATH"] = src
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{port}"
        wait_until_200(api + "/healthz")
        key = json.loads(
            subprocess.run(
                [str(BIN), "keys", "create", "--name", "bench", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )["key"]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        httpx.get(f"{api}/v1/generations", headers=headers, timeout=30)  # the app's first request paid before
        peak, cpu = status(server.pid, "VmHWM"), cpu_seconds(server.pid)
        started = time.perf_counter()
        answer = httpx.post(f"{api}/v1/generate", content=body, headers=headers, timeout=120)
        seconds = time.perf_counter() - started
        assert answer.status_code == 202, answer.text
        stored = [p for p in (home / "files").rglob("*_input.*") if p.is_file()]
        figures = {
            "s": seconds,
            "cpu": cpu_seconds(server.pid) - cpu,
            "rss": (status(server.pid, "VmHWM") - peak) / 1024,
            "stored": stored[0].stat().st_size / 1e6,
        }
        return figures, stored[0].suffix
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", str(home)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--src", help="another checkout's server/src to run (PYTHONPATH)")
    parser.add_argument("--photo", help="a photo to use instead of the generated 40 MP texture")
    args = parser.parse_args()
    img = photo(args.photo)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    turned = Image.Exif()
    turned[0x0112] = 6  # EXIF orientation: a phone photo taken upright
    kinds = {
        "ICC profile": jpeg(img, icc_profile=srgb),
        "turned": jpeg(img, icc_profile=srgb, exif=turned.tobytes()),
        "no profile": jpeg(img),
    }
    bodies = {
        k: json.dumps({"product_image": base64.b64encode(v).decode(), "style": "studio_packshot"}).encode()
        for k, v in kinds.items()
    }
    print(f"{img.size[0]}x{img.size[1]} photo; code: {args.src or 'this checkout'}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} cores")
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    ext: dict[str, str] = {}
    for _ in range(args.rounds):
        for kind, body in bodies.items():
            figures, ext[kind] = submit_once(body, args.src)
            rows[kind].append(figures)
    for kind, runs in rows.items():
        med = {f: statistics.median(r[f] for r in runs) for f in ("s", "cpu", "rss", "stored")}
        each = ", ".join(f"{r['s']:.2f}" for r in runs)
        print(
            f"  {kind:11s} {len(kinds[kind]) / 1e6:.1f} MB: to the 202 {med['s']:.2f} s ({each}); API CPU "
            f"{med['cpu']:.2f} s; API peak RSS +{med['rss']:.0f} MB; stored {med['stored']:.1f} MB "
            f"({ext[kind]})"
        )
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
