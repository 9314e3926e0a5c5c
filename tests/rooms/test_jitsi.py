"""Jitsi Meet as the organization's platform (V1, V2, V4): the join address, the signed token
a self-hosted server with token authentication checks, and the platform's callback."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from parlour.meetings import lifecycle
from parlour.rooms.commands import sync_room
from parlour.rooms.platforms import Participant, platform_for
from parlour.rooms.platforms.jitsi import CallbackEvent, JitsiPlatform
from tests.factories import World
from tests.meetings.checks import NOW, at
from tests.rooms.conftest import JITSI_SECRET as SECRET

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def w(jitsi_world) -> World:
    return jitsi_world


@pytest.fixture
def room(w):
    """The room of an agreed 30-minute meeting from 72 h to 72.5 h."""
    return sync_room(w.agreed(service=w.free_service, hours_ahead=72, length=30), NOW)


def expert(w) -> Participant:
    return Participant(side="expert", name=w.expert.name, email=w.expert.email, moderator=True)


def client(w) -> Participant:
    return Participant(side="client", name=w.client.name, email=w.client.email, moderator=False)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["jwt"][0]


def claims_of(url: str, secret: str = SECRET) -> dict:
    """The token's claims, checked as Prosody checks them except for the dates."""
    options = {"verify_iat": False, "verify_nbf": False, "verify_exp": False}
    return jwt.decode(token_of(url), secret, algorithms=["HS256"], audience="jitsi", issuer="parlour", options=options)


# --- V1: the room -------------------------------------------------------------------


def test_v1_a_jitsi_room_needs_no_call_to_the_server(w, room):
    """Jitsi makes a room when the first person joins: the room is Parlour's row alone."""
    assert isinstance(platform_for(w.org), JitsiPlatform)
    assert (room.platform, room.state, room.start, room.end) == ("jitsi", "open", at(72), at(72.5))
    platform = JitsiPlatform(w.org)
    assert platform.create_room(room) is None
    assert platform.move_room(room) is None
    assert platform.cancel_room(room) is None


def test_v1_the_room_name_is_safe_in_a_jitsi_address(room):
    assert room.name.isalnum() and room.name == room.name.lower() and len(room.name) >= 20


# --- V2: the join address and its token ---------------------------------------------------


def test_v2_the_expert_enters_a_signed_address_as_moderator(w, room):
    url = JitsiPlatform(w.org).join_url(room, expert(w), now=at(71.9))

    assert url.startswith(f"https://meet.example.org/{room.name}?jwt=")
    assert jwt.get_unverified_header(token_of(url))["alg"] == "HS256"
    assert claims_of(url) == {
        "aud": "jitsi",
        "iss": "parlour",
        "sub": "meet.example.org",
        "room": room.name,
        "iat": int(at(71.9).timestamp()),
        "nbf": int(at(71.75).timestamp()),  # the join window opens 15 minutes before
        "exp": int(at(72.5).timestamp()),  # the meeting's end
        "moderator": True,
        "context": {
            "user": {
                "id": "expert",
                "name": "Eve Expert",
                "email": w.expert.email,
                "moderator": "true",
                "affiliation": "owner",
            }
        },
    }


def test_v2_the_client_is_not_a_moderator(w, room):
    claims = claims_of(JitsiPlatform(w.org).join_url(room, client(w), now=at(72)))
    assert claims["moderator"] is False
    assert claims["context"]["user"] == {
        "id": "client",
        "name": "Cleo Client",
        "email": w.client.email,
        "moderator": "false",
        "affiliation": "member",
    }


def test_v2_a_token_checked_with_another_secret_is_refused(w, room):
    url = JitsiPlatform(w.org).join_url(room, client(w), now=at(72))
    with pytest.raises(jwt.InvalidSignatureError):
        claims_of(url, secret="another secret, of a decent length too")


def test_v2_the_token_is_valid_from_the_join_window_to_the_meetings_end(w, room, frozen_clock):
    token = token_of(JitsiPlatform(w.org).join_url(room, client(w), now=at(71.8)))

    def check():
        return jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_iat": False})

    frozen_clock.move_to(at(71.75) - timedelta(seconds=1), tick=False)
    with pytest.raises(jwt.ImmatureSignatureError):
        check()
    for hours in (71.75, 72.49):
        frozen_clock.move_to(at(hours), tick=False)
        assert check()["room"] == room.name
    frozen_clock.move_to(at(72.5) + timedelta(seconds=1), tick=False)
    with pytest.raises(jwt.ExpiredSignatureError):
        check()


def test_v2_a_moved_meetings_tokens_follow_the_new_date(w, room):
    meeting = lifecycle.change_meeting_time(w.client, room.meeting, start=at(80), length=15, now=NOW)
    room = sync_room(meeting, NOW)

    claims = claims_of(JitsiPlatform(w.org).join_url(room, client(w), now=at(79.9)))
    assert (claims["nbf"], claims["exp"]) == (int(at(79.75).timestamp()), int(at(80.25).timestamp()))


def test_v2_the_join_window_setting_sets_when_the_token_starts(w, room):
    w.org.settings.join_window_minutes = 30
    w.org.settings.save()
    claims = claims_of(JitsiPlatform(w.org).join_url(room, client(w), now=at(71.6)))
    assert claims["nbf"] == int(at(71.5).timestamp())


@pytest.mark.parametrize(("app_id", "secret"), [("", ""), ("parlour", ""), ("", SECRET)])
def test_v2_without_token_auth_the_address_is_the_room_alone(w, room, app_id, secret):
    w.org.settings.jitsi_app_id, w.org.settings.jitsi_app_secret = app_id, secret
    url = JitsiPlatform(w.org).join_url(room, expert(w), now=at(72))
    assert url == f"https://meet.example.org/{room.name}"


def test_v2_the_server_name_may_be_written_as_an_address(w, room):
    w.org.settings.jitsi_domain = " HTTPS://Meet.Example.org/ "
    url = JitsiPlatform(w.org).join_url(room, client(w), now=at(72))
    assert url.startswith(f"https://meet.example.org/{room.name}?jwt=")
    assert claims_of(url)["sub"] == "meet.example.org"


def test_v2_jitsi_without_a_server_is_a_configuration_error(w, room):
    w.org.settings.jitsi_domain = ""
    with pytest.raises(ImproperlyConfigured, match="name no Jitsi server"):
        JitsiPlatform(w.org).join_url(room, client(w), now=at(72))


# --- V4: the platform's callback ----------------------------------------------------------


def callback_token(
    room_name: str,
    *,
    secret=SECRET,
    iss="parlour",
    lasts=timedelta(minutes=2),
    now=NOW,
    event="connection_failed",
    **extra,
):
    claims = {
        "iss": iss,
        "room": room_name,
        "event": event,
        "iat": int(now.timestamp()),
        "exp": int((now + lasts).timestamp()),
    }
    return jwt.encode(claims | extra, secret, algorithm="HS256")


def body(room_name: str, event: str = "connection_failed") -> bytes:
    return f'{{"room": "{room_name}", "event": "{event}"}}'.encode()


@pytest.mark.parametrize("event", ["connection_failed", "connected"])
def test_v4_a_signed_callback_is_read(w, room, event):
    headers = {"Authorization": f"Bearer {callback_token(room.name, event=event)}"}
    read = JitsiPlatform(w.org).read_callback(headers, body(room.name, event), now=NOW + timedelta(seconds=5))
    assert read == CallbackEvent(room_name=room.name, event=event)


def test_v4_a_callback_token_cannot_be_reused_for_another_event(w, room):
    headers = {"Authorization": f"Bearer {callback_token(room.name, event='connected')}"}
    read = JitsiPlatform(w.org).read_callback(headers, body(room.name, "connection_failed"), now=NOW)
    assert read is None


def test_v4_the_callback_is_read_from_django_request_meta_too(w, room):
    meta = {"CONTENT_TYPE": "application/json", "HTTP_AUTHORIZATION": f"bearer {callback_token(room.name)}"}
    assert JitsiPlatform(w.org).read_callback(meta, body(room.name), now=NOW) is not None


@pytest.mark.parametrize(
    "forgery",
    [
        {"secret": "a guessed secret that is long enough"},
        {"iss": "someone-else"},
        {"lasts": timedelta(seconds=-31)},  # expired
        {"lasts": timedelta(hours=1)},  # not short-lived: a leaked token would serve too long
        {"now": NOW + timedelta(minutes=5), "nbf": int((NOW + timedelta(minutes=5)).timestamp())},  # not yet valid
        {"room_name": "another-room"},  # a token for another room, replayed
    ],
)
def test_v4_a_forged_or_stale_callback_is_ignored(w, room, forgery):
    token = callback_token(forgery.pop("room_name", room.name), **forgery)
    headers = {"Authorization": f"Bearer {token}"}
    assert JitsiPlatform(w.org).read_callback(headers, body(room.name), now=NOW) is None


def test_v4_a_callback_token_must_name_the_room_and_expire(w, room):
    platform = JitsiPlatform(w.org)
    for claims in ({"iss": "parlour", "exp": int(at(0.01).timestamp())}, {"iss": "parlour", "room": room.name}):
        headers = {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}
        assert platform.read_callback(headers, body(room.name), now=NOW) is None


def test_v4_an_unsigned_token_is_ignored(w, room):
    unsigned = jwt.encode({"iss": "parlour", "room": room.name, "exp": int(at(0.01).timestamp())}, None, "none")
    headers = {"Authorization": f"Bearer {unsigned}"}
    assert JitsiPlatform(w.org).read_callback(headers, body(room.name), now=NOW) is None


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({}, None),
        ({"Authorization": "Basic cGFybG91cjpzZWNyZXQ="}, None),
        ({"Authorization": "Bearer"}, None),
        (None, b"not json"),
        (None, b'["connection_failed"]'),
        (None, b'{"room": "ROOM", "event": "recording_started"}'),
        (None, b'{"room": "ROOM"}'),
        (None, b"\xff\xfe"),
    ],
)
def test_v4_a_malformed_callback_is_ignored(w, room, headers, payload):
    headers = {"Authorization": f"Bearer {callback_token(room.name)}"} if headers is None else headers
    payload = body(room.name) if payload is None else payload.replace(b"ROOM", room.name.encode())
    assert JitsiPlatform(w.org).read_callback(headers, payload, now=NOW) is None


def test_v4_without_an_app_secret_no_callback_is_trusted(w, room):
    w.org.settings.jitsi_app_secret = ""
    headers = {
        "Authorization": f"Bearer {callback_token(room.name, secret='anything at all, for the key must not be empty')}"
    }
    assert JitsiPlatform(w.org).read_callback(headers, body(room.name), now=NOW) is None
