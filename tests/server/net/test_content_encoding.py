"""Image URLs served with a content-coding: the body is decoded before it is sniffed, the size cap counts
decoded bytes, and a coding the appliance cannot remove is named in the refusal.

Case: ``shared/cases/api/url-gzip-content-encoding`` (nginx or a CDN gzipping every type, image/* included).
"""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest
from paqshot_server.errors import ImageTooLarge, InvalidRequest
from paqshot_server.net.addresses import AddressPolicy
from paqshot_server.net.fetch import fetch_image
from support import Receiver, product_jpeg, shared_case

LAN = AddressPolicy(allow_private=True)


def fetch(url: str, max_bytes: int = 10_000_000) -> bytes:
    return asyncio.run(fetch_image(url, LAN, max_bytes=max_bytes, user_agent="test"))


@pytest.fixture
def server() -> Receiver:
    receiver = Receiver()
    yield receiver
    receiver.close()


def test_the_cases_gzipped_jpeg_is_decoded(server: Receiver) -> None:
    photo = (shared_case("api", "url-gzip-content-encoding") / "product.jpg").read_bytes()
    server.files["/gz/product.jpg"] = gzip.compress(photo)
    server.file_headers["/gz/product.jpg"] = {"Content-Encoding": "gzip"}
    assert fetch(f"{server.url}/gz/product.jpg") == photo


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("GZIP", gzip.compress), ("identity", lambda b: b)],
)
def test_every_coding_httpx_removes_is_removed(server: Receiver, coding: str, compress) -> None:
    photo = product_jpeg()
    server.files["/p.jpg"] = compress(photo)
    server.file_headers["/p.jpg"] = {"Content-Encoding": coding}
    assert fetch(f"{server.url}/p.jpg") == photo
    # Asked for the bytes as they are: images are compressed already.
    assert server.gets[-1]["headers"]["Accept-Encoding"] == "identity"


def test_the_cap_counts_decoded_bytes(server: Receiver) -> None:
    bomb = gzip.compress(b"\xff\xd8\xff" + bytes(5_000_000))  # ~5 KB on the wire, 5 MB unpacked
    server.files["/bomb.jpg"] = bomb
    server.file_headers["/bomb.jpg"] = {"Content-Encoding": "gzip"}
    with pytest.raises(ImageTooLarge):
        fetch(f"{server.url}/bomb.jpg", max_bytes=1_000_000)


def test_a_coding_that_cannot_be_removed_is_named(server: Receiver) -> None:
    server.files["/p.jpg"] = product_jpeg()
    server.file_headers["/p.jpg"] = {"Content-Encoding": "br"}
    with pytest.raises(InvalidRequest, match="Content-Encoding: br"):
        fetch(f"{server.url}/p.jpg")


def test_a_damaged_gzip_body_is_refused_in_words(server: Receiver) -> None:
    server.files["/p.jpg"] = gzip.compress(product_jpeg())[:10] + b"\xff" * 400  # a gzip header, then junk
    server.file_headers["/p.jpg"] = {"Content-Encoding": "gzip"}
    with pytest.raises(InvalidRequest, match="compressed body is damaged"):
        fetch(f"{server.url}/p.jpg")
