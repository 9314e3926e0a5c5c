"""Answering a request or a proposal that awaits approval: the expert confirms (L2) or
rejects (L3) a client's request; the client confirms (L5) or rejects (L6) an expert's
proposal. Every event names who did it and why (L19)."""

import pytest

from parlour.meetings import lifecycle
from parlour.meetings.reasons import RejectReason
from tests.factories import client
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

# --- L2: the expert confirms the client's request -----------------------------------


def test_l2_expert_confirms_a_request_and_it_is_agreed_with_its_room(w):
    meeting = lifecycle.confirm_meeting(w.expert, w.book())

    assert meeting.status == "agreed"
    assert (meeting.client_approved, meeting.expert_approved) == (True, True)
    assert meeting.credit_status == "blocked"
    assert wallet(w.org, w.client) == (900, 100)
    assert timeline(meeting)[-1] == ("Approved by expert", "Eve Expert", "")
    assert messages(meeting) == [("N1", "Eve Expert"), ("N4.confirmed", "Cleo Client")]
    assert room_commands(meeting) == ["room.create"]
    assert_ledger_balanced(w.org)


def test_l2_the_client_cannot_confirm_their_own_request(w):
    meeting = w.book()
    with refused(w.org, "already_approved", status=409, rule="L2"):
        lifecycle.confirm_meeting(w.client, meeting)


@pytest.mark.parametrize("who", ["colleague", "admin"])
def test_l2_nobody_outside_the_meeting_confirms_it(w, who):
    meeting = w.book()
    with refused(w.org, "wrong_side", status=403, rule="L2"):
        lifecycle.confirm_meeting(getattr(w, who), meeting)


def test_l2_confirming_twice_is_refused(w):
    meeting = w.agreed()
    with refused(w.org, "wrong_state", status=409, rule="L2"):
        lifecycle.confirm_meeting(w.expert, meeting)


def test_l2_confirming_after_the_start_is_refused(w):
    meeting = w.book(hours_ahead=72)
    with refused(w.org, "meeting_started", status=409, rule="L2"):
        lifecycle.confirm_meeting(w.expert, meeting, now=at(72))


def test_l2_a_cancelled_request_cannot_be_confirmed(w):
    meeting = lifecycle.cancel_meeting(w.client, w.book())
    with refused(w.org, "wrong_state", status=409):
        lifecycle.confirm_meeting(w.expert, meeting)


# --- L3: the expert rejects the client's request ------------------------------------


def test_l3_expert_rejects_a_request_with_a_reason_and_the_credits_return(w):
    meeting = lifecycle.reject_meeting(
        w.expert, w.book(), reason=RejectReason.NOT_MY_FIELD, note="Ask my colleague Carl."
    )

    assert meeting.status == "rejected"
    assert (meeting.client_approved, meeting.expert_approved) == (True, False)
    assert meeting.credit_status == "returned"
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting)[-1] == ("Rejected by expert", "Eve Expert", "Ask my colleague Carl.")
    assert last_event(meeting).data["code"] == "not_my_field"
    assert messages(meeting)[-1] == ("N4.rejected", "Cleo Client")
    assert room_commands(meeting) == []
    assert_ledger_balanced(w.org)


@pytest.mark.parametrize("reason", ["", "because", "NOT_AVAILABLE"])
def test_l3_a_reason_outside_the_list_is_refused(w, reason):
    meeting = w.book()
    with refused(w.org, "invalid_reason", rule="L3"):
        lifecycle.reject_meeting(w.expert, meeting, reason=reason)


def test_l3_the_client_cannot_reject_their_own_request(w):
    meeting = w.book()
    with refused(w.org, "own_proposal", status=409, rule="L3"):
        lifecycle.reject_meeting(w.client, meeting, reason=RejectReason.OTHER)


def test_l3_a_colleague_cannot_reject(w):
    meeting = w.book()
    with refused(w.org, "wrong_side", status=403):
        lifecycle.reject_meeting(w.colleague, meeting, reason=RejectReason.OTHER)


def test_l3_rejecting_an_agreed_meeting_is_refused(w):
    meeting = w.agreed()
    with refused(w.org, "wrong_state", status=409, rule="L3"):
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER)


def test_l3_rejecting_twice_is_refused(w):
    meeting = lifecycle.reject_meeting(w.expert, w.book(), reason=RejectReason.OTHER)
    with refused(w.org, "wrong_state", status=409, rule="L3"):
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER)


def test_l3_rejecting_after_the_start_is_refused(w):
    meeting = w.book(hours_ahead=72)
    with refused(w.org, "meeting_started", status=409, rule="L3"):
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER, now=at(73))


# --- L5: the client confirms the expert's proposal ----------------------------------


def test_l5_client_confirms_a_proposal_blocking_its_price(w):
    meeting = lifecycle.confirm_meeting(w.client, w.propose(price=80))

    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert (meeting.client_approved, meeting.expert_approved) == (True, True)
    assert wallet(w.org, w.client) == (920, 80)
    assert timeline(meeting)[-1] == ("Approved by client", "Cleo Client", "")
    assert messages(meeting) == [("N3", "Cleo Client"), ("N4.confirmed", "Eve Expert")]
    assert room_commands(meeting) == ["room.create"]
    assert_ledger_balanced(w.org)


def test_l5_a_free_proposal_is_confirmed_without_credits(w):
    meeting = lifecycle.confirm_meeting(w.guest, w.propose(to=w.guest, price=0))
    assert (meeting.status, meeting.credit_status) == ("agreed", "none")
    assert timeline(meeting)[-1] == ("Approved by client", "Gus Guest", "")


def test_l5_confirming_with_a_wallet_too_short_is_refused_and_nothing_changes(w):
    poor = client(w.org, credits=79)
    meeting = w.propose(to=poor, price=80)
    with refused(w.org, "insufficient_credits", status=402, rule="L5"):
        lifecycle.confirm_meeting(poor, meeting)
    assert wallet(w.org, poor) == (79, 0)


def test_l5_the_expert_cannot_confirm_their_own_proposal(w):
    meeting = w.propose()
    with refused(w.org, "already_approved", status=409, rule="L5"):
        lifecycle.confirm_meeting(w.expert, meeting)


def test_l5_another_client_cannot_confirm(w):
    other = client(w.org, credits=500)
    meeting = w.propose()
    with refused(w.org, "wrong_side", status=403):
        lifecycle.confirm_meeting(other, meeting)


def test_l5_confirming_twice_is_refused_and_blocks_nothing_more(w):
    meeting = lifecycle.confirm_meeting(w.client, w.propose())
    with refused(w.org, "wrong_state", status=409, rule="L5"):
        lifecycle.confirm_meeting(w.client, meeting)
    assert wallet(w.org, w.client) == (900, 100)


def test_l5_confirming_after_the_start_is_refused(w):
    meeting = w.propose(hours_ahead=10)
    with refused(w.org, "meeting_started", status=409, rule="L5"):
        lifecycle.confirm_meeting(w.client, meeting, now=at(10))


# --- L6: the client rejects the expert's proposal -----------------------------------


def test_l6_client_rejects_a_proposal_with_a_reason(w):
    meeting = lifecycle.reject_meeting(w.client, w.propose(), reason=RejectReason.PRICE)

    assert meeting.status == "rejected"
    assert meeting.credit_status == "none"
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting)[-1] == ("Rejected by client", "Cleo Client", "")
    assert last_event(meeting).data["code"] == "price"
    assert messages(meeting)[-1] == ("N4.rejected", "Eve Expert")


def test_l6_the_expert_cannot_reject_their_own_proposal(w):
    meeting = w.propose()
    with refused(w.org, "own_proposal", status=409, rule="L6"):
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER)


def test_l6_a_reason_outside_the_list_is_refused(w):
    meeting = w.propose()
    with refused(w.org, "invalid_reason", rule="L6"):
        lifecycle.reject_meeting(w.client, meeting, reason="too expensive")


def test_l6_a_note_too_long_is_refused(w):
    meeting = w.propose()
    with refused(w.org, "too_long", rule="L6"):
        lifecycle.reject_meeting(w.client, meeting, reason=RejectReason.OTHER, note="x" * 2001)
