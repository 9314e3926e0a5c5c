"""The built-in room's signaling (V2, V4): a websocket per browser that introduces the two
sides of a meeting to each other so that their browsers can connect directly (WebRTC).

Only a side that entered through Parlour's join link (``access.participant_for``) may open
it, and only while the room is open (``access.room_is_open``); the socket closes when the
meeting ends. The server keeps no presence state: every message goes through one
channel-layer group per room, so the two sides may be served by different web processes
sharing Redis. Each connection remembers only which connection of the other side it last
heard from, to tell a real departure from a replaced window's.

Client → server: ``signal`` (an SDP description or an ICE candidate, relayed to the other
side), ``here`` (the answer to ``arrived``), ``connected`` and ``failed`` (reported to the
meeting, V4), ``bye``. Server → client: ``welcome``, ``arrived``, ``present``, ``signal``,
``left``, ``replaced``, ``ended``. ``static/rooms/room.js`` is the other end; docs/rooms.md
says how the room works.
"""

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from parlour.core import clock
from parlour.meetings import outcome
from parlour.meetings.models import Meeting

from . import access
from .models import Room

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024  # characters of one incoming message; an SDP offer is a few KiB
RATE_WINDOW = 10  # seconds
RATE_LIMIT = 300  # messages per window: ICE candidates trickle in tens, not hundreds
RECHECK = 60  # seconds between checks that the room is still open (moved, cancelled, ended)

# Close codes the page explains (room.js).
BAD_MESSAGE = 4400
NOT_A_PARTICIPANT = 4403  # also an unknown room: a stranger learns nothing
REPLACED = 4408
NOT_OPEN = 4409
ENDED = 4410
TOO_MANY = 4429
TOO_BIG = 1009

DESCRIPTION_TYPES = {"offer", "answer", "pranswer", "rollback"}
# The expert's page names each offer; the answer and the candidates of that call carry the
# name, so that nothing of an older attempt is taken for the current one.
CALL_ID = re.compile(r"[A-Za-z0-9]{1,32}")


@dataclass(frozen=True)
class Admission:
    meeting_id: int
    side: str
    group: str


def admit(user, session, name: str, now: datetime) -> Admission | int:
    """Who may open the room named ``name``: an Admission, or the close code refusing them."""
    room = Room.objects.select_related("meeting").filter(name=name, platform="builtin").first()
    grant = access.participant_for(user, session, room) if room is not None else None
    if grant is None:
        return NOT_A_PARTICIPANT
    if not access.room_is_open(grant.meeting, now):
        return NOT_OPEN
    return Admission(meeting_id=grant.meeting.pk, side=str(grant.side), group=f"room.{room.pk}")


def still_open(meeting_id: int, now: datetime) -> float | None:
    """Seconds until the meeting's end if its room is still open, else None."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None or not access.room_is_open(meeting, now):
        return None
    return (meeting.end - now).total_seconds()


def report(meeting_id: int, side: str, kind: str) -> None:
    """V4: the browsers' call connected, or could not."""
    meeting = Meeting.objects.get(pk=meeting_id)
    if kind == "connected":
        outcome.report_connected(meeting, side=side)
    else:
        outcome.report_connection_failure(meeting, side=side)


def clean_signal(data) -> dict | None:
    """The parts of an RTCSessionDescription or an RTCIceCandidate worth relaying, with the id
    of the offer they belong to (``call``); None when ``data`` is neither."""
    if not isinstance(data, dict):
        return None
    call = data.get("call")
    if call is not None and not (isinstance(call, str) and CALL_ID.fullmatch(call)):
        return None
    kept = {} if call is None else {"call": call}
    rest = set(data) - {"call"}
    if rest == {"description"}:
        description = data["description"]
        if (
            isinstance(description, dict)
            and description.get("type") in DESCRIPTION_TYPES
            and isinstance(description.get("sdp", ""), str)
        ):
            return {**kept, "description": {"type": description["type"], "sdp": description.get("sdp", "")}}
        return None
    if rest == {"candidate"}:
        candidate = data["candidate"]
        if candidate is None:  # the end of the candidates
            return {**kept, "candidate": None}
        if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
            return None
        fields = {"candidate": candidate["candidate"]}
        for key, kind in (("sdpMid", str), ("sdpMLineIndex", int), ("usernameFragment", str)):
            value = candidate.get(key)
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                return None
            fields[key] = value
        return {**kept, "candidate": fields}
    return None


class SignalingConsumer(AsyncJsonWebsocketConsumer):
    admission: Admission | None = None
    peer: str | None = None  # the other side's connection last heard from
    replaced = False
    reported: str | None = None
    watch: asyncio.Task | None = None

    async def connect(self) -> None:
        name = self.scope["url_route"]["kwargs"]["name"]
        # Accepted first, so that the refusal's code reaches the page (a refused handshake
        # would show the browser nothing but a failed connection).
        await self.accept()
        admitted = await database_sync_to_async(admit)(
            self.scope.get("user"), self.scope.get("session"), name, clock.now()
        )
        if not isinstance(admitted, Admission):
            await self.close(code=admitted)
            return
        self.admission = admitted
        self.received_at: list[float] = []
        await self.channel_layer.group_add(admitted.group, self.channel_name)
        await self.send_json({"type": "welcome", "side": admitted.side})
        await self.tell_group("arrived")
        self.watch = asyncio.create_task(self.close_when_over())

    async def disconnect(self, code) -> None:
        if self.watch is not None and self.watch is not asyncio.current_task():
            self.watch.cancel()
        await self.leave("lost")

    async def leave(self, reason: str) -> None:
        """Out of the group, telling the other side (unless this window was replaced) why:
        "bye" (the page left the room) or "lost" (the socket closed; the call itself, which
        does not pass through Parlour, may well go on)."""
        if self.admission is None:
            return
        if not self.replaced:
            await self.tell_group("left", {"reason": reason})
        await self.channel_layer.group_discard(self.admission.group, self.channel_name)
        self.admission = None

    # --- from the browser ----------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if self.admission is None:
            return
        if text_data is None:
            await self.close(code=BAD_MESSAGE)
            return
        if len(text_data) > MAX_MESSAGE:
            await self.close(code=TOO_BIG)
            return
        if self.over_rate():
            await self.close(code=TOO_MANY)
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.close(code=BAD_MESSAGE)
            return
        await self.receive_json(message)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content["type"]
        if kind == "signal":
            data = clean_signal(content.get("data"))
            if data is None:
                log.info("room %s: a signal that is neither a description nor a candidate", self.admission.group)
                return
            await self.tell_group("signal", data)
        elif kind == "here":
            await self.tell_group("present")
        elif kind in ("connected", "failed"):
            if self.reported != kind:
                self.reported = kind
                await database_sync_to_async(report)(self.admission.meeting_id, self.admission.side, kind)
        elif kind == "bye":
            # Said at once: a page that goes away may not wait for the socket to close.
            await self.leave("bye")
            await self.close()
        # Any other type is ignored: a newer page may speak of things this server does not know.

    def over_rate(self) -> bool:
        now = time.monotonic()
        self.received_at = [t for t in self.received_at if now - t < RATE_WINDOW]
        self.received_at.append(now)
        return len(self.received_at) > RATE_LIMIT

    # --- through the group ------------------------------------------------------------

    async def tell_group(self, event: str, data: dict | None = None) -> None:
        await self.channel_layer.group_send(
            self.admission.group,
            {
                "type": "room.event",
                "event": event,
                "side": self.admission.side,
                "sender": self.channel_name,
                "data": data,
            },
        )

    async def room_event(self, message: dict) -> None:
        """A message of the room's group: the other side's, to pass on to the browser, or the
        same side's from another window, which replaces this one."""
        if self.admission is None or message["sender"] == self.channel_name:
            return
        event, side, sender = message["event"], message["side"], message["sender"]
        if side == self.admission.side:
            if event == "arrived":
                self.replaced = True
                await self.send_json({"type": "replaced"})
                await self.close(code=REPLACED)
            return
        if event == "left":
            # A window of the other side that was replaced since says nothing of the one in use.
            if self.peer in (None, sender):
                self.peer = None
                await self.send_json({"type": "left", "side": side, "reason": (message["data"] or {}).get("reason")})
            return
        self.peer = sender
        if event == "signal":
            await self.send_json({"type": "signal", "from": side, "data": message["data"]})
        elif event in ("arrived", "present"):
            await self.send_json({"type": event, "side": side})

    # --- the end ----------------------------------------------------------------------

    async def close_when_over(self) -> None:
        """Close the socket when the meeting ends, or sooner if it is cancelled or moved out
        of its window; looks again at least every RECHECK seconds."""
        meeting_id = self.admission.meeting_id
        while True:
            left = await database_sync_to_async(still_open)(meeting_id, clock.now())
            if left is None:
                break
            await asyncio.sleep(min(max(left, 0.05), RECHECK))
        if self.admission is not None:
            await self.send_json({"type": "ended"})
            await self.close(code=ENDED)
