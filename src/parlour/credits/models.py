"""The double-entry ledger (SPEC §5).

Every movement of credits is one ``Transfer`` from one ``Account`` to another, so the sum of
all balances is always zero. A client's money lives in their wallet; the price of a meeting
they approved lives in that meeting's escrow account, still owned by the client. Only the
functions of ``parlour.credits.ledger`` write these tables."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parlour.accounts.models import Organization, User


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Wallet")  # a person's available credits in one organization
    ESCROW = "escrow", _("Escrow")  # a meeting's price, held while the client has approved it
    PLATFORM = "platform", _("Platform")  # the organization's own share; pays review bonuses
    EXTERNAL = "external", _("Purchases")  # the world outside: credits bought elsewhere (C3)


class Account(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    meeting = models.OneToOneField(
        "meetings.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="escrow_account"
    )
    balance = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["platform", "external"]) | Q(balance__gte=0),
                name="wallets_and_escrows_never_negative",
            ),
            models.UniqueConstraint(
                fields=["organization", "owner"], condition=Q(kind="wallet"), name="one_wallet_per_person"
            ),
            models.UniqueConstraint(
                fields=["organization", "kind"],
                condition=Q(kind__in=["platform", "external"]),
                name="one_system_account_per_kind",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.WALLET:
            return f"Wallet of {self.owner}"
        if self.kind == AccountKind.ESCROW:
            return f"Escrow of meeting {self.meeting_id}"
        return f"{self.get_kind_display()} of {self.organization}"


class TransferKind(models.TextChoices):
    """Named as the person whose account it touches sees it (C2)."""

    PURCHASE = "purchase", _("Credits purchased")
    BLOCK = "block", _("Blocked for meeting")
    RETURN = "return", _("Returned")
    DEDUCTION = "deduction", _("Deduction of credits for services")
    PAYMENT = "payment", _("Payment of credits for services")
    BONUS = "bonus", _("Bonus credits for written review")


class Transfer(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(max_length=10, choices=TransferKind.choices)
    amount = models.PositiveBigIntegerField()
    source = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="outgoing")
    destination = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="incoming")
    meeting = models.ForeignKey(
        "meetings.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~Q(source=models.F("destination")), name="transfer_between_two_accounts"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount}"
