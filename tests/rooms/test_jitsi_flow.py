"""An organization on Jitsi Meet (V1–V4) through Parlour's pages: the join link records the
entry, Parlour's room page runs the media check and leads on to the signed Jitsi address,
and the server's callback reports the connection."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from parlour.meetings import outcome
from parlour.rooms.commands import sync_room
from tests.factories import World
from tests.meetings.checks import at, fresh, titles
from tests.rooms.test_jitsi import SECRET, callback_token

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture
def w(jitsi_world) -> World:
    return jitsi_world


@pytest.fixture
def meeting(w):
    return w.book(service=w.free_service, by=w.guest, hours_ahead=2)


def test_v2_v3_a_jitsi_meeting_is_entered_through_parlour_then_the_signed_room(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.9))
    browser = Client()
    browser.force_login(w.expert)

    entered = browser.post(f"/meetings/{meeting.pk}/join/")
    room = fresh(meeting).room
    assert room.platform == "jitsi"
    assert entered["Location"] == f"/rooms/{room.name}/"
    assert fresh(meeting).expert_entered_at == at(1.9)

    page = browser.get(entered["Location"]).content.decode()
    address = f"https://meet.example.org/{room.name}?jwt="
    assert address in page
    token = parse_qs(urlsplit(page[page.index(address) :].split('"')[0].replace("&amp;", "&")).query)["jwt"][0]
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False})
    assert claims["room"] == room.name
    assert claims["context"]["user"]["name"] == w.expert.name
    assert claims["exp"] == int(meeting.end.timestamp())


def post_callback(room_name: str, event: str, token: str) -> object:
    return Client().post(
        "/rooms/jitsi/callback/",
        f'{{"room": "{room_name}", "event": "{event}"}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_v4_the_jitsi_servers_callback_reports_the_connection(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.9))
    outcome.record_entry(w.expert, meeting)
    outcome.record_entry(w.guest, meeting)
    room = sync_room(meeting, at(1.9))
    answer = post_callback(room.name, "connection_failed", callback_token(room.name, now=at(1.9)))
    assert answer.status_code == 200
    assert fresh(meeting).connection_failed
    assert titles(meeting)[-1] == "The two sides could not connect"
    assert outcome.close_meeting(meeting, now=meeting.end).status == "failed"


def test_v4_a_forged_callback_or_an_unknown_room_changes_nothing(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.9))
    room = sync_room(meeting, at(1.9))
    guessed = "a guessed secret, long enough for HS256"
    forged = post_callback(room.name, "connection_failed", callback_token(room.name, secret=guessed, now=at(1.9)))
    unknown = post_callback("x" * 24, "connection_failed", callback_token("x" * 24, now=at(1.9)))
    stale = post_callback(room.name, "connection_failed", callback_token(room.name, now=at(1.9) - timedelta(hours=1)))
    assert [forged.status_code, unknown.status_code, stale.status_code] == [404, 404, 404]
    assert forged.json() == unknown.json()
    assert not fresh(meeting).connection_failed
