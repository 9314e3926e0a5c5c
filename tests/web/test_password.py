"""O1: a forgotten password is set again through a one-time link sent by mail; a new member
is invited with the same kind of link (web.password, web.organization)."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.test import Client

from parlour.accounts.models import Membership, Role, User
from tests.factories import UserFactory, world
from tests.meetings.checks import NOW
from tests.notifications.smtp import mail_server
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

FORGOT = "/signin/forgot/"
NEW_PASSWORD = "a fresh and long passphrase"


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
def person():
    user = UserFactory(email="pia@example.org", name="Pia Person")
    user.set_password("the old password 1")
    user.save()
    return user


def link_in(body: str) -> str:
    """The path of the one-time link in a mail."""
    found = re.search(r"https?://[^/\s]+(/signin/(?:password|welcome)/[^\s]+/)", body)
    assert found, body
    return found.group(1)


def same_page(page: str) -> str:
    """The page without its form tokens, which differ for every visitor."""
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r"\1", page)


def set_password(browser: Client, path: str, password: str = NEW_PASSWORD):
    """Follow a mailed link and choose ``password``; the last response."""
    opened = browser.get(path)
    if opened.status_code != 302:
        return opened
    form = browser.get(opened["Location"])
    assert form.status_code == 200 and 'name="new_password1"' in text(form)
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


def test_o1_a_forgotten_password_is_set_again_through_the_mailed_link(person):
    assert 'href="/signin/forgot/"' in text(Client().get("/signin/"))
    with mail_server() as server:
        response = Client().post(FORGOT, {"email": "Pia@Example.org"})
        received = server.wait_for(1, address="pia@example.org")
    assert response.status_code == 200 and "Check your mail" in text(response)
    assert len(received) == 1
    message = received[0].message
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["Subject"] == "Set a new password for Parlour"
    body = message.get_content()
    assert "Hello Pia Person," in body and "pia@example.org" in body
    assert body.count("://") == 1 and settings.PARLOUR_BASE_URL + "/signin/password/" in body

    browser = Client()
    done = set_password(browser, link_in(body))
    assert done.status_code == 302 and done["Location"] == "/meetings/"
    assert "Your password is set; you are signed in." in text(browser.get("/meetings/", follow=True))
    assert authenticate(email="pia@example.org", password=NEW_PASSWORD) == person
    assert authenticate(email="pia@example.org", password="the old password 1") is None


def test_o1_an_unknown_address_gets_the_same_answer_and_no_mail(person, mailoutbox):
    known = Client().post(FORGOT, {"email": "pia@example.org"})
    unknown = Client().post(FORGOT, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert same_page(text(known).replace("pia@example.org", "@")) == same_page(
        text(unknown).replace("nobody@example.org", "@")
    )
    assert [m.to for m in mailoutbox] == [["pia@example.org"]]


def test_o1_the_link_works_once(person, mailoutbox):
    Client().post(FORGOT, {"email": person.email})
    path = link_in(mailoutbox[0].body)
    assert set_password(Client(), path).status_code == 302
    again = set_password(Client(), path, "another long passphrase")
    assert again.status_code == 200 and "This link no longer works" in text(again)
    assert 'href="/signin/forgot/"' in text(again)
    assert authenticate(email=person.email, password=NEW_PASSWORD) == person


def test_o1_the_link_expires(person, mailoutbox, frozen_clock):
    Client().post(FORGOT, {"email": person.email})
    path = link_in(mailoutbox[0].body)
    assert "within 72 hours" in mailoutbox[0].body
    frozen_clock.move_to(NOW + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1), tick=False)
    late = set_password(Client(), path)
    assert late.status_code == 200 and "This link no longer works" in text(late)
    assert authenticate(email=person.email, password="the old password 1") == person


def test_o1_an_altered_link_does_not_work(person, mailoutbox):
    Client().post(FORGOT, {"email": person.email})
    path = link_in(mailoutbox[0].body)
    altered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    assert "This link no longer works" in text(Client().get(altered))
    other = UserFactory()
    uid = path.split("/")[3]
    assert "This link no longer works" in text(Client().get(path.replace(uid, _uid(other))))


def _uid(user: User) -> str:
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return urlsafe_base64_encode(force_bytes(user.pk))


def test_o1_a_link_asked_for_before_the_last_change_no_longer_works(person, mailoutbox):
    Client().post(FORGOT, {"email": person.email})
    Client().post(FORGOT, {"email": person.email})
    first, second = (link_in(m.body) for m in mailoutbox)
    assert set_password(Client(), second).status_code == 302
    assert "This link no longer works" in text(set_password(Client(), first))


def test_o1_the_new_password_must_be_typed_twice_alike_and_be_good(person, mailoutbox):
    Client().post(FORGOT, {"email": person.email})
    browser = Client()
    opened = browser.get(link_in(mailoutbox[0].body))
    refused = browser.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"})
    assert refused.status_code == 200 and 'id="id_new_password2_error"' in text(refused)
    short = browser.post(opened["Location"], {"new_password1": "abc", "new_password2": "abc"})
    assert 'id="id_new_password2_error"' in text(short)
    assert authenticate(email=person.email, password="the old password 1") == person
    accepted = browser.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert accepted.status_code == 302


def test_o1_requests_are_limited_per_visitor_and_address_whether_or_not_it_has_an_account(person, mailoutbox):
    for address in (person.email, "nobody@example.org"):
        answers = [Client().post(FORGOT, {"email": address}).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
    assert len(mailoutbox) == 3
    assert "Too many requests" in text(Client().post(FORGOT, {"email": person.email}))


def test_o1_someone_else_asking_for_my_address_does_not_block_my_reset(person, mailoutbox):
    """O1: the per-address limit counts per visitor and address, so a stranger asking again
    and again for a person's address cannot keep that person from a new password."""
    stranger = Client(REMOTE_ADDR="192.0.2.9")
    answers = [stranger.post(FORGOT, {"email": person.email}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    mailoutbox.clear()
    assert Client(REMOTE_ADDR="192.0.2.10").post(FORGOT, {"email": person.email}).status_code == 200
    assert [m.to for m in mailoutbox] == [[person.email]]


def test_o1_requests_are_limited_per_visitor(person, mailoutbox):
    visitor = Client(REMOTE_ADDR="192.0.2.7")
    answers = [visitor.post(FORGOT, {"email": f"someone{n}@example.org"}).status_code for n in range(11)]
    assert answers == [200] * 10 + [429]
    assert Client(REMOTE_ADDR="192.0.2.8").post(FORGOT, {"email": person.email}).status_code == 200
    assert len(mailoutbox) == 1


def test_o1_a_bad_address_is_asked_again(mailoutbox):
    response = Client().post(FORGOT, {"email": "not an address"})
    assert response.status_code == 400 and 'role="alert"' in text(response)
    assert mailoutbox == []


def test_o1_a_deactivated_account_gets_no_link(person, mailoutbox):
    person.is_active = False
    person.save()
    assert Client().post(FORGOT, {"email": person.email}).status_code == 200
    assert mailoutbox == []


def test_d4_the_mail_is_in_the_persons_language(person, mailoutbox):
    person.language = "nl"
    person.save()
    Client().post(FORGOT, {"email": person.email}, HTTP_ACCEPT_LANGUAGE="de")
    message = mailoutbox[0]
    assert message.extra_headers["Content-Language"] == "nl"
    assert message.subject == "Kies een nieuw wachtwoord voor Parlour"
    assert "Beste Pia Person," in message.body


def test_o1_a_signed_in_person_changes_the_password_on_the_account_page(person):
    response = signed_in(person).get(FORGOT)
    assert response.status_code == 302 and response["Location"] == "/account/#password"


# --- invitations ---------------------------------------------------------------------------


def add_member(w, **data):
    fields = {"email": "nia@example.org", "name": "Nia New", "role": "expert", "invite": "on", **data}
    return signed_in(w.admin).post(f"/o/{w.org.slug}/settings/members/new/", fields, follow=True)


def test_o1_a_new_member_is_invited_to_choose_a_password():
    w = world()
    w.admin.language, w.admin.time_zone = "de", "Europe/Berlin"
    w.admin.save()
    with mail_server() as server:
        response = add_member(w)
        received = server.wait_for(1, address="nia@example.org")
    page = text(response)
    assert 'id="new-password"' not in page
    nia = User.objects.get(email="nia@example.org")
    assert Membership.objects.get(organization=w.org, user=nia).role == Role.EXPERT
    assert not nia.has_usable_password()
    assert (nia.language, nia.time_zone) == ("de", "Europe/Berlin")
    assert "nia@example.org" in page  # the admin is told where the invitation went

    message = received[0].message
    assert message["Content-Language"] == "de"
    assert w.org.name in message["Subject"]
    body = message.get_content()
    assert "Ada Admin" in body and "/signin/welcome/" in body

    browser = Client(HTTP_ACCEPT_LANGUAGE="de")
    opened = browser.get(link_in(body))
    welcome = browser.get(opened["Location"])
    assert "Willkommen bei Parlour" in text(welcome)
    done = browser.post(opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert authenticate(email="nia@example.org", password=NEW_PASSWORD) == nia
    assert f"/o/{w.org.slug}/" in browser.get("/meetings/")["Location"]


def test_o1_an_invitation_that_cannot_be_mailed_shows_the_admin_a_password():
    w = world()
    with mail_server() as server:
        server.answer = "554 5.7.1 Not today"
        response = add_member(w)
    page = text(response)
    assert "could not be mailed" in page
    password = page.split('id="new-password" type="text" readonly value="')[1].split('"')[0]
    assert authenticate(email="nia@example.org", password=password) == User.objects.get(email="nia@example.org")


def test_o1_the_admin_may_still_choose_a_password_shown_once(mailoutbox):
    w = world()
    response = add_member(w, invite="")
    assert 'id="new-password"' in text(response)
    assert mailoutbox == []


def test_o1_someone_invited_who_lost_the_mail_asks_for_a_new_link(mailoutbox):
    w = world()
    add_member(w)
    assert Client().post(FORGOT, {"email": "nia@example.org"}).status_code == 200
    assert len(mailoutbox) == 2
    assert set_password(Client(), link_in(mailoutbox[1].body)).status_code == 302
    assert authenticate(email="nia@example.org", password=NEW_PASSWORD) is not None


def test_o1_an_existing_person_who_is_added_gets_no_invitation(person, mailoutbox):
    w = world()
    add_member(w, email=person.email, name="")
    assert Membership.objects.filter(organization=w.org, user=person).exists()
    assert mailoutbox == []
