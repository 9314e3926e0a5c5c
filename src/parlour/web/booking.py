"""The booking pages (B1, B2, B5, B7, E5): an expert's public page and a service's page with
a week of free slots in the visitor's time zone, the booking form for guests and signed-in
clients, and the confirmation. The guest's own page and the pick page for time options
(B4) are in ``guest_page``, which lists the guest page's own addresses.

These pages are public like the API's public booking (``api/public.py``): anyone may see an
organization's active services, the members who give them and their free slots. Anything
else — an unknown organization, an inactive service, a person who does not give a service
of the organization — is "not found" (O3). Parse, call the domain, render: the slots are
``availability.search``'s, the booking is ``lifecycle.book_meeting``."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from parlour.accounts.guests import MAX_EMAIL, MAX_NAME, MAX_PHONE, guest_for_booking
from parlour.accounts.models import Membership, Organization
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings import lifecycle
from parlour.meetings.access import access_meeting
from parlour.meetings.display import displayed_status
from parlour.meetings.lifecycle import MAX_TEXT, Party

from . import guest_page
from .booking_calendar import parse_day, parse_length, visitor_zone, week_of, zone_choices
from .pages import organization_page

MAX_ID = 2**31 - 1

# --- what is public ---------------------------------------------------------------------


def public_organization(request: HttpRequest, slug: str) -> Organization:
    """The organization of ``slug`` for anyone (its booking pages are public). For a viewer
    who belongs to it, the header shows its navigation as on its other pages."""
    if request.user.is_authenticated:
        try:
            return organization_page(request, slug)
        except Http404:
            pass
    organization = Organization.objects.filter(slug=slug).select_related("settings_row").first()
    if organization is None:
        raise Http404
    return organization


def _id(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 1 <= number <= MAX_ID:
        raise Http404
    return number


def public_service(organization: Organization, service_id) -> Service:
    service = Service.objects.filter(organization=organization, pk=_id(service_id), is_active=True).first()
    if service is None:
        raise Http404
    service.organization = organization  # the same row: its settings are read once
    return service


def expert_membership(organization: Organization, user_id, service: Service | None = None) -> Membership:
    """A member of the organization who gives ``service`` (or, without one, any of its
    active services); "not found" for anyone else."""
    services = Service.objects.filter(organization=organization, is_active=True)
    if service is not None:
        services = services.filter(pk=service.pk)
    membership = (
        Membership.objects.filter(organization=organization, user_id=_id(user_id), user__services__in=services)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def profile_of(membership: Membership) -> ExpertProfile | None:
    profile = ExpertProfile.objects.filter(membership=membership).prefetch_related("skills").first()
    if profile is not None:
        profile.membership = membership
    return profile


# --- the calendar pages (E5, B7) ------------------------------------------------------------


def _calendar_context(service, zone, chosen, week, *, expert=None, base_url: str) -> dict:
    """What the calendar partial needs: the week, the zone choice, and where its links go
    (another week or zone: ``base_url``; a slot: the booking form)."""
    kept = {"service": service.pk, "length": week.length, "tz": zone}
    slot = {**kept, **({"expert": expert.pk} if expert else {})}
    return {
        "service": service,
        "expert": expert,
        "week": week,
        "zone": zone,
        "zone_chosen": chosen,
        "zones": zone_choices(),
        "calendar_url": base_url,
        "nav_query": urlencode(kept),
        "slot_base": f"{reverse('web:book', args=[service.organization.slug])}?{urlencode(slot)}&",
    }


def _render_in(request: HttpRequest, zone: str, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Render with times on the ``zone``'s clock."""
    with timezone.override(zone):
        return render(request, template, context, status=status)


@require_GET
def expert_page(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """E1, E5: an expert's public page: name, bio, skills, the services they give, and a
    week of their free slots for one service (``service``), with its lengths."""
    organization = public_organization(request, slug)
    membership = expert_membership(organization, user_id)
    expert = membership.user
    services = list(Service.objects.filter(organization=organization, is_active=True, experts=expert).order_by("name"))
    wanted = request.GET.get("service")
    service = next((s for s in services if str(s.pk) == wanted), services[0])
    service.organization = organization
    profile = profile_of(membership)
    zone, chosen = visitor_zone(request)
    length = parse_length(service, request.GET.get("length"))
    week = week_of(service, zone, parse_day(request.GET.get("week")), length, clock.now(), profile)
    url = reverse("web:expert_page", args=[slug, expert.pk])
    context = _calendar_context(service, zone, chosen, week, expert=expert, base_url=url)
    context.update({"organization": organization, "profile": profile, "services": services})
    template = "web/booking/calendar.html" if request.htmx else "web/booking/expert.html"
    return _render_in(request, zone, template, context)


@require_GET
def service_page(request: HttpRequest, slug: str, service_id: int) -> HttpResponse:
    """B7: a service's page: book it with whichever of its experts is free."""
    organization = public_organization(request, slug)
    service = public_service(organization, service_id)
    zone, chosen = visitor_zone(request)
    length = parse_length(service, request.GET.get("length"))
    week = week_of(service, zone, parse_day(request.GET.get("week")), length, clock.now(), any_expert=True)
    url = reverse("web:service_page", args=[slug, service.pk])
    context = _calendar_context(service, zone, chosen, week, base_url=url)
    experts = service.experts.filter(memberships__organization=organization).order_by("name")
    context.update({"organization": organization, "experts": experts})
    template = "web/booking/calendar.html" if request.htmx else "web/booking/service.html"
    return _render_in(request, zone, template, context)


# --- the booking form (B1, B2) ------------------------------------------------------------------


class BookingForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(label=_("What would you like to talk about?"), max_length=MAX_TEXT, required=False)


class GuestBookingForm(BookingForm):
    name = forms.CharField(label=_("Your name"), max_length=MAX_NAME)
    email = forms.EmailField(label=_("Email address"), max_length=MAX_EMAIL)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=MAX_PHONE, required=False)

    field_order = ["name", "email", "phone", "subject", "description"]


def _slot_start(text: str | None) -> datetime | None:
    """The slot's start as the calendar sends it (UTC, ISO); None when it is not one."""
    try:
        start = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return start.astimezone(UTC) if start.utcoffset() is not None else None


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, slug: str) -> HttpResponse:
    """B1, B2, B7: the form for a chosen slot (GET) and the booking (POST). A guest gives
    their name, email and optional phone; a signed-in client books as themselves. A refusal
    (taken, too short notice, a paid service for a guest, …) is shown with the week's slots
    again, and nothing is booked."""
    organization = public_organization(request, slug)
    data = request.POST if request.method == "POST" else request.GET
    service = public_service(organization, data.get("service"))
    membership = expert_membership(organization, data["expert"], service) if data.get("expert") else None
    expert = membership.user if membership else None
    zone, _chosen = visitor_zone(request, data.get("tz"))
    length = parse_length(service, data.get("length"))
    start = _slot_start(data.get("start"))
    person = request.user if request.user.is_authenticated else None
    form_class = BookingForm if person else GuestBookingForm
    form = form_class(request.POST if request.method == "POST" else None)
    error = None if start else _("Choose a time from the calendar.")
    status = 200 if start or request.method == "GET" else 400
    if request.method == "POST" and start and form.is_valid():
        try:
            meeting = _book(organization, service, expert, person, form.cleaned_data, start, length, zone)
        except DomainError as refusal:
            fields = [e for e in refusal.details.get("errors", []) if e.get("field") in form.fields]
            for problem in fields:
                form.add_error(problem["field"], problem["message"])
            error = None if fields else refusal.message
            status = refusal.status
        else:
            if meeting.guest_id:
                _remember_booked(request, meeting)
            return redirect("web:booked", slug, meeting.pk)
    context = {
        "organization": organization,
        "service": service,
        "expert": expert,
        "start": start,
        "end": start + timedelta(minutes=length) if start else None,
        "length": length,
        "zone": zone,
        "form": form,
        "error": error,
        "person": person,
    }
    if error or not start:  # the week's slots again, around the time chosen
        profile = profile_of(membership) if membership else None
        day = start.astimezone(ZoneInfo(zone)).date() if start else None
        week = week_of(service, zone, day, length, clock.now(), profile, any_expert=expert is None)
        if expert:
            url = reverse("web:expert_page", args=[slug, expert.pk])
        else:
            url = reverse("web:service_page", args=[slug, service.pk])
        context.update(_calendar_context(service, zone, True, week, expert=expert, base_url=url))
    if form.errors and status == 200:
        status = 400
    return _render_in(request, zone, "web/booking/book.html", context, status)


def _book(organization, service, expert, person, data: dict, start: datetime, length: int, zone: str):
    with transaction.atomic():  # a refused booking leaves no new or changed guest behind
        if person is not None:
            party = Party(client=person)
        else:
            language = translation.get_language()  # the visitor's, for the mails they get (D4)
            guest = guest_for_booking(organization, data["name"], data["email"], data["phone"], zone, language)
            party = Party(guest=guest)
        return lifecycle.book_meeting(
            service=service,
            expert=expert,
            party=party,
            start=start,
            length=length,
            subject=data["subject"],
            description=data["description"],
        )


BOOKED = "parlour.booked"  # the session's list of meetings its visitor just booked as a guest


def _remember_booked(request: HttpRequest, meeting) -> None:
    request.session[BOOKED] = [*request.session.get(BOOKED, [])[-9:], meeting.pk]


@require_GET
def booked(request: HttpRequest, slug: str, meeting_id: int) -> HttpResponse:
    """B2, B5: what happens next: the expert confirms, or it is agreed. A client sees their
    meeting's page; a guest, in the browser that booked, sees the guest key and is told that
    the link to their own page is in their email. The link itself is never shown here:
    whoever books has only typed the address, and the link reaches everything of that guest
    (O3, X1)."""
    organization = public_organization(request, slug)
    if meeting_id in request.session.get(BOOKED, []):
        meeting = organization.meetings.select_related("guest", "service", "expert").filter(pk=meeting_id).first()
        if meeting is None or meeting.guest_id is None:
            raise Http404
        zone = visitor_zone(request, None)[0]
    else:
        if not request.user.is_authenticated:
            raise Http404
        try:
            meeting = access_meeting(request.user, organization, meeting_id)
        except NotFound:
            raise Http404 from None
        if meeting.client_id != request.user.pk:
            raise Http404
        zone = request.user.time_zone or "UTC"
    context = {
        "organization": organization,
        "meeting": meeting,
        "status": displayed_status(meeting, clock.now()),
        "guest": meeting.guest_id is not None,
        "zone": zone,
        "meeting_url": f"/o/{organization.slug}/meetings/{meeting.pk}/",
    }
    return _render_in(request, zone, "web/booking/booked.html", context)


urlpatterns = [
    path("o/<slug:slug>/experts/<int:user_id>/", expert_page, name="expert_page"),
    path("o/<slug:slug>/services/<int:service_id>/", service_page, name="service_page"),
    path("o/<slug:slug>/book/", book, name="book"),
    path("o/<slug:slug>/booked/<int:meeting_id>/", booked, name="booked"),
    path("o/<slug:slug>/meetings/<int:meeting_id>/options/", guest_page.pick_page, name="pick_option"),
    *guest_page.urlpatterns,  # the guest's own page and its actions (g/<token>/…)
]
