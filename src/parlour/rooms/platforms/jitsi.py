"""Jitsi Meet on the organization's own server (V1), with signed tokens when the server uses
Prosody's ``token`` authentication (lib-jitsi-meet doc/tokens.md; docs/rooms.md).

A Jitsi room comes into being when the first person joins it and disappears when the last
one leaves; there is no API to book one ahead. So creating, moving and cancelling a room
need no call to the server: the room's name is unguessable, its token carries the dates it
is valid for (``nbf``/``exp``, read from the room when someone enters), and Parlour stops
handing out the address once the room is cancelled. Everything happens in ``join_url``.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import jwt
from django.core.exceptions import ImproperlyConfigured

from . import Participant, Platform

AUDIENCE = "jitsi"
CALLBACK_EVENTS = ("connection_failed", "connected")
# A callback's token must be short-lived: one that lasts longer than this is refused.
CALLBACK_TOKEN_MAX_SECONDS = 10 * 60
CALLBACK_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class CallbackEvent:
    """What the Jitsi side reported about a room (V4)."""

    room_name: str
    event: str  # "connection_failed" | "connected"


class JitsiPlatform(Platform):
    key = "jitsi"
    label = "Jitsi Meet"

    def create_room(self, room) -> None:
        """Nothing to do: Jitsi makes the room when the first participant joins."""

    def move_room(self, room) -> None:
        """Nothing to do: the token's validity is taken from ``room.start``/``room.end``
        each time someone enters, so a moved room's tokens follow the new date."""

    def cancel_room(self, room) -> None:
        """Nothing to do on the server: Parlour no longer gives out the room's address or
        tokens, and without them nobody can find or (with token auth) enter it."""

    @property
    def domain(self) -> str:
        domain = self.settings.jitsi_domain.strip().lower().removeprefix("https://").strip("/")
        if not domain:
            raise ImproperlyConfigured(f"{self.organization} uses Jitsi Meet but its settings name no Jitsi server.")
        return domain

    @property
    def signs_tokens(self) -> bool:
        return bool(self.settings.jitsi_app_id and self.settings.jitsi_app_secret)

    def join_url(self, room, participant: Participant, *, now: datetime) -> str:
        url = f"https://{self.domain}/{quote(room.name, safe='')}"
        if self.signs_tokens:
            url += f"?jwt={self.token(room, participant, now=now)}"
        return url

    def token(self, room, participant: Participant, *, now: datetime) -> str:
        """The participant's token for this room, valid from the join window's opening (V2)
        to the meeting's end. Prosody checks it when the participant connects."""
        opens = room.start - timedelta(minutes=self.settings.join_window_minutes)
        moderator = participant.moderator
        claims = {
            "aud": AUDIENCE,
            "iss": self.settings.jitsi_app_id,
            "sub": self.domain,
            "room": room.name,
            "iat": int(now.timestamp()),
            "nbf": int(opens.timestamp()),
            "exp": int(room.end.timestamp()),
            # Read by the token_moderation plugin; context.user.moderator by 8x8's servers and
            # affiliation by jitsi-contrib's token_affiliation plugin (docs/rooms.md).
            "moderator": moderator,
            "context": {
                "user": {
                    "id": participant.side,
                    "name": participant.name,
                    "email": participant.email,
                    "moderator": "true" if moderator else "false",
                    "affiliation": "owner" if moderator else "member",
                }
            },
        }
        return jwt.encode(claims, self.settings.jitsi_app_secret, algorithm="HS256")

    def read_callback(self, headers, body: bytes, *, now: datetime | None = None) -> CallbackEvent | None:
        """V4: the event a request from the Jitsi side reports, or None when the request is
        not one to trust. The body is ``{"room": <name>, "event": "connection_failed" |
        "connected"}``; the ``Authorization: Bearer`` token is HS256 with the app secret,
        ``iss`` the app id, ``room`` and ``event`` the body's, and expires within 10 minutes.
        The caller still checks that the room is one of this organization's."""
        from parlour.core import clock

        if not self.signs_tokens:
            return None
        token = _bearer(headers)
        try:
            payload = json.loads(body)
            claims = jwt.decode(
                token or "",
                self.settings.jitsi_app_secret,
                algorithms=["HS256"],
                issuer=self.settings.jitsi_app_id,
                options={"require": ["iss", "exp", "room", "event"], "verify_exp": False, "verify_nbf": False},
            )
        except (ValueError, jwt.InvalidTokenError):  # JSONDecodeError is a ValueError
            return None
        if not isinstance(payload, dict):
            return None
        room, event = payload.get("room"), payload.get("event")
        if not isinstance(room, str) or claims["room"] != room or event not in CALLBACK_EVENTS:
            return None
        if claims["event"] != event:  # a token says what it reports: it cannot be reused for another event
            return None
        instant = (now or clock.now()).timestamp()
        if not isinstance(claims["exp"], int | float):
            return None
        if not instant - CALLBACK_LEEWAY_SECONDS < claims["exp"] <= instant + CALLBACK_TOKEN_MAX_SECONDS:
            return None
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > instant + CALLBACK_LEEWAY_SECONDS:
            return None
        return CallbackEvent(room_name=room, event=event)


def _bearer(headers) -> str | None:
    for name, value in headers.items():
        if name.lower().replace("_", "-") in ("authorization", "http-authorization"):
            scheme, _, token = str(value).partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None
