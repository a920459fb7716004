"""SSRF defence: address classification (incl. embedded IPv4 forms) and the fetcher refusing hops."""

from __future__ import annotations

import asyncio
import ipaddress
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient
from paqshot_server.errors import ImageTooLarge, InvalidRequest
from paqshot_server.net.addresses import AddressPolicy, is_public
from paqshot_server.net.fetch import BlockedAddress, fetch_image
from paqshot_server.net.post import post
from support import Key, Receiver, b64, product_jpeg

REFUSED = [
    "127.0.0.1",
    "127.5.6.7",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b:1::c0a8:101",
    "2002:7f00:1::1",
    "2002:a00:1::",
    "::127.0.0.1",
    "ff02::1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2001:4860:4860::8888", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert not AddressPolicy(allow_private=False).allows(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_and_nat64_forms_agree_with_ipv4(addr: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{addr}")
    nat64 = ipaddress.IPv6Address((0x0064FF9B << 96) | int(addr))
    assert is_public(mapped) == is_public(addr) == is_public(nat64)


def test_allow_list_opens_only_named_networks() -> None:
    policy = AddressPolicy(allow_private=False, allowed_networks=["10.20.0.0/16"])
    assert policy.allows(ipaddress.ip_address("10.20.3.4"))
    assert not policy.allows(ipaddress.ip_address("10.21.3.4"))


def fetch(url: str, policy: AddressPolicy, max_bytes: int = 10_000_000) -> bytes:
    return asyncio.run(fetch_image(url, policy, max_bytes=max_bytes, user_agent="test"))


def test_fetcher_refuses_loopback_unless_allowed() -> None:
    server = Receiver()
    server.files["/p.jpg"] = product_jpeg()
    try:
        with pytest.raises(BlockedAddress):
            fetch(f"{server.url}/p.jpg", AddressPolicy(allow_private=False))
        with pytest.raises(BlockedAddress):
            fetch(f"http://localhost:{server.port}/p.jpg", AddressPolicy(allow_private=False))
        assert fetch(f"{server.url}/p.jpg", AddressPolicy(allow_private=True)) == server.files["/p.jpg"]
    finally:
        server.close()


def test_redirect_to_a_private_address_is_refused() -> None:
    # 127.0.0.2 stands in for a permitted host; it redirects to 127.0.0.1, which is not permitted.
    permitted = Receiver(host="127.0.0.2")
    target = Receiver()
    target.files["/p.jpg"] = product_jpeg()
    policy = AddressPolicy(allow_private=False, allowed_networks=["127.0.0.2/32"])
    try:
        with pytest.raises(BlockedAddress):
            fetch(f"{permitted.url}/redirect?to={target.url}/p.jpg", policy)
        assert target.requests == []
    finally:
        permitted.close()
        target.close()


def test_fetch_limits_size_and_schemes() -> None:
    server = Receiver()
    server.files["/big.jpg"] = b"\xff\xd8\xff" + b"\0" * 50_000
    try:
        with pytest.raises(ImageTooLarge):
            fetch(f"{server.url}/big.jpg", AddressPolicy(allow_private=True), max_bytes=10_000)
        with pytest.raises(InvalidRequest, match="HTTP 404"):
            fetch(f"{server.url}/missing.jpg", AddressPolicy(allow_private=True))
    finally:
        server.close()
    for url in ("file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/x.jpg"):
        with pytest.raises(InvalidRequest):
            fetch(url, AddressPolicy(allow_private=True))


def test_loopback_in_every_spelling_reaches_no_listener_and_is_not_echoed() -> None:
    """The attack run's probe kinds (738 probes reached 0 listeners): keep it so, with the new URL grammar, and
    never tell the client which address a name resolved to. 127.0.0.2 stands in for a permitted host that
    redirects."""
    target = Receiver()
    target.files["/p.jpg"] = product_jpeg()
    permitted = Receiver(host="127.0.0.2")
    policy = AddressPolicy(allow_private=False, allowed_networks=["127.0.0.2/32"])
    port = target.port
    spellings = [
        *("127.0.0.1", "127.1", "127.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433", "017700000001", "0177.0.0.1"),
        *("localhost", "LOCALHOST", "localhost.", "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "0"),
        *("0.0.0.0", "127.0.0.1.", "%31%32%37.0.0.1"),
    ]
    try:
        for host in spellings:
            for url in (f"http://{host}:{port}/p.jpg", f"{permitted.url}/redirect?to=http://{host}:{port}/p.jpg"):
                with pytest.raises(InvalidRequest) as refused:
                    fetch(url, policy)
                written = unquote(host).strip("[].")  # a literal the URL itself carries may be named
                resolved_to = {"127.0.0.1", "::1", "0.0.0.0"} - {written}
                assert not any(address in refused.value.message for address in resolved_to), refused.value.message
        assert target.gets == []  # not one request reached the loopback listener
    finally:
        target.close()
        permitted.close()


@pytest.mark.parametrize("host", ["no-such-host.invalid"])  # RFC 6761: never resolves
def test_a_name_that_does_not_resolve_is_named_as_the_problem_when_every_address_is_allowed(host: str) -> None:
    # breaker8: with private networks allowed, "127.0.0.1." was refused as "not a public address ... unless the
    # operator allows them", which the operator had. With every address allowed there is no network to hide.
    with pytest.raises(InvalidRequest) as refused:
        fetch(f"http://{host}:9/p.jpg", AddressPolicy(allow_private=True))
    assert "does not resolve" in refused.value.message and "public" not in refused.value.message
    with pytest.raises(InvalidRequest) as hidden:  # without the permission the words stay those of any refusal
        fetch(f"http://{host}:9/p.jpg", AddressPolicy(allow_private=False))
    assert "public internet address" in hidden.value.message


# ---- link-local and metadata addresses under allow_private_network (breaker9 F5) ------------------------------

METADATA = [
    "169.254.169.254",
    "169.254.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "fe80::1",
    "fe80::a9fe:a9fe",
    "fd00:ec2::254",
    "fd20:ce::254",
    "100.100.100.200",
    "192.0.0.192",
    "168.63.129.16",
]


@pytest.mark.parametrize("address", METADATA)
def test_link_local_and_metadata_addresses_stay_refused_when_private_networks_are_allowed(address: str) -> None:
    addr = ipaddress.ip_address(address)
    assert not AddressPolicy(allow_private=True).allows(addr)
    # an allow-list that merely contains them does not name them
    assert not AddressPolicy(allow_private=True, allowed_networks=["0.0.0.0/0", "::/0", "169.0.0.0/8"]).allows(addr)
    assert AddressPolicy(allow_private=True).allows(ipaddress.ip_address("10.1.2.3"))  # the rest of the LAN is open


def test_only_a_cidr_inside_the_link_local_block_opens_it() -> None:
    policy = AddressPolicy(allow_private=False, allowed_networks=["169.254.169.254/32", "fe80::/64"])
    assert policy.allows(ipaddress.ip_address("169.254.169.254"))
    assert policy.allows(ipaddress.ip_address("fe80::1"))
    assert not policy.allows(ipaddress.ip_address("169.254.169.253"))
    assert not policy.allows(ipaddress.ip_address("fd00:ec2::254"))


def test_image_urls_reach_no_metadata_address_directly_or_by_redirect_when_private_networks_are_allowed() -> None:
    """Refused before any connection (BlockedAddress), not after a connection attempt that failed."""
    permitted = Receiver()
    policy = AddressPolicy(allow_private=True)
    metadata = "http://169.254.169.254/latest/meta-data/"
    try:
        for sent in (metadata, f"{permitted.url}/redirect?to={metadata}"):  # IPv6 literals are refused by the grammar
            with pytest.raises(BlockedAddress, match="not reachable from this appliance"):
                fetch(sent, policy)
    finally:
        permitted.close()


def test_a_webhook_to_a_metadata_address_is_refused_at_submission_and_at_delivery(client: TestClient, key: Key) -> None:
    outcome = asyncio.run(
        post(
            "http://169.254.169.254/latest/meta-data/",
            b"{}",
            {},
            AddressPolicy(allow_private=True),
            schemes=("http", "https"),
            deadline=10,
        )
    )
    assert outcome.status_code is None and outcome.error is not None
    assert "not reachable from this appliance" in outcome.error and outcome.latency_ms < 1000
    # the test appliance allows private networks (tests/server/conftest.py)
    body = {"product_image": "http://169.254.169.254/p.jpg", "style": "studio_packshot"}
    refused = client.post("/v1/generate", json=body, headers=key.headers)
    assert refused.status_code == 400 and "not reachable" in refused.json()["message"], refused.json()
    body = {"product_image": b64(product_jpeg()), "style": "studio_packshot", "webhook_url": "http://169.254.169.254/x"}
    refused = client.post("/v1/generate", json=body, headers=key.headers)
    assert refused.status_code == 400 and "webhook_url refused" in refused.json()["message"], refused.json()
