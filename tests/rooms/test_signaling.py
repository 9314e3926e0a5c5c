"""The built-in room's signaling websocket (V2, V4), on a real uvicorn serving parlour.asgi,
reached as a browser reaches it: through the join link (POST), then with the session cookie.

Only the meeting's two sides who entered, inside the join window, are let in; the server
introduces them to each other and relays their WebRTC messages; what their browsers say of
the connection reaches the meeting (V4)."""

import asyncio
import contextlib
import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from parlour.accounts.models import Guest
from parlour.meetings import lifecycle, outcome
from parlour.meetings.guest_links import link_token
from parlour.meetings.models import EventKind, Meeting, Status
from parlour.rooms import consumers
from parlour.rooms.models import Room
from tests.browser.liveserver import live_server
from tests.factories import world

pytestmark = pytest.mark.django_db(transaction=True)

# What room.js sends: each offer is named ("call"), its answer and candidates carry the name.
OFFER = {"call": "c0ffee", "description": {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}}
ANSWER = {"call": "c0ffee", "description": {"type": "answer", "sdp": "v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\n"}}
CANDIDATE = {
    "call": "c0ffee",
    "candidate": {
        "candidate": "candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
    },
}


@pytest.fixture
def server():
    with live_server() as running:
        yield running


@pytest.fixture
def meeting(time_machine):
    """An agreed meeting with the world's client, the clock five minutes before its start."""
    w = world()
    meeting = w.agreed()
    time_machine.move_to(meeting.start - timedelta(minutes=5), tick=True)
    meeting.w = w
    return meeting


def enter(meeting: Meeting, person) -> str:
    """V2: through the join link, as the browser does; the session cookie it leaves."""
    http = Client()
    if isinstance(person, Guest):
        url = reverse("rooms:join_link", args=[link_token(meeting)])
    else:
        http.force_login(person)
        url = reverse("rooms:join_meeting", args=[meeting.pk])
    response = http.post(url)
    assert response.status_code == 302, response.content
    assert response["Location"] == f"/rooms/{Room.objects.get(meeting=meeting).name}/"
    return http.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in(person) -> str:
    http = Client()
    http.force_login(person)
    return http.cookies[settings.SESSION_COOKIE_NAME].value


class Browser:
    """One side's websocket, as room.js uses it."""

    def __init__(self, socket) -> None:
        self.socket = socket

    async def send(self, message: dict) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict:
        return json.loads(await asyncio.wait_for(self.socket.recv(), 5))

    async def silent(self) -> None:
        """Nothing more arrives (for a moment)."""
        with pytest.raises(TimeoutError):
            message = await asyncio.wait_for(self.socket.recv(), 0.3)
            pytest.fail(f"unexpected {message}")

    async def close_code(self) -> int:
        """The code the server closes with (messages before it are dropped)."""
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.socket.recv(), 5)
        return closed.value.rcvd.code


@contextlib.asynccontextmanager
async def opened(server, name: str, cookie: str | None = None, origin: str | None = None):
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
    async with connect(
        f"{server.ws_url}/ws/rooms/{name}/", origin=origin or server.url, additional_headers=headers
    ) as socket:
        yield Browser(socket)


def refusal(server, name: str, cookie: str | None) -> int:
    async def scenario() -> int:
        async with opened(server, name, cookie) as browser:
            return await browser.close_code()

    return asyncio.run(scenario())


def room_name(meeting: Meeting) -> str:
    return Room.objects.get(meeting=meeting).name


# --- who may open the room (V2) ----------------------------------------------------------


def test_strangers_are_refused_like_an_unknown_room_V2(server, meeting):
    """No cookie, a colleague of the expert, the meeting's own client before entering through
    the join link: all refused with 4403, the same answer as for a room that does not exist."""
    w = meeting.w
    enter(meeting, w.expert)  # the room exists
    name = room_name(meeting)
    assert refusal(server, name, None) == 4403
    assert refusal(server, name, signed_in(w.colleague)) == 4403
    assert refusal(server, name, signed_in(w.client)) == 4403
    assert refusal(server, "no-such-room", signed_in(w.client)) == 4403


def test_a_side_of_another_organizations_meeting_is_refused_V2(server, meeting):
    """The expert of another organization's meeting at the same hour, who entered their own
    room: let into theirs, refused from this one."""
    other = world()
    with time_machine.travel(meeting.start - timedelta(days=3), tick=False):
        theirs = other.agreed(start=meeting.start)
    cookie = enter(theirs, other.expert)
    enter(meeting, meeting.w.client)
    their_room = room_name(theirs)

    async def own_room() -> dict:
        async with opened(server, their_room, cookie) as browser:
            return await browser.receive()

    assert asyncio.run(own_room()) == {"type": "welcome", "side": "expert"}
    assert refusal(server, room_name(meeting), cookie) == 4403


def test_a_page_of_another_site_cannot_open_the_socket(server, meeting):
    """A websocket carries the browser's cookies: one opened by another site's page is refused
    at the handshake (cross-site websocket hijacking)."""
    cookie = enter(meeting, meeting.w.expert)
    name = room_name(meeting)

    async def scenario():
        with pytest.raises(InvalidStatus) as refused:
            async with opened(server, name, cookie, origin="https://evil.example"):
                pass
        return refused.value.response.status_code

    assert asyncio.run(scenario()) == 403


def test_before_the_join_window_the_room_is_not_open_V2(server, meeting, time_machine):
    """Entered, then (the meeting moved, or the clock is early) before the window: 4409."""
    cookie = enter(meeting, meeting.w.expert)
    time_machine.move_to(meeting.start - timedelta(minutes=16), tick=True)
    assert refusal(server, room_name(meeting), cookie) == 4409


def test_after_the_end_the_room_is_not_open_V2(server, meeting, time_machine):
    cookie = enter(meeting, meeting.w.client)
    time_machine.move_to(meeting.end + timedelta(seconds=1), tick=True)
    assert refusal(server, room_name(meeting), cookie) == 4409


def test_a_cancelled_meeting_closes_its_room_V2(server, meeting, monkeypatch):
    """A side in the room when the meeting is cancelled is sent away; coming back is refused."""
    monkeypatch.setattr(consumers, "RECHECK", 0.2)
    cookie = enter(meeting, meeting.w.client)
    name = room_name(meeting)

    async def in_the_room() -> tuple[dict, int]:
        async with opened(server, name, cookie) as browser:
            assert await browser.receive() == {"type": "welcome", "side": "client"}
            await asyncio.to_thread(cancel)
            return await browser.receive(), await browser.close_code()

    def cancel() -> None:
        lifecycle.cancel_meeting(
            meeting.w.client, Meeting.objects.get(pk=meeting.pk), reason="Ill today.", confirm_late=True
        )
        connection.close()

    assert asyncio.run(in_the_room()) == ({"type": "ended"}, 4410)
    assert refusal(server, name, cookie) == 4409


def test_the_socket_closes_when_the_meeting_ends_V2(server, meeting, time_machine):
    cookie = enter(meeting, meeting.w.expert)
    name = room_name(meeting)
    time_machine.move_to(meeting.end - timedelta(seconds=1), tick=True)

    async def scenario() -> list:
        async with opened(server, name, cookie) as browser:
            return [await browser.receive(), await browser.receive(), await browser.close_code()]

    assert asyncio.run(scenario()) == [{"type": "welcome", "side": "expert"}, {"type": "ended"}, 4410]


# --- the two sides meet ----------------------------------------------------------------------


def test_the_two_sides_are_introduced_and_their_signals_relayed(server, meeting):
    w = meeting.w
    expert_cookie, client_cookie = enter(meeting, w.expert), enter(meeting, w.client)
    name = room_name(meeting)

    async def scenario() -> None:
        async with opened(server, name, expert_cookie) as expert:
            assert await expert.receive() == {"type": "welcome", "side": "expert"}
            async with opened(server, name, client_cookie) as client:
                assert await client.receive() == {"type": "welcome", "side": "client"}
                assert await expert.receive() == {"type": "arrived", "side": "client"}
                await expert.send({"type": "here"})
                assert await client.receive() == {"type": "present", "side": "expert"}
                await expert.send({"type": "signal", "data": OFFER})
                assert await client.receive() == {"type": "signal", "from": "expert", "data": OFFER}
                await client.send({"type": "signal", "data": ANSWER})
                await client.send({"type": "signal", "data": CANDIDATE})
                await client.send({"type": "signal", "data": {"candidate": None}})
                assert await expert.receive() == {"type": "signal", "from": "client", "data": ANSWER}
                assert await expert.receive() == {"type": "signal", "from": "client", "data": CANDIDATE}
                assert await expert.receive() == {"type": "signal", "from": "client", "data": {"candidate": None}}
                await client.silent()  # nobody hears their own words back
                await client.send({"type": "bye"})
                assert await client.close_code() == 1000
                assert await expert.receive() == {"type": "left", "side": "client", "reason": "bye"}

    asyncio.run(scenario())


def test_a_guest_with_the_signed_link_meets_the_expert_V2(server, time_machine):
    w = world()
    meeting = w.agreed(by=w.guest, service=w.free_service)
    time_machine.move_to(meeting.start - timedelta(minutes=14), tick=True)
    guest_cookie, expert_cookie = enter(meeting, w.guest), enter(meeting, w.expert)
    name = room_name(meeting)

    async def scenario() -> None:
        async with opened(server, name, guest_cookie) as guest, opened(server, name, expert_cookie) as expert:
            assert await guest.receive() == {"type": "welcome", "side": "client"}
            assert await expert.receive() == {"type": "welcome", "side": "expert"}
            assert await guest.receive() == {"type": "arrived", "side": "expert"}

    asyncio.run(scenario())


def test_the_same_side_in_another_window_replaces_the_first(server, meeting):
    """The expert opens the room again (another window or device): the first window stops,
    and the client hears of an arrival, not of a departure."""
    w = meeting.w
    first, second, client_cookie = enter(meeting, w.expert), enter(meeting, w.expert), enter(meeting, w.client)
    name = room_name(meeting)

    async def scenario() -> None:
        async with opened(server, name, first) as old, opened(server, name, client_cookie) as client:
            assert await old.receive() == {"type": "welcome", "side": "expert"}
            assert await client.receive() == {"type": "welcome", "side": "client"}
            assert await old.receive() == {"type": "arrived", "side": "client"}
            async with opened(server, name, second) as new:
                assert await new.receive() == {"type": "welcome", "side": "expert"}
                assert await old.receive() == {"type": "replaced"}
                assert await old.close_code() == 4408
                assert await client.receive() == {"type": "arrived", "side": "expert"}
                await client.send({"type": "here"})
                assert await new.receive() == {"type": "present", "side": "client"}
                await new.send({"type": "signal", "data": OFFER})
                assert await client.receive() == {"type": "signal", "from": "expert", "data": OFFER}
                await client.silent()  # no "left" from the window that was replaced

    asyncio.run(scenario())


# --- what the browsers say of the call (V4) -------------------------------------------------


def call(server, meeting: Meeting, reports: list[tuple[str, str]]) -> None:
    """Both sides enter and open the room; each (side, message type) is sent in turn."""
    w = meeting.w
    cookies = {"expert": enter(meeting, w.expert), "client": enter(meeting, w.client)}
    name = room_name(meeting)

    async def scenario() -> None:
        async with opened(server, name, cookies["expert"]) as expert, opened(server, name, cookies["client"]) as client:
            sides = {"expert": expert, "client": client}
            for side, kind in reports:
                await sides[side].send({"type": kind})
            for browser in sides.values():
                # Messages are handled in order: once "bye" closes the socket, the reports are in.
                await browser.send({"type": "bye"})
                assert await browser.close_code() == 1000

    asyncio.run(scenario())


def test_a_call_that_cannot_connect_makes_the_meeting_failed_V4_V5(server, meeting, time_machine):
    call(server, meeting, [("client", "failed"), ("expert", "failed")])
    meeting.refresh_from_db()
    assert meeting.connection_failed
    # On the timeline once, whichever side said it first.
    assert meeting.timeline.filter(kind=EventKind.CONNECTION_FAILED, side__in=["client", "expert"]).count() == 1
    time_machine.move_to(meeting.end + timedelta(minutes=1))
    assert outcome.close_meeting(meeting).status == Status.FAILED


def test_a_call_that_connects_after_a_failure_completes_the_meeting_V4_V5(server, meeting, time_machine):
    call(server, meeting, [("expert", "failed"), ("expert", "connected"), ("client", "connected")])
    meeting.refresh_from_db()
    assert not meeting.connection_failed
    assert meeting.timeline.filter(kind=EventKind.CONNECTED).count() == 1
    assert meeting.timeline.filter(kind=EventKind.ENTERED).count() == 2
    time_machine.move_to(meeting.end + timedelta(minutes=1))
    assert outcome.close_meeting(meeting).status == Status.COMPLETED


# --- what is not relayed -----------------------------------------------------------------------


def test_garbage_is_not_relayed_and_closes_the_socket(server, meeting):
    w = meeting.w
    expert_cookie, client_cookie = enter(meeting, w.expert), enter(meeting, w.client)
    name = room_name(meeting)
    padded = {**CANDIDATE, "candidate": {**CANDIDATE["candidate"], "script": "<img onerror=alert(1)>"}}

    async def scenario() -> None:
        async with opened(server, name, expert_cookie) as expert:
            await expert.receive()
            async with opened(server, name, client_cookie) as client:
                await client.receive()
                assert await expert.receive() == {"type": "arrived", "side": "client"}
                for ignored in (
                    {"type": "dance"},
                    {"type": "signal"},
                    {"type": "signal", "data": "offer"},
                    {"type": "signal", "data": {"description": {"type": "offer", "sdp": 5}}},
                    {"type": "signal", "data": {"description": {"type": "hello", "sdp": ""}}},
                    {"type": "signal", "data": {**OFFER, **CANDIDATE}},
                    {"type": "signal", "data": {**OFFER, "call": "../other"}},
                    {"type": "signal", "data": {**OFFER, "call": 7}},
                    {"type": "signal", "data": {**OFFER, "to": "everybody"}},
                    {"type": "signal", "data": {"candidate": {**CANDIDATE["candidate"], "sdpMLineIndex": "0"}}},
                ):
                    await client.send(ignored)
                await expert.silent()
                await client.send({"type": "signal", "data": padded})  # relayed without what is not a candidate's
                assert await expert.receive() == {"type": "signal", "from": "client", "data": CANDIDATE}
                await client.socket.send("{not json")
                assert await client.close_code() == 4400
                assert await expert.receive() == {"type": "left", "side": "client", "reason": "lost"}
            for message, code in (("x" * (64 * 1024 + 1), 1009), (b"\x00\x01", 4400), ("[1, 2]", 4400)):
                async with opened(server, name, client_cookie) as client:
                    await client.receive()
                    await client.socket.send(message)
                    assert await client.close_code() == code

    asyncio.run(scenario())
