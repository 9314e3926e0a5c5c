"""The signature of a webhook request (I3), in the manner of Stripe's:

    Parlour-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>

The timestamp is signed with the body, so a receiver can refuse a request replayed later
(``verify`` allows five minutes by default)."""

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Parlour-Signature"
EVENT_ID_HEADER = "Parlour-Event-Id"
SECRET_PREFIX = "whsec_"
TOLERANCE = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE) -> bool:
    """What a receiver does (docs/webhooks.md shows the same in a few lines): the header's
    ``v1`` is the body's signature at its ``t``, and ``t`` is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))
