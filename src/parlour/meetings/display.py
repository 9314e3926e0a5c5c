"""D2: the status people see, derived from the stored status and the time, never stored."""

from datetime import datetime, timedelta

from django.db import models

from .models import Meeting, Status

STARTING_SOON = timedelta(hours=1)


class DisplayedStatus(models.TextChoices):
    PLANNING = "planning", "Planning"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    REJECTED = "rejected", "Rejected"
    SCHEDULED = "scheduled", "Scheduled"
    STARTING_SOON = "starting_soon", "Starting soon"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


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
