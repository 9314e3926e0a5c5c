"""Admin area (I5) for meetings and reviews. A meeting's status, approvals, credit status,
outcome and dates are read-only here: they change only through ``meetings.lifecycle`` and
``meetings.outcome`` (STYLE rule 1). The one decision the admin area takes, "Decide
dispute" (S3), is an action that calls ``outcome.decide_dispute``."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from parlour.accounts.admin import ViewOnlyAdmin, ViewOnlyInline, action_form_page, run_domain_action
from parlour.credits.models import Transfer

from . import outcome
from .models import Alternative, Meeting, Outcome, Review, Statement, TimelineEvent, TimeOption

EDITABLE = ["subject", "description"]  # words only; nothing a rule depends on


class TimelineInline(ViewOnlyInline, admin.TabularInline):
    """L19: every event with who did it, when and why."""

    model = TimelineEvent
    verbose_name_plural = "timeline"
    fields = readonly_fields = ["at", "title", "actor_name", "side", "reason", "data"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "actor_guest")


class AlternativeInline(ViewOnlyInline, admin.TabularInline):
    model = Alternative
    verbose_name_plural = "alternative dates"
    fields = readonly_fields = ["proposed_by", "start", "length_minutes", "state", "created_at", "decided_at"]


class TimeOptionInline(ViewOnlyInline, admin.TabularInline):
    model = TimeOption
    fields = readonly_fields = ["start", "length_minutes", "picked"]


class StatementInline(ViewOnlyInline, admin.TabularInline):
    model = Statement
    fields = readonly_fields = ["side", "said", "stars", "summary", "at"]


class TransferInline(ViewOnlyInline, admin.TabularInline):
    model = Transfer
    verbose_name_plural = "credit movements"
    fields = readonly_fields = ["created_at", "kind", "amount", "source", "destination"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source__owner", "destination__owner")


class DecideDisputeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(o.value, o.label) for o in (Outcome.HELD, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED)],
        widget=forms.RadioSelect,
        help_text="Held: the expert is paid the price less the platform share. Client did not come: charged "
        "as a late cancellation. Refunded: everything returns to the client.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Why; kept on the meeting's timeline.",
    )


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["id", "start", "organization", "service", "expert", "client_display", "status", "credit_status"]
    list_display_links = ["id", "start"]
    list_filter = ["status", "organization", "outcome", "credit_status", "origin", "service"]
    search_fields = [
        "subject",
        "guest_key",
        "expert__name",
        "expert__email",
        "client__name",
        "client__email",
        "guest__name",
        "guest__email",
        "id__exact",
    ]
    date_hierarchy = "start"
    list_select_related = ["organization", "service", "expert", "client", "guest"]
    fieldsets = [
        (
            None,
            {"fields": ["organization", "service", "skill", "expert", "client", "guest", "origin", *EDITABLE]},
        ),
        ("Date", {"fields": ["start", "length_minutes", "end"]}),
        (
            "State: changed only by the meeting's own actions",
            {
                "fields": [
                    "status",
                    "client_approved",
                    "expert_approved",
                    "price",
                    "credit_status",
                    "outcome",
                    "dispute",
                ]
            },
        ),
        (
            "Room",
            {
                "fields": [
                    "guest_key",
                    "expert_entered_at",
                    "client_entered_at",
                    "expert_media_check",
                    "client_media_check",
                    "connection_failed",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [AlternativeInline, TimeOptionInline, StatementInline, TransferInline, TimelineInline]
    actions = ["decide_dispute"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Meeting._meta.concrete_fields if f.name not in EDITABLE] + ["dispute"]

    def has_add_permission(self, request):
        return False  # meetings are booked or proposed through the domain (B1-B4)

    def has_delete_permission(self, request, obj=None):
        return False  # a meeting's record and its ledger movements stay

    def save_model(self, request, obj, form, change):
        # Only the words edited here are written, so that a status or credit change made by
        # the domain meanwhile is never overwritten with what this page loaded.
        changed = [name for name in form.changed_data if name in EDITABLE]
        if changed:
            obj.save(update_fields=changed)

    @admin.display(description="client or guest", ordering="client__name")
    def client_display(self, meeting: Meeting) -> str:
        return f"{meeting.client_name} (guest)" if meeting.is_guest_meeting else meeting.client_name

    @admin.display(description="dispute")
    def dispute(self, meeting: Meeting) -> str:
        if meeting.outcome != Outcome.DISPUTED:
            return "-"
        said = format_html_join(
            "", "<li>{}: {}</li>", ((s.side, s.get_said_display()) for s in meeting.statements.all())
        )
        url = reverse("admin:meetings_meeting_changelist") + f"?outcome__exact={Outcome.DISPUTED}"
        return format_html(
            'The statements disagree:<ul>{}</ul>Decide it with the "Decide dispute" action in the '
            '<a href="{}">list of disputed meetings</a>.',
            said,
            url,
        )

    @admin.action(description="Decide dispute")
    def decide_dispute(self, request, queryset):
        """S3: an admin of the meeting's organization decides a disputed meeting; the
        settlement moves the credits (C4)."""
        queryset = queryset.select_related("organization", "service", "expert", "client", "guest")
        form = DecideDisputeForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            decision, note = form.cleaned_data["outcome"], form.cleaned_data["note"]
            decided = run_domain_action(
                request,
                queryset,
                lambda meeting: outcome.decide_dispute(request.user, meeting, outcome=decision, note=note),
            )
            if decided:
                messages.success(request, f"Decided {decided} meeting(s): {Outcome(decision).label.lower()}.")
            return None
        return action_form_page(
            self,
            request,
            queryset,
            action="decide_dispute",
            form=form,
            title="Decide dispute",
            intro="The two sides' statements disagree about these meetings. Decide how they settle:",
            submit="Decide",
        )


@admin.register(Review)
class ReviewAdmin(ViewOnlyAdmin):
    """S1: written reviews, one per client and expert, shown on the expert's profile."""

    list_display = ["expert", "client", "organization", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["text", "expert__name", "client__name"]
    list_select_related = ["expert", "client", "organization"]
