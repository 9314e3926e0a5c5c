"""Admin area (I5) for the outbox, read-only: admins see what was sent, what is waiting,
and what failed and why."""

from django.contrib import admin
from django.utils.text import Truncator

from parlour.accounts.admin import ViewOnlyAdmin

from .models import OutboxItem


@admin.register(OutboxItem)
class OutboxItemAdmin(ViewOnlyAdmin):
    list_display = [
        "id",
        "topic",
        "state",
        "recipient_name",
        "meeting_id",
        "due_at",
        "attempts",
        "delivered_at",
        "error",
    ]
    list_filter = ["state", "topic", "organization"]
    search_fields = ["recipient__email", "recipient_guest__email", "last_error", "meeting__id__exact"]
    date_hierarchy = "due_at"
    list_select_related = ["recipient", "recipient_guest"]

    @admin.display(description="to")
    def recipient_name(self, item: OutboxItem) -> str:
        person = item.recipient or item.recipient_guest
        return str(person) if person else "video platform"

    @admin.display(description="last error")
    def error(self, item: OutboxItem) -> str:
        return Truncator(item.last_error).chars(80)
