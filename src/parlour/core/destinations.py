"""Where Parlour's server may send a request that a member of an organization addressed.

Webhooks (I3: an admin's endpoint) and external calendars (K4: an expert's CalDAV address)
make the server itself call an address a person typed. Without a guard a member of one
organization could make it probe or call machines inside the server's own network — the
cloud's metadata service at 169.254.169.254, services on localhost, the private network —
and in a shared installation reach what other organizations use (O3).

``check_destination(url, rule)`` takes only ``http``/``https`` addresses without a user name
or password, resolves the host (every A/AAAA answer) and refuses when any address is
loopback, private, link-local, multicast, reserved, unspecified or otherwise not global —
also written as an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address. It answers the
addresses found, so that the caller can connect to exactly those (webhooks and the CalDAV
client of external calendars do).

It runs when the address is saved (a clear refusal; nothing is stored) and again right
before every request, since what a name resolves to may change after it was saved (DNS
rebinding). A name that does not resolve at all is not refused when saved: it reaches
nothing, and each request checks it again.

``PARLOUR_ALLOW_PRIVATE_DESTINATIONS=1`` lifts the address rule (not the scheme and user
name rules) for an installation on premises whose calendar server is in the office network;
the tests set it where they use servers on loopback."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import DomainError

NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def private_allowed() -> bool:
    return bool(getattr(settings, "PARLOUR_ALLOW_PRIVATE_DESTINATIONS", False))


def _embedded(ip: Address) -> list[Address]:
    """The IPv4 addresses an IPv6 address stands for (mapped, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [inner for inner in found if inner is not None]


def is_internal(ip: Address) -> bool:
    """Whether ``ip`` (or an IPv4 address it carries) is not a public address on the internet."""
    if any(is_internal(inner) for inner in _embedded(ip)):
        return True
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to now (raises ``OSError`` when it resolves to none)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]


def check_destination(url: str, rule: str, *, unresolved_ok: bool = False) -> list[Address]:
    """The addresses ``url``'s host resolves to, or a ``DomainError`` saying why Parlour does
    not send there. With ``unresolved_ok`` (when saving) a name that does not resolve passes
    with no addresses; otherwise it is refused too."""
    try:
        parts = urlsplit((url or "").strip())
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        parts, host, port = None, "", 0
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise DomainError("invalid_url", _("The address must be a full web address starting with https://."), rule)
    if parts.username is not None or parts.password is not None:
        raise DomainError("invalid_url", _("The address must not contain a user name or password."), rule)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        if unresolved_ok:
            return []
        raise DomainError(
            "unknown_host", _("The name %(host)s was not found; nothing was sent.") % {"host": host}, rule
        ) from None
    if not private_allowed() and (not addresses or any(is_internal(ip) for ip in addresses)):
        raise DomainError(
            "private_destination",
            _(
                "Parlour does not send requests to %(host)s: it is this server itself or an address "
                "inside a private network."
            )
            % {"host": host},
            rule,
        )
    return addresses
