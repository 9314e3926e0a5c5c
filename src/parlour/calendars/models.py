"""K3: every person's private calendar feed, reached by an unguessable token and revocable.
Only a hash of the token is kept; revoking it and making a new one changes the address."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from parlour.accounts.models import User


class CalendarFeed(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({'revoked' if self.revoked_at else 'active'})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple["CalendarFeed", str]:
        token = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, digest=cls.hash(token)), token


class CalendarConnection(models.Model):
    """K4: an expert's external calendar, reached over CalDAV: its busy times block the
    expert's slots (copied into ``availability.ExternalBusy`` by ``calendars.caldav_sync``)
    and agreed meetings are written into it. One per expert profile (so per organization).

    The password is stored as given: it has to be sent to the server as it is, so a hash
    will not do, and no encryption library is part of Parlour (see docs/architecture.md,
    "External calendars"). It is never shown back, to the expert or to anyone else.

    ``enabled`` is turned off after ``login_failures`` (readings refused for the user name or
    password in a row) reaches ``calendars.external.MAX_LOGIN_FAILURES``; a disabled calendar
    is neither read nor written until the expert connects it again. ``claimed_by`` names the
    run reading it (since ``claimed_at``); another run leaves it alone until the lease ends."""

    profile = models.OneToOneField(
        "catalog.ExpertProfile", on_delete=models.CASCADE, related_name="calendar_connection"
    )
    url = models.URLField(max_length=500)
    username = models.CharField(max_length=200, blank=True)
    password = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    login_failures = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"External calendar of {self.profile}"


class ExternalEvent(models.Model):
    """K4: a meeting as Parlour keeps it in an expert's external calendar. ``pending`` says
    the calendar has to be brought in line with the meeting as it is now (written, moved or
    taken out); ``connection`` is the calendar that holds it (None: none does). ``claimed_by``
    names the run bringing it in line (since ``claimed_at``), as for ``CalendarConnection``."""

    meeting = models.OneToOneField("meetings.Meeting", on_delete=models.CASCADE, related_name="external_event")
    connection = models.ForeignKey(
        CalendarConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    pending = models.BooleanField(default=True)
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["due_at"], condition=models.Q(pending=True), name="external_event_due")]

    def __str__(self) -> str:
        return f"Meeting {self.meeting_id} in an external calendar"
