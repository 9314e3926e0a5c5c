"""Admin area (I5) for the ledger: accounts and transfers, read-only. Credits move only
through ``parlour.credits.ledger``; an admin grants them with the "Grant credits" action on
clients (C3)."""

from django.contrib import admin

from parlour.accounts.admin import ViewOnlyAdmin

from .models import Account, Transfer


@admin.register(Account)
class AccountAdmin(ViewOnlyAdmin):
    """Wallets, escrows and the organization's platform and purchase accounts (C1, C2)."""

    list_display = ["__str__", "kind", "organization", "owner", "meeting", "balance"]
    list_filter = ["kind", "organization"]
    search_fields = ["owner__email", "owner__name"]
    list_select_related = ["organization", "owner", "meeting__service", "meeting__expert"]


@admin.register(Transfer)
class TransferAdmin(ViewOnlyAdmin):
    """Every movement of credits, from one account to another (C1)."""

    list_display = ["created_at", "kind", "amount", "source", "destination", "meeting_id", "created_by", "note"]
    list_filter = ["kind", "organization"]
    search_fields = ["note", "source__owner__email", "destination__owner__email", "meeting__id__exact"]
    date_hierarchy = "created_at"
    list_select_related = [
        "source__owner",
        "source__organization",
        "destination__owner",
        "destination__organization",
        "created_by",
    ]
