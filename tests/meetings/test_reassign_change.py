"""Handing a meeting to another expert of the service (L15) and changing an agreed meeting
of a service without confirmation directly to another free time or length (L16)."""

import pytest

from parlour.meetings import lifecycle, outcome
from parlour.meetings.lifecycle import Party
from tests.factories import ServiceFactory, client, member
from tests.meetings.checks import (
    assert_ledger_balanced,
    at,
    last_event,
    messages,
    refused,
    room_commands,
    timeline,
    wallet,
)

# --- L15: reassigning --------------------------------------------------------------


def test_l15_the_expert_hands_an_agreed_meeting_to_a_colleague(w):
    meeting = lifecycle.reassign_meeting(w.expert, w.agreed(hours_ahead=72), expert=w.colleague)

    assert (meeting.status, meeting.expert, meeting.start) == ("agreed", w.colleague, at(72))
    assert timeline(meeting)[-1] == ("Reassigned to another expert", "Eve Expert", "")
    assert last_event(meeting).side == "expert"
    assert last_event(meeting).data == {"previous": "Eve Expert", "expert": "Carl Colleague"}
    assert messages(meeting)[-3:] == [("N6", "Eve Expert"), ("N6", "Carl Colleague"), ("N6", "Cleo Client")]
    assert room_commands(meeting) == ["room.create", "room.move"]
    assert wallet(w.org, w.client) == (900, 100)


def test_l15_an_admin_reassigns_and_the_new_expert_is_paid(w):
    meeting = lifecycle.reassign_meeting(w.admin, w.agreed(hours_ahead=72), expert=w.colleague)

    assert timeline(meeting)[-1] == ("Reassigned to another expert", "Ada Admin", "")
    assert last_event(meeting).side == "admin"

    for someone in (w.client, w.colleague):
        outcome.record_entry(someone, meeting, now=at(72))
    outcome.submit_statement(w.client, meeting, said="held", now=at(73))
    assert wallet(w.org, w.colleague) == (80, 0)
    assert wallet(w.org, w.expert) == (0, 0)
    assert_ledger_balanced(w.org)


def test_l15_a_planning_meeting_is_reassigned_without_a_room(w):
    party = Party(client=w.client)
    meeting = lifecycle.offer_time_options(w.expert, service=w.service, party=party, options=[(at(72), 30)])

    meeting = lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague)

    assert (meeting.status, meeting.expert) == ("planning", w.colleague)
    assert room_commands(meeting) == []


@pytest.mark.parametrize("who", ["client", "colleague"])
def test_l15_neither_the_client_nor_a_colleague_reassigns(w, who):
    meeting = w.agreed()
    with refused(w.org, "wrong_side", status=403, rule="L15"):
        lifecycle.reassign_meeting(getattr(w, who), meeting, expert=w.colleague)


def test_l15_the_new_expert_must_give_the_service(w):
    outsider = member(w.org, name="Olga Outsider")
    meeting = w.agreed()
    with refused(w.org, "not_an_expert_of_service", rule="L15"):
        lifecycle.reassign_meeting(w.expert, meeting, expert=outsider)


def test_l15_the_new_expert_must_be_free(w):
    meeting = w.agreed(hours_ahead=72)
    w.book(expert=w.colleague, hours_ahead=72.25, by=client(w.org, credits=500))  # awaiting the colleague's answer
    with refused(w.org, "expert_busy", status=409, rule="L15"):
        lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague)


def test_l15_other_refusals(w):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "same_expert", rule="L15"):
        lifecycle.reassign_meeting(w.expert, meeting, expert=w.expert)
    with refused(w.org, "meeting_started", status=409, rule="L15"):
        lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague, now=at(72))
    awaiting = w.book(hours_ahead=100)
    with refused(w.org, "wrong_state", status=409, rule="L15"):
        lifecycle.reassign_meeting(w.expert, awaiting, expert=w.colleague)


def test_l15_a_reassigned_meeting_belongs_to_the_new_expert(w):
    meeting = lifecycle.reassign_meeting(w.expert, w.agreed(), expert=w.colleague)
    with refused(w.org, "wrong_side", status=403, rule="L15"):
        lifecycle.reassign_meeting(w.expert, meeting, expert=w.expert)
    assert lifecycle.reassign_meeting(w.colleague, meeting, expert=w.expert).expert == w.expert


# --- L16: changing time or length directly -----------------------------------------


def test_l16_the_client_moves_an_agreed_meeting_to_another_free_time(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)

    meeting = lifecycle.change_meeting_time(w.client, meeting, start=at(75))

    assert (meeting.status, meeting.start, meeting.end) == ("agreed", at(75), at(75.25))
    assert timeline(meeting)[-1] == ("Time or length changed by client", "Cleo Client", "")
    assert last_event(meeting).data["previous"] == at(72).isoformat()
    assert messages(meeting)[-2:] == [("N6", "Eve Expert"), ("N6", "Cleo Client")]
    assert room_commands(meeting) == ["room.create", "room.move"]


def test_l16_the_expert_changes_the_length(w):
    meeting = lifecycle.change_meeting_time(w.expert, w.book(service=w.free_service, hours_ahead=72), length=30)

    assert (meeting.start, meeting.length_minutes, meeting.end) == (at(72), 30, at(72.5))
    assert timeline(meeting)[-1] == ("Time or length changed by expert", "Eve Expert", "")


def test_l16_a_guest_moves_their_meeting(w):
    meeting = lifecycle.change_meeting_time(w.guest, w.book(service=w.free_service, by=w.guest), start=at(80))
    assert meeting.start == at(80)
    assert messages(meeting)[-1] == ("N6", "Gus Guest")


def test_l16_only_for_services_without_confirmation(w):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "needs_confirmation", status=409, rule="L16"):
        lifecycle.change_meeting_time(w.client, meeting, start=at(80))


def test_l16_a_paid_service_without_confirmation_keeps_its_price_held(w):
    quick = ServiceFactory(organization=w.org, price=40, requires_confirmation=False)
    quick.experts.add(w.expert)
    meeting = lifecycle.change_meeting_time(w.client, w.book(service=quick, hours_ahead=72), start=at(80))
    assert (meeting.start, meeting.credit_status) == (at(80), "blocked")
    assert wallet(w.org, w.client) == (960, 40)


def test_l16_the_new_time_must_be_free_for_the_expert(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    w.book(service=w.free_service, hours_ahead=80, by=w.guest)
    with refused(w.org, "slot_taken", status=409, rule="L16"):
        lifecycle.change_meeting_time(w.client, meeting, start=at(79.75), length=30)


def test_l16_overlapping_its_own_old_time_is_fine(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    assert lifecycle.change_meeting_time(w.client, meeting, length=30).end == at(72.5)


@pytest.mark.parametrize(
    ("start", "length", "code"),
    [
        (72, None, "same_date"),
        (-1, None, "in_past"),
        (24 * 31, None, "outside_booking_window"),
        (80, 60, "invalid_length"),
    ],
)
def test_l16_the_change_must_be_to_a_new_bookable_time(w, start, length, code):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    with refused(w.org, code, rule="L16"):
        lifecycle.change_meeting_time(w.client, meeting, start=at(start), length=length)


def test_l16_other_refusals(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    with refused(w.org, "wrong_side", status=403, rule="L16"):
        lifecycle.change_meeting_time(w.colleague, meeting, start=at(80))
    with refused(w.org, "meeting_started", status=409, rule="L16"):
        lifecycle.change_meeting_time(w.client, meeting, start=at(80), now=at(72))
    lifecycle.propose_alternative(w.expert, meeting, start=at(90))
    with refused(w.org, "alternative_pending", status=409, rule="L16"):
        lifecycle.change_meeting_time(w.client, meeting, start=at(80))
    cancelled = lifecycle.cancel_meeting(w.client, w.book(service=w.free_service, hours_ahead=100), note="no")
    with refused(w.org, "wrong_state", status=409, rule="L16"):
        lifecycle.change_meeting_time(w.client, cancelled, start=at(110))
