"""Area D's pages: the account (D4 name, time zone, language; O1 password; I2 personal API
tokens; K3 calendar feed), the wallet (C2, with an admin's grant C3) and an expert's profile
with written reviews (E1, S1, O4)."""

import re

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import NoReverseMatch, reverse

from parlour.accounts.models import ApiToken, Membership, User
from parlour.calendars.models import CalendarFeed
from parlour.catalog.models import ExpertProfile, Skill
from parlour.credits import ledger
from parlour.credits.models import Transfer
from parlour.meetings import outcome
from parlour.meetings.models import Review, Statement
from tests.factories import client as new_client
from tests.factories import world
from tests.meetings.checks import NOW, at
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    return world()


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


# --- the account: name, time zone, language -------------------------------------------


def test_account_page_needs_signing_in():
    response = Client().get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_d4_name_is_saved_with_a_confirmation(w):
    browser = signed_in(w.client)
    response = browser.post("/account/name/", {"name": "  Cleo Clientele "}, follow=True)
    assert fresh(w.client).name == "Cleo Clientele"
    assert "Your name is saved: Cleo Clientele." in text(response)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_d4_a_bad_name_is_refused_next_to_the_field_and_nothing_changes(w, name):
    response = signed_in(w.client).post("/account/name/", {"name": name})
    assert response.status_code == 400
    assert 'id="id_name_error"' in text(response) and 'aria-invalid="true"' in text(response)
    assert fresh(w.client).name == "Cleo Client"


def test_q1_time_zone_is_saved_and_dates_follow_it(w):
    browser = signed_in(w.client)
    response = browser.post("/account/time-zone/", {"time_zone": "America/Sao_Paulo"}, follow=True)
    assert fresh(w.client).time_zone == "America/Sao_Paulo"
    assert "Your time zone is saved: America/Sao_Paulo." in text(response)
    assert '<option value="America/Sao_Paulo" selected>' in text(response)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "utc ", "../etc/passwd"])
def test_q1_an_unknown_time_zone_is_refused_and_nothing_changes(w, zone):
    w.client.time_zone = "Europe/Amsterdam"
    w.client.save()
    response = signed_in(w.client).post("/account/time-zone/", {"time_zone": zone})
    assert response.status_code == 400
    assert 'id="id_time_zone_error"' in text(response)
    assert fresh(w.client).time_zone == "Europe/Amsterdam"


def test_d4_language_is_saved_and_the_pages_follow_it(w):
    browser = signed_in(w.client)
    response = browser.post("/account/language/", {"language": "nl"}, follow=True)
    assert fresh(w.client).language == "nl"
    page = text(response)
    assert '<html lang="nl">' in page
    assert "Oud wachtwoord" in page  # Django's own Dutch for the password form's labels
    assert "Uw taal is opgeslagen: Nederlands." in page  # said in the new language


@pytest.mark.parametrize("language", ["xx", "", "english"])
def test_d4_an_unknown_language_is_refused_and_nothing_changes(w, language):
    response = signed_in(w.client).post("/account/language/", {"language": language})
    assert response.status_code == 400
    assert 'id="id_language_error"' in text(response)
    assert fresh(w.client).language == "en"


def test_settings_are_changed_only_by_post(w):
    browser = signed_in(w.client)
    assert browser.get("/account/name/", {"name": "Mallory"}).status_code == 405
    assert fresh(w.client).name == "Cleo Client"


# --- the password --------------------------------------------------------------------


def test_o1_password_change_keeps_this_session(w):
    browser = signed_in(w.client)
    response = browser.post(
        "/account/password/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a new long phrase 42",
            "new_password2": "a new long phrase 42",
        },
        follow=True,
    )
    assert "Your password is changed." in text(response)
    assert authenticate(username=w.client.email, password="a new long phrase 42") == w.client
    assert browser.get("/account/").status_code == 200  # still signed in


@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("wrong", "a new long phrase 42", "a new long phrase 42", "old_password"),
        ("correct horse battery", "a new long phrase 42", "another phrase 42", "new_password2"),
        ("correct horse battery", "short", "short", "new_password2"),
    ],
)
def test_o1_a_bad_password_change_is_refused_and_nothing_changes(w, old, new1, new2, field):
    response = signed_in(w.client).post(
        "/account/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in text(response)
    assert authenticate(username=w.client.email, password="correct horse battery") == w.client


# --- personal API tokens (I2) -----------------------------------------------------------


def test_i2_a_token_is_shown_once_and_only_its_hash_is_kept(w):
    browser = signed_in(w.client)
    response = browser.post("/account/tokens/", {"token_name": "My script"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token" type="text" readonly value="(plr_[^"]+)"', text(response)).group(1)
    row = ApiToken.objects.get(user=w.client)
    assert row.name == "My script" and row.digest == ApiToken.hash(token)
    assert token not in {row.digest, row.hint, row.name}
    page = text(browser.get("/account/"))
    assert token not in page and "My script" in page and "…" + row.hint in page
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/me").json()["email"] == w.client.email


def test_i2_a_token_without_a_name_gets_one_and_a_too_long_name_is_refused(w):
    browser = signed_in(w.client)
    browser.post("/account/tokens/", {"token_name": ""})
    assert ApiToken.objects.get(user=w.client).name == "API token"
    response = browser.post("/account/tokens/", {"token_name": "x" * 101})
    assert response.status_code == 400 and 'id="id_token_name_error"' in text(response)
    assert ApiToken.objects.filter(user=w.client).count() == 1


def test_i2_revoking_a_token_stops_it(w):
    row, token = ApiToken.issue(w.client, "Old script")
    browser = signed_in(w.client)
    page = text(browser.get("/account/"))
    assert f'data-opens="revoke-token-{row.pk}"' in page and f'<dialog id="revoke-token-{row.pk}"' in page
    response = browser.post(f"/account/tokens/{row.pk}/revoke/", follow=True)
    assert "The token “Old script” is revoked" in text(response)
    row.refresh_from_db()
    assert row.revoked_at == NOW
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/me").status_code == 401
    browser.post(f"/account/tokens/{row.pk}/revoke/")  # twice changes nothing
    row.refresh_from_db()
    assert row.revoked_at == NOW


def test_o3_another_persons_token_cannot_be_revoked(w):
    row, _ = ApiToken.issue(w.expert, "Expert's")
    assert signed_in(w.client).post(f"/account/tokens/{row.pk}/revoke/").status_code == 404
    assert signed_in(w.client).post("/account/tokens/999999/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


# --- the calendar feed (K3) -------------------------------------------------------------


def feed_url(response) -> str:
    return re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', text(response)).group(1)


def test_k3_the_feed_is_made_renewed_and_revoked(w):
    w.agreed()
    browser = signed_in(w.client)
    assert "You have no calendar feed." in text(browser.get("/account/"))
    first = feed_url(browser.post("/account/calendar-feed/"))
    path = first.split("testserver", 1)[1]
    assert Client().get(path).status_code == 200
    assert first not in text(browser.get("/account/"))  # shown once
    second = feed_url(browser.post("/account/calendar-feed/"))
    assert second != first
    assert Client().get(path).status_code == 404  # the old address stops
    browser.post("/account/calendar-feed/revoke/")
    assert Client().get(second.split("testserver", 1)[1]).status_code == 404
    assert not CalendarFeed.objects.filter(user=w.client, revoked_at__isnull=True).exists()


# --- the wallet (C2) --------------------------------------------------------------------


def wallet_numbers(response) -> tuple[str, str]:
    page = text(response)
    available = re.search(r"<dd data-available>([^<]*)</dd>", page).group(1)
    blocked = re.search(r"<dd data-blocked>([^<]*)</dd>", page).group(1)
    return available, blocked


def held_and_settled(w):
    """A meeting that took place and was settled (with a first written review, S4), and one
    still waiting for the expert with its price blocked."""
    w.org.reviews_enabled = True
    w.org.save()
    settled = w.agreed(hours_ahead=2)
    outcome.submit_statement(w.client, settled, said="held", stars=2, review="Clear and kind.", now=at(3))
    waiting = w.book(hours_ahead=48)
    return settled, waiting


def test_c2_wallet_shows_the_ledgers_numbers(w):
    held_and_settled(w)
    balance = ledger.balance_of(w.org, w.client)
    assert (balance.available, balance.blocked) == (810, 100)
    response = signed_in(w.client).get(f"/o/{w.org.slug}/wallet/")
    assert response.status_code == 200
    assert wallet_numbers(response) == ("810", "100")
    page = text(response)
    for name in ("Credits purchased", "Blocked for meeting", "Deduction of credits for services"):
        assert name in page
    assert "Bonus credits for written review" in page
    rows = page.count("<tr>") - 1  # less the header
    assert rows == ledger.history_of(w.org, w.client).count()


def test_c2_the_experts_wallet_shows_the_payment(w):
    held_and_settled(w)
    response = signed_in(w.expert).get(f"/o/{w.org.slug}/wallet/")
    assert wallet_numbers(response) == ("80", "0")
    assert "Payment of credits for services" in text(response) and "+80" in text(response)


def test_c2_numbers_and_dates_follow_the_language_and_zone(w):
    ledger.grant_credits(w.org, w.client, 12000, by=w.admin)
    w.client.language, w.client.time_zone = "de", "Asia/Tokyo"
    w.client.save()
    response = signed_in(w.client).get(f"/o/{w.org.slug}/wallet/")
    assert wallet_numbers(response) == ("13.000", "0")
    assert "+12.000" in text(response)
    assert "2. März 2026 18:00" in text(response)  # 09:00 UTC on Tokyo's clock, in German


def test_c2_history_is_paged_and_a_long_page_costs_no_more_queries(w, django_assert_max_num_queries):
    browser = signed_in(w.client)
    url = f"/o/{w.org.slug}/wallet/"
    browser.get(url)  # the session is read once
    for _ in range(4):
        ledger.grant_credits(w.org, w.client, 1, by=w.admin)
    with django_assert_max_num_queries(9) as few:
        browser.get(url)
    for hours in range(50, 60):
        w.book(hours_ahead=hours)  # movements with their meeting
    for _ in range(50):
        ledger.grant_credits(w.org, w.client, 1, by=w.admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = browser.get(url)
    assert text(first).count("<tr>") - 1 == 25 and 'rel="next"' in text(first)
    last = browser.get(url, {"page": 3})
    assert text(last).count("<tr>") - 1 == 65 - 50
    assert text(last).count("Expert advice") == 10
    assert browser.get(url, {"page": "nonsense"}).status_code == 200


def test_o3_the_wallet_of_another_organization_is_not_found(w):
    elsewhere = world()
    assert signed_in(w.client).get(f"/o/{elsewhere.org.slug}/wallet/").status_code == 404
    assert signed_in(w.client).get("/o/no-such-org/wallet/").status_code == 404
    assert Client().get(f"/o/{w.org.slug}/wallet/").status_code == 302


# --- granting credits (C3) ----------------------------------------------------------------


def test_c3_an_admin_grants_credits(w):
    newcomer = new_client(w.org, name="Nina Newcomer")
    browser = signed_in(w.admin)
    page = text(browser.get(f"/o/{w.org.slug}/wallet/"))
    assert "Grant credits" in page and "Nina Newcomer" in page
    response = browser.post(
        f"/o/{w.org.slug}/wallet/grant/", {"person": newcomer.pk, "amount": 2500, "note": "Invoice 7"}, follow=True
    )
    assert "2,500 credits granted to Nina Newcomer, who now has 2,500 available." in text(response)
    transfer = Transfer.objects.get(destination__owner=newcomer)
    assert (transfer.kind, transfer.amount, transfer.note, transfer.created_by) == (
        "purchase",
        2500,
        "Invoice 7",
        w.admin,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": 10**8}, "amount"),
        ({"amount": "1.5"}, "amount"),
        ({"amount": ""}, "amount"),
        ({"person": 10**9}, "person"),
        ({"person": "me"}, "person"),
        ({"note": "x" * 201}, "note"),
    ],
)
def test_c3_bad_grants_are_refused_next_to_the_field_and_move_nothing(w, change, field):
    before = Transfer.objects.count()
    data = {"person": w.client.pk, "amount": 10, "note": ""} | change
    response = signed_in(w.admin).post(f"/o/{w.org.slug}/wallet/grant/", data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in text(response)
    assert Transfer.objects.count() == before


def test_c3_only_an_admin_grants_and_only_to_people_of_the_organization(w):
    elsewhere = world()
    before = Transfer.objects.count()
    for person in (w.expert, w.client):
        page = text(signed_in(person).get(f"/o/{w.org.slug}/wallet/"))
        assert "Grant credits" not in page
        response = signed_in(person).post(f"/o/{w.org.slug}/wallet/grant/", {"person": person.pk, "amount": 10})
        assert response.status_code == 403
        assert 'role="alert">Only an admin of the organization may do this.' in text(response)
    response = signed_in(w.admin).post(f"/o/{w.org.slug}/wallet/grant/", {"person": elsewhere.client.pk, "amount": 10})
    assert response.status_code == 400
    response = signed_in(w.admin).post(f"/o/{elsewhere.org.slug}/wallet/grant/", {"person": w.client.pk, "amount": 10})
    assert response.status_code == 404
    assert Transfer.objects.count() == before


# --- the expert's profile (E1, S1, O4) ----------------------------------------------------


def profile_of(w):
    membership = Membership.objects.get(organization=w.org, user=w.expert)
    profile = ExpertProfile.objects.get(membership=membership)
    profile.bio = "Twenty years of tax law."
    profile.save()
    profile.skills.add(Skill.objects.create(organization=w.org, name="Taxes"))
    return f"/o/{w.org.slug}/experts/{w.expert.pk}/profile/"


def test_e1_the_profile_shows_name_bio_skills_and_services(w):
    url = profile_of(w)
    for browser in (Client(), signed_in(w.client)):
        page = text(browser.get(url))
        for shown in ("Eve Expert", "Twenty years of tax law.", "Taxes", "Expert advice", "Intro call"):
            assert shown in page


def test_s1_written_reviews_are_shown_with_the_add_on_and_stars_never(w):
    url = profile_of(w)
    held_and_settled(w)
    assert Statement.objects.get(side="client").stars == 2
    page = text(Client().get(url))
    assert "Clear and kind." in page and "March 2, 2026" in page
    assert "star" not in page.lower() and "★" not in page
    assert "Cleo" not in page  # text and date only

    w.org.reviews_enabled = False
    w.org.save()
    page = text(Client().get(url))
    assert "Clear and kind." not in page and "Reviews" not in page
    assert Review.objects.count() == 1


def test_s1_reviews_of_another_organization_are_not_shown(w):
    url = profile_of(w)
    w.org.reviews_enabled = True
    w.org.save()
    elsewhere = world()
    Review.objects.create(organization=elsewhere.org, expert=w.expert, client=elsewhere.client, text="Elsewhere")
    assert "Elsewhere" not in text(Client().get(url))
    assert "No written reviews yet." in text(Client().get(url))


def test_o3_only_an_expert_of_the_organization_has_a_profile_there(w):
    elsewhere = world()
    for user_id in (elsewhere.expert.pk, w.client.pk, w.admin.pk, 10**9):
        assert Client().get(f"/o/{w.org.slug}/experts/{user_id}/profile/").status_code == 404
    assert Client().get(f"/o/no-such/experts/{w.expert.pk}/profile/").status_code == 404


def test_e5_the_profile_links_to_the_experts_booking_page(w):
    page = text(Client().get(profile_of(w)))
    try:
        booking = reverse("web:expert_page", args=[w.org.slug, w.expert.pk])
    except NoReverseMatch:
        pytest.skip("the booking page (area C) is not there yet")
    assert f'href="{booking}"' in page
