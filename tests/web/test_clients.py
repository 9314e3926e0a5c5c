"""O1, C2, C3, O3: the organization's clients on its settings pages, for admins only: the
list with each client's available and blocked credits, and adding a client by email
(web.organization_clients)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import ClientAccount, Membership, User
from parlour.credits import ledger
from tests.factories import UserFactory, client, world
from tests.meetings.checks import NOW
from tests.notifications.smtp import mail_server
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    return world()


def clients_url(w) -> str:
    return f"/o/{w.org.slug}/settings/clients/"


def add_client(w, browser=None, **data):
    fields = {"client-email": "nia@example.org", "client-name": "Nia New", **data}
    return (browser or signed_in(w.admin)).post(clients_url(w) + "new/", fields)


def row_of(page: str, user: User) -> str:
    found = re.search(rf'<tr data-client="{user.pk}">(.*?)</tr>', page, re.S)
    assert found, page
    return found.group(1)


# --- the list (C2, C3) ------------------------------------------------------------------------


def test_c2_admins_see_each_clients_available_and_blocked_credits(w):
    w.book()  # 100 of Cleo's 1000 credits are blocked for the meeting she asked for
    poor = client(w.org, name="Paul Poor")
    page = signed_in(w.admin).get(clients_url(w))
    assert page.status_code == 200
    cleo = row_of(text(page), w.client)
    assert w.client.email in cleo
    assert re.search(r"data-available>900<", cleo) and re.search(r"data-blocked>100<", cleo)
    assert f'href="/o/{w.org.slug}/wallet/?person={w.client.pk}#grant"' in cleo
    wallet = text(signed_in(w.admin).get(f"/o/{w.org.slug}/wallet/", {"person": w.client.pk}))
    assert re.search(rf'<option value="{w.client.pk}" selected>', wallet)  # C3: the grant form names her
    paul = row_of(text(page), poor)
    assert re.search(r"data-available>0<", paul) and re.search(r"data-blocked>0<", paul)
    balance = ledger.balance_of(w.org, w.client)
    assert (balance.available, balance.blocked) == (900, 100)
    assert 'data-label="Available"' in cleo  # the phone's stacked table names each cell


def test_c2_the_list_costs_as_many_queries_for_many_clients_as_for_few(w):
    browser = signed_in(w.admin)
    browser.get(clients_url(w))  # the session, warmed

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(clients_url(w)).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(20):
        client(w.org, credits=10 + n)
    many = queries()
    assert many == few, f"{few} queries for 1 client, {many} for 21"
    assert few <= 8, few


def test_o3_another_organizations_clients_are_never_listed(w):
    other = world()
    stranger = client(other.org, name="Sam Stranger", credits=50)
    page = text(signed_in(w.admin).get(clients_url(w)))
    assert "Sam Stranger" not in page and stranger.email not in page and other.client.email not in page
    assert f'data-client="{w.client.pk}"' in page
    # A client of both is listed in each with that organization's wallet only.
    ClientAccount.objects.create(organization=w.org, user=stranger)
    assert re.search(r"data-available>0<", row_of(text(signed_in(w.admin).get(clients_url(w))), stranger))


@pytest.mark.parametrize("who", ["expert", "client", "stranger"])
def test_o3_nobody_but_an_admin_finds_the_clients(w, who, mailoutbox):
    person = UserFactory() if who == "stranger" else getattr(w, who)
    browser = signed_in(person)
    assert browser.get(clients_url(w)).status_code == 404
    users, clients = User.objects.count(), ClientAccount.objects.count()
    assert add_client(w, browser).status_code == 404
    assert add_client(w, browser, **{"client-email": UserFactory().email}).status_code == 404
    assert (User.objects.count() - 1, ClientAccount.objects.count()) == (users, clients)
    assert mailoutbox == []


def test_o3_signed_out_visitors_are_sent_to_sign_in(w):
    from django.test import Client

    response = Client().get(clients_url(w))
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_o1_the_settings_link_the_clients_and_members_lead_to_adding_one(w):
    members = text(signed_in(w.admin).get(f"/o/{w.org.slug}/settings/members/"))
    assert f'href="{clients_url(w)}"' in members and f'href="{clients_url(w)}#add-client"' in members


# --- adding a client (O1) ---------------------------------------------------------------------


def test_o1_an_admin_adds_someone_new_as_a_client_who_is_invited_to_choose_a_password(w):
    w.admin.language, w.admin.time_zone = "de", "Europe/Berlin"
    w.admin.save()
    with mail_server() as server:
        response = add_client(w)
        received = server.wait_for(1, address="nia@example.org")
    assert response.status_code == 302 and response["Location"] == clients_url(w)
    nia = User.objects.get(email="nia@example.org")
    assert ClientAccount.objects.filter(organization=w.org, user=nia).exists()
    assert not Membership.objects.filter(user=nia).exists()
    assert not nia.has_usable_password() and (nia.language, nia.time_zone) == ("de", "Europe/Berlin")
    assert len(received) == 1 and "/signin/welcome/" in received[0].message.get_content()
    page = text(signed_in(w.admin).get(clients_url(w)))
    assert "Nia New" in page and "Hat noch kein Passwort gewählt" in row_of(page, nia)  # the admin reads German
    # Now the admin can grant Nia credits (C3).
    ledger.grant_credits(w.org, nia, 25, by=w.admin)
    assert ledger.balance_of(w.org, nia).available == 25


def test_o1_an_admin_adds_someone_with_an_account_as_a_client_without_a_mail(w, mailoutbox):
    person = UserFactory(email="pia@example.org", name="Pia Person")
    response = add_client(w, **{"client-email": "PIA@example.org", "client-name": ""})
    assert response.status_code == 302
    assert ClientAccount.objects.filter(organization=w.org, user=person).count() == 1
    assert User.objects.get(pk=person.pk).name == "Pia Person"
    assert mailoutbox == []


@pytest.mark.parametrize("who", ["client", "expert", "admin"])
def test_o1_someone_already_a_client_or_member_is_said_so_and_nothing_changes(w, who, mailoutbox):
    person = getattr(w, who)
    before = (
        User.objects.count(),
        ClientAccount.objects.count(),
        list(Membership.objects.values_list("user_id", "role")),
    )
    response = add_client(w, **{"client-email": person.email, "client-name": "Other Name"})
    assert response.status_code == 400
    said = "is already a client." if who == "client" else "is already a member"
    assert f"{person.name} {said}" in text(response)
    assert 'id="id_client-email_error"' in text(response)
    after = (
        User.objects.count(),
        ClientAccount.objects.count(),
        list(Membership.objects.values_list("user_id", "role")),
    )
    assert before == after and User.objects.get(pk=person.pk).name == person.name
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("client-name", {"client-name": ""}),
        ("client-email", {"client-email": "not an address"}),
        ("client-email", {"client-email": ""}),
    ],
)
def test_o1_q2_bad_input_is_asked_again_with_nothing_made(w, field, data, mailoutbox):
    users, clients = User.objects.count(), ClientAccount.objects.count()
    response = add_client(w, **data)
    assert response.status_code == 400 and f'id="id_{field}_error"' in text(response)
    assert (User.objects.count(), ClientAccount.objects.count()) == (users, clients)
    assert mailoutbox == []


def test_o1_an_invitation_that_cannot_be_mailed_shows_the_admin_a_password(w):
    from django.contrib.auth import authenticate

    with mail_server() as server:
        server.answer = "554 5.7.1 Not today"
        response = add_client(w)
    page = text(response)
    assert response.status_code == 200 and "could not be mailed" in page
    password = page.split('id="new-password" type="text" readonly value="')[1].split('"')[0]
    assert authenticate(email="nia@example.org", password=password) == User.objects.get(email="nia@example.org")
    assert response["Cache-Control"] == "no-store"
