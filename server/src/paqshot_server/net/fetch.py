"""The one SSRF-safe HTTP client: image-URL input (in the request); webhook POSTs (``net.post``) use its resolver.

Every hop: scheme http/https only; all A/AAAA records resolved and checked against the policy; the
connection goes to the checked address (no second DNS lookup) with the original Host header and SNI;
proxies from the environment are ignored; bodies are read with a hard byte cap and a total deadline.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from ..errors import ImageTooLarge, InvalidRequest, megabytes
from ..words import counted
from .addresses import AddressPolicy, IPAddress
from .urls import url_shape_error

CONNECT_TIMEOUT = 5.0
# Content-codings httpx removes without optional packages (it passes unknown ones through untouched).
_DECODED = ("identity", "gzip", "deflate")
log = logging.getLogger(__name__)


class BlockedAddress(InvalidRequest):
    """The URL points somewhere this appliance may not connect to."""


@dataclass(frozen=True)
class Target:
    """A URL resolved to one checked address."""

    url: str
    host: str
    port: int
    scheme: str
    address: IPAddress

    def request_url(self) -> str:
        """The URL with the host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        path = parts.path or "/"
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.scheme}://{literal}:{self.port}{path}{query}"

    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.host} if self.scheme == "https" else {}


def split_url(url: str, *, schemes: tuple[str, ...] = ("http", "https")) -> tuple[str, str, int]:
    """Validate the shape of a URL (``net.urls``); return (scheme, host, port)."""
    problem = url_shape_error(url, schemes)
    if problem is not None:
        raise InvalidRequest(f"The URL {problem}.")
    parts = urlsplit(url)  # cannot fail on a URL of this shape
    port = parts.port
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", port or (443 if scheme == "https" else 80)


def _check(host: str, infos: list[IPAddress], policy: AddressPolicy) -> IPAddress:
    # The refusal never names the address a host name resolved to, and reads the same whether the name did
    # not resolve or resolved to a private address: either would make the API a DNS oracle for the operator's
    # internal network. The log has the detail.
    refused = [a for a in infos if not policy.allows(a)]
    if not infos and policy.allow_private:  # every address is allowed: nothing to hide, the name is the problem
        raise BlockedAddress(f"Host {host} does not resolve to any address from this appliance: check the name.")
    if not infos or refused:
        if refused:
            log.info("refused %s: resolves to non-public %s", host, refused[0])
        raise BlockedAddress(
            f"Host {host} is not reachable from this appliance: it does not resolve to a public internet address "
            "(loopback, private, link-local and metadata addresses are refused unless the operator allows them)."
        )
    return infos[0]


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _addresses(infos: list[tuple]) -> list[IPAddress]:
    out: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if addr not in out:
            out.append(addr)
    return out


async def resolve_async(url: str, policy: AddressPolicy) -> Target:
    """Resolve and check a URL without blocking the event loop."""
    scheme, host, port = split_url(url)
    literal = _literal(host)
    if literal is not None:
        return Target(url, host, port, scheme, _check(host, [literal], policy))
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a label IDNA cannot encode
        log.info("refused %s: does not resolve (%s)", host, exc)
        infos = []
    return Target(url, host, port, scheme, _check(host, _addresses(infos), policy))


async def fetch_image(
    url: str,
    policy: AddressPolicy,
    *,
    max_bytes: int,
    user_agent: str,
    total_timeout: float = 30.0,
    max_redirects: int = 3,
    field: str = "product_image",
) -> bytes:
    """GET an image URL under the SSRF policy; raise InvalidRequest / ImageTooLarge with clear messages that name
    the request's ``field``."""
    timeout = httpx.Timeout(total_timeout, connect=CONNECT_TIMEOUT)
    try:
        async with (
            asyncio.timeout(total_timeout),
            httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=timeout) as client,
        ):
            current = url
            for _hop in range(max_redirects + 1):
                target = await resolve_async(current, policy)
                request = client.build_request(
                    "GET",
                    target.request_url(),
                    # Images are compressed already: ask for the bytes as they are (a server may still send
                    # gzip; _read_capped decodes it).
                    headers={
                        "Host": target.host_header(),
                        "User-Agent": user_agent,
                        "Accept": "image/*",
                        "Accept-Encoding": "identity",
                    },
                    extensions=target.extensions(),
                )
                response = await client.send(request, stream=True)
                try:
                    if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise InvalidRequest(f"{field} URL answered HTTP {response.status_code}; expected 200.")
                    return await _read_capped(response, max_bytes, field)
                finally:
                    await response.aclose()
            raise InvalidRequest(f"{field} URL redirected more than {counted(max_redirects, 'time')}.")
    except TimeoutError as exc:
        raise InvalidRequest(f"{field} URL did not answer within {total_timeout:.0f} s.") from exc
    except httpx.HTTPError as exc:
        raise InvalidRequest(f"{field} URL could not be fetched: {_in_words(exc)}.") from exc


def _in_words(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "the server did not accept a connection"
    if isinstance(exc, httpx.TimeoutException):
        return "the server stopped sending"
    if isinstance(exc, httpx.DecodingError):
        return "its compressed body is damaged"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server's answer is not valid HTTP"
    return "the connection failed"


async def _read_capped(response: httpx.Response, max_bytes: int, field: str) -> bytes:
    """The body with its content-coding removed (gzip, deflate), refused once it passes ``max_bytes``.

    The cap counts decoded bytes, so a small compressed body cannot unpack past it (httpx inflates one network
    chunk at a time: at most ~1000x a 64 KiB read, once, before the cap stops the transfer).
    """
    codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",") if c.strip()]
    unknown = [c for c in codings if c not in _DECODED]
    if unknown:
        raise InvalidRequest(
            f"{field} URL was sent with Content-Encoding: {', '.join(unknown)}, which this appliance cannot "
            "decode; serve the image uncompressed."
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:  # Content-Length is not trusted: count what actually arrives
            raise ImageTooLarge(f"{field} exceeds {megabytes(max_bytes)}.")
        chunks.append(chunk)
    return b"".join(chunks)
