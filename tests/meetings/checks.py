"""What a person looking at Parlour would check after an action, read straight from the
database: the meeting, its timeline (L19), the messages and room commands queued in the
outbox, wallets (C2) and the ledger (C1). Shared by the meeting and credit tests."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from parlour.accounts.models import Organization, User
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.credits.models import Account, AccountKind, Transfer
from parlour.meetings.models import Alternative, Meeting, Review, Statement, TimelineEvent, TimeOption
from parlour.notifications.models import OutboxItem

# Every test starts at this instant (a Monday, 09:00 UTC); the clock does not tick.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    """``hours`` from NOW."""
    return NOW + timedelta(hours=hours)


def fresh(meeting: Meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def timeline(meeting: Meeting) -> list[tuple[str, str, str]]:
    """L19: each event as a reader sees it — what, who did it, why — oldest first."""
    events = TimelineEvent.objects.filter(meeting=meeting).select_related("actor", "actor_guest")
    return [(event.title, event.actor_name, event.reason) for event in events]


def titles(meeting: Meeting) -> list[str]:
    return [title for title, _, _ in timeline(meeting)]


def last_event(meeting: Meeting) -> TimelineEvent:
    return TimelineEvent.objects.filter(meeting=meeting).last()


def messages(meeting: Meeting) -> list[tuple[str, str]]:
    """Notifications queued for the meeting, oldest first: (topic, recipient's name)."""
    items = OutboxItem.objects.filter(meeting=meeting).exclude(topic__startswith="room.").order_by("id")
    return [(item.topic, item.recipient.name if item.recipient_id else item.recipient_guest.name) for item in items]


def last_message(meeting: Meeting) -> OutboxItem:
    return OutboxItem.objects.filter(meeting=meeting).exclude(topic__startswith="room.").order_by("id").last()


def room_commands(meeting: Meeting) -> list[str]:
    """V1: what the video platform is told to do for the meeting, in order."""
    items = OutboxItem.objects.filter(meeting=meeting, topic__startswith="room.").order_by("id")
    return list(items.values_list("topic", flat=True))


def wallet(organization: Organization, user: User) -> tuple[int, int]:
    """C2: (available, blocked), as the wallet page shows them."""
    balance = ledger.balance_of(organization, user)
    return balance.available, balance.blocked


def platform(organization: Organization) -> int:
    """What the organization has kept (its platform share, less bonuses paid)."""
    account = Account.objects.filter(organization=organization, kind=AccountKind.PLATFORM).first()
    return account.balance if account else 0


def history(organization: Organization, user: User) -> list[tuple[str, int]]:
    """C2: the wallet history, oldest first: (label, signed amount)."""
    transfers = reversed(list(ledger.history_of(organization, user)))
    return [(t.get_kind_display(), ledger.signed_amount(t, user)) for t in transfers]


def assert_ledger_balanced(organization: Organization) -> None:
    """C1: the ledger sums to zero and no wallet or escrow is below zero."""
    accounts = Account.objects.filter(organization=organization)
    assert (accounts.aggregate(total=Sum("balance"))["total"] or 0) == 0
    assert not accounts.filter(kind__in=[AccountKind.WALLET, AccountKind.ESCROW], balance__lt=0).exists()


# What the wallets show once a 100-credit meeting settles (defaults: 50 % late charge, 20 %
# platform share): credit status, the client's (available, blocked), what the expert was
# paid, what the platform kept.
SETTLED = {
    "held": ("paid", (900, 0), 80, 20),
    "client_no_show": ("reimbursed_cancellation", (950, 0), 40, 10),
    "refunded": ("returned", (1000, 0), 0, 0),
    "": ("blocked", (900, 100), 0, 0),  # not decided yet
    "disputed": ("blocked", (900, 100), 0, 0),
}


def assert_settled(w, meeting: Meeting, result: str) -> None:
    """S3, C4: the meeting of ``w``'s client and expert settled as ``result``."""
    credit, client_wallet, expert_pay, kept = SETTLED[result]
    meeting = fresh(meeting)
    assert (meeting.outcome, meeting.credit_status) == (result, credit)
    assert wallet(w.org, w.client) == client_wallet
    assert wallet(w.org, w.expert) == (expert_pay, 0)
    assert platform(w.org) == kept
    assert_ledger_balanced(w.org)


def snapshot(organization: Organization) -> dict:
    """Everything a refused action must leave as it was."""
    return {
        "meetings": list(Meeting.objects.filter(organization=organization).order_by("pk").values()),
        "alternatives": list(Alternative.objects.filter(meeting__organization=organization).order_by("pk").values()),
        "options": list(TimeOption.objects.filter(meeting__organization=organization).order_by("pk").values()),
        "timeline": list(TimelineEvent.objects.filter(meeting__organization=organization).values_list("pk")),
        "statements": list(Statement.objects.filter(meeting__organization=organization).values()),
        "reviews": list(Review.objects.filter(organization=organization).values()),
        "outbox": list(OutboxItem.objects.filter(organization=organization).order_by("pk").values_list("pk")),
        "transfers": list(Transfer.objects.filter(organization=organization).order_by("pk").values_list("pk")),
        "accounts": list(Account.objects.filter(organization=organization).order_by("pk").values("pk", "balance")),
    }


@contextmanager
def refused(organization: Organization, code: str, *, status: int | None = None, rule: str | None = None):
    """The action inside is refused with ``code`` (and the HTTP status and rule, when
    given), and nothing in the organization changed (Q2)."""
    before = snapshot(organization)
    with pytest.raises(DomainError) as caught:
        yield caught
    error = caught.value
    assert error.code == code, f"{error.code}: {error.message}"
    if status is not None:
        assert error.status == status
    if rule is not None:
        assert error.rule == rule
    assert snapshot(organization) == before
