"""The meeting itself: entering through the join link from the join window until the end
(V2), a connection failure reported by the room (V4), and closing once the end has passed
(V5): completed, missed (the record says who) or failed."""

from zoneinfo import ZoneInfo

import pytest

from parlour.meetings import lifecycle, outcome
from tests.meetings.checks import at, fresh, last_event, refused, snapshot, timeline


@pytest.fixture
def meeting(w):
    """An agreed 30-minute meeting from 72 h to 72.5 h."""
    return w.agreed(hours_ahead=72)


# --- V2: entering ------------------------------------------------------------------


def test_v2_entering_from_the_join_window_records_who_and_when(w, meeting):
    meeting = outcome.record_entry(w.client, meeting, now=at(71.75))

    assert meeting.client_entered_at == at(71.75)
    assert meeting.expert_entered_at is None
    assert timeline(meeting)[-1] == ("Entered the room (client)", "Cleo Client", "")


def test_v2_a_guest_enters_their_meeting(w):
    meeting = outcome.record_entry(w.guest, w.book(service=w.free_service, by=w.guest, hours_ahead=5), now=at(5))
    assert meeting.client_entered_at == at(5)
    assert timeline(meeting)[-1] == ("Entered the room (client)", "Gus Guest", "")


def test_v2_the_first_entry_is_kept_and_every_entry_is_on_the_timeline(w, meeting):
    outcome.record_entry(w.expert, meeting, now=at(72))
    meeting = outcome.record_entry(w.expert, meeting, now=at(72.2))

    assert meeting.expert_entered_at == at(72)
    assert [t for t, _, _ in timeline(meeting)][-2:] == ["Entered the room (expert)"] * 2


def test_v2_the_room_is_not_open_before_the_join_window(w, meeting):
    with refused(w.org, "room_not_open", status=409, rule="V2") as caught:
        outcome.record_entry(w.client, meeting, now=at(71.74))
    assert caught.value.details == {"opens_at": at(71.75).isoformat()}
    assert caught.value.message == f"The room opens at {at(71.75):%Y-%m-%d %H:%M} UTC."

    # Named on the clock of the side that tries, with its zone.
    w.client.time_zone = "America/Sao_Paulo"
    w.client.save()
    with refused(w.org, "room_not_open", status=409, rule="V2") as caught:
        outcome.record_entry(w.client, meeting, now=at(71.74))
    local = at(71.75).astimezone(ZoneInfo("America/Sao_Paulo"))
    assert caught.value.message == f"The room opens at {local:%Y-%m-%d %H:%M} America/Sao_Paulo."


def test_v2_the_room_closes_at_the_end(w, meeting):
    assert outcome.record_entry(w.client, meeting, now=at(72.49)).client_entered_at == at(72.49)
    with refused(w.org, "meeting_ended", status=409, rule="V2"):
        outcome.record_entry(w.expert, meeting, now=at(72.5))


def test_v2_only_the_two_sides_of_an_agreed_meeting_enter(w, meeting):
    with refused(w.org, "wrong_side", status=403, rule="V2"):
        outcome.record_entry(w.colleague, meeting, now=at(72))
    awaiting = w.book(hours_ahead=100)
    with refused(w.org, "wrong_state", status=409, rule="V2"):
        outcome.record_entry(w.client, awaiting, now=at(100))
    lifecycle.cancel_meeting(w.client, meeting, note="no")
    with refused(w.org, "wrong_state", status=409, rule="V2"):
        outcome.record_entry(w.client, meeting, now=at(72))


# --- V4, V5: closing ---------------------------------------------------------------


def enter(w, meeting, *sides):
    for side in sides:
        outcome.record_entry(getattr(w, side), meeting, now=at(72))


def test_v5_both_entered_makes_it_completed(w, meeting):
    enter(w, meeting, "client", "expert")

    meeting = outcome.close_meeting(meeting, now=at(72.5))

    assert meeting.status == "completed"
    assert timeline(meeting)[-1] == ("Meeting ended: Completed", "Parlour", "")
    assert last_event(meeting).data["absent"] == []


@pytest.mark.parametrize(
    ("sides", "absent"),
    [(("expert",), ["client"]), (("client",), ["expert"]), ((), ["expert", "client"])],
)
def test_v5_a_side_that_never_entered_makes_it_missed_and_says_who(w, meeting, sides, absent):
    enter(w, meeting, *sides)

    meeting = outcome.close_meeting(meeting, now=at(73))

    assert meeting.status == "missed"
    assert timeline(meeting)[-1][0] == "Meeting ended: Missed"
    assert last_event(meeting).data["absent"] == absent


def test_v4_v5_a_connection_failure_makes_it_failed(w, meeting):
    enter(w, meeting, "client", "expert")
    outcome.report_connection_failure(meeting, now=at(72.1))
    assert fresh(meeting).connection_failed

    assert outcome.close_meeting(meeting, now=at(72.5)).status == "failed"


def test_v5_closing_before_the_end_does_nothing(w, meeting):
    enter(w, meeting, "client", "expert")
    before = snapshot(w.org)
    assert outcome.close_meeting(meeting, now=at(72.49)).status == "agreed"
    assert snapshot(w.org) == before


def test_v5_closing_twice_does_nothing_the_second_time(w, meeting):
    outcome.close_meeting(meeting, now=at(72.5))
    before = snapshot(w.org)
    assert outcome.close_meeting(meeting, now=at(80)).status == "missed"
    assert snapshot(w.org) == before


def test_v5_only_agreed_meetings_are_closed(w):
    request = w.book(hours_ahead=5)
    before = snapshot(w.org)
    assert outcome.close_meeting(request, now=at(6)).status == "awaiting_approval"
    assert snapshot(w.org) == before


def test_v4_a_failure_reported_for_a_meeting_not_agreed_changes_nothing(w):
    request = w.book(hours_ahead=5)
    before = snapshot(w.org)
    outcome.report_connection_failure(request, now=at(5))
    assert snapshot(w.org) == before


def test_v5_l10_closing_drops_an_alternative_nobody_answered(w, meeting):
    """An alternative date still pending when the meeting has taken place is of no more use:
    closing withdraws it, on the timeline, so it never lingers as pending."""
    meeting = lifecycle.propose_alternative(w.expert, meeting, start=at(96))
    meeting = outcome.close_meeting(meeting, now=at(73))

    assert meeting.status == "missed"
    assert meeting.pending_alternative is None
    assert meeting.alternatives.get().state == "withdrawn"
    assert timeline(meeting)[-1][0] == "Alternative date withdrawn by system"
