"""Alternative dates (L10–L14), reassigning (L15) and direct changes (L16) through the API.
Every refusal leaves the meeting exactly as it was."""

from datetime import timedelta

import pytest

from parlour.credits import ledger
from parlour.credits.ledger import Balance
from parlour.meetings import lifecycle
from tests.factories import member, world

from .conftest import assert_error, hours_from_now, iso, snapshot

pytestmark = pytest.mark.django_db


def act(api, w, meeting, action: str, body=None):
    return api.org(w).post(f"/meetings/{meeting.pk}/{action}", body)


# --- L10–L14 -------------------------------------------------------------------------


def test_l10_l12_expert_reschedules_client_confirms_the_new_date(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    original, new = meeting.start, hours_from_now(96)
    body = act(as_user(w.expert), w, meeting, "alternative/propose", {"start": iso(new)}).json()
    meeting.refresh_from_db()
    assert meeting.start == original  # the original date stays valid until confirmed
    assert body["pending_alternative"]["proposed_by"] == "expert"
    assert [e["title"] for e in body["timeline"][-2:]] == ["Alternative date proposed by expert", "Approved by expert"]
    confirmed = act(as_user(w.client), w, meeting, "alternative/confirm", {}).json()
    assert confirmed["status"] == "agreed" and confirmed["pending_alternative"] is None
    meeting.refresh_from_db()
    assert meeting.start == new
    assert confirmed["timeline"][-1]["title"] == "Alternative date approved by client"


def test_l11_l12_client_reschedules_a_rejected_meeting_credits_block_and_it_becomes_agreed(w, as_user):
    meeting = w.book()
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")
    assert ledger.balance_of(w.org, w.client).blocked == 0
    proposed = act(as_user(w.client), w, meeting, "alternative/propose", {"start": iso(hours_from_now(100))})
    assert proposed.status_code == 200, proposed.content
    assert (proposed.json()["status"], proposed.json()["credit_status"]) == ("rejected", "blocked")
    assert ledger.balance_of(w.org, w.client) == Balance(available=900, blocked=100)
    body = act(as_user(w.expert), w, meeting, "alternative/confirm").json()
    assert (body["status"], body["credit_status"]) == ("agreed", "blocked")


def test_l13_rejecting_the_alternative_keeps_the_agreed_date(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    original = meeting.start
    act(as_user(w.client), w, meeting, "alternative/propose", {"start": iso(hours_from_now(90)), "length": 60})
    body = act(as_user(w.expert), w, meeting, "alternative/reject", {"reason": "not_available", "note": "Busy"}).json()
    assert body["status"] == "agreed" and body["pending_alternative"] is None
    assert body["timeline"][-1]["title"] == "Alternative date rejected by expert"
    meeting.refresh_from_db()
    assert (meeting.start, meeting.length_minutes) == (original, 30)


def test_l13_on_a_rejected_meeting_what_was_blocked_for_the_alternative_returns(w, as_user):
    meeting = w.book()
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")
    act(as_user(w.client), w, meeting, "alternative/propose", {"start": iso(hours_from_now(100))})
    body = act(as_user(w.expert), w, meeting, "alternative/reject", {"reason": "price"}).json()
    assert (body["status"], body["credit_status"]) == ("rejected", "returned")
    assert ledger.balance_of(w.org, w.client) == Balance(available=1000, blocked=0)


def test_l14_the_proposer_withdraws_the_other_side_may_not(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    act(as_user(w.expert), w, meeting, "alternative/propose", {"start": iso(hours_from_now(90))})
    before = snapshot(meeting)
    assert_error(act(as_user(w.client), w, meeting, "alternative/withdraw"), 403, "not_your_alternative", "L14")
    assert snapshot(meeting) == before
    body = act(as_user(w.expert), w, meeting, "alternative/withdraw").json()
    assert body["pending_alternative"] is None
    assert body["timeline"][-1]["title"] == "Alternative date withdrawn by expert"
    assert_error(act(as_user(w.expert), w, meeting, "alternative/withdraw"), 409, "no_alternative", "L14")


def test_l10_alternative_refusals_change_nothing(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    expert = as_user(w.expert)
    before = snapshot(meeting)
    assert_error(
        act(expert, w, meeting, "alternative/propose", {"start": "2031-01-01T10:00"}), 400, "invalid_input", "Q1"
    )
    assert_error(act(expert, w, meeting, "alternative/propose", {"start": "soon"}), 422, "invalid_input", "Q2")
    assert_error(act(expert, w, meeting, "alternative/propose", {}), 422, "invalid_input")
    later = {"start": iso(hours_from_now(90)), "length": -1}
    assert_error(act(expert, w, meeting, "alternative/propose", later), 422, "invalid_input")
    past = {"start": iso(hours_from_now(-2))}
    assert_error(act(expert, w, meeting, "alternative/propose", past), 400, "in_past", "L10")
    same = {"start": iso(meeting.start)}
    assert_error(act(expert, w, meeting, "alternative/propose", same), 400, "same_date", "L10")
    assert_error(
        act(as_user(w.colleague), w, meeting, "alternative/propose", {"start": iso(hours_from_now(90))}),
        403,
        "wrong_side",
    )
    assert_error(act(expert, w, meeting, "alternative/confirm", {}), 409, "no_alternative", "L12")
    assert snapshot(meeting) == before
    act(expert, w, meeting, "alternative/propose", {"start": iso(hours_from_now(90))})
    before = snapshot(meeting)
    again = {"start": iso(hours_from_now(91))}
    assert_error(act(as_user(w.client), w, meeting, "alternative/propose", again), 409, "alternative_pending", "L10")
    assert_error(act(expert, w, meeting, "alternative/confirm", {}), 409, "own_alternative", "L12")
    assert_error(act(expert, w, meeting, "alternative/reject", {"reason": "other"}), 409, "own_alternative", "L13")
    assert_error(act(as_user(w.client), w, meeting, "alternative/reject", {"reason": "nope"}), 422, "invalid_input")
    assert snapshot(meeting) == before


def test_l10_a_cancelled_meeting_cannot_be_rescheduled(w, as_user):
    meeting = w.book()
    lifecycle.cancel_meeting(w.client, meeting)
    before = snapshot(meeting)
    response = act(as_user(w.client), w, meeting, "alternative/propose", {"start": iso(hours_from_now(90))})
    assert_error(response, 409, "wrong_state")
    assert snapshot(meeting) == before


# --- L15 -----------------------------------------------------------------------------


def test_l15_expert_hands_the_meeting_to_a_colleague(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    body = act(as_user(w.expert), w, meeting, "reassign", {"expert_id": w.colleague.pk}).json()
    assert body["expert"] == {"id": w.colleague.pk, "name": "Carl Colleague"}
    assert body["timeline"][-1]["title"] == "Reassigned to another expert"


def test_l15_an_admin_may_reassign(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    body = act(as_user(w.admin), w, meeting, "reassign", {"expert_id": w.colleague.pk}).json()
    assert body["expert"]["id"] == w.colleague.pk
    assert body["timeline"][-1]["side"] == "admin"


def test_l15_reassign_refusals_change_nothing(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    stranger = member(w.org, name="Stan Stranger")  # gives no service
    elsewhere = world()
    before = snapshot(meeting)
    to_colleague = {"expert_id": w.colleague.pk}
    assert_error(act(as_user(w.client), w, meeting, "reassign", to_colleague), 403, "wrong_side", "L15")
    assert_error(act(as_user(w.colleague), w, meeting, "reassign", to_colleague), 403, "wrong_side", "L15")
    expert = as_user(w.expert)
    assert_error(act(expert, w, meeting, "reassign", {"expert_id": stranger.pk}), 400, "not_an_expert_of_service")
    assert_error(act(expert, w, meeting, "reassign", {"expert_id": elsewhere.expert.pk}), 404, "not_found", "O3")
    assert_error(act(expert, w, meeting, "reassign", {"expert_id": 10**9}), 404, "not_found")
    assert_error(act(expert, w, meeting, "reassign", {"expert_id": 0}), 422, "invalid_input")
    assert_error(act(expert, w, meeting, "reassign", {"expert_id": w.expert.pk}), 400, "same_expert", "L15")
    assert snapshot(meeting) == before
    requested = w.book(hours_ahead=80)
    before = snapshot(requested)
    assert_error(act(expert, w, requested, "reassign", to_colleague), 409, "wrong_state", "L15")
    assert snapshot(requested) == before


# --- L16 -----------------------------------------------------------------------------


def test_l16_either_side_moves_an_agreed_meeting_of_a_service_without_confirmation(w, as_user):
    meeting = w.agreed(service=w.free_service, hours_ahead=72)
    new = hours_from_now(75)
    body = act(as_user(w.client), w, meeting, "change-time", {"start": iso(new), "length": 30}).json()
    assert (body["status"], body["length"]) == ("agreed", 30)
    meeting.refresh_from_db()
    assert (meeting.start, meeting.end) == (new, new + timedelta(minutes=30))
    assert body["timeline"][-1]["title"] == "Time or length changed by client"
    body = act(as_user(w.expert), w, meeting, "change-time", {"length": 15}).json()
    assert body["length"] == 15


def test_l16_change_refusals_change_nothing(w, as_user):
    meeting = w.agreed(service=w.free_service, hours_ahead=72)
    w.agreed(service=w.free_service, hours_ahead=80)
    expert = as_user(w.expert)
    before = snapshot(meeting)
    taken = {"start": iso(hours_from_now(80))}
    assert_error(act(expert, w, meeting, "change-time", taken), 409, "slot_taken", "L16")
    assert_error(act(expert, w, meeting, "change-time", {"start": "2031-01-01T10:00:00"}), 400, "invalid_input")
    assert_error(act(expert, w, meeting, "change-time", {"start": "01/02/2031"}), 422, "invalid_input")
    assert_error(act(expert, w, meeting, "change-time", {"length": 45}), 400, "invalid_length", "L16")
    assert_error(act(expert, w, meeting, "change-time", {"length": -15}), 422, "invalid_input")
    assert_error(act(expert, w, meeting, "change-time", {}), 400, "same_date", "L16")
    assert_error(act(as_user(w.colleague), w, meeting, "change-time", {"length": 30}), 403, "wrong_side")
    assert snapshot(meeting) == before
    paid = w.agreed(hours_ahead=100)
    before = snapshot(paid)
    response = act(expert, w, paid, "change-time", {"start": iso(hours_from_now(110))})
    assert_error(response, 409, "needs_confirmation", "L16")
    assert snapshot(paid) == before
