"""D2: the status people see, derived from the stored status and the time, never stored;
V3: the client side's media-check sign."""

from datetime import datetime, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import MediaCheck, Meeting, Status

STARTING_SOON = timedelta(hours=1)


class DisplayedStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    REJECTED = "rejected", _("Rejected")
    SCHEDULED = "scheduled", _("Scheduled")
    STARTING_SOON = "starting_soon", _("Starting soon")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


def displayed_status(meeting: Meeting, now: datetime) -> DisplayedStatus:
    """An agreed meeting is scheduled until an hour before its start, then starting soon,
    then in progress until it is closed (V5)."""
    if meeting.status != Status.AGREED:
        return DisplayedStatus(meeting.status)
    if now < meeting.start - STARTING_SOON:
        return DisplayedStatus.SCHEDULED
    if now < meeting.start:
        return DisplayedStatus.STARTING_SOON
    return DisplayedStatus.IN_PROGRESS


class MediaState(models.TextChoices):
    """V3: the client's (or guest's) sign in the overview."""

    NOT_ENTERED = "not_entered", _("Has not entered")  # grey question mark
    NO_CHECK = "no_check", _("Entered, media check not done")  # yellow question mark
    FAILED = "failed", _("Media check failed")  # red cross
    PASSED = "passed", _("Media check passed")  # green check


def client_media_state(meeting: Meeting) -> MediaState:
    """V3, from the client side's entry (V2) and their latest media check."""
    if meeting.client_entered_at is None:
        return MediaState.NOT_ENTERED
    if meeting.client_media_check == MediaCheck.PASSED:
        return MediaState.PASSED
    if meeting.client_media_check == MediaCheck.FAILED:
        return MediaState.FAILED
    return MediaState.NO_CHECK
