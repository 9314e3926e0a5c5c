"""After the meeting, through the API: statements (S1, S2), settlement (S3, C4), the review
bonus (S4), the add-ons (O4) and an admin's decision of a dispute (S3)."""

from datetime import timedelta

import pytest
import time_machine

from parlour.credits import ledger
from parlour.credits.ledger import Balance
from parlour.meetings import outcome
from tests.factories import world

from .conftest import assert_error, snapshot

pytestmark = pytest.mark.django_db


def act(api, w, meeting, action: str, body=None):
    return api.org(w).post(f"/meetings/{meeting.pk}/{action}", body)


@pytest.fixture
def held(w):
    """An agreed paid meeting, and the clock moved past its end."""
    meeting = w.agreed(hours_ahead=72)
    with time_machine.travel(meeting.end + timedelta(hours=1)):
        yield meeting


def test_s1_s3_client_says_it_went_smoothly_and_the_expert_is_paid(w, held, as_user):
    body = act(as_user(w.client), w, held, "statement", {"said": "held"}).json()
    assert (body["status"], body["outcome"], body["credit_status"]) == ("agreed", "held", "paid")
    statement = body["statements"][0]
    assert (statement["side"], statement["said_label"]) == ("client", "The meeting went smoothly")
    assert body["timeline"][-2]["title"] == "Meeting outcome recorded by client"
    assert ledger.balance_of(w.org, w.client) == Balance(available=900, blocked=0)
    assert ledger.balance_of(w.org, w.expert).available == 80


def test_s2_s3_expert_says_it_did_not_take_place_because_of_them_and_all_is_refunded(w, held, as_user):
    body = act(as_user(w.expert), w, held, "statement", {"said": "not_held_expert"}).json()
    assert (body["outcome"], body["credit_status"]) == ("refunded", "returned")
    assert body["statements"][0]["said_label"] == "It did not take place because of me"
    assert ledger.balance_of(w.org, w.client) == Balance(available=1000, blocked=0)


def test_s1_statement_refusals_change_nothing(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    before = snapshot(meeting)
    assert_error(act(as_user(w.client), w, meeting, "statement", {"said": "held"}), 409, "not_ended", "S1")
    with time_machine.travel(meeting.end + timedelta(hours=1)):
        client = as_user(w.client)
        assert_error(act(client, w, meeting, "statement", {"said": "fine"}), 422, "invalid_input")
        assert_error(act(client, w, meeting, "statement", {"said": "held", "stars": 6}), 422, "invalid_input")
        assert_error(act(client, w, meeting, "statement", {"said": "held", "stars": -1}), 422, "invalid_input")
        off = {"said": "held", "stars": 4}
        assert_error(act(client, w, meeting, "statement", off), 400, "add_on_off", "O4")
        summary = {"said": "held", "summary": "We discussed"}
        assert_error(act(as_user(w.expert), w, meeting, "statement", summary), 400, "add_on_off", "O4")
        assert_error(act(as_user(w.colleague), w, meeting, "statement", {"said": "held"}), 403, "wrong_side")
        assert snapshot(meeting) == before
        act(as_user(w.expert), w, meeting, "statement", {"said": "held"})
        after = snapshot(meeting)
        again = act(as_user(w.expert), w, meeting, "statement", {"said": "held"})
        assert_error(again, 409, "already_stated", "S2")
        assert snapshot(meeting) == after


def test_s1_s4_o4_stars_review_and_summary_with_the_add_ons_on(w, as_user):
    w.org.reviews_enabled = w.org.summaries_enabled = True
    w.org.save()
    meeting = w.agreed(hours_ahead=72)
    with time_machine.travel(meeting.end + timedelta(hours=1)):
        expert_said = {"said": "held", "summary": "Next: update the CV."}
        assert act(as_user(w.expert), w, meeting, "statement", expert_said).status_code == 200
        client_said = {"said": "held", "stars": 5, "review": "Very helpful."}
        body = act(as_user(w.client), w, meeting, "statement", client_said).json()
        assert body["outcome"] == "held"
        assert body["review"] == "Very helpful."
        by_side = {s["side"]: s for s in body["statements"]}
        assert by_side["expert"]["summary"] == "Next: update the CV."
        assert by_side["client"]["stars"] is None  # stars are for the operator only (S1, E1)
        assert "Bonus credits for written review" in [e["title"] for e in body["timeline"]]
        admin_view = as_user(w.admin).org(w).get(f"/meetings/{meeting.pk}").json()
        assert {s["side"]: s["stars"] for s in admin_view["statements"]} == {"expert": None, "client": 5}
    assert ledger.balance_of(w.org, w.client).available == 900 + 10  # S4 bonus


def test_o4_summary_is_not_shown_when_the_add_on_is_off(w, as_user):
    w.org.summaries_enabled = True
    w.org.save()
    meeting = w.agreed(hours_ahead=72)
    with time_machine.travel(meeting.end + timedelta(hours=1)):
        outcome.submit_statement(w.expert, meeting, said="held", summary="Private notes")
    w.org.summaries_enabled = False
    w.org.save()
    body = as_user(w.client).org(w).get(f"/meetings/{meeting.pk}").json()
    assert body["statements"][0]["summary"] is None


@pytest.fixture
def disputed(w):
    meeting = w.agreed(hours_ahead=72)
    with time_machine.travel(meeting.end + timedelta(hours=1)):
        outcome.submit_statement(w.expert, meeting, said="held")
        outcome.submit_statement(w.client, meeting, said="not_held_expert")
        meeting.refresh_from_db()
        assert meeting.outcome == "disputed"
        yield meeting


def test_s3_admin_decides_a_dispute(w, disputed, as_user):
    body = act(as_user(w.admin), w, disputed, "decide-dispute", {"outcome": "refunded", "note": "No recording"}).json()
    assert (body["outcome"], body["credit_status"]) == ("refunded", "returned")
    decided = [e for e in body["timeline"] if e["side"] == "admin"][0]
    assert (decided["actor"], decided["reason"]) == ("Ada Admin", "No recording")
    assert ledger.balance_of(w.org, w.client) == Balance(available=1000, blocked=0)


def test_s3_dispute_refusals_change_nothing(w, disputed, as_user):
    before = snapshot(disputed)
    assert_error(act(as_user(w.expert), w, disputed, "decide-dispute", {"outcome": "held"}), 403, "admins_only", "S3")
    assert_error(act(as_user(w.admin), w, disputed, "decide-dispute", {"outcome": "disputed"}), 422, "invalid_input")
    assert_error(act(as_user(w.admin), w, disputed, "decide-dispute", {}), 422, "invalid_input")
    elsewhere = world()
    response = act(as_user(elsewhere.admin), elsewhere, disputed, "decide-dispute", {"outcome": "held"})
    assert_error(response, 404, "not_found", "O3")
    assert snapshot(disputed) == before
    act(as_user(w.admin), w, disputed, "decide-dispute", {"outcome": "held"})
    after = snapshot(disputed)
    again = act(as_user(w.admin), w, disputed, "decide-dispute", {"outcome": "refunded"})
    assert_error(again, 409, "not_disputed", "S3")
    assert snapshot(disputed) == after
