"""L18: what is still waiting for an answer when its start passes lapses by itself."""

import pytest

from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import AlternativeState
from parlour.meetings.reasons import RejectReason
from tests.meetings.checks import (
    assert_ledger_balanced,
    at,
    fresh,
    messages,
    refused,
    snapshot,
    timeline,
    titles,
    wallet,
)


def test_l18_an_unanswered_request_lapses_at_its_start_and_the_credits_return(w, frozen_clock):
    meeting = w.book(hours_ahead=72)
    frozen_clock.move_to(at(72), tick=False)

    meeting = lifecycle.lapse_meeting(meeting)

    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting)[-1] == ("Lapsed without answer", "Parlour", "")
    assert messages(meeting)[-2:] == [("lapsed", "Eve Expert"), ("lapsed", "Cleo Client")]
    assert_ledger_balanced(w.org)


def test_l18_an_unanswered_proposal_lapses(w):
    meeting = lifecycle.lapse_meeting(w.propose(hours_ahead=5), now=at(5))
    assert (meeting.status, meeting.credit_status) == ("cancelled", "none")
    assert titles(meeting)[-1] == "Lapsed without answer"


def test_l18_a_planning_meeting_lapses_at_its_first_offered_time(w):
    options = [(at(5), 30), (at(30), 30)]
    meeting = lifecycle.offer_time_options(w.expert, service=w.service, party=Party(client=w.client), options=options)

    assert lifecycle.lapse_meeting(meeting, now=at(4.9)).status == "planning"
    assert lifecycle.lapse_meeting(meeting, now=at(5)).status == "cancelled"
    assert messages(meeting)[-2:] == [("lapsed", "Eve Expert"), ("lapsed", "Cleo Client")]


def test_l18_lapsing_before_the_start_does_nothing(w):
    meeting = w.book(hours_ahead=72)
    before = snapshot(w.org)
    assert lifecycle.lapse_meeting(meeting, now=at(71.99)).status == "awaiting_approval"
    assert snapshot(w.org) == before


def test_l18_lapsing_twice_does_nothing_the_second_time(w):
    meeting = lifecycle.lapse_meeting(w.book(hours_ahead=5), now=at(5))
    before = snapshot(w.org)
    assert lifecycle.lapse_meeting(meeting, now=at(6)).status == "cancelled"
    assert snapshot(w.org) == before


@pytest.mark.parametrize("state", ["agreed", "rejected", "cancelled"])
def test_l18_an_answered_meeting_never_lapses(w, state):
    meeting = w.book(hours_ahead=5)
    if state == "agreed":
        lifecycle.confirm_meeting(w.expert, meeting)
    elif state == "rejected":
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER)
    else:
        lifecycle.cancel_meeting(w.client, meeting)
    before = snapshot(w.org)
    assert lifecycle.lapse_meeting(meeting, now=at(6)).status == state
    assert snapshot(w.org) == before


def test_l18_a_lapsed_request_can_no_longer_be_confirmed(w):
    meeting = lifecycle.lapse_meeting(w.book(hours_ahead=5), now=at(5))
    with refused(w.org, "wrong_state", status=409, rule="L2"):
        lifecycle.confirm_meeting(w.expert, meeting, now=at(5))


def test_l18_a_rejected_meetings_unanswered_alternative_lapses_and_its_credits_return(w):
    """C1: credits held for a client's alternative on a rejected meeting (L11) never stay
    blocked once nobody can answer it any more."""
    meeting = lifecycle.reject_meeting(w.expert, w.book(hours_ahead=24), reason=RejectReason.NOT_AVAILABLE)
    meeting = lifecycle.propose_alternative(w.client, meeting, start=at(48))
    assert wallet(w.org, w.client) == (900, 100)

    assert lifecycle.lapse_meeting(meeting, now=at(30)).credit_status == "blocked"  # still answerable
    meeting = lifecycle.lapse_meeting(meeting, now=at(48))

    assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
    assert meeting.alternatives.get().state == AlternativeState.WITHDRAWN
    assert wallet(w.org, w.client) == (1000, 0)
    assert titles(meeting)[-1] == "Lapsed without answer"
    assert messages(meeting)[-2:] == [("lapsed", "Eve Expert"), ("lapsed", "Cleo Client")]
    assert_ledger_balanced(w.org)
    before = snapshot(w.org)
    lifecycle.lapse_meeting(meeting, now=at(49))
    assert snapshot(w.org) == before
    assert fresh(meeting).status == "rejected"
