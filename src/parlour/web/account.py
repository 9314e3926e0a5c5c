"""Area D: a person's own account (name, time zone, language, password, personal API tokens
(I2), private calendar feed (K3)), their wallet in an organization (C2, with an admin's grant
of credits, C3), and an expert's profile with the written reviews clients gave (E1, S1).

Parse, call the domain, render: credits move only through ``credits.ledger``, feeds only
through ``calendars.feeds``; a token and a feed address exist in clear only in the answer
that made them (only their hashes are kept)."""

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from parlour.accounts.access import is_admin, organizations_of, require_admin
from parlour.accounts.models import ApiToken, Membership, Organization, Role, User
from parlour.calendars import feeds
from parlour.calendars.models import CalendarFeed
from parlour.catalog.models import Service
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.credits.models import AccountKind, Transfer, TransferKind
from parlour.meetings.models import Review

from .expert_profile import star_averages
from .free_dates import serves
from .middleware import zone_named
from .pages import organization_page

HISTORY_PAGE = 25
REVIEWS_PAGE = 20

# C2: each movement named as the client sees it (the ledger's names, translatable).
KIND_LABELS = {
    TransferKind.PURCHASE: gettext_lazy("Credits purchased"),
    TransferKind.BLOCK: gettext_lazy("Blocked for meeting"),
    TransferKind.RETURN: gettext_lazy("Returned"),
    TransferKind.DEDUCTION: gettext_lazy("Deduction of credits for services"),
    TransferKind.PAYMENT: gettext_lazy("Payment of credits for services"),
    TransferKind.BONUS: gettext_lazy("Bonus credits for written review"),
}


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def url_or_none(name: str, *args) -> str | None:
    """The address of a page of another area, or None while that page does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def amount_text(amount: int, signed: bool = False) -> str:
    """Whole credits grouped as the viewer's language writes numbers (1,000 / 1.000)."""
    text = formats.number_format(abs(amount), force_grouping=True)
    if not signed:
        return ("−" if amount < 0 else "") + text
    return "" if amount == 0 else ("+" if amount > 0 else "−") + text


# --- forms ------------------------------------------------------------------------------


class NameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=User._meta.get_field("name").max_length)


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=time_zone_choices)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)


class TokenForm(forms.Form):
    token_name = forms.CharField(
        label=gettext_lazy("What the token is for"),
        max_length=ApiToken._meta.get_field("name").max_length,
        required=False,
        help_text=gettext_lazy("For example the program that will use it."),
    )


class GrantForm(forms.Form):
    person = forms.TypedChoiceField(label=gettext_lazy("Person"), coerce=int)
    amount = forms.IntegerField(label=gettext_lazy("Credits"), min_value=1, max_value=ledger.MAX_GRANT)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=Transfer._meta.get_field("note").max_length,
        required=False,
        help_text=gettext_lazy("For example the invoice of the purchase."),
    )

    def __init__(self, *args, people: list[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.people = {person.pk: person for person in people}
        self.fields["person"].choices = [("", "—")] + [(p.pk, f"{p.name} <{p.email}>") for p in people]


# --- the account page -------------------------------------------------------------------


def account_page(request: HttpRequest, status: int = 200, **shown) -> HttpResponse:
    """The account page; ``shown`` replaces a blank form by a bound one (with its errors)
    or carries a secret made by this request (``new_token``, ``new_feed``)."""
    user = request.user
    context = {
        "name_form": NameForm(initial={"name": user.name}),
        "zone_form": TimeZoneForm(initial={"time_zone": user.time_zone}),
        "language_form": LanguageForm(initial={"language": user.language}),
        "password_form": PasswordChangeForm(user),
        "token_form": TokenForm(),
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at", "-id"),
        "feed": CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first(),
        "browser_zone": zone_named(request.COOKIES.get("tz")),
        "organizations": [
            {"organization": org, "wallet": url_or_none("web:wallet", org.slug)} for org in organizations_of(user)
        ],
        "expert_profiles": expert_profiles_of(user),
        **shown,
    }
    response = render(request, "web/account/page.html", context, status=status)
    if "new_token" in shown or "new_feed" in shown:
        response["Cache-Control"] = "no-store"
    return response


def expert_profiles_of(user: User) -> list[dict]:
    """E1: the organizations where the person is an expert, each with the page where they
    edit their profile there and the page clients see."""
    memberships = Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
    return [
        {
            "organization": m.organization,
            "edit": reverse("web:expert_profile_edit", args=[m.organization.slug]),
            "public": reverse("web:expert_profile", args=[m.organization.slug, user.pk]),
        }
        for m in memberships
        if serves(m)
    ]


def back_to(anchor: str) -> HttpResponse:
    return redirect(reverse("web:account") + "#" + anchor)


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return account_page(request)


@login_required
@require_POST
def save_name(request: HttpRequest) -> HttpResponse:
    form = NameForm(request.POST)
    if not form.is_valid():
        return account_page(request, 400, name_form=form)
    request.user.name = form.cleaned_data["name"]
    request.user.save(update_fields=["name"])
    messages.success(request, _("Your name is saved: %(name)s.") % {"name": request.user.name})
    return back_to("name")


@login_required
@require_POST
def save_time_zone(request: HttpRequest) -> HttpResponse:
    """D4, Q1: every date is then shown on this zone's clock."""
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return account_page(request, 400, zone_form=form)
    request.user.time_zone = form.cleaned_data["time_zone"]
    request.user.save(update_fields=["time_zone"])
    messages.success(
        request,
        _("Your time zone is saved: %(zone)s. Times are now shown on its clock.") % {"zone": request.user.time_zone},
    )
    return back_to("time-zone")


@login_required
@require_POST
def save_language(request: HttpRequest) -> HttpResponse:
    """D4: the pages (and Parlour's emails) are then in this language."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return account_page(request, 400, language_form=form)
    language = form.cleaned_data["language"]
    request.user.language = language
    request.user.save(update_fields=["language"])
    with translation.override(language):
        messages.success(
            request, _("Your language is saved: %(language)s.") % {"language": dict(settings.LANGUAGES)[language]}
        )
    response = back_to("language")
    # The browser keeps it too, for the pages after signing out.
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response


@login_required
@require_POST
def change_password(request: HttpRequest) -> HttpResponse:
    """O1: a new password; this browser stays signed in, other sessions end."""
    form = PasswordChangeForm(request.user, request.POST)
    if not form.is_valid():
        return account_page(request, 400, password_form=form)
    form.save()
    update_session_auth_hash(request, form.user)
    messages.success(request, _("Your password is changed."))
    return back_to("password")


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    """I2: a new personal token, shown in this answer only; only its hash is kept."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return account_page(request, 400, token_form=form)
    row, token = ApiToken.issue(request.user, form.cleaned_data["token_name"] or "API token")
    return account_page(request, 200, new_token={"row": row, "token": token})


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    """I2: the token stops working at once; another person's token is not found (O3)."""
    row = get_object_or_404(ApiToken, user=request.user, pk=token_id)
    ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    messages.success(request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": row.name})
    return back_to("tokens")


@login_required
@require_POST
def make_feed(request: HttpRequest) -> HttpResponse:
    """K3: a new private feed address, shown in this answer only; the previous one stops."""
    token = feeds.issue_feed(request.user)
    url = request.build_absolute_uri(reverse("api-v1:calendar_feed", kwargs={"token": token}))
    new_feed = {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}
    return account_page(request, 200, new_feed=new_feed)


@login_required
@require_POST
def revoke_feed(request: HttpRequest) -> HttpResponse:
    """K3: the feed address stops working at once."""
    feeds.revoke_feeds(request.user)
    messages.success(request, _("Your calendar feed is revoked: its address no longer works."))
    return back_to("calendar-feed")


# --- the wallet -------------------------------------------------------------------------


def movement(transfer: Transfer, user: User, slug: str) -> dict:
    """One row of the history: what it was and how it changed the person's available and
    blocked credits (a block moves credits from the one to the other)."""
    available = blocked = 0
    for account, sign in ((transfer.destination, 1), (transfer.source, -1)):
        if account.owner_id != user.pk:
            continue
        if account.kind == AccountKind.WALLET:
            available += sign * transfer.amount
        elif account.kind == AccountKind.ESCROW:
            blocked += sign * transfer.amount
    meeting = transfer.meeting
    return {
        "at": transfer.created_at,
        "name": KIND_LABELS.get(transfer.kind, transfer.get_kind_display()),
        "note": transfer.note,
        "meeting": meeting,
        "meeting_url": meeting and url_or_none("web:meeting", slug, meeting.pk),
        "available": amount_text(available, signed=True),
        "blocked": amount_text(blocked, signed=True),
    }


def people_of(organization: Organization) -> list[User]:
    """Who can be granted credits: the organization's members and clients."""
    found = Q(memberships__organization=organization) | Q(client_accounts__organization=organization)
    return list(User.objects.filter(found).distinct().order_by("name", "id"))


def wallet_page(
    request: HttpRequest, organization: Organization, *, grant_form=None, refusal: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    balance = ledger.balance_of(organization, user)
    history = ledger.history_of(organization, user).select_related("meeting__service")
    page = Paginator(history, HISTORY_PAGE).get_page(request.GET.get("page"))
    admin = is_admin(user, organization)
    if admin and grant_form is None:
        # "Grant credits" from the clients list names the person (``?person=``).
        grant_form = GrantForm(people=people_of(organization), initial={"person": request.GET.get("person")})
    context = {
        "organization": organization,
        "available": amount_text(balance.available),
        "blocked": amount_text(balance.blocked),
        "page": page,
        "rows": [movement(transfer, user, organization.slug) for transfer in page],
        "grant_form": grant_form if admin else None,
        "refusal": refusal,
    }
    return render(request, "web/account/wallet.html", context, status=status)


@login_required
@require_GET
def wallet(request: HttpRequest, slug: str) -> HttpResponse:
    """C2: my available and blocked credits in this organization and their history."""
    return wallet_page(request, organization_page(request, slug))


@login_required
@require_POST
def grant(request: HttpRequest, slug: str) -> HttpResponse:
    """C3: an admin records credits bought elsewhere for a member or client."""
    organization = organization_page(request, slug)
    try:
        require_admin(request.user, organization, rule="C3")
    except DomainError as error:
        return wallet_page(request, organization, refusal=error.message, status=error.status)
    form = GrantForm(request.POST, people=people_of(organization))
    if not form.is_valid():
        return wallet_page(request, organization, grant_form=form, status=400)
    person = form.people[form.cleaned_data["person"]]
    amount = form.cleaned_data["amount"]
    try:
        ledger.grant_credits(organization, person, amount, by=request.user, note=form.cleaned_data["note"])
    except DomainError as error:
        return wallet_page(request, organization, grant_form=form, refusal=error.message, status=error.status)
    available = ledger.balance_of(organization, person).available
    messages.success(
        request,
        _("%(amount)s credits granted to %(name)s, who now has %(available)s available.")
        % {"amount": amount_text(amount), "name": person.name, "available": amount_text(available)},
    )
    return redirect("web:wallet", slug=organization.slug)


# --- the expert's profile ---------------------------------------------------------------


def public_organization(request: HttpRequest, slug: str) -> Organization:
    """The organization of a public page: with its navigation for the people who belong to
    it; for anyone else only what it shows the public."""
    if request.user.is_authenticated:
        try:
            return organization_page(request, slug)
        except Http404:
            pass
    return get_object_or_404(Organization.objects.select_related("settings_row"), slug=slug)


@require_GET
def expert_profile(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """E1, S1: an expert's name, bio, skills and services, and with the reviews add-on (O4)
    the written reviews clients gave, with their date. Stars are never shown here."""
    organization = public_organization(request, slug)
    membership = (
        Membership.objects.filter(organization=organization, user_id=user_id).select_related("user", "profile").first()
    )
    if membership is None:
        raise Http404
    expert = membership.user
    services = list(Service.objects.filter(organization=organization, is_active=True, experts=expert).order_by("name"))
    if membership.role != Role.EXPERT and not services:
        raise Http404  # an admin who gives nothing is not an expert of the organization
    profile = getattr(membership, "profile", None)
    reviews = None
    if organization.reviews_enabled:
        found = Review.objects.filter(organization=organization, expert=expert).order_by("-updated_at", "-id")
        reviews = Paginator(found.only("text", "updated_at"), REVIEWS_PAGE).get_page(request.GET.get("page"))
    # E1: the stars clients gave are shown to the organization's admins only.
    admin = request.user.is_authenticated and is_admin(request.user, organization)
    edit_url = None
    if admin or expert.pk == request.user.pk:
        edit_url = reverse("web:expert_profile_edit", args=[organization.slug])
        edit_url += f"?expert={expert.pk}" if expert.pk != request.user.pk else ""
    context = {
        "organization": organization,
        "expert": expert,
        "profile": profile,
        "skills": list(profile.skills.order_by("name")) if profile else [],
        "services": services,
        "reviews": reviews,
        "booking_url": url_or_none("web:expert_page", organization.slug, expert.pk),
        "edit_url": edit_url,
        "stars": star_averages(organization).get(expert.pk) if admin else None,
    }
    return render(request, "web/account/profile.html", context)


urlpatterns = [
    path("account/", account, name="account"),
    path("account/name/", save_name, name="account_name"),
    path("account/time-zone/", save_time_zone, name="account_time_zone"),
    path("account/language/", save_language, name="account_language"),
    path("account/password/", change_password, name="account_password"),
    path("account/tokens/", create_token, name="account_token_create"),
    path("account/tokens/<int:token_id>/revoke/", revoke_token, name="account_token_revoke"),
    path("account/calendar-feed/", make_feed, name="account_feed"),
    path("account/calendar-feed/revoke/", revoke_feed, name="account_feed_revoke"),
    path("o/<slug:slug>/wallet/", wallet, name="wallet"),
    path("o/<slug:slug>/wallet/grant/", grant, name="wallet_grant"),
    path("o/<slug:slug>/experts/<int:user_id>/profile/", expert_profile, name="expert_profile"),
]
