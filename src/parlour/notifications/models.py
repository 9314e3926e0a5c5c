"""The outbox (STYLE rule 3): side effects of a lifecycle change — messages to people, room
commands for the video platform — written as rows in the same transaction as the change,
delivered after commit by a worker."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from parlour.accounts.models import Guest, Organization, User


class Topic(models.TextChoices):
    N1 = "N1", "New meeting request"
    N2 = "N2", "Meeting booked"
    N3 = "N3", "Expert meeting invitation"
    N4_CONFIRMED = "N4.confirmed", "Meeting confirmed"
    N4_REJECTED = "N4.rejected", "Meeting rejected"
    N5 = "N5", "Meeting cancelled"
    N6 = "N6", "Meeting rescheduled"
    N7 = "N7", "Meeting reminder"
    N8 = "N8", "Meeting link"
    N9 = "N9", "Reminder to confirm and evaluate the meeting"
    N10 = "N10", "New message"
    LAPSED = "lapsed", "Meeting lapsed without answer"
    OUTCOME = "outcome", "Meeting outcome recorded"
    ROOM_CREATE = "room.create", "Create the video room"
    ROOM_MOVE = "room.move", "Move the video room"
    ROOM_CANCEL = "room.cancel", "Cancel the video room"


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Delivered"
    DROPPED = "dropped", "Dropped (no longer true)"
    FAILED = "failed", "Failed"


class OutboxItem(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="outbox")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    meeting = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    recipient = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox")
    recipient_guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox")
    # What the message says: who did it, the reason, the new date — as it was at the time.
    payload = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="outbox_pending_due"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} for meeting {self.meeting_id} ({self.state})"
