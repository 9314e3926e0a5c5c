"""Admin area (I5) for conversations, read-only: they are written by the domain only
(``conversations.domain``); admins read who talks with whom, who is assigned, and what was
said."""

from django.contrib import admin

from parlour.accounts.admin import ViewOnlyAdmin, ViewOnlyInline

from .models import Conversation, Message, Participant


class ParticipantInline(ViewOnlyInline, admin.TabularInline):
    model = Participant
    verbose_name_plural = "members"
    fields = readonly_fields = ["user", "added_at"]


class MessageInline(ViewOnlyInline, admin.TabularInline):
    model = Message
    fields = readonly_fields = ["at", "author_name", "side", "text"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "author_guest")


@admin.register(Conversation)
class ConversationAdmin(ViewOnlyAdmin):
    list_display = ["id", "party_name", "organization", "service", "kind", "assigned_to", "last_message_at"]
    list_filter = ["organization", "kind"]
    search_fields = ["client__email", "guest__email", "client__name", "guest__name"]
    list_select_related = ["organization", "service", "client", "guest", "assigned_to"]
    inlines = [ParticipantInline, MessageInline]

    @admin.display(description="client or guest")
    def party_name(self, conversation: Conversation) -> str:
        return str(conversation.party)
