"""The ledger (C1–C3): grants by an admin, wallets with available and blocked credits and a
history named as the client sees it, a ledger that always sums to zero, and a database that
refuses a negative wallet whatever the code does."""

import pytest
from django.db import IntegrityError, transaction

from parlour.accounts.models import ClientAccount
from parlour.credits import ledger
from parlour.credits.models import Account, AccountKind, Transfer, TransferKind
from parlour.meetings import lifecycle, outcome
from tests.factories import OrganizationFactory, admin_of, client
from tests.meetings.checks import assert_ledger_balanced, at, history, platform, refused, wallet

# --- C3: granting credits ----------------------------------------------------------


def test_c3_an_admin_grants_credits_recorded_as_a_purchase(w):
    transfer = ledger.grant_credits(w.org, w.client, 250, by=w.admin, note="Invoice 2026-17")

    assert wallet(w.org, w.client) == (1250, 0)
    assert (transfer.kind, transfer.amount, transfer.note, transfer.created_by) == (
        "purchase",
        250,
        "Invoice 2026-17",
        w.admin,
    )
    assert history(w.org, w.client)[-1] == ("Credits purchased", 250)
    assert_ledger_balanced(w.org)


@pytest.mark.parametrize("who", ["expert", "colleague", "client"])
def test_c3_only_an_admin_grants_credits(w, who):
    with refused(w.org, "admins_only", status=403, rule="C3"):
        ledger.grant_credits(w.org, w.client, 10, by=getattr(w, who))


def test_c3_an_admin_of_another_organization_cannot_grant(w):
    other_admin = admin_of(OrganizationFactory())
    with refused(w.org, "admins_only", status=403, rule="C3"):
        ledger.grant_credits(w.org, w.client, 10, by=other_admin)


@pytest.mark.parametrize("amount", [0, -5, 2.5, "10", True, None, ledger.MAX_GRANT + 1])
def test_c3_only_positive_whole_amounts_within_the_limit_are_granted(w, amount):
    with refused(w.org, "invalid_amount", rule="C3"):
        ledger.grant_credits(w.org, w.client, amount, by=w.admin)


def test_c3_the_largest_grant_is_accepted(w):
    ledger.grant_credits(w.org, w.client, ledger.MAX_GRANT, by=w.admin)
    assert wallet(w.org, w.client) == (1000 + ledger.MAX_GRANT, 0)


def test_c3_wallets_are_kept_per_organization(w):
    other = OrganizationFactory()
    ClientAccount.objects.create(organization=other, user=w.client)
    ledger.grant_credits(other, w.client, 7, by=admin_of(other))
    assert (wallet(w.org, w.client), wallet(other, w.client)) == ((1000, 0), (7, 0))


def test_c3_a_person_outside_the_organization_gets_no_wallet_in_it(w):
    outsider = client(OrganizationFactory(), name="Otto Outsider")
    with refused(w.org, "not_found", status=404, rule="O3"):
        ledger.grant_credits(w.org, outsider, 10, by=w.admin)
    assert not Account.objects.filter(organization=w.org, owner=outsider).exists()


def test_c3_an_expert_of_the_organization_can_be_granted_credits(w):
    ledger.grant_credits(w.org, w.expert, 5, by=w.admin)
    assert wallet(w.org, w.expert) == (5, 0)


def test_c3_a_note_longer_than_the_ledger_keeps_is_refused(w):
    with refused(w.org, "too_long", rule="C3"):
        ledger.grant_credits(w.org, w.client, 10, by=w.admin, note="x" * 201)
    assert ledger.grant_credits(w.org, w.client, 10, by=w.admin, note="x" * 200).note == "x" * 200


# --- C2: wallets and their history -------------------------------------------------


def test_c2_wallet_shows_available_and_blocked_credits(w):
    w.book(hours_ahead=72)
    w.book(hours_ahead=96, length=60)
    assert wallet(w.org, w.client) == (800, 200)


def test_c2_history_names_every_movement_as_the_client_sees_it(w):
    w.org.reviews_enabled = True
    w.org.save()
    first = w.book(hours_ahead=72)
    lifecycle.cancel_meeting(w.client, first)
    held = w.agreed(hours_ahead=96)
    outcome.submit_statement(w.client, held, said="held", review="Good advice.", now=at(97))

    assert history(w.org, w.client) == [
        ("Credits purchased", 1000),
        ("Blocked for meeting", 0),
        ("Returned", 0),
        ("Blocked for meeting", 0),
        ("Bonus credits for written review", 10),
        ("Deduction of credits for services", -100),
    ]
    assert history(w.org, w.expert) == [("Payment of credits for services", 80)]
    assert wallet(w.org, w.client) == (910, 0)
    assert set(TransferKind.labels) == {
        "Credits purchased",
        "Blocked for meeting",
        "Returned",
        "Deduction of credits for services",
        "Payment of credits for services",
        "Bonus credits for written review",
    }


def test_c2_every_movement_of_a_meeting_names_it_and_its_time(w):
    meeting = w.agreed(hours_ahead=72)
    lifecycle.cancel_meeting(w.client, meeting, note="no", now=at(1))
    movements = Transfer.objects.filter(meeting=meeting).order_by("id")
    assert [(t.kind, t.amount, t.created_at) for t in movements] == [("block", 100, at(0)), ("return", 100, at(1))]


def test_c2_history_shows_only_the_persons_own_movements(w):
    other = client(w.org, credits=300)
    assert history(w.org, other) == [("Credits purchased", 300)]
    assert history(w.org, w.admin) == []


# --- C1: the ledger sums to zero and no wallet goes negative ------------------------


def test_c1_the_ledger_sums_to_zero_through_a_meetings_whole_life(w):
    meetings = [w.agreed(hours_ahead=h) for h in (10, 20, 30, 72)]
    lifecycle.cancel_meeting(w.client, meetings[0], note="ill", confirm_late=True)
    lifecycle.cancel_meeting(w.expert, meetings[1], reason="illness", confirm_late=True)
    outcome.submit_statement(w.client, meetings[2], said="held", now=at(31))
    lifecycle.cancel_meeting(w.client, meetings[3], note="no")

    assert_ledger_balanced(w.org)
    external = Account.objects.get(organization=w.org, kind=AccountKind.EXTERNAL).balance
    assert external == -1000
    assert wallet(w.org, w.client) == (1000 - 50 - 100, 0)
    assert wallet(w.org, w.expert) == (40 + 80, 0)
    assert platform(w.org) == 10 + 20


def test_c1_the_database_refuses_a_negative_wallet(w):
    account = ledger.wallet_of(w.org, w.client)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)
    account.refresh_from_db()
    assert account.balance == 1000


def test_c1_the_database_refuses_a_negative_escrow(w):
    meeting = w.book()
    escrow = ledger.escrow_of(meeting)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=escrow.pk).update(balance=-1)


def test_c1_the_database_refuses_moving_more_than_a_wallet_holds(w):
    wallet_account = ledger.wallet_of(w.org, w.client)
    other = ledger.wallet_of(w.org, w.expert)
    with pytest.raises(IntegrityError), transaction.atomic():
        ledger._move(TransferKind.PURCHASE, 1001, wallet_account, other)
    assert wallet(w.org, w.client) == (1000, 0)


@pytest.mark.parametrize("amount", [0, -1])
def test_c1_a_transfer_moves_a_positive_amount(w, amount):
    with pytest.raises(ValueError):
        ledger._move(
            TransferKind.PURCHASE, amount, ledger.wallet_of(w.org, w.client), ledger.wallet_of(w.org, w.expert)
        )


def test_c1_the_platform_may_go_below_zero_paying_bonuses(w):
    w.org.reviews_enabled = True
    w.org.save()
    meeting = w.book(service=w.free_service, hours_ahead=5)
    outcome.submit_statement(w.client, meeting, said="held", review="Nice intro.", now=at(6))

    assert platform(w.org) == -10
    assert wallet(w.org, w.client) == (1010, 0)
    assert_ledger_balanced(w.org)
