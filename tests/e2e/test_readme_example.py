"""The README's "Try it" block, run as written by bash and curl against a real appliance, with a 5 MB photo."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from e2e_support import Appliance, wait_terminal
from PIL import Image

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000"


def try_it_block() -> str:
    """The first code block after the README's "## Try it" heading."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"^## Try it\n.*?^```\n(.*?)^```", text, flags=re.S | re.M)
    assert block, "README has a '## Try it' section with a code block"
    return block.group(1)


def five_megabyte_photo() -> bytes:
    """A camera-sized JPEG of a product on a grainy backdrop, 5 to 6 MB (grain keeps JPEG from shrinking it)."""
    rng = np.random.default_rng(12)
    height, width = 2400, 3200
    pixels = np.full((height, width, 3), 228, np.int16)
    pixels[600:1900, 1000:2200] = (180, 40, 45)  # the product
    pixels[900:1200, 1200:2000] = (245, 245, 240)  # its label
    pixels += rng.integers(-22, 23, size=pixels.shape, dtype=np.int16)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    for quality in (92, 88, 84, 95, 97):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if 5_000_000 <= out.tell() <= 6_000_000:
            return out.getvalue()
    raise AssertionError("could not make a 5 MB photo")


def test_readme_try_it_works_with_a_5_mb_photo(appliance: Appliance, tmp_path: Path) -> None:
    assert shutil.which("curl") and shutil.which("base64"), "curl and coreutils run the README's example"
    appliance.start()
    key = appliance.create_key()["key"]
    (tmp_path / "product.jpg").write_bytes(five_megabyte_photo())
    block = try_it_block().replace("pk_live_...", key).replace(README_URL, appliance.url)
    *submit, poll = block.strip().splitlines()
    assert "gen_..." in poll

    sent = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(submit)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert sent.returncode == 0, sent.stderr
    accepted = json.loads(sent.stdout)
    assert accepted["status"] == "processing" and accepted["id"].startswith("gen_"), sent.stdout

    headers = {"Authorization": f"Bearer {key}"}
    assert wait_terminal(appliance.url, accepted["id"], headers, timeout=120)["status"] == "completed"
    polled = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", poll.replace("gen_...", accepted["id"])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KEY": key},
    )
    assert polled.returncode == 0, polled.stderr
    done = json.loads(polled.stdout)
    assert done["status"] == "completed" and done["image_url"], done
