"""Admin area (I5) for people, organizations (their settings and add-ons), memberships,
groups, clients, guests and API tokens. "Grant credits" (C3) is an action on clients: it
calls the ledger, which alone moves credits (STYLE rule 1)."""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template import engines
from django.template.response import TemplateResponse
from django.utils import timezone

from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.credits.models import Account, AccountKind

from .models import ApiToken, ClientAccount, Group, Guest, Membership, Organization, OrganizationSettings, User


class ViewOnlyAdmin(admin.ModelAdmin):
    """Records written only by the domain (ledger, outbox): admins read them, never edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyInline:
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# An action's intermediate page: the chosen rows, a form, and a button that runs the action
# again with ``apply`` set. Kept here as a string so that the admin needs no template files.
ACTION_FORM_PAGE = """{% extends "admin/base_site.html" %}{% load admin_urls %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}</div>{% endblock %}
{% block content %}
<p>{{ intro }}</p>
<ul>{% for obj in queryset %}<li>{{ obj }}</li>{% endfor %}</ul>
<form method="post">{% csrf_token %}
  {{ form.as_div }}
  {% for obj in queryset %}<input type="hidden" name="_selected_action" value="{{ obj.pk }}">{% endfor %}
  <input type="hidden" name="action" value="{{ action }}">
  <div class="submit-row">
    <input type="submit" name="apply" value="{{ submit }}" class="default">
    <a href="{% url opts|admin_urlname:'changelist' %}" class="button cancel-link">Cancel</a>
  </div>
</form>
{% endblock %}"""


def action_form_page(modeladmin, request, queryset, *, action: str, form, title: str, intro: str, submit: str):
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "intro": intro,
        "queryset": queryset,
        "form": form,
        "action": action,
        "submit": submit,
    }
    return TemplateResponse(request, _action_form_template(), context)


@functools.cache
def _action_form_template():
    return engines["django"].from_string(ACTION_FORM_PAGE)


def run_domain_action(request, queryset, do) -> int:
    """Run ``do(obj)`` for each chosen row in one transaction: all succeed, or a domain
    refusal is shown and nothing has changed."""
    try:
        with transaction.atomic():
            for obj in queryset:
                try:
                    do(obj)
                except DomainError as error:
                    error.message = f"{obj}: {error.message} (rule {error.rule})"
                    raise
    except DomainError as error:
        messages.error(request, f"{error.message} Nothing was changed.")
        return 0
    return len(queryset)


# --- people --------------------------------------------------------------------------


def _unique_email(form, email: str) -> str:
    email = email.strip().lower()
    others = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        others = others.exclude(pk=form.instance.pk)
    if others.exists():
        raise ValidationError("A person with this email address already exists.")
    return email


class PersonCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "time_zone", "language")

    def clean_email(self):
        return _unique_email(self, self.cleaned_data["email"])


class PersonChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = ["email", "name", "phone", "time_zone", "language", "is_active", "is_staff", "is_superuser"]

    def clean_email(self):
        return _unique_email(self, self.cleaned_data["email"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """O1: people sign in with their email; the password is changed on its own page."""

    form = PersonChangeForm
    add_form = PersonCreationForm
    ordering = ["email"]
    list_display = ["email", "name", "time_zone", "language", "is_staff", "is_superuser", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "language", "memberships__organization"]
    search_fields = ["email", "name", "phone"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal", {"fields": ["name", "phone", "time_zone", "language"]}),
        ("Admin area", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "name", "time_zone", "language", "usable_password", "password1", "password2"],
            },
        )
    ]


# --- organizations -------------------------------------------------------------------


class SettingsInline(admin.StackedInline):
    """O5: every number of the rules, with the spec's defaults."""

    model = OrganizationSettings
    can_delete = False
    min_num = 1
    max_num = 1


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    """An organization with its add-ons (O4), settings (O5) and members (O1)."""

    list_display = ["name", "slug", "reviews_enabled", "summaries_enabled", "created_at"]
    list_filter = ["reviews_enabled", "summaries_enabled"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "created_at"]}),
        ("Add-ons", {"fields": ["reviews_enabled", "summaries_enabled"]}),
    ]
    readonly_fields = ["created_at"]
    inlines = [SettingsInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]
    search_fields = ["user__email", "user__name", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["organization", "name", "members"]

    def clean(self):
        cleaned = super().clean()
        organization, members = cleaned.get("organization"), cleaned.get("members")
        if organization and members:
            strangers = [m for m in members if m.organization_id != organization.pk]
            if strangers:
                names = ", ".join(m.user.name for m in strangers)
                raise ValidationError(f"Only members of {organization} can be in its groups, not {names}.")
        return cleaned


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    """O2: members of a group see each other's meetings."""

    form = GroupForm
    list_display = ["name", "organization", "size"]
    list_filter = ["organization"]
    search_fields = ["name", "members__user__name"]
    filter_horizontal = ["members"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization").prefetch_related("members")

    @admin.display(description="members")
    def size(self, group: Group) -> int:
        return len(group.members.all())


# --- clients and guests; granting credits (C3) ---------------------------------------


class GrantCreditsForm(forms.Form):
    amount = forms.IntegerField(min_value=1, max_value=ledger.MAX_GRANT, help_text="Whole credits for each client.")
    note = forms.CharField(
        max_length=200, required=False, help_text="What was bought, e.g. an invoice number. Shown in the ledger."
    )


@admin.register(ClientAccount)
class ClientAccountAdmin(admin.ModelAdmin):
    """A registered person as a client of one organization, with their wallet (C2)."""

    list_display = ["user", "organization", "available", "blocked", "created_at"]
    list_filter = ["organization"]
    search_fields = ["user__email", "user__name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "organization"]
    readonly_fields = ["available", "blocked"]
    actions = ["grant_credits"]

    def get_queryset(self, request):
        mine = Account.objects.filter(organization=OuterRef("organization"), owner=OuterRef("user"))

        def total(kind: str):
            sums = mine.filter(kind=kind).values("owner").annotate(total=Sum("balance")).values("total")
            return Coalesce(Subquery(sums[:1]), 0)

        return (
            super()
            .get_queryset(request)
            .annotate(available_credits=total(AccountKind.WALLET), blocked_credits=total(AccountKind.ESCROW))
        )

    @admin.display(description="available credits", ordering="available_credits")
    def available(self, client: ClientAccount) -> int | str:
        return getattr(client, "available_credits", "-")

    @admin.display(description="blocked credits", ordering="blocked_credits")
    def blocked(self, client: ClientAccount) -> int | str:
        return getattr(client, "blocked_credits", "-")

    @admin.action(description="Grant credits (a purchase made elsewhere)")
    def grant_credits(self, request, queryset):
        """C3: the ledger records the purchase; it refuses anyone but an admin of the
        client's organization, and then nothing changes."""
        queryset = queryset.select_related("user", "organization")
        form = GrantCreditsForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            amount, note = form.cleaned_data["amount"], form.cleaned_data["note"]
            granted = run_domain_action(
                request,
                queryset,
                lambda client: ledger.grant_credits(
                    client.organization, client.user, amount, by=request.user, note=note
                ),
            )
            if granted:
                messages.success(request, f"Granted {amount} credits to {granted} client(s).")
            return None
        return action_form_page(
            self,
            request,
            queryset,
            action="grant_credits",
            form=form,
            title="Grant credits",
            intro="Record credits bought outside Parlour for these clients:",
            submit="Grant credits",
        )


@admin.register(Guest)
class GuestAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name", "email", "phone"]


# --- API tokens ----------------------------------------------------------------------


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """I2: personal API tokens. Only a hash is kept: a new token is shown once, on saving."""

    form = ApiTokenForm
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__email", "user__name", "hint"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "name", "hint", "created_at", "last_used_at", "revoked_at"] if obj else []

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        row, token = ApiToken.issue(obj.user, obj.name)
        obj.pk, obj.digest, obj.hint, obj.created_at = row.pk, row.digest, row.hint, row.created_at
        obj._state.adding = False
        messages.warning(request, f"Copy the token now; it is not shown again: {token}")

    @admin.action(description="Revoke the chosen tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        messages.success(request, f"Revoked {count} token(s).")
