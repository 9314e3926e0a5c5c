"""Making, listing and deleting an organization's webhook endpoints (I3), for its admins.

Every lookup goes through ``endpoint_of(viewer, organization, id)``: an endpoint of another
organization answers "not found", like one that does not exist (O3)."""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from parlour.accounts.access import require_admin
from parlour.accounts.models import Organization, User
from parlour.core import clock, destinations
from parlour.core.errors import DomainError
from parlour.meetings.models import EventKind

from .models import Endpoint
from .signing import new_secret

RULE = "I3"
LOOPBACK_NAMES = {"localhost"}


def plain_http_allowed() -> bool:
    """Plain http is allowed to this machine's loopback only, and only in development
    (``DEBUG``) or when ``PARLOUR_WEBHOOKS_LOOPBACK_HTTP`` is set (the tests)."""
    return bool(getattr(settings, "PARLOUR_WEBHOOKS_LOOPBACK_HTTP", settings.DEBUG))


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The endpoint's address, or a refusal saying what is wrong with it: also when its host
    is (or resolves to) this server or a private network's address, unless
    ``PARLOUR_ALLOW_PRIVATE_DESTINATIONS`` is set (``core.destinations``, O3)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- a bad port raises here
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise DomainError("invalid_url", _("The address must be a full web address starting with https://."), RULE)
    if parts.username or parts.password:
        raise DomainError("invalid_url", _("The address must not contain a user name or password."), RULE)
    if len(url) > 500:
        raise DomainError("invalid_url", _("The address is too long (at most 500 characters)."), RULE)
    if parts.scheme == "http" and not (plain_http_allowed() and _is_loopback(host)):
        raise DomainError(
            "invalid_url",
            _("The address must start with https://; events are not sent unencrypted."),
            RULE,
        )
    destinations.check_destination(url, RULE, unresolved_ok=True)  # not inside a private network
    return url


def check_kinds(kinds: list[str] | None) -> list[str]:
    kinds = sorted(set(kinds or []))
    unknown = [kind for kind in kinds if kind not in EventKind.values]
    if unknown:
        raise DomainError("invalid_kinds", _("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}, RULE)
    return kinds


def create_endpoint(
    viewer: User, organization: Organization, url: str, *, kinds: list[str] | None = None, description: str = ""
) -> Endpoint:
    """A new active endpoint with a fresh secret (shown to the admin once, in the answer)."""
    require_admin(viewer, organization, RULE)
    return Endpoint.objects.create(
        organization=organization,
        url=check_url(url),
        kinds=check_kinds(kinds),
        description=(description or "").strip()[:200],
        secret=new_secret(),
        created_at=clock.now(),
    )


def endpoints_of(viewer: User, organization: Organization):
    require_admin(viewer, organization, RULE)
    return Endpoint.objects.filter(organization=organization).order_by("created_at", "id")


def endpoint_of(viewer: User, organization: Organization, endpoint_id: int) -> Endpoint:
    require_admin(viewer, organization, RULE)
    endpoint = Endpoint.objects.filter(organization=organization, pk=endpoint_id).first()
    if endpoint is None:
        raise DomainError("not_found", _("No such webhook endpoint."), "O3", status=404)
    return endpoint


@transaction.atomic
def delete_endpoint(viewer: User, organization: Organization, endpoint_id: int) -> None:
    """The endpoint and its deliveries go; a delivery being sent this instant still arrives."""
    endpoint_of(viewer, organization, endpoint_id).delete()
