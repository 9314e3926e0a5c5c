"""STUN and TURN servers for the built-in room's browsers (RTCIceServer dicts).

Two browsers on the open internet usually find each other with STUN alone; behind a strict
firewall or a symmetric NAT they need a TURN server to relay the media (docs/rooms.md).
TURN credentials are coturn's ``use-auth-secret`` ones (the "TURN REST API"): the username
is ``"<expiry unix time>:<participant key>"`` and the password is
base64(HMAC-SHA1(shared secret, username)), so coturn checks them with no database and they
stop working by themselves at the expiry.

settings.py imports the ``parse_*`` functions, so this module's top level imports only the
standard library and ``django.core.exceptions`` (no apps, no models, no settings).
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

ICE_SCHEMES = ("stun:", "stuns:", "turn:", "turns:")
TURN_SCHEMES = ("turn:", "turns:")
DEFAULT_TURN_TTL = 6 * 60 * 60
_SERVER_KEYS = {"urls", "username", "credential"}


def parse_ice_servers(value: str | list | None, *, name: str = "PARLOUR_ICE_SERVERS") -> list[dict]:
    """The ICE servers of the environment variable ``name``: a JSON list whose items are URLs
    (``"stun:stun.example.org:3478"``) or RTCIceServer objects (``{"urls": ..., "username":
    ..., "credential": ...}``). Returns RTCIceServer dicts with ``urls`` always a list; an
    empty value gives ``[]``. Anything else raises ImproperlyConfigured saying what is wrong."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ImproperlyConfigured(f"{name} is not valid JSON ({error}); expected a list of servers.") from None
    if not isinstance(value, list):
        raise ImproperlyConfigured(f"{name} must be a JSON list of servers, not {type(value).__name__}.")
    return [_parse_server(item, f"{name} item {number}") for number, item in enumerate(value, 1)]


def _parse_server(item, where: str) -> dict:
    if isinstance(item, str):
        item = {"urls": item}
    if not isinstance(item, dict):
        raise ImproperlyConfigured(f"{where} must be a URL or an object with urls, not {type(item).__name__}.")
    unknown = sorted(set(item) - _SERVER_KEYS)
    if unknown:
        hint = ' (write "urls")' if "url" in unknown else ""
        raise ImproperlyConfigured(
            f"{where} has unknown keys {', '.join(unknown)}{hint}; allowed: urls, username, credential."
        )
    urls = item.get("urls")
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not urls:
        raise ImproperlyConfigured(f"{where} needs urls: a URL or a non-empty list of URLs.")
    for url in urls:
        _check_url(url, where, ICE_SCHEMES)
    server = {"urls": urls}
    for key in ("username", "credential"):
        if key in item:
            if not isinstance(item[key], str) or not item[key]:
                raise ImproperlyConfigured(f"{where}: {key} must be a non-empty string.")
            server[key] = item[key]
    if any(url.startswith(TURN_SCHEMES) for url in urls) and not ("username" in server and "credential" in server):
        raise ImproperlyConfigured(
            f"{where} is a TURN server and needs a username and a credential (browsers refuse it without them); "
            "for time-limited credentials use PARLOUR_TURN_URLS and PARLOUR_TURN_SECRET instead."
        )
    return server


def _check_url(url, where: str, schemes: tuple[str, ...]) -> None:
    if not isinstance(url, str) or not url.startswith(schemes) or len(url) <= len(url.split(":", 1)[0]) + 1:
        raise ImproperlyConfigured(f"{where}: {url!r} is not a server URL; it must start with {', '.join(schemes)}.")


def parse_turn(urls: str, secret: str, ttl: str | int | None = None) -> tuple[list[str], str, int]:
    """The environment's PARLOUR_TURN_URLS (comma-separated ``turn:``/``turns:`` URLs),
    PARLOUR_TURN_SECRET (coturn's ``static-auth-secret``) and PARLOUR_TURN_TTL (seconds a
    credential lasts, default 6 hours), checked together: URLs without a secret, or a secret
    without URLs, is a mistake worth stopping for."""
    url_list = [url.strip() for url in (urls or "").split(",") if url.strip()]
    for url in url_list:
        _check_url(url, "PARLOUR_TURN_URLS", TURN_SCHEMES)
    secret = secret or ""
    if url_list and not secret:
        raise ImproperlyConfigured("PARLOUR_TURN_URLS is set but PARLOUR_TURN_SECRET is empty; set both or neither.")
    if secret and not url_list:
        raise ImproperlyConfigured("PARLOUR_TURN_SECRET is set but PARLOUR_TURN_URLS is empty; set both or neither.")
    if ttl in (None, ""):
        return url_list, secret, DEFAULT_TURN_TTL
    try:
        seconds = int(ttl)
    except ValueError:
        raise ImproperlyConfigured(f"PARLOUR_TURN_TTL must be a whole number of seconds, not {ttl!r}.") from None
    if seconds <= 0:
        raise ImproperlyConfigured(f"PARLOUR_TURN_TTL must be more than 0 seconds, not {seconds}.")
    return url_list, secret, seconds


def turn_credential(secret: str, username: str) -> str:
    """coturn's REST API password for ``username``: base64(HMAC-SHA1(secret, username))."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def ice_servers(*, participant_key: str, now: datetime) -> list[dict]:
    """RTCIceServer dicts for one participant's browser: PARLOUR_ICE_SERVERS, then, when
    TURN is configured, the TURN URLs with credentials that expire PARLOUR_TURN_TTL seconds
    after ``now``. ``participant_key`` names the participant in coturn's logs (no secret)."""
    from django.conf import settings

    if not participant_key:
        raise ValueError("participant_key must not be empty")
    servers = parse_ice_servers(getattr(settings, "PARLOUR_ICE_SERVERS", []))
    urls = getattr(settings, "PARLOUR_TURN_URLS", [])
    urls = [url.strip() for url in urls.split(",") if url.strip()] if isinstance(urls, str) else list(urls)
    secret = getattr(settings, "PARLOUR_TURN_SECRET", "")
    if urls and secret:
        expiry = int(now.timestamp()) + int(getattr(settings, "PARLOUR_TURN_TTL", DEFAULT_TURN_TTL))
        username = f"{expiry}:{participant_key}"
        servers.append({"urls": urls, "username": username, "credential": turn_credential(secret, username)})
    return servers
