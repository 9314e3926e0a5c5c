"""Area E: an expert's free dates (E3) — weekly hours, dated exceptions, time off and the
limits (minimum notice, buffers, meetings a day), in the expert's own time zone, with a
preview of the coming week's bookable slots (E4).

An expert of the organization manages their own; an admin may open any expert's with
``?expert=<user id>`` (without it, an admin who is not an expert picks one); anyone else
hears "not found" (O3). Every change goes through ``availability.free_dates`` (the same
functions as the API): a refusal is shown and nothing changes. Each save answers with a
redirect to the page (``saved=<part>``); htmx posts the same forms and swaps the page's
``#free-dates`` part, so the plain forms and the enhanced page are one code path."""

import dataclasses
import uuid
import zoneinfo
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from parlour.accounts.access import membership_of
from parlour.accounts.models import Membership, Organization, Role
from parlour.availability import free_dates, search
from parlour.availability.free_dates import DatedHours, FreeDatesSet, Hours
from parlour.availability.models import ExceptionKind
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.core.errors import DomainError

from .pages import organization_page

PREVIEW_DAYS = 7
PREVIEW_LENGTH = 60  # for an expert who gives no service yet
WEEKDAY_NAMES = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
WEEKDAY_KEYS = {str(n) for n in range(7)}
KIND_LABELS = {
    ExceptionKind.ADD: gettext_lazy("Extra hours"),
    ExceptionKind.REMOVE: gettext_lazy("Hours off"),
    ExceptionKind.DAY_OFF: gettext_lazy("Whole day off"),
}
SAVED = {
    "weekly": gettext_lazy("Your weekly hours are saved."),
    "exceptions": gettext_lazy("Your dated exceptions are saved."),
    "time_off": gettext_lazy("Your time off is saved."),
    "limits": gettext_lazy("Your time zone and limits are saved."),
}


@cache
def zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


# --- whose free dates -------------------------------------------------------------------


def serves(membership: Membership) -> bool:
    """An expert of the organization: the expert role, or an admin who gives a service."""
    return (
        membership.role == Role.EXPERT
        or Service.objects.filter(organization_id=membership.organization_id, experts=membership.user_id).exists()
    )


def experts_of(organization: Organization) -> list[Membership]:
    given = Service.objects.filter(organization=organization).values("experts")
    found = Membership.objects.filter(Q(role=Role.EXPERT) | Q(user_id__in=given), organization=organization)
    return list(found.select_related("user").order_by("user__name", "user_id"))


def choose_expert(request: HttpRequest, organization: Organization, *, url_name: str, title, question):
    """The page where an admin picks whose free dates or profile to open (the page at
    ``url_name`` with ``?expert=``)."""
    context = {
        "organization": organization,
        "experts": experts_of(organization),
        "url_name": url_name,
        "title": title,
        "question": question,
    }
    return render(request, "web/choose_expert.html", context)


def whose(request: HttpRequest, organization: Organization) -> Membership | None:
    """The membership whose free dates the page shows; None: an admin still has to choose."""
    own = membership_of(request.user, organization)
    if own is None:
        raise Http404
    wanted = request.GET.get("expert", "").strip()
    if not wanted or wanted == str(own.user_id):
        if serves(own):
            return own
        if own.role == Role.ADMIN and not wanted:
            return None
        raise Http404
    if own.role != Role.ADMIN or not wanted.isdigit() or len(wanted) > 12:
        raise Http404
    other = (
        Membership.objects.filter(organization=organization, user_id=int(wanted))
        .select_related("user", "organization")
        .first()
    )
    if other is None or not serves(other):
        raise Http404
    return other


def page_url(organization: Organization, membership: Membership, request: HttpRequest, name="web:free_dates", **more):
    """An address of this page (or one of its forms) for the same expert."""
    query = {}
    if membership.user_id != request.user.pk:
        query["expert"] = membership.user_id
    query.update({key: value for key, value in more.items() if value not in (None, "")})
    url = reverse(name, args=[organization.slug])
    return url + ("?" + urlencode(query) if query else "")


# --- parsing ------------------------------------------------------------------------------


def clock_text(value: time | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def parse_clock(text: str, *, end: bool = False) -> time:
    """A wall-clock time HH:MM; an end of 24:00 is midnight at the end of the day (00:00)."""
    text = text.strip()
    if end and text == "24:00":
        return time(0)
    try:
        value = time.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Give a time as HH:MM.")) from None
    if value.second or value.microsecond or value.tzinfo is not None:
        raise ValueError(_("Give a time as HH:MM."))
    return value


def weekly_rows(post) -> tuple[list[dict], list[Hours], list[tuple[int, int]], bool]:
    """The weekly form as rows per weekday (as typed, with errors), the hours they make, and
    for each of those hours its (weekday, row). A row emptied, or removed with its button,
    is left out."""
    removed = post.get("remove", "")
    days, hours, positions, fine = [], [], [], True
    for weekday in range(7):
        starts, ends = post.getlist(f"start-{weekday}"), post.getlist(f"end-{weekday}")
        rows = []
        for index in range(max(len(starts), len(ends))):
            start = starts[index].strip() if index < len(starts) else ""
            end = ends[index].strip() if index < len(ends) else ""
            if f"{weekday}-{index}" == removed or not (start or end):
                continue
            row = {"start": start, "end": end, "errors": []}
            rows.append(row)
            if not (start and end):
                row["errors"].append(_("Give both a start and an end, or clear both to remove the interval."))
                fine = False
                continue
            try:
                hours.append(Hours(weekday, parse_clock(start), parse_clock(end, end=True)))
                positions.append((weekday, len(rows) - 1))
            except ValueError as error:
                row["errors"].append(str(error))
                fine = False
        days.append(rows)
    return days, hours, positions, fine


class ExceptionForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("What changes"), choices=list(KIND_LABELS.items()))
    start = forms.TimeField(
        label=gettext_lazy("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end = forms.CharField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=gettext_lazy("Not needed for a whole day off. 00:00 as the end means midnight."),
    )

    def clean_end(self):
        text = self.cleaned_data["end"]
        if not text.strip():
            return None
        try:
            return parse_clock(text, end=True)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind != ExceptionKind.DAY_OFF:
            for name in ("start", "end"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Extra hours and hours off need a start and an end."))
        elif kind == ExceptionKind.DAY_OFF:
            data["start"] = data["end"] = None
        return data


class ExpertClockField(forms.DateTimeField):
    """A date and time on the expert's clock: read without the viewer's zone (whose gaps and
    repeated hours play no part); ``aware`` puts it on the expert's clock."""

    def to_python(self, value):
        with timezone.override(UTC):
            return super().to_python(value)


class TimeOffForm(forms.Form):
    """Its fields have ids of their own: the exception form on the same page has a start and
    an end too, and a label must name one field."""

    start = ExpertClockField(
        label=gettext_lazy("From"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = ExpertClockField(
        label=gettext_lazy("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=free_dates.MAX_NOTE, required=False, help_text=gettext_lazy("Optional.")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "time_off_%s")
        super().__init__(*args, **kwargs)


class LimitsForm(forms.Form):
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"), choices=zone_choices)
    minimum_notice_minutes = forms.IntegerField(
        label=gettext_lazy("Minimum notice (minutes)"), min_value=0, max_value=free_dates.MAX_NOTICE_MINUTES
    )
    buffer_before_minutes = forms.IntegerField(
        label=gettext_lazy("Buffer before a meeting (minutes)"), min_value=0, max_value=free_dates.MAX_BUFFER_MINUTES
    )
    buffer_after_minutes = forms.IntegerField(
        label=gettext_lazy("Buffer after a meeting (minutes)"), min_value=0, max_value=free_dates.MAX_BUFFER_MINUTES
    )
    max_meetings_per_day = forms.IntegerField(
        label=gettext_lazy("Most meetings a day"),
        min_value=1,
        max_value=free_dates.MAX_PER_DAY,
        required=False,
        help_text=gettext_lazy("Leave empty for no limit."),
    )


def aware(moment: datetime, zone_name: str) -> datetime:
    """A datetime typed on the expert's clock (forms give it in the viewer's zone)."""
    return moment.replace(tzinfo=None).replace(tzinfo=ZoneInfo(zone_name))


# --- the page -----------------------------------------------------------------------------


def preview(organization: Organization, membership: Membership, zone_name: str, service_id: str) -> dict:
    """E4: the bookable starts of the coming week, on the expert's clock, per day."""
    services = list(
        Service.objects.filter(organization=organization, experts=membership.user_id, is_active=True).order_by("name")
    )
    for service in services:
        service.organization = organization  # known already: not read again for the settings
    service = next((s for s in services if str(s.pk) == service_id), services[0] if services else None)
    if service is None:
        service = Service(organization=organization, lengths=[PREVIEW_LENGTH])
    length = service.lengths[0] if service.lengths else PREVIEW_LENGTH
    profile = ExpertProfile.objects.filter(membership=membership).select_related("membership__user").first()
    now = clock.now()
    starts = (
        []
        if profile is None
        else search.expert_slots(service, profile, search.Query(length, now, now + timedelta(days=PREVIEW_DAYS), now))
    )
    zone = ZoneInfo(zone_name)
    per_day = defaultdict(list)
    for start in starts:
        local = start.astimezone(zone)
        per_day[local.date()].append(local.time().replace(tzinfo=None))
    today = now.astimezone(zone).date()
    days = [today + timedelta(days=n) for n in range(PREVIEW_DAYS + 1)]
    return {
        "services": services,
        "service": service if service.pk else None,
        "length": length,
        "days": [{"date": day, "starts": per_day.get(day, [])} for day in days],
        "count": len(starts),
    }


def render_page(
    request: HttpRequest, organization: Organization, membership: Membership, *, status: int = 200, **bound
) -> HttpResponse:
    current = free_dates.read_free_dates(request.user, membership)
    zone = ZoneInfo(current.time_zone)
    weekly = bound.pop("weekly", None)
    if weekly is None:
        weekly = [[] for _day in range(7)]
        for hours in current.weekly:
            weekly[hours.weekday].append({"start": clock_text(hours.start), "end": clock_text(hours.end), "errors": []})
    extra = request.GET.get("add", "")
    days = []
    for weekday, rows in enumerate(weekly):
        blanks = 2 if extra == str(weekday) else 1
        rows = [*rows, *({"start": "", "end": "", "errors": [], "new": True} for _ in range(blanks))]
        days.append({"weekday": weekday, "name": WEEKDAY_NAMES[weekday], "rows": rows})
    exceptions = [
        {
            "date": e.date,
            "kind": KIND_LABELS.get(e.kind, e.kind),
            "hours": span_text(e.start, e.end),
            "key": exception_key(e),
        }
        for e in current.exceptions
    ]
    time_off = [
        {
            "id": t.id,
            "start": t.start.astimezone(zone).replace(tzinfo=None),
            "end": t.end.astimezone(zone).replace(tzinfo=None),
            "note": t.note,
        }
        for t in current.time_off
    ]
    limits = {
        "time_zone": current.time_zone,
        "minimum_notice_minutes": current.minimum_notice_minutes,
        "buffer_before_minutes": current.buffer_before_minutes,
        "buffer_after_minutes": current.buffer_after_minutes,
        "max_meetings_per_day": current.max_meetings_per_day,
    }
    url = lambda name="web:free_dates", **more: page_url(organization, membership, request, name, **more)  # noqa: E731
    context = {
        "organization": organization,
        "expert": membership.user,
        "for_other": membership.user_id != request.user.pk,
        "time_zone": current.time_zone,
        "days": days,
        "exceptions": exceptions,
        "time_off": time_off,
        "limits": limits,
        "exception_form": bound.pop("exception_form", None) or ExceptionForm(),
        "time_off_form": bound.pop("time_off_form", None) or TimeOffForm(),
        "limits_form": bound.pop("limits_form", None) or LimitsForm(initial=limits),
        "saved": SAVED.get(request.GET.get("saved", "")),
        "preview": preview(organization, membership, current.time_zone, request.GET.get("service", "")),
        "urls": {
            "page": url(),
            "weekly": url("web:free_dates_weekly"),
            "row": url("web:free_dates_row"),
            "exceptions": url("web:free_dates_exceptions"),
            "time_off": url("web:free_dates_time_off"),
            "limits": url("web:free_dates_limits"),
            "expert_query": f"?expert={membership.user_id}" if membership.user_id != request.user.pk else "",
        },
        **bound,
    }
    return render(request, "web/free_dates/page.html", context, status=status)


def span_text(start: time | None, end: time | None) -> str:
    if start is None or end is None:
        return ""
    return f"{clock_text(start)}–{'24:00' if end == time(0) else clock_text(end)}"


def exception_key(exception: DatedHours) -> str:
    return f"{exception.date}|{exception.kind}|{clock_text(exception.start)}|{clock_text(exception.end)}"


def saved(organization, membership, request, part: str, **more) -> HttpResponse:
    return redirect(page_url(organization, membership, request, saved=part, **more))


def context_of(request: HttpRequest, slug: str) -> tuple[Organization, Membership]:
    organization = organization_page(request, slug)
    membership = whose(request, organization)
    if membership is None:
        raise Http404
    return organization, membership


def replace(request, membership, current: FreeDatesSet, **changes) -> FreeDatesSet:
    return free_dates.replace_free_dates(request.user, membership, dataclasses.replace(current, **changes))


# --- the views ----------------------------------------------------------------------------


@login_required
@require_GET
def free_dates_page(request: HttpRequest, slug: str) -> HttpResponse:
    """E3: the expert's free dates and the coming week's slots; an admin picks an expert."""
    organization = organization_page(request, slug)
    membership = whose(request, organization)
    if membership is None:
        return choose_expert(
            request,
            organization,
            url_name="web:free_dates",
            title=_("Free dates"),
            question=_("Whose free dates?"),
        )
    return render_page(request, organization, membership)


@login_required
@require_GET
def weekly_row(request: HttpRequest, slug: str) -> HttpResponse:
    """htmx: one more empty interval row for a weekday of the weekly form."""
    context_of(request, slug)
    weekday = request.GET.get("weekday", "")
    if weekday not in WEEKDAY_KEYS:
        raise Http404
    day = {"weekday": int(weekday), "name": WEEKDAY_NAMES[int(weekday)]}
    row = {"start": "", "end": "", "errors": [], "new": True}
    return render(
        request, "web/free_dates/_row.html", {"day": day, "row": row, "key": uuid.uuid4().hex[:8], "autofocus": True}
    )


@login_required
@require_POST
def save_weekly(request: HttpRequest, slug: str) -> HttpResponse:
    """E3: replace the weekly hours (several intervals a day; overlaps are refused)."""
    organization, membership = context_of(request, slug)
    days, hours, positions, fine = weekly_rows(request.POST)
    if not fine:
        message = _("Some intervals are not right; see the marked rows. Nothing was changed.")
        return render_page(request, organization, membership, status=400, weekly=days, weekly_refusal=message)
    try:
        replace(request, membership, free_dates.read_free_dates(request.user, membership), weekly=hours)
    except DomainError as error:
        message, problems = error.message, error.details.get("errors", [])
        for problem in problems:
            parts = problem["field"].split(".")
            if parts[0] == "weekly" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(positions):
                weekday, index = positions[int(parts[1])]
                days[weekday][index]["errors"].append(problem["message"])
                problem["shown"] = True
        if problems and all(problem.get("shown") for problem in problems):
            message = _("Some intervals are not right; see the marked rows. Nothing was changed.")
        return render_page(request, organization, membership, status=400, weekly=days, weekly_refusal=message)
    add = request.POST.get("add", "")
    return saved(organization, membership, request, "weekly", add=add if add in WEEKDAY_KEYS else None)


@login_required
@require_POST
def save_exceptions(request: HttpRequest, slug: str) -> HttpResponse:
    """E3: add a dated exception (extra hours, hours off, a whole day off) or remove one."""
    organization, membership = context_of(request, slug)
    current = free_dates.read_free_dates(request.user, membership)
    removed = request.POST.get("remove")
    if removed is not None:
        kept = list(current.exceptions)
        for index, exception in enumerate(kept):
            if exception_key(exception) == removed:
                del kept[index]
                break
        exceptions, form = kept, None
    else:
        form = ExceptionForm(request.POST)
        if not form.is_valid():
            return render_page(request, organization, membership, status=400, exception_form=form)
        data = form.cleaned_data
        exceptions = [*current.exceptions, DatedHours(data["date"], data["kind"], data["start"], data["end"])]
    try:
        replace(request, membership, current, exceptions=exceptions)
    except DomainError as error:
        return render_page(
            request, organization, membership, status=400, exception_form=form, exceptions_refusal=error.message
        )
    return saved(organization, membership, request, "exceptions")


@login_required
@require_POST
def add_time_off(request: HttpRequest, slug: str) -> HttpResponse:
    """E3: a span of time off, typed on the expert's clock."""
    organization, membership = context_of(request, slug)
    form = TimeOffForm(request.POST)
    if not form.is_valid():
        return render_page(request, organization, membership, status=400, time_off_form=form)
    zone_name = free_dates.read_free_dates(request.user, membership).time_zone
    data = form.cleaned_data
    try:
        free_dates.add_time_off(
            request.user,
            membership,
            start=aware(data["start"], zone_name),
            end=aware(data["end"], zone_name),
            note=data["note"],
        )
    except DomainError as error:
        return render_page(
            request, organization, membership, status=400, time_off_form=form, time_off_refusal=error.message
        )
    return saved(organization, membership, request, "time_off")


@login_required
@require_POST
def remove_time_off(request: HttpRequest, slug: str, time_off_id: int) -> HttpResponse:
    organization, membership = context_of(request, slug)
    try:
        free_dates.remove_time_off(request.user, membership, time_off_id)
    except DomainError as error:
        return render_page(request, organization, membership, status=error.status, time_off_refusal=error.message)
    return saved(organization, membership, request, "time_off")


@login_required
@require_POST
def save_limits(request: HttpRequest, slug: str) -> HttpResponse:
    """E3: the time zone the hours are in, and the limits on how the expert can be booked."""
    organization, membership = context_of(request, slug)
    form = LimitsForm(request.POST)
    if not form.is_valid():
        return render_page(request, organization, membership, status=400, limits_form=form)
    try:
        replace(request, membership, free_dates.read_free_dates(request.user, membership), **form.cleaned_data)
    except DomainError as error:
        return render_page(
            request, organization, membership, status=400, limits_form=form, limits_refusal=error.message
        )
    return saved(organization, membership, request, "limits")


urlpatterns = [
    path("o/<slug:slug>/free-dates/", free_dates_page, name="free_dates"),
    path("o/<slug:slug>/free-dates/row/", weekly_row, name="free_dates_row"),
    path("o/<slug:slug>/free-dates/weekly/", save_weekly, name="free_dates_weekly"),
    path("o/<slug:slug>/free-dates/exceptions/", save_exceptions, name="free_dates_exceptions"),
    path("o/<slug:slug>/free-dates/time-off/", add_time_off, name="free_dates_time_off"),
    path(
        "o/<slug:slug>/free-dates/time-off/<int:time_off_id>/remove/",
        remove_time_off,
        name="free_dates_time_off_remove",
    ),
    path("o/<slug:slug>/free-dates/limits/", save_limits, name="free_dates_limits"),
]
