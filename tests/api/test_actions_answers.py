"""Answering and cancelling through the API (L1–L9, L17). Every refusal leaves the meeting
exactly as it was."""

from datetime import timedelta

import pytest
import time_machine

from parlour.credits import ledger
from parlour.credits.ledger import Balance
from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party
from tests.factories import client as new_client
from tests.factories import world

from .conftest import assert_error, snapshot

pytestmark = pytest.mark.django_db


def act(api, w, meeting, action: str, body=None):
    return api.org(w).post(f"/meetings/{meeting.pk}/{action}", body)


# --- confirm -------------------------------------------------------------------------


def test_l2_expert_confirms_the_clients_request(w, as_user):
    meeting = w.book()
    body = act(as_user(w.expert), w, meeting, "confirm", {}).json()
    assert (body["status"], body["expert_approved"], body["credit_status"]) == ("agreed", True, "blocked")
    assert body["timeline"][-1]["title"] == "Approved by expert"


def test_l2_confirm_needs_no_body_at_all(w, with_token):
    meeting = w.book()
    response = act(with_token(w.expert), w, meeting, "confirm")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "agreed"


def test_l5_client_confirms_the_experts_proposal_and_its_price_is_blocked(w, as_user):
    meeting = w.propose()
    body = act(as_user(w.client), w, meeting, "confirm", {}).json()
    assert (body["status"], body["credit_status"]) == ("agreed", "blocked")
    assert ledger.balance_of(w.org, w.client) == Balance(available=900, blocked=100)


def test_l5_short_wallet_answers_402_and_changes_nothing(w, as_user):
    poor = new_client(w.org, credits=30)
    meeting = w.propose(to=poor)
    before = snapshot(meeting)
    assert_error(act(as_user(poor), w, meeting, "confirm", {}), 402, "insufficient_credits", "L5")
    assert snapshot(meeting) == before


def test_l2_confirm_is_refused_to_the_wrong_side_state_or_organization(w, as_user):
    meeting = w.book()
    before = snapshot(meeting)
    assert_error(act(as_user(w.client), w, meeting, "confirm", {}), 409, "already_approved")
    assert_error(act(as_user(w.colleague), w, meeting, "confirm", {}), 403, "wrong_side", "L2")
    assert_error(act(as_user(w.admin), w, meeting, "confirm", {}), 403, "wrong_side")
    elsewhere = world()
    assert_error(act(as_user(elsewhere.expert), elsewhere, meeting, "confirm", {}), 404, "not_found", "O3")
    assert_error(as_user(w.expert).org(w).post("/meetings/424242/confirm", {}), 404, "not_found", "O3")
    assert_error(act(as_user(w.expert), w, meeting, "confirm", {"acknowledge_conflict": "maybe"}), 422, "invalid_input")
    assert snapshot(meeting) == before
    act(as_user(w.expert), w, meeting, "confirm", {})
    after = snapshot(meeting)
    assert_error(act(as_user(w.expert), w, meeting, "confirm", {}), 409, "wrong_state", "L2")  # double submission
    assert snapshot(meeting) == after


def test_l17_confirming_over_an_agreed_meeting_warns_then_goes_through(w, as_user):
    agreed = w.agreed(service=w.free_service, hours_ahead=72)
    proposal = lifecycle.propose_meeting(
        w.colleague, service=w.service, party=Party(client=w.client), start=agreed.start + timedelta(minutes=5)
    )
    before = snapshot(proposal)
    body = assert_error(act(as_user(w.client), w, proposal, "confirm", {}), 409, "conflict_warning", "L17")
    assert body["details"] == {"conflicting_meeting": agreed.pk, "confirms": "L5"}
    assert snapshot(proposal) == before
    ok = act(as_user(w.client), w, proposal, "confirm", {"acknowledge_conflict": True})
    assert (ok.json()["status"], ok.json()["credit_status"]) == ("agreed", "blocked")


# --- reject --------------------------------------------------------------------------


def test_l3_expert_rejects_with_a_reason_credits_return(w, as_user):
    meeting = w.book()
    body = act(as_user(w.expert), w, meeting, "reject", {"reason": "not_my_field", "note": "Try Carl"}).json()
    assert (body["status"], body["credit_status"]) == ("rejected", "returned")
    event = body["timeline"][-1]
    assert (event["title"], event["reason"], event["data"]["code"]) == (
        "Rejected by expert",
        "Try Carl",
        "not_my_field",
    )
    assert ledger.balance_of(w.org, w.client) == Balance(available=1000, blocked=0)


def test_l6_client_rejects_the_experts_proposal(w, as_user):
    meeting = w.propose()
    body = act(as_user(w.client), w, meeting, "reject", {"reason": "price"}).json()
    assert (body["status"], body["client_approved"]) == ("rejected", False)
    assert body["timeline"][-1]["title"] == "Rejected by client"


def test_l3_reject_refusals_change_nothing(w, as_user):
    meeting = w.book()
    before = snapshot(meeting)
    assert_error(act(as_user(w.expert), w, meeting, "reject", {"reason": "bored"}), 422, "invalid_input", "Q2")
    assert_error(act(as_user(w.expert), w, meeting, "reject", {}), 422, "invalid_input")
    long = {"reason": "other", "note": "x" * 2001}
    assert_error(act(as_user(w.expert), w, meeting, "reject", long), 422, "invalid_input")
    assert_error(act(as_user(w.client), w, meeting, "reject", {"reason": "other"}), 409, "own_proposal")
    assert_error(act(as_user(w.colleague), w, meeting, "reject", {"reason": "other"}), 403, "wrong_side")
    assert snapshot(meeting) == before


# --- cancel --------------------------------------------------------------------------


def test_l1_client_cancels_their_request_credits_return(w, as_user):
    meeting = w.book()
    body = act(as_user(w.client), w, meeting, "cancel", {}).json()
    assert (body["status"], body["credit_status"]) == ("cancelled", "returned")
    assert body["timeline"][-1]["title"] == "Cancelled by client"


def test_l4_expert_cancels_their_proposal(w, as_user):
    meeting = w.propose()
    body = act(as_user(w.expert), w, meeting, "cancel", {}).json()
    assert body["status"] == "cancelled" and body["timeline"][-1]["title"] == "Cancelled by expert"


def test_l1_client_cannot_cancel_the_experts_proposal(w, as_user):
    meeting = w.propose()
    before = snapshot(meeting)
    assert_error(act(as_user(w.client), w, meeting, "cancel", {}), 409, "not_your_request", "L1")
    assert snapshot(meeting) == before


def test_l7_client_cancels_in_good_time_with_a_written_reason(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    before = snapshot(meeting)
    assert_error(act(as_user(w.client), w, meeting, "cancel", {}), 400, "reason_required", "L7")
    assert snapshot(meeting) == before
    body = act(as_user(w.client), w, meeting, "cancel", {"note": "Found a job"}).json()
    assert (body["status"], body["credit_status"]) == ("cancelled", "returned")
    assert body["timeline"][-1]["reason"] == "Found a job"
    assert ledger.balance_of(w.org, w.client) == Balance(available=1000, blocked=0)


def test_l8_late_cancel_via_api_needs_confirmation_then_charges_half(w, as_user):
    meeting = w.agreed(hours_ahead=24)
    api = as_user(w.client)
    before = snapshot(meeting)
    warning = assert_error(act(api, w, meeting, "cancel", {"note": "Sick"}), 409, "late_cancellation_charge", "L8")
    assert warning["details"] == {"charged": 50, "returned": 50}
    assert snapshot(meeting) == before
    body = act(api, w, meeting, "cancel", {"note": "Sick", "confirm_late": True}).json()
    assert (body["status"], body["credit_status"]) == ("cancelled", "reimbursed_cancellation")
    assert [e["title"] for e in body["timeline"][-2:]] == ["Cancelled by client", "Reimbursed to expert"]
    assert ledger.balance_of(w.org, w.client) == Balance(available=950, blocked=0)
    assert ledger.balance_of(w.org, w.expert).available == 40  # 50 less the platform's 20 %


def test_l9_expert_cancels_with_a_reason_from_the_list_all_returns(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    before = snapshot(meeting)
    assert_error(act(as_user(w.expert), w, meeting, "cancel", {"reason": "bored"}), 400, "invalid_reason", "L9")
    assert snapshot(meeting) == before
    body = act(as_user(w.expert), w, meeting, "cancel", {"reason": "illness", "note": "Flu"}).json()
    assert (body["status"], body["credit_status"]) == ("cancelled", "returned")
    assert body["timeline"][-1]["data"]["code"] == "illness"


def test_l9_expert_cancelling_late_must_confirm_the_warning(w, as_user):
    meeting = w.agreed(hours_ahead=10)
    before = snapshot(meeting)
    response = act(as_user(w.expert), w, meeting, "cancel", {"reason": "emergency"})
    assert_error(response, 409, "late_cancellation_warning", "L9")
    assert snapshot(meeting) == before
    body = act(as_user(w.expert), w, meeting, "cancel", {"reason": "emergency", "confirm_late": True}).json()
    assert (body["status"], body["credit_status"]) == ("cancelled", "returned")


def test_l7_nothing_can_be_cancelled_once_started_or_by_others(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    before = snapshot(meeting)
    assert_error(act(as_user(w.colleague), w, meeting, "cancel", {"reason": "illness"}), 403, "wrong_side")
    assert_error(act(as_user(w.admin), w, meeting, "cancel", {"note": "x"}), 403, "wrong_side")
    assert_error(act(as_user(w.client), w, meeting, "cancel", {"confirm_late": "sure"}), 422, "invalid_input")
    with time_machine.travel(meeting.start + timedelta(minutes=1)):
        response = act(as_user(w.client), w, meeting, "cancel", {"note": "late", "confirm_late": True})
        assert_error(response, 409, "meeting_started", "L7")
    assert snapshot(meeting) == before
