"""``POST /v1/check`` is bounded like a submission: its decode and measurement hold one of the API process's full
decodes (``intake.FULL_DECODES``), a big image is measured on a reduced copy, and it counts against the key's
rate limit (breaker, session 11: a 36 MP check held ~1 GB, unbounded in number and not rate-limited)."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import numpy as np
import pytest
from litestar.testing import TestClient
from paqshot_server.checking import check_image, classical_product
from paqshot_server.imaging.presets import load_presets
from paqshot_server.jobs import intake
from paqshot_server.settings import Settings
from PIL import Image
from support import Key, b64, make_key, product_jpeg


class _CountingBound:
    """A bounded semaphore that records how many hold it at once (at most) and how often it was taken."""

    def __init__(self, limit: int) -> None:
        self._bound = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.holding = self.most = self.taken = 0

    def __enter__(self) -> None:
        self._bound.acquire()
        with self._lock:
            self.holding += 1
            self.taken += 1
            self.most = max(self.most, self.holding)

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        with self._lock:
            self.holding -= 1
        self._bound.release()


def test_concurrent_checks_never_hold_more_than_the_full_decode_limit(
    client: TestClient, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit, checks = 2, 6
    bound = _CountingBound(limit)
    monkeypatch.setattr(intake, "FULL_DECODES", bound)
    # Every check waits inside for a second one to be there too: the checks do overlap, up to the bound's limit
    # (the barrier's timeout only keeps a broken bound from hanging the test).
    together = threading.Barrier(limit, timeout=60)
    from paqshot_server.api import compliance as api_compliance

    def measured_in_pairs(*args: object) -> object:
        together.wait()
        return check_image(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(api_compliance, "check_image", measured_in_pairs)
    body = {"image": b64(product_jpeg()), "preset": "ebay"}
    with ThreadPoolExecutor(checks) as pool:
        answers = list(pool.map(lambda _: client.post("/v1/check", json=body, headers=key.headers), range(checks)))
    assert [a.status_code for a in answers] == [200] * checks, answers[0].text
    assert bound.taken == checks  # each check's decode and measurement went through the bound
    assert bound.most == limit  # two at once, never more


def _white_packshot(size: tuple[int, int], fmt: str) -> bytes:
    """A dark box (half the width, 3/5 of the height) centred on pure white."""
    img = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    img.paste((40, 60, 150), (w // 4, h // 5, 3 * w // 4, 4 * h // 5))
    out = io.BytesIO()
    img.save(out, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_a_big_image_is_measured_on_a_reduced_copy(settings: Settings, fmt: str) -> None:
    seen: list[tuple[int, int]] = []

    def find_product(image: Image.Image) -> np.ndarray:
        seen.append(image.size)
        return classical_product(image)

    data = _white_packshot((4096, 3072), fmt)
    outcome = check_image(data, ["amazon_main", "ebay"], settings, load_presets(None), find_product, "test")
    assert seen == [(1024, 768)]  # once for both presets, on a copy 1/4 the side (JPEG: DCT-scaled; PNG: reduced)
    assert (outcome.width, outcome.height) == (4096, 3072)  # the file's facts are the file's
    rules = {r["rule"]: r for r in outcome.compliance[0]["rules"]}
    assert rules["long_side"]["measured"] == 4096
    assert rules["product_fill"]["measured"] == pytest.approx(0.6, abs=0.01)
    assert rules["background_purity"]["measured"] >= 0.99  # white stays exactly white in the reduced copy
    check_image(_white_packshot((2047, 1536), fmt), ["amazon_main"], settings, load_presets(None), find_product, "test")
    assert seen[1:] == [(2047, 1536)]  # under twice the measured side: as it is


def test_a_check_counts_against_the_key_rate_limit(client: TestClient, settings: Settings) -> None:
    slow = make_key(settings, name="slow", rate_limit=2)
    body = {"image": b64(product_jpeg()), "preset": "ebay"}
    unknown = client.post("/v1/check", json={**body, "preset": "nope"}, headers=slow.headers)
    assert unknown.status_code == 400 and "x-ratelimit-remaining" not in unknown.headers  # refused before: no count
    first = client.post("/v1/check", json=body, headers=slow.headers)
    assert first.status_code == 200 and first.headers["x-ratelimit-limit"] == "2"
    assert first.headers["x-ratelimit-remaining"] == "1"
    generate = {"product_image": b64(product_jpeg()), "style": "studio_packshot"}
    submitted = client.post("/v1/generate", json=generate, headers=slow.headers)  # one limit for both
    assert submitted.status_code == 202 and submitted.headers["x-ratelimit-remaining"] == "0"
    third = client.post("/v1/check", json=body, headers=slow.headers)
    assert third.status_code == 429 and third.json()["error"] == "rate_limited"
    assert 1 <= int(third.headers["retry-after"]) <= 60
