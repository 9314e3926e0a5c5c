"""Making a meeting through the API: booking (B1, B2), an expert's proposal (B3) and time
options (B4). A refused request creates nothing."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from parlour.credits import ledger
from parlour.meetings.models import Meeting
from tests.factories import client as new_client
from tests.factories import member, world

from .conftest import assert_error, hours_from_now, iso, snapshot

pytestmark = pytest.mark.django_db


def book_body(w, **fields) -> dict:
    return {
        "service_id": w.service.pk,
        "expert_id": w.expert.pk,
        "start": iso(hours_from_now(72)),
        "subject": "Negotiating a raise",
        "description": "I have an offer and want advice.",
    } | fields


def test_b2_client_books_paid_service_it_awaits_the_expert_and_blocks_the_price(w, as_user):
    response = as_user(w.client).org(w).post("/meetings/book", book_body(w, length=60))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["credit_status"], body["length"]) == ("awaiting_approval", "blocked", 60)
    assert (body["origin"], body["client_approved"], body["expert_approved"]) == ("client", True, False)
    assert body["subject"] == "Negotiating a raise" and body["description"].startswith("I have")
    assert [e["kind"] for e in body["timeline"]] == ["booked", "approved"]
    assert ledger.balance_of(w.org, w.client) == ledger.Balance(available=900, blocked=100)


def test_b2_free_service_without_confirmation_is_agreed_at_once(w, with_token):
    body = with_token(w.client).org(w).post("/meetings/book", book_body(w, service_id=w.free_service.pk)).json()
    assert (body["status"], body["length"], body["price"]) == ("agreed", 15, 0)
    assert body["displayed_status"] == "scheduled"


def test_b1_a_time_just_taken_is_refused_with_one_meeting_made(w, as_user):
    api = as_user(w.client).org(w)
    assert api.post("/meetings/book", book_body(w)).status_code == 201
    other = new_client(w.org, credits=500)
    response = as_user(other).org(w).post("/meetings/book", book_body(w))
    assert_error(response, 409, "slot_taken", "B1")
    assert Meeting.objects.count() == 1
    assert ledger.balance_of(w.org, other).available == 500


def test_b1_short_wallet_answers_402_and_books_nothing(w, as_user):
    poor = new_client(w.org, credits=50)
    body = assert_error(as_user(poor).org(w).post("/meetings/book", book_body(w)), 402, "insufficient_credits", "B1")
    assert body["details"] == {"price": 100, "available": 50}
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("fields", "status", "code", "rule"),
    [
        ({"start": "2031-05-01T09:00:00"}, 400, "invalid_input", "Q1"),
        ({"start": "2031-02-30T09:00:00+02:00"}, 422, "invalid_input", "Q2"),
        ({"start": "next tuesday"}, 422, "invalid_input", "Q2"),
        ({"start": "0001-01-01T00:00:00+05:00"}, 422, "invalid_input", "Q2"),
        ({"length": -30}, 422, "invalid_input", "Q2"),
        ({"length": 10**12}, 422, "invalid_input", "Q2"),
        ({"length": 45}, 400, "invalid_length", "B1"),
        ({"service_id": -1}, 422, "invalid_input", "Q2"),
        ({"service_id": 10**6}, 404, "not_found", "O3"),
        ({"expert_id": 10**6}, 404, "not_found", "O3"),
        ({"skill_id": 10**6}, 404, "not_found", "O3"),
        ({"subject": "x" * 201}, 422, "invalid_input", "Q2"),
        ({"start": iso(hours_from_now(-1))}, 400, "in_past", "B1"),
        ({"start": iso(hours_from_now(24 * 31))}, 400, "outside_booking_window", "B1"),
    ],
)
def test_q2_bad_booking_is_refused_and_books_nothing(w, as_user, fields, status, code, rule):
    assert_error(as_user(w.client).org(w).post("/meetings/book", book_body(w, **fields)), status, code, rule)
    assert not Meeting.objects.exists()
    assert ledger.balance_of(w.org, w.client).available == 1000


def test_o3_another_organizations_service_or_expert_is_not_found(w, as_user):
    elsewhere = world()
    api = as_user(w.client).org(w)
    assert_error(api.post("/meetings/book", book_body(w, service_id=elsewhere.service.pk)), 404, "not_found")
    assert_error(api.post("/meetings/book", book_body(w, expert_id=elsewhere.expert.pk)), 404, "not_found")
    # Nor can one book at an organization one does not belong to.
    assert_error(as_user(w.client).org(elsewhere).post("/meetings/book", book_body(elsewhere)), 404, "not_found")
    assert not Meeting.objects.exists()


def test_b1_expert_who_does_not_give_the_service_is_refused(w, as_user):
    stranger = member(w.org, name="Stan Stranger")
    response = as_user(w.client).org(w).post("/meetings/book", book_body(w, expert_id=stranger.pk))
    assert_error(response, 400, "not_an_expert_of_service", "B1")


def propose_body(w, **fields) -> dict:
    return {"service_id": w.service.pk, "client_id": w.client.pk, "start": iso(hours_from_now(72))} | fields


def test_b3_expert_proposes_a_meeting_no_credits_move(w, as_user):
    response = as_user(w.expert).org(w).post("/meetings/propose", propose_body(w, price=80, length=60))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["origin"], body["price"], body["length"]) == ("awaiting_approval", "expert", 80, 60)
    assert (body["expert_approved"], body["client_approved"], body["credit_status"]) == (True, False, "none")
    assert [e["title"] for e in body["timeline"]] == ["Meeting proposed by expert", "Approved by expert"]
    assert ledger.balance_of(w.org, w.client).available == 1000


def test_b3_expert_proposes_a_free_meeting_to_a_guest(w, as_user):
    body = propose_body(w, client_id=None, guest_id=w.guest.pk, service_id=w.free_service.pk)
    response = as_user(w.expert).org(w).post("/meetings/propose", body)
    assert response.status_code == 201, response.content
    assert response.json()["client"]["kind"] == "guest"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"price": -5}, 422, "invalid_input"),
        ({"price": 10**8}, 422, "invalid_input"),
        ({"price": "ten"}, 422, "invalid_input"),
        ({"guest_id": 1}, 422, "invalid_input"),  # both a client and a guest
        ({"client_id": None}, 422, "invalid_input"),  # neither
        ({"client_id": 10**6}, 404, "not_found"),
        ({"start": "2031-05-01 09:00"}, 400, "invalid_input"),
    ],
)
def test_q2_bad_proposal_is_refused(w, as_user, fields, status, code):
    assert_error(as_user(w.expert).org(w).post("/meetings/propose", propose_body(w, **fields)), status, code)
    assert not Meeting.objects.exists()


def test_b3_paid_proposal_to_a_guest_and_client_of_another_org_are_refused(w, as_user):
    api = as_user(w.expert).org(w)
    to_guest = propose_body(w, client_id=None, guest_id=w.guest.pk)
    assert_error(api.post("/meetings/propose", to_guest), 400, "sign_in_required", "B3")
    elsewhere = world()
    assert_error(api.post("/meetings/propose", propose_body(w, client_id=elsewhere.client.pk)), 404, "not_found")
    assert_error(
        api.post("/meetings/propose", propose_body(w, guest_id=elsewhere.guest.pk, client_id=None)), 404, "not_found"
    )
    assert not Meeting.objects.exists()


def test_b3_a_client_cannot_propose(w, as_user):
    other = new_client(w.org)
    response = as_user(w.client).org(w).post("/meetings/propose", propose_body(w, client_id=other.pk))
    assert_error(response, 400, "not_an_expert_of_service", "B3")


def offer_body(w, hours=(72, 96, 120), **fields) -> dict:
    options = [{"start": iso(hours_from_now(h)), "length": 30} for h in hours]
    return {"service_id": w.service.pk, "client_id": w.client.pk, "options": options} | fields


def test_b4_expert_offers_times_client_picks_one_and_it_is_agreed(w, as_user):
    offered = as_user(w.expert).org(w).post("/meetings/offer-options", offer_body(w))
    assert offered.status_code == 201, offered.content
    meeting = offered.json()
    assert meeting["status"] == "planning" and len(meeting["time_options"]) == 3
    second = meeting["time_options"][1]
    picked = as_user(w.client).org(w).post(f"/meetings/{meeting['id']}/pick-option", {"option_id": second["id"]})
    assert picked.status_code == 200, picked.content
    body = picked.json()
    assert (body["status"], body["credit_status"], body["start"]) == ("agreed", "blocked", second["start"])
    assert [o["picked"] for o in body["time_options"]] == [False, True, False]
    assert ledger.balance_of(w.org, w.client) == ledger.Balance(available=900, blocked=100)


def test_b4_picking_is_refused_to_the_wrong_side_wrong_option_or_state(w, as_user):
    meeting = as_user(w.expert).org(w).post("/meetings/offer-options", offer_body(w)).json()
    other = as_user(w.expert).org(w).post("/meetings/offer-options", offer_body(w, hours=(200,))).json()
    path = f"/meetings/{meeting['id']}/pick-option"
    option = meeting["time_options"][0]["id"]
    row = Meeting.objects.get(pk=meeting["id"])
    before = snapshot(row)
    assert_error(as_user(w.expert).org(w).post(path, {"option_id": option}), 403, "wrong_side", "B4")
    foreign = other["time_options"][0]["id"]  # an option of another meeting
    assert_error(as_user(w.client).org(w).post(path, {"option_id": foreign}), 404, "no_such_option", "B4")
    assert_error(as_user(w.client).org(w).post(path, {"option_id": "first"}), 422, "invalid_input")
    assert_error(as_user(w.client).org(w).post("/meetings/999999/pick-option", {"option_id": option}), 404, "not_found")
    assert snapshot(row) == before
    as_user(w.client).org(w).post(path, {"option_id": option})
    after = snapshot(row)
    again = as_user(w.client).org(w).post(path, {"option_id": meeting["time_options"][1]["id"]})
    assert_error(again, 409, "wrong_state", "B4")
    assert snapshot(row) == after


def test_b4_bad_offers_are_refused(w, as_user):
    api = as_user(w.expert).org(w)
    assert_error(api.post("/meetings/offer-options", offer_body(w, hours=range(72, 83))), 422, "invalid_input")
    assert_error(api.post("/meetings/offer-options", offer_body(w, hours=())), 422, "invalid_input")
    assert_error(api.post("/meetings/offer-options", offer_body(w, hours=(72, 72))), 400, "invalid_options", "B4")
    naive = offer_body(w, hours=(72,))
    naive["options"][0]["start"] = naive["options"][0]["start"][:19]
    assert_error(api.post("/meetings/offer-options", naive), 400, "invalid_input", "Q1")
    assert not Meeting.objects.exists()


def test_l17_picking_a_time_that_overlaps_asks_to_confirm_again(w, as_user):
    agreed = w.agreed(service=w.free_service, hours_ahead=72)
    meeting = as_user(w.colleague).org(w).post("/meetings/offer-options", offer_body(w, hours=(72,))).json()
    path = f"/meetings/{meeting['id']}/pick-option"
    option = meeting["time_options"][0]["id"]
    warning = assert_error(as_user(w.client).org(w).post(path, {"option_id": option}), 409, "conflict_warning", "L17")
    assert warning["details"]["conflicting_meeting"] == agreed.pk
    assert Meeting.objects.get(pk=meeting["id"]).status == "planning"
    ok = as_user(w.client).org(w).post(path, {"option_id": option, "acknowledge_conflict": True})
    assert ok.json()["status"] == "agreed"


def test_q1_start_with_an_offset_is_stored_as_the_same_instant(w, as_user):
    local = hours_from_now(72).astimezone(ZoneInfo("Europe/Amsterdam"))
    body = as_user(w.client).org(w).post("/meetings/book", book_body(w, start=local.isoformat())).json()
    assert Meeting.objects.get(pk=body["id"]).start == local
    assert body["end"] is not None
    assert Meeting.objects.get(pk=body["id"]).end - local == timedelta(minutes=30)
