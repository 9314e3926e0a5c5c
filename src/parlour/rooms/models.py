"""V1: the room of a meeting on its organization's video platform."""

import secrets

from django.db import models
from django.utils import timezone

from parlour.accounts.models import Organization
from parlour.meetings.models import Meeting


def new_room_name() -> str:
    """Unguessable, and safe in any platform's address: 24 lowercase letters and digits
    (about 124 bits)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(24))


class RoomState(models.TextChoices):
    OPEN = "open", "Open"
    CANCELLED = "cancelled", "Cancelled"


class Room(models.Model):
    """A meeting's room: created when the meeting becomes agreed, moved with its date,
    cancelled with it (V1). ``start`` and ``end`` are what the platform was last told."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="room")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rooms")
    platform = models.CharField(max_length=20)
    name = models.CharField(max_length=64, unique=True, default=new_room_name)
    state = models.CharField(max_length=10, choices=RoomState.choices, default=RoomState.OPEN)
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Room of meeting {self.meeting_id} on {self.platform}"
