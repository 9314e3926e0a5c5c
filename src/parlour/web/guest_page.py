"""The guest's own page (B5, O3) from the signed link in their emails, and the page where a
client picks one of an expert's time options (B4).

The token in the guest's address is the whole authority, as in the API's guest links
(``api/guest.py``): a forged, broken or outdated token is "not found". The guest sees their
meeting dated in their own time zone and may do what the lifecycle allows them: cancel with
a written reason (L1, L7), move an agreed meeting of a service without confirmation to
another free slot (L16), pick one of the offered times (B4), confirm or reject an expert's
proposal (L5, L6). Each action is the lifecycle's own function with the guest as the actor;
a refusal is shown with its reason and nothing changes."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parlour.catalog.models import ExpertProfile
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings import lifecycle
from parlour.meetings.access import access_meeting
from parlour.meetings.display import DisplayedStatus, displayed_status
from parlour.meetings.guest_links import meeting_for_link
from parlour.meetings.models import Meeting, Side, Status
from parlour.meetings.reasons import RejectReason
from parlour.meetings.transitions import side_of

from .booking_calendar import known_zone, parse_day, parse_length, week_of, zone_choices
from .pages import organization_page


def _meeting(token: str) -> Meeting:
    try:
        return meeting_for_link(token)
    except NotFound:
        raise Http404 from None


def _zone(request: HttpRequest, meeting: Meeting) -> str:
    """The zone the guest's page is dated in: one chosen on the page, else the guest's own
    (the one they booked in), else the browser's."""
    return (
        known_zone(request.GET.get("tz"))
        or known_zone(meeting.guest.time_zone if meeting.guest_id else None)
        or getattr(request.time_zone, "key", "UTC")
    )


def _render_in(request, zone: str, template: str, context: dict, status: int = 200) -> HttpResponse:
    with timezone.override(zone):
        return render(request, template, context, status=status)


def guest_actions(meeting: Meeting, now: datetime) -> dict:
    """What the meeting's client side may do now (the lifecycle decides; this only chooses
    which buttons to show)."""
    before = now < meeting.start
    status, theirs = meeting.status, meeting.origin == Side.CLIENT
    pending = meeting.pending_alternative if status == Status.AGREED else None
    return {
        "cancel": before and (status == Status.AGREED or (status == Status.AWAITING_APPROVAL and theirs)),
        "cancel_needs_reason": status == Status.AGREED,
        "change": before and status == Status.AGREED and not meeting.service.requires_confirmation and not pending,
        "pick": before and status == Status.PLANNING,
        "answer": before and status == Status.AWAITING_APPROVAL and not theirs,
        "reject": before and (status == Status.PLANNING or (status == Status.AWAITING_APPROVAL and not theirs)),
        "join": status == Status.AGREED and now < meeting.end,
    }


STATUS_LABELS = {
    DisplayedStatus.PLANNING: _lazy("Planning"),
    DisplayedStatus.AWAITING_APPROVAL: _lazy("Awaiting approval"),
    DisplayedStatus.REJECTED: _lazy("Rejected"),
    DisplayedStatus.SCHEDULED: _lazy("Scheduled"),
    DisplayedStatus.STARTING_SOON: _lazy("Starting soon"),
    DisplayedStatus.IN_PROGRESS: _lazy("In progress"),
    DisplayedStatus.COMPLETED: _lazy("Completed"),
    DisplayedStatus.MISSED: _lazy("Missed"),
    DisplayedStatus.CANCELLED: _lazy("Cancelled"),
    DisplayedStatus.FAILED: _lazy("Failed"),
}


def next_step(meeting: Meeting) -> str:
    """What happens next, in a sentence for the guest."""
    if meeting.status == Status.AWAITING_APPROVAL:
        if meeting.origin == Side.CLIENT:
            return _("%(name)s will confirm the meeting; you get an email when they answer.") % {
                "name": meeting.expert.name
            }
        return _("%(name)s proposes this meeting: confirm it or decline.") % {"name": meeting.expert.name}
    if meeting.status == Status.PLANNING:
        return _("Choose one of the times offered, or decline.")
    if meeting.status == Status.AGREED:
        minutes = meeting.organization.settings.join_window_minutes
        return _("The meeting is agreed. You can enter the room from %(minutes)s minutes before it starts.") % {
            "minutes": minutes
        }
    return ""


def _page(request, token: str, meeting: Meeting, *, error: str = "", status: int = 200, **extra) -> HttpResponse:
    now = clock.now()
    zone = _zone(request, meeting)
    shown = displayed_status(meeting, now)
    options = list(meeting.time_options.order_by("start", "id")) if meeting.status == Status.PLANNING else []
    context = {
        "meeting": meeting,
        "token": token,
        "zone": zone,
        "zones": zone_choices(),
        "shown_status": shown,
        "status_label": STATUS_LABELS[shown],
        "next_step": next_step(meeting),
        "actions": guest_actions(meeting, now),
        "options": options,
        "reasons": [(value, _(label)) for value, label in RejectReason.choices],
        "error": error,
        **extra,
    }
    return _render_in(request, zone, "web/booking/guest.html", context, status)


@require_GET
def guest_page(request: HttpRequest, token: str) -> HttpResponse:
    """B5: the guest's meeting and what they may do with it. Reading changes nothing."""
    return _page(request, token, _meeting(token))


def _act(request: HttpRequest, token: str, action, done: str, **extra) -> HttpResponse:
    """Run a lifecycle ``action`` on the guest's meeting; back to their page with ``done``,
    or the page again with the refusal."""
    meeting = _meeting(token)
    try:
        action(meeting)
    except DomainError as refusal:
        return _page(request, token, meeting, error=refusal.message, status=refusal.status, **extra)
    messages.success(request, done)
    return redirect("web:guest_page", token)


@require_POST
def guest_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """L1 (a request still awaiting the expert) or L7 (an agreed meeting, with a written
    reason). Guests book free services only, so no late charge applies to them."""
    note = request.POST.get("note", "")
    return _act(
        request,
        token,
        lambda meeting: lifecycle.cancel_meeting(
            meeting.guest, meeting, note=note, confirm_late=request.POST.get("confirm_late") == "1"
        ),
        _("Your meeting is cancelled."),
        note=note,
        open_dialog="cancel",
    )


@require_POST
def guest_pick(request: HttpRequest, token: str) -> HttpResponse:
    """B4: the guest picks one of the times the expert offered; it is agreed."""
    try:
        option = int(request.POST.get("option", ""))
    except ValueError:
        option = 0
    return _act(
        request,
        token,
        lambda meeting: lifecycle.pick_time_option(meeting.guest, meeting, option),
        _("Thank you: the meeting is agreed."),
    )


@require_POST
def guest_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """L5: the guest confirms the meeting the expert proposed (B3)."""
    return _act(
        request,
        token,
        lambda meeting: lifecycle.confirm_meeting(meeting.guest, meeting),
        _("Thank you: the meeting is agreed."),
    )


@require_POST
def guest_reject(request: HttpRequest, token: str) -> HttpResponse:
    """L6: the guest declines the expert's proposal or all its time options, with a reason."""
    reason, note = request.POST.get("reason", ""), request.POST.get("note", "")
    return _act(
        request,
        token,
        lambda meeting: lifecycle.reject_meeting(meeting.guest, meeting, reason=reason, note=note),
        _("You declined the meeting. The expert is told."),
        note=note,
        open_dialog="reject",
    )


def _start(text: str | None) -> datetime | None:
    try:
        start = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return start.astimezone(UTC) if start.utcoffset() is not None else None


@require_http_methods(["GET", "POST"])
def guest_change(request: HttpRequest, token: str) -> HttpResponse:
    """L16: move an agreed meeting of a service without confirmation to another free slot
    or length: the expert's week of slots (GET), the chosen one to confirm (GET with
    ``start``), the move itself (POST)."""
    meeting = _meeting(token)
    data = request.POST if request.method == "POST" else request.GET
    zone = known_zone(data.get("tz")) or _zone(request, meeting)
    service = meeting.service
    service.organization = meeting.organization
    length = parse_length(service, data.get("length") or meeting.length_minutes)
    start = _start(data.get("start"))
    error, status = "", 200
    if request.method == "POST":
        if start is None:
            error, status = _("Choose a time from the calendar."), 400
        else:
            try:
                lifecycle.change_meeting_time(meeting.guest, meeting, start=start, length=length)
            except DomainError as refusal:
                error, status = refusal.message, refusal.status
            else:
                messages.success(request, _("Your meeting is moved."))
                return redirect("web:guest_page", token)
    profile = (
        ExpertProfile.objects.filter(membership__organization=meeting.organization, membership__user=meeting.expert)
        .select_related("membership__user")
        .first()
    )
    day = start.astimezone(ZoneInfo(zone)).date() if start else parse_day(data.get("week"))
    week = week_of(service, zone, day, length, clock.now(), profile)
    url = reverse("web:guest_change", args=[token])
    context = {
        "meeting": meeting,
        "token": token,
        "zone": zone,
        "zones": zone_choices(),
        "service": service,
        "expert": meeting.expert,
        "week": week,
        "zone_chosen": True,
        "calendar_url": url,
        "slot_base": f"{url}?{urlencode({'length': length, 'tz': zone})}&",
        "nav_query": urlencode({"length": length, "tz": zone}),
        "start": start if not error or request.method == "POST" else None,
        "end": start + timedelta(minutes=length) if start else None,
        "length": length,
        "error": error,
        "can_change": guest_actions(meeting, clock.now())["change"],
    }
    template = "web/booking/calendar.html" if request.htmx else "web/booking/change.html"
    return _render_in(request, zone, template, context, status)


# --- B4 for a signed-in client ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def pick_page(request: HttpRequest, slug: str, meeting_id: int) -> HttpResponse:
    """B4: the client picks one of the times the expert offered. When it overlaps one of
    their agreed meetings they are told which, and pick again knowing it (L17)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    organization = organization_page(request, slug)
    try:
        meeting = access_meeting(request.user, organization, meeting_id)
    except NotFound:
        raise Http404 from None
    zone = getattr(request.time_zone, "key", "UTC")
    error, status, conflict, chosen = "", 200, False, None
    meeting_url = f"/o/{organization.slug}/meetings/{meeting.pk}/"
    if request.method == "POST":
        try:
            chosen = int(request.POST.get("option", ""))
        except ValueError:
            chosen = 0
        try:
            lifecycle.pick_time_option(
                request.user, meeting, chosen, acknowledge_conflict=request.POST.get("acknowledge_conflict") == "1"
            )
        except DomainError as refusal:
            error, status = refusal.message, refusal.status
            conflict = refusal.code == "conflict_warning"
        else:
            messages.success(request, _("Thank you: the meeting is agreed."))
            return redirect(meeting_url)
    is_client = side_of(meeting, request.user) == Side.CLIENT
    options = list(meeting.time_options.order_by("start", "id")) if meeting.status == Status.PLANNING else []
    context = {
        "organization": organization,
        "meeting": meeting,
        "options": options,
        "may_pick": is_client and bool(options) and clock.now() < meeting.start,
        "error": error,
        "conflict": conflict,
        "chosen": chosen,
        "meeting_url": meeting_url,
        "zone": zone,
    }
    return _render_in(request, zone, "web/booking/pick.html", context, status)
