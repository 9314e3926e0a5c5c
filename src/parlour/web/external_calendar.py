"""K4: an expert's external calendar (CalDAV), beside their free dates.

The expert connects a calendar by its address, user name and password; the server is asked
at once, so a wrong password or address is said there and nothing is kept. The page shows
when the calendar was last read and what went wrong, if anything; the expert reads it again
("Check now") or disconnects it (the meetings Parlour wrote into it are taken out first, as
far as the server lets within a few seconds). A calendar disabled after refused logins says
so, and connecting it again with the password turns it back on. The password is never shown
back, to anyone. Who may open
the page is who may open the free dates (``free_dates.whose``): the expert, or an admin of
the organization with ``?expert=``; anyone else hears "not found" (O3)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from parlour.accounts.models import Membership, Organization
from parlour.calendars import external
from parlour.calendars.models import CalendarConnection
from parlour.catalog.models import ExpertProfile
from parlour.core.errors import DomainError

from .free_dates import context_of, page_url

# The calendar's own messages (calendars.external), in the viewer's language.
MESSAGES = {
    external.WRONG_LOGIN: gettext_lazy("The calendar server did not accept the user name or password."),
    external.NOT_FOUND: gettext_lazy("No calendar was found at this address."),
    external.UNREACHABLE: gettext_lazy("The calendar server could not be reached. Check the address."),
    external.FAILED: gettext_lazy("The calendar server answered with an error."),
}
SAVED = {
    "connected": gettext_lazy("Your calendar is connected; its busy times now block your slots."),
    "checked": gettext_lazy("Your calendar was read again."),
    "disconnected": gettext_lazy("Your calendar is disconnected; its busy times no longer block your slots."),
}


def explained(message: str) -> str:
    """``message`` in the viewer's language; those not above (``external.REFUSED``) are in
    the domain's catalogue."""
    return str(MESSAGES[message]) if message in MESSAGES else _(message)


class ConnectionForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Address of the calendar (CalDAV)"),
        max_length=500,
        assume_scheme="https",
        help_text=gettext_lazy("The calendar's own address, as your calendar program shows it for CalDAV."),
        widget=forms.URLInput(attrs={"autocomplete": "url", "inputmode": "url"}),
    )
    username = forms.CharField(
        label=gettext_lazy("User name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("An app password if your provider offers one. Leave empty to keep the one you gave."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )


def _profile(membership: Membership) -> ExpertProfile:
    profile, _created = ExpertProfile.objects.get_or_create(membership=membership)
    return profile


def _url(organization: Organization, membership: Membership, request: HttpRequest, name: str, **more) -> str:
    return page_url(organization, membership, request, name=name, **more)


def _render(request, organization, membership, *, form=None, refusal="", status=200) -> HttpResponse:
    profile = _profile(membership)
    connection = CalendarConnection.objects.filter(profile=profile).first()
    if form is None:
        initial = {"url": connection.url, "username": connection.username} if connection else {}
        form = ConnectionForm(initial=initial)
    context = {
        "organization": organization,
        "expert": membership.user,
        "for_other": membership.user_id != request.user.pk,
        "connection": connection,
        "last_error": explained(connection.last_error) if connection and connection.last_error else "",
        "busy_count": profile.external_busy.count() if connection else 0,
        "form": form,
        "refusal": refusal,
        "saved": SAVED.get(request.GET.get("saved", ""), ""),
        "urls": {
            "free_dates": _url(organization, membership, request, "web:free_dates"),
            "connect": _url(organization, membership, request, "web:external_calendar_connect"),
            "check": _url(organization, membership, request, "web:external_calendar_check"),
            "disconnect": _url(organization, membership, request, "web:external_calendar_disconnect"),
        },
    }
    return render(request, "web/free_dates/external_calendar.html", context, status=status)


def _saved(organization, membership, request, what: str) -> HttpResponse:
    return redirect(_url(organization, membership, request, "web:external_calendar", saved=what))


@login_required
def external_calendar_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = context_of(request, slug)
    return _render(request, organization, membership)


@login_required
@require_POST
def connect(request: HttpRequest, slug: str) -> HttpResponse:
    """Check the calendar with the server and keep it only if the server accepts it."""
    organization, membership = context_of(request, slug)
    form = ConnectionForm(request.POST)
    if not form.is_valid():
        return _render(request, organization, membership, form=form, status=400)
    data = form.cleaned_data
    profile = _profile(membership)
    try:
        external.connect(profile, url=data["url"], username=data["username"].strip(), password=data["password"])
    except external.CalendarUnusable as error:
        message = _("Not connected: %(reason)s") % {"reason": explained(str(error))}
        return _render(request, organization, membership, form=form, refusal=message, status=400)
    except DomainError as error:  # K4, O3: an address inside a private network
        message = _("Not connected: %(reason)s") % {"reason": error.message}
        return _render(request, organization, membership, form=form, refusal=message, status=400)
    return _saved(organization, membership, request, "connected")


@login_required
@require_POST
def check(request: HttpRequest, slug: str) -> HttpResponse:
    """Read the calendar now; a failure is shown as the last error."""
    organization, membership = context_of(request, slug)
    connection = CalendarConnection.objects.filter(profile__membership=membership).first()
    if connection is None:
        return redirect(_url(organization, membership, request, "web:external_calendar"))
    if not external.sync_busy(connection):
        return redirect(_url(organization, membership, request, "web:external_calendar"))
    return _saved(organization, membership, request, "checked")


@login_required
@require_POST
def disconnect(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = context_of(request, slug)
    external.disconnect(_profile(membership))
    return _saved(organization, membership, request, "disconnected")


urlpatterns = [
    path("o/<slug:slug>/free-dates/calendar/", external_calendar_page, name="external_calendar"),
    path("o/<slug:slug>/free-dates/calendar/connect/", connect, name="external_calendar_connect"),
    path("o/<slug:slug>/free-dates/calendar/check/", check, name="external_calendar_check"),
    path("o/<slug:slug>/free-dates/calendar/disconnect/", disconnect, name="external_calendar_disconnect"),
]
