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
    CLAIMED = "claimed", "Claimed by a worker"
    SENDING = "sending", "Being sent"
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
    # Time-driven messages (reminders) carry a key naming whom and what they are about — the
    # recipient and the meeting's start they remind of, e.g. "user:7@2026-03-02T09:00:00+00:00"
    # — so that a scan run twice, or by two workers, writes each one once.
    key = models.CharField(max_length=100, blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="outbox_pending_due"),
            models.Index(fields=["claimed_at"], condition=Q(state="claimed"), name="outbox_claimed"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "topic", "key"],
                condition=~Q(key=""),
                name="one_message_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} for meeting {self.meeting_id} ({self.state})"


class Notification(models.Model):
    """A message in a person's in-app notification list (SPEC §9), written when it is
    delivered; read or unread."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    meeting = models.ForeignKey("meetings.Meeting", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    outbox_item = models.OneToOneField(OutboxItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self) -> str:
        return self.title
