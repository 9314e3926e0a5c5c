"""The wallet (C2) and an admin's grant of credits (C3) through the API."""

import pytest

from parlour.credits import ledger
from parlour.credits.models import Transfer
from parlour.meetings import lifecycle
from tests.factories import client as new_client
from tests.factories import world

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_c2_wallet_shows_available_and_blocked(w, as_user):
    w.book()
    assert as_user(w.client).org(w).get("/wallet").json() == {"available": 900, "blocked": 100}
    assert as_user(w.expert).org(w).get("/wallet").json() == {"available": 0, "blocked": 0}


def test_c2_history_names_movements_as_the_client_sees_them(w, as_user):
    meeting = w.agreed(hours_ahead=24)
    lifecycle.cancel_meeting(w.client, meeting, note="Sick", confirm_late=True)
    items = as_user(w.client).org(w).get("/wallet/history").json()["items"]
    assert [(i["name"], i["amount"], i["moved"], i["meeting_id"]) for i in items] == [
        ("Returned", 0, 50, meeting.pk),
        ("Deduction of credits for services", -50, 50, meeting.pk),
        ("Blocked for meeting", 0, 100, meeting.pk),
        ("Credits purchased", 1000, 1000, None),
    ]
    assert all(i["at"] for i in items)
    expert = as_user(w.expert).org(w).get("/wallet/history").json()["items"]
    assert [(i["name"], i["amount"]) for i in expert] == [("Payment of credits for services", 40)]


def test_c2_history_pages_newest_first_without_repeats(w, as_user):
    for _ in range(6):
        ledger.grant_credits(w.org, w.client, 5, by=w.admin)
    api = as_user(w.client).org(w)
    first = api.get("/wallet/history", {"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    ledger.grant_credits(w.org, w.client, 7, by=w.admin)  # arrives between the two fetches
    second = api.get("/wallet/history", {"limit": 4, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    seen = [i["id"] for i in first["items"] + second["items"]]
    expected = list(
        Transfer.objects.filter(amount__in=[5, 1000]).order_by("-created_at", "-id").values_list("id", flat=True)
    )
    assert seen == expected
    assert_error(api.get("/wallet/history", {"limit": 0}), 422, "invalid_input")
    assert_error(api.get("/wallet/history", {"cursor": "garbage"}), 400, "invalid_input")


def test_o3_wallet_of_an_organization_one_does_not_belong_to_is_not_found(w, as_user):
    elsewhere = world()
    assert_error(as_user(w.client).org(elsewhere).get("/wallet"), 404, "not_found", "O3")
    assert_error(as_user(w.client).org(elsewhere).get("/wallet/history"), 404, "not_found", "O3")


def test_c3_admin_grants_credits(w, as_user):
    newcomer = new_client(w.org)
    response = (
        as_user(w.admin).org(w).post("/credits/grant", {"user_id": newcomer.pk, "amount": 250, "note": "Invoice 7"})
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "transfer_id": response.json()["transfer_id"],
        "user_id": newcomer.pk,
        "amount": 250,
        "available": 250,
    }
    history = as_user(newcomer).org(w).get("/wallet/history").json()["items"]
    assert [(i["name"], i["amount"]) for i in history] == [("Credits purchased", 250)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": -10}, 422, "invalid_input"),
        ({"amount": 0}, 422, "invalid_input"),
        ({"amount": 10**15}, 422, "invalid_input"),
        ({"amount": 1.5}, 422, "invalid_input"),
        ({"user_id": 10**9}, 404, "not_found"),
        ({"user_id": "me"}, 422, "invalid_input"),
    ],
)
def test_c3_bad_grants_move_nothing(w, as_user, body, status, code):
    before = ledger.balance_of(w.org, w.client)
    payload = {"user_id": w.client.pk, "amount": 10} | body
    assert_error(as_user(w.admin).org(w).post("/credits/grant", payload), status, code)
    assert ledger.balance_of(w.org, w.client) == before


def test_c3_only_an_admin_grants_and_only_to_people_of_the_organization(w, as_user):
    elsewhere = world()
    before = Transfer.objects.count()
    response = as_user(w.expert).org(w).post("/credits/grant", {"user_id": w.expert.pk, "amount": 10})
    assert_error(response, 403, "admins_only", "C3")
    response = as_user(w.client).org(w).post("/credits/grant", {"user_id": w.client.pk, "amount": 10})
    assert_error(response, 403, "admins_only", "C3")
    response = as_user(w.admin).org(w).post("/credits/grant", {"user_id": elsewhere.client.pk, "amount": 10})
    assert_error(response, 404, "not_found", "O3")
    assert Transfer.objects.count() == before
