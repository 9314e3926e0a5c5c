"""The expert's page to propose a meeting (B3) or offer several times to choose from (B4), to a
client of the organization or to a guest.

Only a member who is an expert of the organization (the expert role, or one who gives one of
its services) reaches the page; anyone else gets "not found" (O3). The page parses what the
expert entered — times on the expert's own clock, the active zone, where a time that does
not exist or happens twice on the day the clocks change is refused next to its field (Q1) —
and calls the domain functions the API calls (``api/actions.py``: ``propose``,
``offer_options``): ``lifecycle.propose_meeting`` or ``lifecycle.offer_time_options``. A
guest is found or made by ``accounts.guests.guest_for_booking`` inside the same transaction,
so a refused proposal leaves nothing behind. A refusal is shown with the domain's message;
success goes to the meeting's page (PRG)."""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from parlour.accounts.access import membership_of
from parlour.accounts.guests import MAX_EMAIL, MAX_NAME, MAX_PHONE, guest_for_booking
from parlour.accounts.models import ClientAccount, Membership, Organization, Role, User
from parlour.catalog.models import MAX_PRICE, ExpertProfile, Service, Skill
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import MAX_TEXT, Party

from .pages import organization_page

MAX_OPTIONS = 5  # B4 on this page: two to five times
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
ONE, OPTIONS = "one", "options"
CLIENT, GUEST = "client", "guest"


# --- who may propose ----------------------------------------------------------------------


def services_given(organization: Organization, user: User) -> list[Service]:
    found = Service.objects.filter(organization=organization, is_active=True, experts=user).order_by("name")
    services = list(found)
    for service in services:
        service.organization = organization  # the same row: its settings are read once
    return services


def is_proposer(membership: Membership | None, services: list[Service]) -> bool:
    """An expert of the organization: the expert role, or a member who gives a service."""
    return membership is not None and (membership.role == Role.EXPERT or bool(services))


def shows_propose_button(user: User, organization: Organization) -> bool:
    """For the overview's "Propose a meeting" button: a member with the expert role (no
    query: the viewer's membership is known since ``organization_page``), or an admin who
    gives one of the organization's active services (one query)."""
    membership = membership_of(user, organization)
    if membership is None:
        return False
    if membership.role == Role.EXPERT:
        return True
    return Service.objects.filter(organization=organization, is_active=True, experts=user).exists()


# --- the forms ----------------------------------------------------------------------------


class ServiceChoice(forms.ModelChoiceField):
    def label_from_instance(self, service: Service) -> str:
        price = _("%(credits)s credits") % {"credits": service.price} if service.price else _("free")
        return f"{service.name} ({price})"


class ClientChoice(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        return f"{user.name} ({user.email})"


class ProposalForm(forms.Form):
    """What the proposal is and to whom; its times are the ``TimeForm`` rows."""

    kind = forms.ChoiceField(
        label=_("What do you propose?"),
        choices=[(ONE, _("One time, which they confirm")), (OPTIONS, _("Several times, of which they pick one"))],
        initial=ONE,
        widget=forms.RadioSelect,
    )
    service = ServiceChoice(label=_("Service"), queryset=Service.objects.none(), empty_label=None)
    party = forms.ChoiceField(
        label=_("Who is it for?"),
        choices=[(CLIENT, _("A client of the organization")), (GUEST, _("A guest (without an account)"))],
        initial=CLIENT,
        widget=forms.RadioSelect,
    )
    client = ClientChoice(label=_("Client"), queryset=User.objects.none(), required=False)
    guest_name = forms.CharField(label=_("Guest’s name"), max_length=MAX_NAME, required=False)
    guest_email = forms.EmailField(label=_("Guest’s email address"), max_length=MAX_EMAIL, required=False)
    guest_phone = forms.CharField(label=_("Guest’s phone (optional)"), max_length=MAX_PHONE, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    price = forms.IntegerField(
        label=_("Price in credits (optional)"),
        min_value=0,
        max_value=MAX_PRICE,
        required=False,
        help_text=_("Empty: the service's price. A guest can be offered a free meeting only (0)."),
    )
    skill = forms.ModelChoiceField(
        label=_("Skill (optional)"), queryset=Skill.objects.none(), required=False, empty_label=_("No skill")
    )

    def __init__(self, organization: Organization, expert: User, services: list[Service], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(pk__in=[s.pk for s in services]).order_by("name")
        clients = ClientAccount.objects.filter(organization=organization).values("user_id")
        self.fields["client"].queryset = (
            User.objects.filter(pk__in=clients).exclude(pk=expert.pk).order_by("name", "pk")
        )
        profile = ExpertProfile.objects.filter(membership__organization=organization, membership__user=expert)
        self.fields["skill"].queryset = Skill.objects.filter(organization=organization, experts__in=profile).order_by(
            "name"
        )
        if not self.fields["skill"].queryset.exists():
            del self.fields["skill"]

    def clean(self):
        data = super().clean()
        if data.get("party") == CLIENT:
            if not data.get("client") and "client" not in self.errors:
                self.add_error("client", _("Choose a client."))
        elif data.get("party") == GUEST:
            if not data.get("guest_name", "").strip() and "guest_name" not in self.errors:
                self.add_error("guest_name", _("Give the guest’s name."))
            if not data.get("guest_email") and "guest_email" not in self.errors:
                self.add_error("guest_email", _("Give the guest’s email address."))
        return data

    def full_clean(self):
        super().full_clean()
        described(self)


class TimeForm(forms.Form):
    """One time: a date and time on the expert's clock (the active zone) and a length."""

    start = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    length = forms.TypedChoiceField(label=_("Length"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, lengths=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(n, _("%(minutes)s minutes") % {"minutes": n}) for n in lengths]
        self.fields["length"].choices = [("", _("The service's usual length"))] + choices

    def full_clean(self):
        super().full_clean()
        described(self)


TimeFormSet = forms.formset_factory(TimeForm, extra=0, max_num=MAX_OPTIONS, absolute_max=MAX_OPTIONS)


def described(form: forms.Form) -> None:
    """A field in error points at its message (``aria-describedby``)."""
    for name in form.errors:
        if name in form.fields:
            ids = [f"{form[name].auto_id}_error"]
            if form.fields[name].help_text:
                ids.append(f"{form[name].auto_id}_helptext")
            form.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)
            form.fields[name].widget.attrs["aria-invalid"] = "true"


def time_rows(data, services: list[Service], initial: list[dict] | None = None) -> forms.BaseFormSet:
    """The rows of times: bound to what was posted, or unbound with ``initial`` (one empty row)."""
    lengths = sorted({n for service in services for n in service.lengths})
    if data is None:
        return TimeFormSet(prefix="time", initial=initial or [{}], form_kwargs={"lengths": lengths})
    return TimeFormSet(data, prefix="time", form_kwargs={"lengths": lengths})


def chosen_times(form: ProposalForm, times: forms.BaseFormSet, now: datetime) -> list[tuple[datetime, int]] | None:
    """The times entered, each with its length (the service's usual one when none is chosen),
    or None when one of them is refused (the error is put next to its field)."""
    service, kind = form.cleaned_data["service"], form.cleaned_data["kind"]
    rows = [row for row in times if row.cleaned_data.get("start")]
    if not rows:
        if times.forms:
            times.forms[0].add_error("start", _("Give a date and time."))
        else:
            form.add_error(None, _("Give a date and time."))
        return None
    if kind == ONE and len(rows) > 1:
        rows[1].add_error("start", _("A proposal has one time; choose “Several times” to offer more."))
        return None
    if kind == OPTIONS and len(rows) < 2:
        target = next((row for row in times if not row.cleaned_data.get("start")), rows[0])
        target.add_error("start", _("Offer at least two times, or choose “One time”."))
        return None
    chosen, seen, refused = [], set(), False
    for row in rows:
        start = row.cleaned_data["start"]
        length = row.cleaned_data.get("length") or service.default_length
        if start <= now:
            row.add_error("start", _("This time has passed. Choose a time in the future."))
            refused = True
        elif start in seen:
            row.add_error("start", _("This time is offered twice."))
            refused = True
        if length not in service.lengths:
            allowed = ", ".join(str(n) for n in service.lengths)
            row.add_error(
                "length", _("%(service)s lasts %(allowed)s minutes.") % {"service": service, "allowed": allowed}
            )
            refused = True
        seen.add(start)
        chosen.append((start, length))
    return None if refused else chosen


# --- the page -------------------------------------------------------------------------------


def _propose(organization: Organization, expert: User, data: dict, chosen: list[tuple[datetime, int]]):
    with transaction.atomic():  # a refused proposal leaves no new or changed guest behind
        if data["party"] == CLIENT:
            party = Party(client=data["client"])
        else:
            guest = guest_for_booking(
                organization, data["guest_name"], data["guest_email"], data["guest_phone"], by_member=True
            )
            party = Party(guest=guest)
        what = {
            "service": data["service"],
            "party": party,
            "price": data["price"],
            "subject": data["subject"],
            "description": data["description"],
            "skill": data.get("skill"),
        }
        if data["kind"] == ONE:
            start, length = chosen[0]
            return lifecycle.propose_meeting(expert, start=start, length=length, **what)
        return lifecycle.offer_time_options(expert, options=chosen, **what)


GUEST_FIELDS = {"name": "guest_name", "email": "guest_email", "phone": "guest_phone"}
PREFILLED = ("service", "party", "client", "guest_name", "guest_email", "guest_phone")


@login_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest, slug: str) -> HttpResponse:
    """B3, B4: the form (GET), the proposal (POST). "Add another time" without JavaScript posts
    the form back with one row more; with it, the row is added in the page."""
    organization = organization_page(request, slug)
    services = services_given(organization, request.user)
    if not is_proposer(membership_of(request.user, organization), services):
        raise Http404
    error, status = None, 200
    if request.method == "GET":
        # B3 "from a conversation": its party (and service) come filled in from the address.
        filled = {name: request.GET[name] for name in PREFILLED if request.GET.get(name)}
        form = ProposalForm(organization, request.user, services, initial=filled)
        times = time_rows(None, services)
    else:
        if "add_time" in request.POST:  # no JavaScript: the same form with one row more
            return _more_rows(request, organization, services)
        form = ProposalForm(organization, request.user, services, request.POST)
        times = time_rows(request.POST, services)
        form_ok, times_ok = form.is_valid(), times.is_valid()
        chosen = chosen_times(form, times, clock.now()) if form_ok and times_ok else None
        if chosen is not None:
            try:
                meeting = _propose(organization, request.user, form.cleaned_data, chosen)
            except DomainError as refusal:
                fields = [e for e in refusal.details.get("errors", []) if e.get("field") in GUEST_FIELDS]
                for problem in fields:
                    form.add_error(GUEST_FIELDS[problem["field"]], problem["message"])
                error = None if fields else refusal.message
                status = refusal.status if refusal.status >= 400 else 400
            else:
                name = meeting.client_name
                if form.cleaned_data["kind"] == ONE:
                    done = _("Your proposal is sent to %(name)s.") % {"name": name}
                else:
                    done = _("Your times are sent to %(name)s.") % {"name": name}
                messages.success(request, done)
                return redirect("web:meeting", organization.slug, meeting.pk)
        if status == 200:
            status = 400
    return _render(request, organization, services, form, times, error, status)


def _more_rows(request: HttpRequest, organization: Organization, services: list[Service]) -> HttpResponse:
    """Without JavaScript, "Add another time" posts the form: it comes back as entered, with
    one empty row more (at most five) and "Several times" chosen; nothing is checked yet."""
    data = request.POST
    total = data.get("time-TOTAL_FORMS", "")
    count = max(1, min((int(total) if total.isdigit() and len(total) < 3 else 1) + 1, MAX_OPTIONS))
    entered = {name: data.get(name) for name in ProposalForm.base_fields if name in data}
    form = ProposalForm(organization, request.user, services, initial={**entered, "kind": OPTIONS})
    rows = [
        {"start": data.get(f"time-{n}-start", ""), "length": data.get(f"time-{n}-length", "")} for n in range(count)
    ]
    return _render(request, organization, services, form, time_rows(None, services, rows), None, 200)


def _render(request, organization, services, form, times, error, status) -> HttpResponse:
    context = {
        "organization": organization,
        "services": services,
        "form": form,
        "times": times,
        "max_options": MAX_OPTIONS,
        "error": error,
        "invalid": status >= 400 and not error,
    }
    return render(request, "web/proposals/propose.html", context, status=status)


urlpatterns = [
    path("o/<slug:slug>/propose/", propose, name="propose"),
]
