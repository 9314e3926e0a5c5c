"""O1: a visitor creates a client account from an organization's page (web.signup). The page
answers the same for every address; a new address gets an account, a client account and a
mailed link to choose the password; an address with an account gets a note saying so."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

from parlour.accounts.models import ClientAccount, User
from tests.factories import OrganizationFactory, UserFactory, world
from tests.meetings.checks import NOW
from tests.notifications.smtp import mail_server
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and long passphrase"
FIELDS = {"name": "Nora Newcomer", "email": "nora@example.org", "time_zone": "Europe/Amsterdam"}


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def no_counted_requests():
    """The rate limits count in the cache, which outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def w():
    return world()


def signup_url(w) -> str:
    return f"/o/{w.org.slug}/signup/"


def sign_up(w, browser: Client | None = None, **data):
    return (browser or Client()).post(signup_url(w), {**FIELDS, **data})


def link_in(body: str) -> str:
    """The path of the one-time link to choose a password in a mail."""
    found = re.search(r"https?://[^/\s]+(/o/[^/\s]+/signup/password/[^\s]+/)", body)
    assert found, body
    return found.group(1)


def same_page(page: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r"\1", page)


def choose_password(browser: Client, path: str, password: str = NEW_PASSWORD):
    opened = browser.get(path)
    assert opened.status_code == 302, text(opened)
    form = browser.get(opened["Location"])
    assert form.status_code == 200 and 'name="new_password1"' in text(form)
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_o1_the_visitors_page_and_the_sign_in_page_lead_to_create_an_account(w):
    public = text(Client().get(f"/o/{w.org.slug}/experts/"))
    assert f'href="{signup_url(w)}"' in public and "Create an account" in public
    page = Client().get(signup_url(w))
    assert page.status_code == 200
    for name in ("name", "email", "time_zone"):
        assert f'name="{name}"' in text(page)
    OrganizationFactory()  # with two organizations, only ``next`` names one on the sign-in page
    signin = text(Client().get(f"/signin/?next=/o/{w.org.slug}/book/"))
    assert f'href="{signup_url(w)}"' in signin and f"Create an account with {w.org.name}" in signin
    assert "Create an account" not in text(Client().get("/signin/"))


def test_o1_the_time_zone_is_the_browsers_with_a_select_to_change_it(w):
    page = text(Client(HTTP_COOKIE="tz=America/Chicago").get(signup_url(w)))
    assert re.search(r'<option value="America/Chicago" selected>', page)
    assert 'data-follows-browser="true"' in page and "web/signup.js" in page


def test_o1_a_new_address_gets_an_account_and_a_mail_to_choose_the_password(w):
    with mail_server() as server:
        response = sign_up(w, Client(HTTP_ACCEPT_LANGUAGE="de"), email="Nora@Example.org")
        received = server.wait_for(1, address="nora@example.org")
    assert response.status_code == 200 and "nora@example.org" in text(response)
    nora = User.objects.get(email="nora@example.org")
    assert (nora.name, nora.time_zone, nora.language) == ("Nora Newcomer", "Europe/Amsterdam", "de")
    assert not nora.has_usable_password()
    assert ClientAccount.objects.filter(organization=w.org, user=nora).exists()
    assert len(received) == 1
    message = received[0].message
    assert message["Content-Language"] == "de" and w.org.name in message["Subject"]
    body = message.get_content()
    assert "Nora Newcomer" in body

    browser = Client()
    done = choose_password(browser, link_in(body))
    assert done.status_code == 302 and done["Location"] == f"/o/{w.org.slug}/"
    dashboard = browser.get(done["Location"])
    assert dashboard.status_code == 200
    assert authenticate(email="nora@example.org", password=NEW_PASSWORD) == nora
    assert set_password_again_fails(link_in(body))


def set_password_again_fails(path: str) -> bool:
    opened = Client().get(path, follow=True)
    return "This link no longer works" in text(opened)


def test_o1_an_address_with_an_account_gets_the_same_page_and_a_note_instead(w):
    outsider = UserFactory(email="olga@example.org", name="Olga Outsider", language="nl")
    users = User.objects.count()
    with mail_server() as server:
        new = sign_up(w, email="nora@example.org")
        known = sign_up(w, email="OLGA@example.org", name="Someone Else")
        received = server.wait_for(2)
    assert new.status_code == known.status_code == 200
    assert same_page(text(new).replace("nora@example.org", "@")) == same_page(
        text(known).replace("olga@example.org", "@")
    )
    assert User.objects.count() == users + 1  # Nora's only
    assert User.objects.get(pk=outsider.pk).name == "Olga Outsider"
    # Nobody becomes another organization's client because someone typed their address.
    assert not ClientAccount.objects.filter(user=outsider).exists()
    note = next(r.message for r in received if "olga@example.org" in r.recipients)
    assert note["Content-Language"] == "nl"
    body = note.get_content()
    assert "Olga Outsider" in body and "Someone Else" not in body
    assert f"/signin/?next=%2Fo%2F{w.org.slug}%2Fsignup%2F" in body
    assert "/signup/password/" in body


def test_o1_someone_with_an_account_becomes_a_client_once_signed_in(w):
    outsider = UserFactory(email="olga@example.org")
    outsider.set_password("the old password 1")
    outsider.save()
    browser = Client()
    signin = browser.post(
        "/signin/",
        {"username": "olga@example.org", "password": "the old password 1", "next": signup_url(w)},
    )
    assert signin.status_code == 302 and signin["Location"] == signup_url(w)
    offer = browser.get(signup_url(w))
    assert offer.status_code == 200 and f"Become a client of {w.org.name}" in text(offer)
    assert not ClientAccount.objects.filter(organization=w.org, user=outsider).exists()
    joined = browser.post(signup_url(w))
    assert joined.status_code == 302 and joined["Location"] == f"/o/{w.org.slug}/"
    assert ClientAccount.objects.filter(organization=w.org, user=outsider).count() == 1
    assert "You are a client of" in text(browser.get(joined["Location"]))
    # Once a client (or a member), the page leads to the organization's page.
    assert browser.get(signup_url(w))["Location"] == f"/o/{w.org.slug}/"
    assert signed_in(w.expert).get(signup_url(w))["Location"] == f"/o/{w.org.slug}/"


def test_o1_the_notes_password_link_signs_in_and_leads_to_the_organization(w, mailoutbox):
    outsider = UserFactory(email="olga@example.org")
    sign_up(w, email=outsider.email)
    sign_up(w, email=w.client.email)
    olga, cleo = (link_in(m.body) for m in mailoutbox)
    browser = Client()
    assert choose_password(browser, olga)["Location"] == signup_url(w)  # not a client yet: offered
    assert choose_password(Client(), cleo)["Location"] == f"/o/{w.org.slug}/"  # a client already
    assert authenticate(email=outsider.email, password=NEW_PASSWORD) == outsider


def test_o1_requests_are_limited_per_visitor_and_address_whether_or_not_it_has_an_account(w, mailoutbox):
    for address in (w.client.email, "nora@example.org"):
        answers = [sign_up(w, email=address).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
    assert len(mailoutbox) == 6
    assert "Too many requests" in text(sign_up(w, email="nora@example.org"))
    assert User.objects.filter(email="nora@example.org").count() == 1


def test_o1_requests_are_limited_per_visitor(w, mailoutbox):
    visitor = Client(REMOTE_ADDR="192.0.2.7")
    answers = [sign_up(w, visitor, email=f"someone{n}@example.org").status_code for n in range(11)]
    assert answers == [200] * 10 + [429]
    assert not User.objects.filter(email="someone10@example.org").exists()
    assert sign_up(w, Client(REMOTE_ADDR="192.0.2.8"), email="other@example.org").status_code == 200
    assert len(mailoutbox) == 11


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("name", {"name": ""}),
        ("name", {"name": "   "}),
        ("name", {"name": "Win money at https://spam.example"}),
        ("name", {"name": "x" * 201}),
        ("email", {"email": "not an address"}),
        ("email", {"email": ""}),
        ("time_zone", {"time_zone": "Mars/Olympus_Mons"}),
        ("time_zone", {"time_zone": ""}),
    ],
)
def test_o1_q2_bad_input_is_asked_again_with_nothing_made(w, mailoutbox, field, data):
    users, clients = User.objects.count(), ClientAccount.objects.count()
    response = sign_up(w, **data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in text(response)
    assert (User.objects.count(), ClientAccount.objects.count()) == (users, clients)
    assert mailoutbox == []


def test_o1_a_deactivated_account_gets_the_same_page_and_no_mail(w, mailoutbox):
    UserFactory(email="gone@example.org", is_active=False)
    assert sign_up(w, email="gone@example.org").status_code == 200
    assert mailoutbox == []


def test_o1_a_mail_that_cannot_be_sent_is_not_told(w):
    with mail_server() as server:
        server.answer = "554 5.7.1 Not today"
        response = sign_up(w)
    assert response.status_code == 200 and "Check your mail" in text(response)
    assert User.objects.filter(email="nora@example.org").exists()  # "Forgot your password?" sends a new link


def test_o3_an_unknown_organization_is_not_found(mailoutbox):
    assert Client().get("/o/nowhere/signup/").status_code == 404
    assert Client().post("/o/nowhere/signup/", FIELDS).status_code == 404
    assert not User.objects.filter(email=FIELDS["email"]).exists() and mailoutbox == []


def test_o1_a_link_of_another_organization_is_not_found(w, mailoutbox):
    sign_up(w)
    path = link_in(mailoutbox[0].body).replace(f"/o/{w.org.slug}/", "/o/nowhere/")
    assert Client().get(path).status_code == 404
