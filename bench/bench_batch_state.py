"""A catalogue's resume state: what a run of N rows writes for it, the journal against the whole-file rewrite it
replaced (breaker14 B14-8), both measured in the same run.

    .venv/bin/python bench/bench_batch_state.py [--rows 5000] [--repeats 3]

Each row records a summary line as ``generate --manifest`` makes it (~0.4 kB: two sha256 hex digests, engine,
compliance, review reasons). "rewrite" is the code before session 15: after every row ``json.dumps(state,
indent=1, sort_keys=True)`` of the whole state written over the file; "journal" is ``cli.batchstate.BatchState``
(one appended, flushed line a row). Prints bytes written (exact: the sum of what each way writes) and seconds
(median of the repeats; the machine is shared, so the ratio is the figure), and the ratio rewrite / journal.
No rendering: the figures are the state's own cost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from paqshot_server.cli.batchstate import JOURNAL, BatchState


def summary_line(number: int) -> dict[str, Any]:
    """A realistic summary line of ``cli.catalogue`` for row ``number``."""
    digest = hashlib.sha256(str(number).encode()).hexdigest()
    return {
        "sku": f"SKU-{number:06d}",
        "status": "completed",
        "output": f"SKU-{number:06d}.jpg",
        "width": 2000,
        "height": 2000,
        "engine": "onnx:u2netp-int8",
        "needs_review": False,
        "review_reasons": "",
        "compliance": "amazon_main:pass; google_shopping:pass",
        "failed_rules": "",
        "error": "",
        "input_sha256": digest,
        "options_sha256": hashlib.sha256(digest.encode()).hexdigest(),
    }


def rewrite(folder: Path, rows: int) -> int:
    """The former way: the whole state rewritten after every row. Returns bytes written."""
    path = folder / "batch-state.json"
    state: dict[str, Any] = {}
    written = 0
    for number in range(rows):
        line = summary_line(number)
        state[line["sku"]] = line
        text = json.dumps(state, indent=1, sort_keys=True)
        path.write_text(text)
        written += len(text.encode())
    return written


def journal(folder: Path, rows: int) -> int:
    """The journal: one appended line a row. Returns bytes written."""
    with BatchState(folder) as state:
        for number in range(rows):
            state.record(summary_line(number))
    return (folder / JOURNAL).stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    seconds: dict[str, list[float]] = {"rewrite": [], "journal": []}
    written: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, way in (("rewrite", rewrite), ("journal", journal)):  # alternated: both see the same load
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                written[name] = way(Path(folder), args.rows)
                seconds[name].append(time.perf_counter() - start)
    for name in ("rewrite", "journal"):
        print(
            f"{name:8} {args.rows} rows: {written[name] / 1e6:10.1f} MB written, median "
            f"{statistics.median(seconds[name]):7.2f} s ({', '.join(f'{s:.2f}' for s in seconds[name])})"
        )
    print(
        f"ratio rewrite/journal: bytes {written['rewrite'] / written['journal']:.0f}x, "
        f"seconds {statistics.median(seconds['rewrite']) / statistics.median(seconds['journal']):.0f}x"
    )


if __name__ == "__main__":
    main()
