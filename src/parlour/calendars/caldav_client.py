"""K4: the CalDAV client Parlour's server uses to call an address an expert typed.

Every request is checked right before it is sent (``core.destinations``: no address of this
server or of a private network, unless ``PARLOUR_ALLOW_PRIVATE_DESTINATIONS``; https only,
except on premises and with ``DEBUG``, since the password would otherwise cross the network
readable), and the connection then goes only to the addresses just checked: the session's
own resolver knows those and nothing else, so the name is not looked up again (DNS
rebinding). TLS still sends the name and checks the certificate against it. No redirect is
followed and no HTTP/3 is spoken (its Alt-Svc would name another place to connect to).

The environment's ``HTTPS_PROXY`` is not followed, as for webhooks: a proxy resolves the
name itself, past the checks. An installation that must go through an egress proxy names
it in ``PARLOUR_OUTGOING_PROXY``; that proxy must then refuse private addresses itself."""

from urllib.parse import urlsplit

import caldav
import niquests
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from niquests.packages.urllib3.contrib.resolver import ResolverDescription

from parlour.core import destinations
from parlour.core.errors import DomainError

RULE = "K4"
TIMEOUT = 20  # seconds for one request to the calendar server
INSECURE = gettext_noop(
    "The address must start with https://: over plain http:// the password would cross the network unprotected."
)


def require_https(url: str) -> None:
    """A ``DomainError`` for a plain http address, unless on premises or with ``DEBUG``."""
    if urlsplit(url).scheme != "https" and not (destinations.private_allowed() or settings.DEBUG):
        raise DomainError("insecure_url", _(INSECURE), RULE)


def outgoing_proxy() -> str:
    return getattr(settings, "PARLOUR_OUTGOING_PROXY", "") or ""


class GuardedClient(caldav.DAVClient):
    """A CalDAV client that checks each request's address just before sending it and then
    connects only to the addresses checked (or to ``PARLOUR_OUTGOING_PROXY``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, enable_rfc6764=False, **kwargs)
        self.session.close()
        self.pins = ResolverDescription.from_url("in-memory://default").new()
        self.session = niquests.Session(resolver=self.pins, disable_http3=True)
        self.session.max_redirects = 0
        self.session.trust_env = False  # no HTTPS_PROXY, no .netrc from the environment
        if proxy := outgoing_proxy():
            self.session.proxies = {"http": proxy, "https": proxy}

    def request(self, url, *args, **kwargs):
        url = str(self.url.join(url))
        require_https(url)
        addresses = destinations.check_destination(url, RULE)
        self.pin(url, addresses)
        return super().request(url, *args, **kwargs)

    def pin(self, url: str, addresses: list) -> None:
        """``url``'s host now resolves to ``addresses`` only; the configured outgoing proxy
        (the operator named it) is resolved as usual and makes the connection itself."""
        host = urlsplit(url).hostname or ""
        self.pins.clear(host)
        for ip in addresses:
            self.pins.register(host, str(ip))
        proxy = outgoing_proxy()
        proxy_host = urlsplit(proxy).hostname if proxy else None
        if proxy_host and not self.pins.support(proxy_host):
            for ip in destinations.resolve(proxy_host, urlsplit(proxy).port or 80):
                self.pins.register(proxy_host, str(ip))


def client_for(url: str, username: str, password: str, timeout: float = TIMEOUT) -> caldav.Calendar:
    client = GuardedClient(url=url, username=username or None, password=password or None, timeout=timeout)
    return client.calendar(url=url)
