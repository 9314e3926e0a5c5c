"""V1: carrying out the room commands (``room.create``, ``room.move``, ``room.cancel``)
that the meeting's transitions leave in the outbox.

Each command brings the room in line with the meeting as it is when the command runs,
whichever command it was: a room exists and is open while the meeting is agreed or has
taken place, carries the meeting's date, and is cancelled otherwise. So carrying out a
command twice (after a worker died midway), or late, or out of order, leaves the same room
as carrying it out once, in order."""

from datetime import datetime

from django.db import transaction

from parlour.meetings.models import Meeting, Status
from parlour.meetings.transitions import lock

from .models import Room, RoomState
from .platforms import platform_for

LIVE = {Status.AGREED, Status.COMPLETED, Status.MISSED, Status.FAILED}


def sync_room(meeting: Meeting, now: datetime) -> Room | None:
    """The meeting's room after bringing it in line with the meeting (None: no room, and
    none needed)."""
    with transaction.atomic():
        meeting = lock(meeting)
        room = Room.objects.select_for_update().filter(meeting=meeting).first()
        if meeting.status not in LIVE:
            if room is not None and room.state != RoomState.CANCELLED:
                platform_for(meeting.organization, room.platform).cancel_room(room)
                room.state, room.updated_at = RoomState.CANCELLED, now
                room.save(update_fields=["state", "updated_at"])
            return room
        if room is None:
            platform = platform_for(meeting.organization)
            room = Room(
                meeting=meeting,
                organization=meeting.organization,
                platform=platform.key,
                start=meeting.start,
                end=meeting.end,
                created_at=now,
                updated_at=now,
            )
            platform.create_room(room)
            room.save()
            return room
        platform = platform_for(meeting.organization, room.platform)
        if room.state == RoomState.CANCELLED:
            room.state, room.start, room.end = RoomState.OPEN, meeting.start, meeting.end
            platform.create_room(room)
        elif (room.start, room.end) != (meeting.start, meeting.end):
            room.start, room.end = meeting.start, meeting.end
            platform.move_room(room)
        else:
            return room
        room.updated_at = now
        room.save()
        return room


def carry_out(item, now: datetime) -> None:
    """Carry out one ``room.*`` outbox item; an error leaves it to be tried again."""
    if item.meeting_id is not None:
        sync_room(item.meeting, now)
