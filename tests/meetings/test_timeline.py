"""L19: every timeline event can be read with who did it, when and why; the timeline is
append-only."""

import pytest
from django.core.exceptions import ValidationError

from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import TimelineEvent
from parlour.meetings.reasons import RejectReason
from tests.meetings.checks import at


def read(meeting) -> list[tuple[str, str, object, str, str]]:
    """Each event as the timeline shows it: what, who, when, why (written), why (chosen)."""
    events = TimelineEvent.objects.filter(meeting=meeting).select_related("actor", "actor_guest")
    return [(e.title, e.actor_name, e.at, e.reason, e.data.get("code", "")) for e in events]


def read_sides(meeting) -> list[tuple[str, str, str]]:
    """Each event with who did it and on which side: client, expert, admin or system."""
    events = TimelineEvent.objects.filter(meeting=meeting).select_related("actor", "actor_guest")
    return [(e.title, e.actor_name, e.side) for e in events]


def test_l19_a_meetings_whole_life_reads_as_who_did_what_when_and_why(w, frozen_clock):
    meeting = w.book(hours_ahead=72)  # at 0 h
    lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.NOT_AVAILABLE, note="On leave", now=at(1))
    lifecycle.propose_alternative(w.client, meeting, start=at(96), now=at(2))
    lifecycle.confirm_alternative(w.expert, meeting, now=at(3))
    frozen_clock.move_to(at(80), tick=False)  # 16 h before the new date
    lifecycle.cancel_meeting(w.client, meeting, note="Flight moved", confirm_late=True)

    assert read(meeting) == [
        ("Meeting booked by client", "Cleo Client", at(0), "", ""),
        ("Approved by client", "Cleo Client", at(0), "", ""),
        ("Rejected by expert", "Eve Expert", at(1), "On leave", "not_available"),
        ("Alternative date proposed by client", "Cleo Client", at(2), "", ""),
        ("Approved by client", "Cleo Client", at(2), "", ""),
        ("Alternative date approved by expert", "Eve Expert", at(3), "", ""),
        ("Cancelled by client", "Cleo Client", at(80), "Flight moved", ""),
        ("Reimbursed to expert", "Parlour", at(80), "", ""),
    ]


def test_l19_events_by_a_guest_an_admin_and_the_system_name_them(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=72)
    lifecycle.reassign_meeting(w.admin, meeting, expert=w.colleague, now=at(1))
    outcome.close_meeting(meeting, now=at(73))

    assert read_sides(meeting) == [
        ("Meeting booked by client", "Gus Guest", "client"),
        ("Approved by client", "Gus Guest", "client"),
        ("Reassigned to another expert", "Ada Admin", "admin"),
        ("Meeting ended: Missed", "Parlour", "system"),
    ]


def test_l19_an_event_is_never_changed_once_written(w):
    event = TimelineEvent.objects.filter(meeting=w.book()).first()
    event.reason = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
