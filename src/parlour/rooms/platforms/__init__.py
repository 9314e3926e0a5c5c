"""V1: video platforms behind one small interface (STYLE rule 5).

A platform creates, moves and cancels a meeting's room and gives each participant the
address that opens it. Parlour calls the first three from the outbox after the meeting's
transaction commits (``rooms.commands``), so each must be idempotent: a command may be
carried out again after a worker died midway. ``join_url`` is called when a participant
enters through Parlour's join link (V2), inside the join window."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse


@dataclass(frozen=True)
class Participant:
    side: str  # "expert" | "client"
    name: str
    email: str
    moderator: bool  # the expert leads the room


class Platform:
    key = ""
    label = ""

    def __init__(self, organization) -> None:
        self.organization = organization
        self.settings = organization.settings

    def create_room(self, room) -> None:
        """Make the room exist on the platform (nothing to do when rooms come into being
        as people join)."""

    def move_room(self, room) -> None:
        """Tell the platform the room's new date (``room.start``/``room.end`` hold it)."""

    def cancel_room(self, room) -> None:
        """Close the room for good."""

    def join_url(self, room, participant: Participant, *, now: datetime) -> str:
        raise NotImplementedError


class BuiltinPlatform(Platform):
    """Parlour's own room: a page of Parlour where the two browsers meet directly (WebRTC),
    introduced to each other over a websocket. Rooms are rows in Parlour's database, so
    creating, moving and cancelling them is the row's business (``rooms.commands``)."""

    key = "builtin"
    label = "Parlour's own room"

    def join_url(self, room, participant: Participant, *, now: datetime) -> str:
        return reverse("rooms:room", args=[room.name])


def platforms() -> dict[str, type[Platform]]:
    from .jitsi import JitsiPlatform

    return {BuiltinPlatform.key: BuiltinPlatform, JitsiPlatform.key: JitsiPlatform}


def platform_for(organization, key: str | None = None) -> Platform:
    """The organization's platform (O5 settings), or the one named by ``key`` (a room made
    before the organization changed platforms stays on its own)."""
    key = key or organization.settings.video_platform
    return platforms().get(key, BuiltinPlatform)(organization)
