"""Who may be in a meeting's room (V2, O3): the meeting's two sides, once they have entered
through Parlour's join link, and only while the room is open.

Entering gives the browser's session a grant for the meeting and side. A member or client
is known by their sign-in as well; a guest only by the grant, which names the guest and the
meeting's guest key, so a new guest key (which ends every link sent before) ends it too."""

from dataclasses import dataclass
from datetime import datetime

from parlour.accounts.models import Guest, User
from parlour.meetings.models import Meeting, Side
from parlour.meetings.outcome import room_is_open
from parlour.meetings.transitions import side_of

from .models import Room, RoomState

SESSION_KEY = "parlour.rooms"


@dataclass(frozen=True)
class Grant:
    meeting: Meeting
    side: str
    actor: User | Guest

    @property
    def name(self) -> str:
        return self.actor.name

    @property
    def other_name(self) -> str:
        if self.side == Side.EXPERT:
            return (self.meeting.client or self.meeting.guest).name
        return self.meeting.expert.name


def grant(session, meeting: Meeting, side: str, actor: User | Guest) -> None:
    """Let this browser into the meeting's room as ``side`` (after ``record_entry``)."""
    grants = dict(session.get(SESSION_KEY, {}))
    grants[str(meeting.pk)] = {
        "side": str(side),
        "guest": actor.pk if isinstance(actor, Guest) else None,
        "key": meeting.guest_key,
    }
    session[SESSION_KEY] = grants


def participant_for(user, session, room: Room) -> Grant | None:
    """The grant of this browser for ``room``, or None: not one of the two sides, not
    entered through the join link (since the meeting's date was last set), or the room was
    cancelled."""
    if room.state != RoomState.OPEN:
        return None
    meeting = Meeting.objects.select_related("organization", "expert", "client", "guest").get(pk=room.meeting_id)
    given = (session.get(SESSION_KEY) or {}).get(str(meeting.pk))
    if not given:
        return None
    found = None
    if user is not None and user.is_authenticated:
        side = side_of(meeting, user)
        if side is not None and side == given.get("side"):
            found = Grant(meeting, side, user)
    guest_id = given.get("guest")
    guest_ok = guest_id is not None and guest_id == meeting.guest_id and given.get("key") == meeting.guest_key
    if found is None and guest_ok:
        found = Grant(meeting, Side.CLIENT, meeting.guest)
    # Entries belong to a date: after a move (or a new expert) the side enters again.
    if found is None or getattr(meeting, f"{found.side}_entered_at") is None:
        return None
    return found


def open_room(room: Room, now: datetime) -> bool:
    """Whether the room may be used now: the meeting is agreed and inside its join window."""
    return room.state == RoomState.OPEN and room_is_open(room.meeting, now)


__all__ = ["Grant", "grant", "participant_for", "room_is_open", "open_room"]
