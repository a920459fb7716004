"""Which addresses outgoing requests may reach (SSRF defence for image URLs and webhooks).

Python's ``is_global`` misses IPv6 forms that embed a private IPv4 (IPv4-mapped, NAT64, 6to4, Teredo),
so those are unwrapped and checked as IPv4.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_6TO4 = ipaddress.ip_network("2002::/16")
# Never reached by ``allow_private_network`` alone: link-local blocks (where cloud metadata services answer, and
# where nothing an appliance should fetch lives) and the metadata services clouds put elsewhere. A request to one
# of them from inside a cloud hands out the machine's credentials. Only an ``allowed_networks`` CIDR inside one of
# these blocks opens it (see :class:`AddressPolicy`).
NEVER_BY_DEFAULT = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCP, Azure, OCI metadata at 169.254.169.254
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS IPv6 metadata
    ipaddress.ip_network("fd20:ce::254/128"),  # GCP IPv6 metadata
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("192.0.0.192/32"),  # Oracle Cloud legacy metadata
    ipaddress.ip_network("168.63.129.16/32"),  # Azure WireServer (a public address: refused under every policy)
)
# Never public, whatever ``is_global`` says.
_EXTRA_BLOCKED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT: is_global is False, but be explicit
    ipaddress.ip_network("0.0.0.0/8"),
    *NEVER_BY_DEFAULT,
)


def embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo client), if any."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64 or addr in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    packed = int(addr)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed)
    return None


def is_public(addr: IPAddress) -> bool:
    """True only for globally routable unicast addresses (and no embedded private IPv4)."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = embedded_ipv4(addr)
        if inner is not None:
            return is_public(inner)
    if addr.is_multicast or addr.is_unspecified or addr.is_loopback or addr.is_link_local:
        return False
    if any(addr in net for net in _EXTRA_BLOCKED if net.version == addr.version):
        return False
    return bool(addr.is_global)


def sensitive_block(addr: IPAddress) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The :data:`NEVER_BY_DEFAULT` block holding ``addr`` (also in an IPv6 form that embeds an IPv4), or None."""
    inner = embedded_ipv4(addr) if isinstance(addr, ipaddress.IPv6Address) else None
    for candidate in (addr, inner) if inner is not None else (addr,):
        for net in NEVER_BY_DEFAULT:
            if net.version == candidate.version and candidate in net:
                return net
    return None


def parse_networks(values: Sequence[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """CIDR strings of the operator's allow-list."""
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


class AddressPolicy:
    """Decides whether an address may be contacted under the operator's settings.

    Public addresses: always (but for the metadata addresses of :data:`NEVER_BY_DEFAULT`). ``allow_private``
    (``PAQSHOT_ALLOW_PRIVATE_NETWORK``): every other address too, except the link-local and metadata blocks of
    :data:`NEVER_BY_DEFAULT`. ``allowed_networks`` (``PAQSHOT_ALLOWED_NETWORKS``, CIDRs): those networks; a
    link-local or metadata address only through a CIDR that lies inside its block (``169.254.169.254/32`` opens
    the metadata service; ``0.0.0.0/0`` does not).
    """

    def __init__(self, allow_private: bool, allowed_networks: Sequence[str] = ()) -> None:
        self.allow_private = allow_private
        self.allowed = parse_networks(allowed_networks)

    def allows(self, addr: IPAddress) -> bool:
        """Whether ``addr`` may be contacted (see the class)."""
        block = sensitive_block(addr)
        if block is not None:
            inner = embedded_ipv4(addr) if isinstance(addr, ipaddress.IPv6Address) else None
            plain = inner if inner is not None and inner.version == block.version else addr
            return any(
                net.version == block.version and net.subnet_of(block) and plain in net  # type: ignore[arg-type]
                for net in self.allowed
            )
        if is_public(addr):
            return True
        if self.allow_private:
            return True
        return any(addr.version == net.version and addr in net for net in self.allowed)
