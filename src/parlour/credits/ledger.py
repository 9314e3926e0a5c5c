"""The only writer of money (STYLE rule 1). Every function here runs inside the caller's
transaction; the caller has already locked the meeting, and accounts are locked here in id
order (STYLE rule 7), so two transactions can never wait on each other in a circle."""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from parlour.accounts.models import Organization, User
from parlour.core.errors import DomainError, NotFound

from .models import Account, AccountKind, Transfer, TransferKind
from .settlement import Split

MAX_GRANT = 10**7


def wallet_of(organization: Organization, user: User) -> Account:
    account, _ = Account.objects.get_or_create(organization=organization, kind=AccountKind.WALLET, owner=user)
    return account


def system_account(organization: Organization, kind: AccountKind) -> Account:
    account, _ = Account.objects.get_or_create(organization=organization, kind=kind, owner=None, meeting=None)
    return account


def escrow_of(meeting) -> Account:
    account, _ = Account.objects.get_or_create(
        organization_id=meeting.organization_id,
        kind=AccountKind.ESCROW,
        meeting=meeting,
        defaults={"owner_id": meeting.client_id},
    )
    return account


def _lock(*accounts: Account) -> dict[int, Account]:
    """Lock the accounts in id order and return them fresh, by id."""
    ids = sorted({a.pk for a in accounts})
    locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {a.pk: a for a in locked}


def _move(
    kind: str, amount: int, source: Account, destination: Account, *, meeting=None, note="", by=None, at=None
) -> Transfer:
    if amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    Account.objects.filter(pk=source.pk).update(balance=F("balance") - amount)
    Account.objects.filter(pk=destination.pk).update(balance=F("balance") + amount)
    source.balance -= amount
    destination.balance += amount
    return Transfer.objects.create(
        organization_id=source.organization_id,
        kind=kind,
        amount=amount,
        source=source,
        destination=destination,
        meeting=meeting,
        note=note,
        created_by=by,
        created_at=at or timezone.now(),
    )


def block_price(meeting, now, rule: str) -> None:
    """Move the meeting's price from the client's wallet into its escrow (C1). Refused, with
    nothing changed, when the wallet is short."""
    if meeting.price == 0:
        return
    wallet = wallet_of(meeting.organization, meeting.client)
    escrow = escrow_of(meeting)
    accounts = _lock(wallet, escrow)
    wallet, escrow = accounts[wallet.pk], accounts[escrow.pk]
    if escrow.balance:
        return  # already held for these terms
    if wallet.balance < meeting.price:
        raise DomainError(
            "insufficient_credits",
            gettext("This meeting costs %(price)s credits and the wallet has %(available)s available.")
            % {"price": meeting.price, "available": wallet.balance},
            rule,
            status=402,
            details={"price": meeting.price, "available": wallet.balance},
        )
    _move(TransferKind.BLOCK, meeting.price, wallet, escrow, meeting=meeting, at=now)


def return_escrow(meeting, now=None) -> int:
    """Give everything held for the meeting back to the client's wallet; returns the amount."""
    if meeting.price == 0 or meeting.client_id is None:
        return 0
    wallet = wallet_of(meeting.organization, meeting.client)
    escrow = escrow_of(meeting)
    accounts = _lock(wallet, escrow)
    wallet, escrow = accounts[wallet.pk], accounts[escrow.pk]
    held = escrow.balance
    if held:
        _move(TransferKind.RETURN, held, escrow, wallet, meeting=meeting, at=now)
    return held


def settle_escrow(meeting, parts: Split, now=None) -> None:
    """Settle the escrow of a meeting (C4, L8): the charge goes to the platform and from it
    the expert's pay; the rest returns to the client."""
    if meeting.price == 0:
        return
    escrow = escrow_of(meeting)
    wallet = wallet_of(meeting.organization, meeting.client)
    expert = wallet_of(meeting.organization, meeting.expert)
    platform = system_account(meeting.organization, AccountKind.PLATFORM)
    accounts = _lock(escrow, wallet, expert, platform)
    escrow, wallet, expert, platform = (accounts[a.pk] for a in (escrow, wallet, expert, platform))
    if escrow.balance != parts.charged + parts.returned:
        raise AssertionError(f"escrow of meeting {meeting.pk} holds {escrow.balance}, not {meeting.price}")
    if parts.charged:
        _move(TransferKind.DEDUCTION, parts.charged, escrow, platform, meeting=meeting, at=now)
    if parts.to_expert:
        _move(TransferKind.PAYMENT, parts.to_expert, platform, expert, meeting=meeting, at=now)
    if parts.returned:
        _move(TransferKind.RETURN, parts.returned, escrow, wallet, meeting=meeting, at=now)


def pay_bonus(organization: Organization, user: User, amount: int, meeting=None, now=None) -> None:
    """S4: the platform pays a client's first written review of an expert."""
    if amount <= 0:
        return
    platform = system_account(organization, AccountKind.PLATFORM)
    wallet = wallet_of(organization, user)
    accounts = _lock(platform, wallet)
    _move(TransferKind.BONUS, amount, accounts[platform.pk], accounts[wallet.pk], meeting=meeting, at=now)


def grant_credits(organization: Organization, user: User, amount: int, *, by: User, note: str = "") -> Transfer:
    """C3: an admin records a purchase made elsewhere, for a client or member of the
    organization."""
    from parlour.accounts.access import belongs_to, require_admin

    require_admin(by, organization, rule="C3")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_GRANT:
        raise DomainError(
            "invalid_amount", gettext("Grant a whole number of credits from 1 to %(most)s.") % {"most": MAX_GRANT}, "C3"
        )
    note = (note or "").strip()
    longest = Transfer._meta.get_field("note").max_length
    if len(note) > longest:
        raise DomainError("too_long", gettext("Keep the note under %(count)s characters.") % {"count": longest}, "C3")
    if not belongs_to(user, organization):
        raise NotFound("client")
    with transaction.atomic():
        source = system_account(organization, AccountKind.EXTERNAL)
        wallet = wallet_of(organization, user)
        accounts = _lock(source, wallet)
        return _move(TransferKind.PURCHASE, amount, accounts[source.pk], accounts[wallet.pk], note=note, by=by)


@dataclass(frozen=True)
class Balance:
    available: int
    blocked: int


def balance_of(organization: Organization, user: User) -> Balance:
    """C2: what a person has to spend and what is held for their meetings."""
    rows = Account.objects.filter(organization=organization, owner=user).values("kind").annotate(total=Sum("balance"))
    totals = {row["kind"]: row["total"] or 0 for row in rows}
    return Balance(available=totals.get(AccountKind.WALLET, 0), blocked=totals.get(AccountKind.ESCROW, 0))


def history_of(organization: Organization, user: User) -> QuerySet[Transfer]:
    """C2: the movements of a person's credits, newest first. Moves between their own wallet
    and their own escrow show once, as what they are (blocked, returned)."""
    mine = Q(source__owner=user) | Q(destination__owner=user)
    return (
        Transfer.objects.filter(organization=organization)
        .filter(mine)
        .select_related("source", "destination", "meeting")
        .order_by("-created_at", "-id")
    )


def signed_amount(transfer: Transfer, user: User) -> int:
    """How a movement changes what the person owns, available and blocked together: a block
    is 0 (it moves money between their own accounts), shown by its kind."""
    into = transfer.destination.owner_id == user.pk
    out = transfer.source.owner_id == user.pk
    if into and out:
        return 0
    return transfer.amount if into else -transfer.amount
