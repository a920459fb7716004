"""The baseline for bench_api.py: a bare Litestar endpoint on the same server stack (uvicorn, same options)."""

from __future__ import annotations

import sys

import uvicorn
from litestar import Litestar, get

BODY = {
    "id": "gen_01m8hjndra6pc41v70c3sda766",
    "status": "processing",
    "style": "studio_packshot",
    "aspect_ratio": "1:1",
    "created_at": "2026-11-28T17:18:51Z",
    "progress": 0.0,
}


@get("/status", sync_to_thread=False)
def status() -> dict[str, object]:
    return BODY


if __name__ == "__main__":
    uvicorn.run(Litestar([status]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
