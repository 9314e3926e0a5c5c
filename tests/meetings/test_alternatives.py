"""Alternative dates: proposed on an agreed (L10) or rejected (L11) meeting, confirmed (L12),
rejected (L13) or withdrawn (L14); at most one pending at a time."""

import pytest

from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import AlternativeState
from parlour.meetings.reasons import RejectReason
from tests.factories import client
from tests.meetings.checks import (
    assert_ledger_balanced,
    at,
    fresh,
    last_message,
    messages,
    refused,
    room_commands,
    timeline,
    titles,
    wallet,
)


def rejected_request(w, **kw):
    """A client's request the expert rejected (L3): its credits are back in the wallet."""
    return lifecycle.reject_meeting(w.expert, w.book(**kw), reason=RejectReason.NOT_AVAILABLE)


# --- L10: rescheduling an agreed meeting -------------------------------------------


def test_l10_client_proposes_an_alternative_and_the_original_date_stays_valid(w):
    meeting = w.agreed(hours_ahead=72)

    meeting = lifecycle.propose_alternative(w.client, meeting, start=at(96))

    alternative = meeting.pending_alternative
    assert (alternative.start, alternative.length_minutes, alternative.proposed_by) == (at(96), 30, "client")
    assert (meeting.status, meeting.start, meeting.credit_status) == ("agreed", at(72), "blocked")
    assert wallet(w.org, w.client) == (900, 100)
    assert timeline(meeting)[-2:] == [
        ("Alternative date proposed by client", "Cleo Client", ""),
        ("Approved by client", "Cleo Client", ""),
    ]
    assert messages(meeting)[-1] == ("N6", "Eve Expert")
    assert last_message(meeting).payload["was"] == "agreed"
    assert room_commands(meeting) == ["room.create"]
    # Until the expert answers, the meeting happens at its original date.
    entered = outcome.record_entry(w.client, meeting, now=at(71.9))
    assert entered.client_entered_at == at(71.9)


def test_l10_expert_proposes_an_alternative_and_the_client_is_told(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(), start=at(100), length=60)

    assert titles(meeting)[-2:] == ["Alternative date proposed by expert", "Approved by expert"]
    assert messages(meeting)[-1] == ("N6", "Cleo Client")
    assert meeting.pending_alternative.length_minutes == 60


def test_l10_at_most_one_alternative_is_pending(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(), start=at(96))
    for side in (w.client, w.expert):
        with refused(w.org, "alternative_pending", status=409, rule="L10"):
            lifecycle.propose_alternative(side, meeting, start=at(120))


@pytest.mark.parametrize(
    ("start", "length", "code"),
    [
        (72, None, "same_date"),
        (-1, None, "in_past"),
        (24 * 31, None, "outside_booking_window"),
        (96, 45, "invalid_length"),
    ],
)
def test_l10_an_alternative_must_be_a_new_bookable_date(w, start, length, code):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, code, rule="L10"):
        lifecycle.propose_alternative(w.client, meeting, start=at(start), length=length)


def test_l10_only_the_two_sides_reschedule(w):
    meeting = w.agreed()
    with refused(w.org, "wrong_side", status=403):
        lifecycle.propose_alternative(w.colleague, meeting, start=at(96))


def test_l10_rescheduling_after_the_start_or_a_cancelled_meeting_is_refused(w):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "meeting_started", status=409, rule="L10"):
        lifecycle.propose_alternative(w.client, meeting, start=at(96), now=at(72))
    awaiting = w.book(hours_ahead=100)
    with refused(w.org, "wrong_state", status=409, rule="L10"):
        lifecycle.propose_alternative(w.client, awaiting, start=at(120))


# --- L12 on an agreed meeting ------------------------------------------------------


def test_l12_confirming_an_alternative_of_an_agreed_meeting_moves_it_and_its_room(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(hours_ahead=72), start=at(96), length=60)

    meeting = lifecycle.confirm_alternative(w.expert, meeting)

    assert (meeting.status, meeting.start, meeting.end) == ("agreed", at(96), at(97))
    assert meeting.alternatives.get().state == AlternativeState.APPROVED
    assert meeting.pending_alternative is None
    assert wallet(w.org, w.client) == (900, 100)  # held once, not twice
    assert timeline(meeting)[-1] == ("Alternative date approved by expert", "Eve Expert", "")
    assert messages(meeting)[-1] == ("N4.confirmed", "Cleo Client")
    assert room_commands(meeting) == ["room.create", "room.move"]


def test_l12_the_proposer_cannot_confirm_their_own_alternative(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(), start=at(96))
    with refused(w.org, "own_alternative", status=409, rule="L12"):
        lifecycle.confirm_alternative(w.client, meeting)


def test_l12_without_a_pending_alternative_there_is_nothing_to_confirm(w):
    meeting = w.agreed()
    with refused(w.org, "no_alternative", status=409, rule="L12"):
        lifecycle.confirm_alternative(w.expert, meeting)


def test_l12_confirming_twice_is_refused(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(), start=at(96))
    lifecycle.confirm_alternative(w.expert, meeting)
    with refused(w.org, "no_alternative", status=409, rule="L12"):
        lifecycle.confirm_alternative(w.expert, meeting)


def test_l12_a_colleague_cannot_confirm(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(), start=at(96))
    with refused(w.org, "wrong_side", status=403, rule="L12"):
        lifecycle.confirm_alternative(w.colleague, meeting)


def test_l12_once_an_agreed_meeting_has_started_its_alternative_cannot_be_confirmed(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(hours_ahead=72), start=at(96))
    with refused(w.org, "meeting_started", status=409, rule="L12"):
        lifecycle.confirm_alternative(w.expert, meeting, now=at(72))


# --- L11 and L12 on a rejected meeting ---------------------------------------------


def test_l11_client_reschedules_a_rejected_meeting_and_its_credits_are_blocked_now(w):
    meeting = lifecycle.propose_alternative(w.client, rejected_request(w), start=at(96))

    assert (meeting.status, meeting.credit_status) == ("rejected", "blocked")
    assert wallet(w.org, w.client) == (900, 100)
    assert titles(meeting)[-2:] == ["Alternative date proposed by client", "Approved by client"]
    assert messages(meeting)[-1] == ("N1", "Eve Expert")
    assert_ledger_balanced(w.org)


def test_l11_client_rescheduling_with_a_wallet_too_short_is_refused(w):
    poor = client(w.org, credits=100)
    meeting = lifecycle.reject_meeting(w.expert, w.book(by=poor), reason=RejectReason.OTHER)
    w.book(by=poor, hours_ahead=150)  # the 100 credits are now held for another meeting
    with refused(w.org, "insufficient_credits", status=402, rule="L11"):
        lifecycle.propose_alternative(poor, meeting, start=at(96))


def test_l11_expert_reschedules_a_rejected_meeting_without_moving_credits(w):
    meeting = lifecycle.propose_alternative(w.expert, rejected_request(w), start=at(96))

    assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert messages(meeting)[-1] == ("N6", "Cleo Client")
    assert last_message(meeting).payload["was"] == "rejected"


def test_l12_client_confirms_the_experts_date_on_a_rejected_meeting_and_it_is_agreed(w):
    meeting = lifecycle.propose_alternative(w.expert, rejected_request(w, hours_ahead=72), start=at(96))

    meeting = lifecycle.confirm_alternative(w.client, meeting)

    assert (meeting.status, meeting.start, meeting.credit_status) == ("agreed", at(96), "blocked")
    assert (meeting.client_approved, meeting.expert_approved) == (True, True)
    assert wallet(w.org, w.client) == (900, 100)
    assert timeline(meeting)[-1] == ("Alternative date approved by client", "Cleo Client", "")
    assert messages(meeting)[-1] == ("N4.confirmed", "Eve Expert")
    assert room_commands(meeting) == ["room.create"]
    assert_ledger_balanced(w.org)


def test_l12_client_confirming_on_a_rejected_meeting_with_a_wallet_too_short_is_refused(w):
    poor = client(w.org, credits=100)
    meeting = lifecycle.reject_meeting(w.expert, w.book(by=poor), reason=RejectReason.OTHER)
    meeting = lifecycle.propose_alternative(w.expert, meeting, start=at(96))
    w.book(by=poor, hours_ahead=150)  # the 100 credits are now held for another meeting
    with refused(w.org, "insufficient_credits", status=402, rule="L12"):
        lifecycle.confirm_alternative(poor, meeting)


def test_l12_expert_confirms_the_clients_date_on_a_rejected_meeting_holding_once(w):
    meeting = lifecycle.propose_alternative(w.client, rejected_request(w), start=at(96))

    meeting = lifecycle.confirm_alternative(w.expert, meeting)

    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert wallet(w.org, w.client) == (900, 100)
    assert room_commands(meeting) == ["room.create"]


def test_l12_a_rejected_meetings_alternative_can_be_answered_after_its_old_date(w):
    """A rejected meeting's own date is gone; only the alternative's start ends the exchange."""
    meeting = lifecycle.propose_alternative(w.client, rejected_request(w, hours_ahead=72), start=at(96))

    meeting = lifecycle.confirm_alternative(w.expert, meeting, now=at(80))
    assert (meeting.status, meeting.start) == ("agreed", at(96))


# --- L13: rejecting an alternative -------------------------------------------------


def test_l13_rejecting_the_alternative_of_an_agreed_meeting_keeps_its_date(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))

    meeting = lifecycle.reject_alternative(w.client, meeting, reason=RejectReason.NOT_AVAILABLE, note="Busy then")

    assert (meeting.status, meeting.start, meeting.credit_status) == ("agreed", at(72), "blocked")
    assert meeting.alternatives.get().state == AlternativeState.REJECTED
    assert wallet(w.org, w.client) == (900, 100)
    assert timeline(meeting)[-1] == ("Alternative date rejected by client", "Cleo Client", "Busy then")
    assert messages(meeting)[-1] == ("N4.rejected", "Eve Expert")
    assert room_commands(meeting) == ["room.create"]


def test_l13_rejecting_the_clients_alternative_on_a_rejected_meeting_returns_its_credits(w):
    meeting = lifecycle.propose_alternative(w.client, rejected_request(w), start=at(96))

    meeting = lifecycle.reject_alternative(w.expert, meeting, reason=RejectReason.NOT_AVAILABLE)

    assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert titles(meeting)[-1] == "Alternative date rejected by expert"
    assert_ledger_balanced(w.org)


def test_l13_refusals(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))
    with refused(w.org, "own_alternative", status=409, rule="L13"):
        lifecycle.reject_alternative(w.expert, meeting, reason=RejectReason.OTHER)
    with refused(w.org, "invalid_reason", rule="L13"):
        lifecycle.reject_alternative(w.client, meeting, reason="meh")
    with refused(w.org, "wrong_side", status=403, rule="L13"):
        lifecycle.reject_alternative(w.colleague, meeting, reason=RejectReason.OTHER)
    with refused(w.org, "meeting_started", status=409, rule="L13"):
        lifecycle.reject_alternative(w.client, meeting, reason=RejectReason.OTHER, now=at(72))
    lifecycle.reject_alternative(w.client, meeting, reason=RejectReason.OTHER)
    with refused(w.org, "no_alternative", status=409, rule="L13"):
        lifecycle.reject_alternative(w.client, meeting, reason=RejectReason.OTHER)


# --- L14: withdrawing an alternative -----------------------------------------------


def test_l14_the_proposer_withdraws_the_alternative_of_an_agreed_meeting(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))

    meeting = lifecycle.withdraw_alternative(w.expert, meeting)

    assert (meeting.status, meeting.start) == ("agreed", at(72))
    assert meeting.alternatives.get().state == AlternativeState.WITHDRAWN
    assert timeline(meeting)[-1] == ("Alternative date withdrawn by expert", "Eve Expert", "")
    # Withdrawn, a new alternative may be proposed.
    assert lifecycle.propose_alternative(w.client, meeting, start=at(120)).pending_alternative.start == at(120)


def test_l14_withdrawing_on_a_rejected_meeting_returns_the_credits(w):
    meeting = lifecycle.propose_alternative(w.client, rejected_request(w), start=at(96))

    meeting = lifecycle.withdraw_alternative(w.client, meeting)

    assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert titles(meeting)[-1] == "Alternative date withdrawn by client"
    assert_ledger_balanced(w.org)


def test_l14_refusals(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(hours_ahead=72), start=at(96))
    with refused(w.org, "not_your_alternative", status=403, rule="L14"):
        lifecycle.withdraw_alternative(w.expert, meeting)
    with refused(w.org, "wrong_side", status=403, rule="L14"):
        lifecycle.withdraw_alternative(w.colleague, meeting)
    with refused(w.org, "meeting_started", status=409, rule="L14"):
        lifecycle.withdraw_alternative(w.client, meeting, now=at(72))
    lifecycle.withdraw_alternative(w.client, meeting)
    with refused(w.org, "no_alternative", status=409, rule="L14"):
        lifecycle.withdraw_alternative(w.client, meeting)
    assert fresh(meeting).start == at(72)
