"""The admin area (I5): every page opens, meeting state is read-only, and its two actions go
through the domain: "Grant credits" (C3) and "Decide dispute" (S3)."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from parlour.accounts.models import ApiToken, ClientAccount, Group, User
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.credits.models import Account, Transfer, TransferKind
from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import CreditStatus, Meeting, Outcome, Said, Status
from parlour.notifications.models import OutboxItem, OutboxState
from tests.factories import UserFactory, member, on_grid, world
from tests.factories import client as client_of

PASSWORD = "correct horse battery"  # the factories' password


@pytest.fixture
def w(db):
    return world(credits=1000)


@pytest.fixture
def operator(w, client):
    """The organization's admin, who is also a superuser, signed in with email and password."""
    w.admin.is_staff = w.admin.is_superuser = True
    w.admin.save()
    assert client.login(email=w.admin.email, password=PASSWORD)
    return w.admin


@pytest.fixture
def outsider(w, client):
    """A superuser who is no member of the organization."""
    user = UserFactory(is_staff=True, is_superuser=True, name="Otto Operator")
    assert client.login(email=user.email, password=PASSWORD)
    return user


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def disputed(w) -> Meeting:
    """A paid meeting two days ago; the expert says it took place, the client that the expert
    did not come (S3)."""
    start = on_grid(clock.now()) - timedelta(days=2)
    meeting = w.book(start=start, now=start - timedelta(days=3))
    meeting = lifecycle.confirm_meeting(w.expert, meeting, now=start - timedelta(days=2))
    after = meeting.end + timedelta(minutes=10)
    meeting = outcome.close_meeting(meeting, now=after)
    outcome.submit_statement(w.expert, meeting, said=Said.HELD, now=after)
    meeting = outcome.submit_statement(w.client, meeting, said=Said.NOT_HELD_EXPERT, now=after)
    assert meeting.outcome == Outcome.DISPUTED
    return meeting


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- every page opens -------------------------------------------------------------------


def test_i5_every_admin_list_and_page_opens(w, operator, client):
    disputed(w)
    w.propose(hours_ahead=100)
    ApiToken.issue(w.client, "laptop")
    for model in admin.site._registry:
        assert client.get(changelist(model)).status_code == 200, model
        assert client.get(changelist(model), {"q": "a"}).status_code == 200, model
        obj = model.objects.first()
        if obj is not None:
            assert client.get(change(obj)).status_code == 200, model


def test_i5_a_person_who_is_not_staff_cannot_open_the_admin(w, client):
    assert client.login(email=w.client.email, password=PASSWORD)
    response = client.get(changelist(Meeting))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_i5_people_are_added_with_email_and_password_and_can_change_it(w, operator, client):
    """O1: a person is an email, a name, a time zone and a language; the password is hashed."""
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.org",
            "name": "New Person",
            "time_zone": "Europe/Prague",
            "language": "cs",
            "usable_password": "true",
            "password1": "a-fine-long-password",
            "password2": "a-fine-long-password",
        },
    )
    assert response.status_code == 302, response.content
    person = User.objects.get(email="new.person@example.org")
    assert person.check_password("a-fine-long-password")
    assert (person.time_zone, person.language) == ("Europe/Prague", "cs")
    page = client.get(reverse("admin:auth_user_password_change", args=[person.pk]))
    assert page.status_code == 200


def test_i5_a_second_person_with_the_same_email_in_other_case_is_refused(w, operator, client):
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": w.client.email.upper(), "name": "Twin", "time_zone": "UTC", "language": "en"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_i5_groups_hold_only_members_of_their_organization(w, operator, client):
    """O2: a group of one organization cannot take a member of another."""
    other = world()
    stranger = other.expert.memberships.get()
    response = client.post(
        reverse("admin:accounts_group_add"),
        {"organization": w.org.pk, "name": "Mixed", "members": [stranger.pk]},
    )
    assert response.status_code == 200
    assert not Group.objects.filter(name="Mixed").exists()


def test_i5_organization_settings_and_add_ons_are_edited_in_one_page(w, operator, client):
    """O4, O5: the add-ons and the settings of an organization, with their defaults."""
    page = client.get(change(w.org))
    body = page.content.decode()
    assert 'name="reviews_enabled"' in body
    assert 'name="settings_row-0-cancellation_notice_hours"' in body
    assert 'value="48"' in body


def test_i5_an_api_token_is_shown_once_and_only_its_hash_kept(w, operator, client):
    response = client.post(reverse("admin:accounts_apitoken_add"), {"user": w.client.pk, "name": "script"}, follow=True)
    [message] = [m for m in said(response) if "Copy the token" in m]
    token = message.rsplit(" ", 1)[-1]
    row = ApiToken.objects.get(name="script")
    assert row.digest == ApiToken.hash(token) and token not in row.digest


@pytest.mark.parametrize("model", [Meeting, ClientAccount, Transfer, Account, OutboxItem])
def test_i5_a_list_page_costs_the_same_queries_for_many_rows(w, operator, client, model):
    """A page of many rows costs the same queries as a page of a few (no query per row)."""
    w.agreed()
    with CaptureQueriesContext(connection) as few:
        assert client.get(changelist(model)).status_code == 200
    for hours in range(80, 200, 8):
        w.agreed(hours_ahead=hours, by=client_of(w.org, credits=200))
    with CaptureQueriesContext(connection) as many:
        assert client.get(changelist(model)).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- read-only records --------------------------------------------------------------------


def test_i5_meeting_state_cannot_be_edited_in_the_admin(w, operator, client):
    """STYLE rule 1: status, approvals, credit status and outcome change only by the domain."""
    meeting = w.agreed()
    page = client.get(change(meeting)).content.decode()
    for field in ("status", "credit_status", "outcome", "client_approved", "expert_approved", "price", "start"):
        assert f'name="{field}"' not in page
    assert "Approved by expert" in page  # the timeline is shown (L19)
    response = client.post(
        change(meeting),
        {
            "subject": "A clearer subject",
            "description": "",
            "status": Status.CANCELLED,
            "credit_status": CreditStatus.PAID,
            "price": 0,
            **inline_management_forms(page),
        },
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.subject == "A clearer subject"
    assert (meeting.status, meeting.credit_status, meeting.price) == (Status.AGREED, CreditStatus.BLOCKED, 100)


def inline_management_forms(page: str) -> dict[str, str]:
    import re

    fields = re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)" value="(\d+)"', page)
    return dict(fields)


def test_i5_meetings_cannot_be_added_or_deleted_in_the_admin(w, operator, client):
    meeting = w.agreed()
    assert client.get(reverse("admin:meetings_meeting_add")).status_code == 403
    assert client.post(reverse("admin:meetings_meeting_delete", args=[meeting.pk]), {"post": "yes"}).status_code == 403
    assert Meeting.objects.filter(pk=meeting.pk).exists()


def test_i5_meetings_are_filtered_by_status_and_organization_and_searched(w, operator, client):
    agreed = w.agreed()
    waiting = w.book(hours_ahead=120)
    other = world().agreed()
    page = client.get(changelist(Meeting), {"status__exact": Status.AWAITING_APPROVAL})
    assert list(page.context["cl"].result_list) == [waiting]
    page = client.get(changelist(Meeting), {"organization__id__exact": w.org.pk})
    assert set(page.context["cl"].result_list) == {agreed, waiting}
    assert other not in page.context["cl"].result_list
    page = client.get(changelist(Meeting), {"q": agreed.guest_key})
    assert list(page.context["cl"].result_list) == [agreed]


def test_i5_ledger_records_are_read_only(w, operator, client):
    transfer = Transfer.objects.first()
    page = client.get(change(transfer))
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    assert client.post(change(transfer), {"amount": 1}).status_code == 403
    assert client.get(reverse("admin:credits_account_add")).status_code == 403


def test_i5_outbox_shows_what_failed_and_why(w, operator, client):
    w.agreed()
    item = OutboxItem.objects.first()
    OutboxItem.objects.filter(pk=item.pk).update(state=OutboxState.FAILED, last_error="SMTP 550: mailbox unavailable")
    page = client.get(changelist(OutboxItem), {"state__exact": OutboxState.FAILED})
    assert [row.pk for row in page.context["cl"].result_list] == [item.pk]
    assert "SMTP 550" in page.content.decode()
    assert client.post(change(item), {"state": OutboxState.PENDING}).status_code == 403


# --- Grant credits (C3) ---------------------------------------------------------------------


def grant(client, accounts, **form):
    data = {"action": "grant_credits", "_selected_action": [a.pk for a in accounts], **form}
    return client.post(changelist(ClientAccount), data, follow=True)


def test_c3_grant_credits_asks_how_many_first(w, operator, client):
    account = ClientAccount.objects.get(user=w.client)
    response = grant(client, [account])
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="amount"' in body and str(account) in body
    assert ledger.balance_of(w.org, w.client).available == 1000


def test_c3_admin_grants_credits_through_the_ledger(w, operator, client):
    account = ClientAccount.objects.get(user=w.client)
    response = grant(client, [account], apply="1", amount="250", note="Invoice 2024-17")
    assert "Granted 250 credits to 1 client(s)." in said(response)
    assert ledger.balance_of(w.org, w.client).available == 1250
    transfer = Transfer.objects.filter(kind=TransferKind.PURCHASE, note="Invoice 2024-17").get()
    assert (transfer.amount, transfer.created_by, transfer.destination.owner) == (250, w.admin, w.client)


@pytest.mark.parametrize("amount", ["0", "-5", "10000001", "ten"])
def test_c3_grant_refuses_a_bad_amount_and_changes_nothing(w, operator, client, amount):
    account = ClientAccount.objects.get(user=w.client)
    transfers = Transfer.objects.count()
    response = grant(client, [account], apply="1", amount=amount)
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()
    assert Transfer.objects.count() == transfers
    assert ledger.balance_of(w.org, w.client).available == 1000


def test_c3_a_superuser_who_is_not_an_admin_member_is_refused(w, outsider, client):
    account = ClientAccount.objects.get(user=w.client)
    transfers = Transfer.objects.count()
    response = grant(client, [account], apply="1", amount="250")
    [message] = said(response)
    assert "Only an admin of the organization may do this." in message and "C3" in message
    assert "Nothing was changed." in message
    assert Transfer.objects.count() == transfers
    assert ledger.balance_of(w.org, w.client).available == 1000


def test_c3_grant_to_clients_of_two_organizations_is_all_or_nothing(w, operator, client):
    """The admin of one organization picks clients of two: the other organization refuses, so
    nobody is granted anything."""
    other = world(credits=0)
    mine = ClientAccount.objects.get(user=w.client)
    theirs = ClientAccount.objects.get(user=other.client)
    response = grant(client, [mine, theirs], apply="1", amount="40")
    assert any("Only an admin" in m for m in said(response))
    assert ledger.balance_of(w.org, w.client).available == 1000
    assert ledger.balance_of(other.org, other.client).available == 0


# --- Decide dispute (S3) --------------------------------------------------------------------


def decide(client, meetings, **form):
    data = {"action": "decide_dispute", "_selected_action": [m.pk for m in meetings], **form}
    return client.post(changelist(Meeting), data, follow=True)


def test_s3_decide_dispute_shows_the_choices_first(w, operator, client):
    meeting = disputed(w)
    response = decide(client, [meeting])
    body = response.content.decode()
    assert 'name="outcome"' in body and "client_no_show" in body
    meeting.refresh_from_db()
    assert meeting.outcome == Outcome.DISPUTED


@pytest.mark.parametrize(
    ("decision", "client_wallet", "expert_wallet", "credit_status"),
    [
        # C4: price 100, platform share 20 %; a no-show is charged as a late cancellation (50 %).
        (Outcome.HELD, 900, 80, CreditStatus.PAID),
        (Outcome.CLIENT_NO_SHOW, 950, 40, CreditStatus.REIMBURSED_CANCELLATION),
        (Outcome.REFUNDED, 1000, 0, CreditStatus.RETURNED),
    ],
)
def test_s3_admin_decides_a_dispute_and_credits_move_by_the_outcome(
    w, operator, client, decision, client_wallet, expert_wallet, credit_status
):
    meeting = disputed(w)
    response = decide(client, [meeting], apply="1", outcome=decision, note="Room logs show both entered.")
    assert any(m.startswith("Decided 1 meeting(s)") for m in said(response))
    meeting.refresh_from_db()
    assert (meeting.outcome, meeting.credit_status) == (decision, credit_status)
    assert ledger.balance_of(w.org, w.client) == ledger.Balance(available=client_wallet, blocked=0)
    assert ledger.balance_of(w.org, w.expert).available == expert_wallet
    event = meeting.timeline.filter(side="admin", kind="outcome_recorded").get()
    assert (event.actor, event.reason) == (w.admin, "Room logs show both entered.")
    assert sum(Account.objects.values_list("balance", flat=True)) == 0  # C1


def test_s3_a_meeting_that_is_not_disputed_is_refused(w, operator, client):
    meeting = w.agreed()
    response = decide(client, [meeting], apply="1", outcome=Outcome.HELD)
    [message] = said(response)
    assert "Only a disputed meeting is decided by an admin." in message
    meeting.refresh_from_db()
    assert (meeting.outcome, meeting.credit_status) == (Outcome.UNDECIDED, CreditStatus.BLOCKED)


def test_s3_a_superuser_who_is_not_an_admin_member_cannot_decide(w, outsider, client):
    meeting = disputed(w)
    response = decide(client, [meeting], apply="1", outcome=Outcome.REFUNDED)
    [message] = said(response)
    assert "Only an admin of the organization may do this." in message and "S3" in message
    meeting.refresh_from_db()
    assert meeting.outcome == Outcome.DISPUTED
    assert ledger.balance_of(w.org, w.client).blocked == 100


def test_s3_an_expert_member_who_is_superuser_cannot_decide(w, client):
    expert = member(w.org, name="Sam Superuser-Expert", is_staff=True, is_superuser=True)
    assert client.login(email=expert.email, password=PASSWORD)
    meeting = disputed(w)
    response = decide(client, [meeting], apply="1", outcome=Outcome.HELD)
    assert any("Only an admin" in m for m in said(response))
    meeting.refresh_from_db()
    assert meeting.outcome == Outcome.DISPUTED


def test_s3_a_disputed_meeting_page_shows_both_statements(w, operator, client):
    meeting = disputed(w)
    body = client.get(change(meeting)).content.decode()
    assert "The statements disagree" in body
    assert "It did not take place because of the expert" in body


# --- refusals the ledger itself makes ------------------------------------------------------


@pytest.mark.django_db
def test_c3_q2_grant_with_a_note_too_long_is_refused_clearly():
    w = world()
    with pytest.raises(DomainError):
        ledger.grant_credits(w.org, w.client, 10, by=w.admin, note="x" * 201)


@pytest.mark.django_db
def test_c3_q2_grant_to_a_person_outside_the_organization_is_refused():
    w, other = world(), world()
    with pytest.raises(DomainError):
        ledger.grant_credits(w.org, other.client, 10, by=w.admin)
    assert not Account.objects.filter(organization=w.org, owner=other.client).exists()
