"""Cancelling: a client's unanswered request (L1), an expert's unanswered proposal (L4), an
agreed meeting by the client in good time (L7) or late (L8), by the expert (L9)."""

import pytest

from parlour.meetings import lifecycle
from parlour.meetings.models import AlternativeState
from parlour.meetings.reasons import ExpertCancelReason
from tests.meetings.checks import (
    assert_ledger_balanced,
    at,
    history,
    last_event,
    last_message,
    messages,
    platform,
    refused,
    room_commands,
    timeline,
    titles,
    wallet,
)

# --- L1: the client cancels their request the expert has not answered ---------------


def test_l1_client_cancels_an_unanswered_request_and_the_credits_return(w):
    meeting = lifecycle.cancel_meeting(w.client, w.book())

    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting)[-1] == ("Cancelled by client", "Cleo Client", "")
    assert messages(meeting)[-1] == ("N5", "Eve Expert")
    assert room_commands(meeting) == []  # no room was made for it
    assert history(w.org, w.client)[-2:] == [("Blocked for meeting", 0), ("Returned", 0)]
    assert_ledger_balanced(w.org)


def test_l1_the_expert_cannot_cancel_the_clients_request(w):
    meeting = w.book()
    with refused(w.org, "not_your_request", status=409, rule="L4"):
        lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.OTHER)


def test_l1_a_request_the_expert_rejected_cannot_be_cancelled(w):
    meeting = lifecycle.reject_meeting(w.expert, w.book(), reason="not_available")
    with refused(w.org, "wrong_state", status=409, rule="L7"):
        lifecycle.cancel_meeting(w.client, meeting, note="never mind")


def test_l1_cancelling_twice_is_refused(w):
    meeting = lifecycle.cancel_meeting(w.client, w.book())
    with refused(w.org, "wrong_state", status=409):
        lifecycle.cancel_meeting(w.client, meeting, note="again")


def test_l1_cancelling_after_the_start_is_refused(w):
    meeting = w.book(hours_ahead=5)
    with refused(w.org, "meeting_started", status=409, rule="L1"):
        lifecycle.cancel_meeting(w.client, meeting, now=at(5))


# --- L4: the expert cancels their unanswered proposal ------------------------------


def test_l4_expert_cancels_their_unanswered_proposal(w):
    meeting = lifecycle.cancel_meeting(w.expert, w.propose(), note="Sent by mistake")

    assert (meeting.status, meeting.credit_status) == ("cancelled", "none")
    assert timeline(meeting)[-1] == ("Cancelled by expert", "Eve Expert", "Sent by mistake")
    assert messages(meeting)[-1] == ("N5", "Cleo Client")
    assert wallet(w.org, w.client) == (1000, 0)


def test_l4_the_client_cannot_cancel_the_experts_proposal(w):
    meeting = w.propose()
    with refused(w.org, "not_your_request", status=409, rule="L1"):
        lifecycle.cancel_meeting(w.client, meeting, note="no")


def test_l4_a_colleague_cannot_cancel(w):
    meeting = w.propose()
    with refused(w.org, "wrong_side", status=403):
        lifecycle.cancel_meeting(w.colleague, meeting)


# --- L7: the client cancels an agreed meeting in good time -------------------------


def test_l7_client_cancels_in_good_time_with_a_written_reason_and_gets_everything_back(w):
    meeting = lifecycle.cancel_meeting(w.client, w.agreed(hours_ahead=72), note="My train was cancelled.")

    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert wallet(w.org, w.expert) == (0, 0)
    assert timeline(meeting)[-1] == ("Cancelled by client", "Cleo Client", "My train was cancelled.")
    assert messages(meeting)[-1] == ("N5", "Eve Expert")
    assert room_commands(meeting) == ["room.create", "room.cancel"]
    assert_ledger_balanced(w.org)


@pytest.mark.parametrize("note", ["", "   "])
def test_l7_a_written_reason_is_required(w, note):
    meeting = w.agreed()
    with refused(w.org, "reason_required", rule="L7"):
        lifecycle.cancel_meeting(w.client, meeting, note=note)


def test_l7_exactly_at_the_notice_is_still_in_good_time(w):
    meeting = w.agreed(hours_ahead=72)
    meeting = lifecycle.cancel_meeting(w.client, meeting, note="Plans changed", now=at(24))  # 48 h before
    assert meeting.credit_status == "returned"
    assert wallet(w.org, w.client) == (1000, 0)


def test_l7_cancelling_drops_a_pending_alternative(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))
    lifecycle.cancel_meeting(w.client, meeting, note="Not needed any more")
    assert meeting.alternatives.get().state == AlternativeState.WITHDRAWN


# --- L8: the client cancels an agreed meeting late ---------------------------------


def test_l8_client_cancelling_late_is_first_told_the_charge_and_nothing_changes(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(at(48), tick=False)  # 24 h before the start

    with refused(w.org, "late_cancellation_charge", status=409, rule="L8") as caught:
        lifecycle.cancel_meeting(w.client, meeting, note="Something came up")

    assert caught.value.details == {"charged": 50, "returned": 50}
    assert "50 %" in caught.value.message


def test_l8_client_cancels_late_and_pays_half(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(at(48), tick=False)

    meeting = lifecycle.cancel_meeting(w.client, meeting, note="Something came up", confirm_late=True)

    assert (meeting.status, meeting.credit_status) == ("cancelled", "reimbursed_cancellation")
    assert wallet(w.org, w.client) == (950, 0)
    assert wallet(w.org, w.expert) == (40, 0)  # 50 charged less the 20 % platform share
    assert platform(w.org) == 10
    assert timeline(meeting)[-2:] == [
        ("Cancelled by client", "Cleo Client", "Something came up"),
        ("Reimbursed to expert", "Parlour", ""),
    ]
    assert last_event(meeting).data == {"charged": 50, "paid": 40}
    assert messages(meeting)[-1] == ("N5", "Eve Expert")
    assert last_message(meeting).payload["charged"] == 50
    assert room_commands(meeting) == ["room.create", "room.cancel"]
    assert history(w.org, w.client)[-2:] == [("Deduction of credits for services", -50), ("Returned", 0)]
    assert history(w.org, w.expert) == [("Payment of credits for services", 40)]
    assert_ledger_balanced(w.org)


def test_l8_a_free_meeting_is_cancelled_late_without_a_charge_to_confirm(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=10)

    meeting = lifecycle.cancel_meeting(w.guest, meeting, note="Sorry, ill")

    assert (meeting.status, meeting.credit_status) == ("cancelled", "none")
    assert titles(meeting)[-1] == "Cancelled by client"
    assert messages(meeting)[-1] == ("N5", "Eve Expert")
    assert room_commands(meeting) == ["room.create", "room.cancel"]


def test_l8_a_late_cancellation_still_needs_a_written_reason(w):
    meeting = w.agreed(hours_ahead=10)
    with refused(w.org, "reason_required", rule="L7"):
        lifecycle.cancel_meeting(w.client, meeting, confirm_late=True)


def test_l8_cancelling_late_twice_charges_once(w):
    meeting = w.agreed(hours_ahead=10)
    lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True)
    with refused(w.org, "wrong_state", status=409):
        lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True)
    assert wallet(w.org, w.client) == (950, 0)


# --- L9: the expert cancels an agreed meeting --------------------------------------


def test_l9_expert_cancels_with_a_reason_and_all_credits_return(w):
    meeting = w.agreed(hours_ahead=72)

    meeting = lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.ILLNESS, note="Flu")

    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert wallet(w.org, w.expert) == (0, 0)
    assert timeline(meeting)[-1] == ("Cancelled by expert", "Eve Expert", "Flu")
    assert last_event(meeting).data["code"] == "illness"
    assert messages(meeting)[-1] == ("N5", "Cleo Client")
    assert room_commands(meeting) == ["room.create", "room.cancel"]
    assert_ledger_balanced(w.org)


@pytest.mark.parametrize("reason", ["", "tired"])
def test_l9_a_reason_from_the_list_is_required(w, reason):
    meeting = w.agreed()
    with refused(w.org, "invalid_reason", rule="L9"):
        lifecycle.cancel_meeting(w.expert, meeting, reason=reason)


def test_l9_under_the_notice_the_expert_must_confirm_a_warning(w):
    meeting = w.agreed(hours_ahead=72)

    with refused(w.org, "late_cancellation_warning", status=409, rule="L9"):
        lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.EMERGENCY, now=at(30))

    meeting = lifecycle.cancel_meeting(
        w.expert, meeting, reason=ExpertCancelReason.EMERGENCY, confirm_late=True, now=at(30)
    )
    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert wallet(w.org, w.expert) == (0, 0)


def test_l9_a_colleague_or_admin_cannot_cancel_for_the_expert(w):
    meeting = w.agreed()
    for someone in (w.colleague, w.admin):
        with refused(w.org, "wrong_side", status=403):
            lifecycle.cancel_meeting(someone, meeting, reason=ExpertCancelReason.OTHER)


def test_l9_cancelling_after_the_start_is_refused(w):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "meeting_started", status=409, rule="L9"):
        lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.OTHER, confirm_late=True, now=at(72.1))
