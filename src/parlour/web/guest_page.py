"""The guest's own page (B5, O3) from the signed link in their emails, and the page where a
client picks one of an expert's time options (B4).

The token in the guest's address is the whole authority, as in the API's guest links
(``api/guest.py``): a forged, broken or outdated token is "not found". The guest sees their
meeting dated in their own time zone and may do what SPEC §4 lets the client side do:
confirm or decline an expert's proposal (L5, L6), pick one of the offered times (B4), cancel
(L1, L7), answer an alternative date the expert proposed (L12, L13) or withdraw their own
(L14), move an agreed meeting of a service without confirmation to another free slot (L16)
or, where the expert must agree to a new date, propose one from the expert's free slots
(L10, L11). Once an agreed meeting has ended the guest states whether it took place (S1),
which settles it when decisive (S3), and the page shows what was stated and the outcome.

The dialogs are the meeting page's (``meeting.KINDS``: the same forms, the same domain call,
the same second steps for L17), worded for a guest and posted to the guest's own addresses;
the actor is the meeting's guest. A refusal is shown with its reason and nothing changes."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from parlour.catalog.models import ExpertProfile
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings import lifecycle
from parlour.meetings.access import access_meeting
from parlour.meetings.display import DisplayedStatus, displayed_status
from parlour.meetings.guest_links import meeting_for_link
from parlour.meetings.models import Meeting, Outcome, Side, Status
from parlour.meetings.transitions import side_of

from .booking_calendar import known_zone, parse_day, parse_length, week_of, zone_choices
from .meeting import ENDED, KINDS, SECOND_STEPS, Dialog
from .meeting_forms import SAID
from .meeting_labels import OUTCOMES
from .pages import organization_page
from .templatetags.booking_times import when


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


def _page_url(token: str, request: HttpRequest) -> str:
    """The guest's page, in the zone they chose on it (if they did)."""
    url = reverse("web:guest_page", args=[token])
    zone = known_zone(request.GET.get("tz"))
    return f"{url}?{urlencode({'tz': zone})}" if zone else url


# --- what the guest may do now -------------------------------------------------------


def guest_actions(meeting: Meeting, now: datetime) -> list[str]:
    """What the meeting's client side may do now, in the page's order: the lifecycle's rules
    of state and time for the client side (SPEC §4), mirrored so that the page offers no
    button the domain would refuse. The domain still decides.

    ``change`` (L16, a direct move) is offered where the service needs no confirmation;
    ``propose`` (L10, L11, a new date the expert must accept) where it does, and on a
    rejected meeting."""
    status, before = meeting.status, now < meeting.start
    theirs = meeting.origin == Side.CLIENT
    pending = meeting.pending_alternative if status in (Status.AGREED, Status.REJECTED) else None
    found = []
    if before and not theirs and status == Status.AWAITING_APPROVAL:
        found += ["confirm", "reject"]
    if before and status == Status.PLANNING:
        found += ["pick", "reject"]
    if pending is not None and now < (pending.start if status == Status.REJECTED else meeting.start):
        if pending.proposed_by == Side.CLIENT:
            found.append("withdraw_alternative")
        else:
            if now < pending.start:
                found.append("confirm_alternative")
            found.append("reject_alternative")
    if before and pending is None and status in (Status.AGREED, Status.REJECTED):
        direct = status == Status.AGREED and not meeting.service.requires_confirmation
        found.append("change" if direct else "propose")
    if before and (status == Status.AGREED or (status == Status.AWAITING_APPROVAL and theirs)):
        found.append("cancel")
    if status in ENDED and now >= meeting.end and not meeting.statements.filter(side=Side.CLIENT).exists():
        found.append("statement")  # S1
    return found


@dataclass(frozen=True)
class Words:
    """How a dialog speaks to a guest: its button, its title, what it says when done."""

    opener: object
    title: object
    submit: object
    done: object


WORDS = {
    "confirm": Words(
        gettext_lazy("Confirm the meeting"),
        gettext_lazy("Confirm the meeting?"),
        gettext_lazy("Confirm the meeting"),
        gettext_lazy("Thank you: the meeting is agreed."),
    ),
    "reject": Words(
        gettext_lazy("Decline"),
        gettext_lazy("Decline the meeting?"),
        gettext_lazy("Decline"),
        gettext_lazy("You declined the meeting. The expert is told."),
    ),
    "cancel": Words(
        gettext_lazy("Cancel the meeting"),
        gettext_lazy("Cancel the meeting?"),
        gettext_lazy("Cancel the meeting"),
        gettext_lazy("Your meeting is cancelled."),
    ),
    "confirm_alternative": Words(
        gettext_lazy("Accept the new time"),
        gettext_lazy("Accept the new time?"),
        gettext_lazy("Accept the new time"),
        gettext_lazy("Thank you: the meeting has its new time."),
    ),
    "reject_alternative": Words(
        gettext_lazy("Decline the new time"),
        gettext_lazy("Decline the new time?"),
        gettext_lazy("Decline the new time"),
        gettext_lazy("You declined the new time. The expert is told."),
    ),
    "withdraw_alternative": Words(
        gettext_lazy("Withdraw your proposal"),
        gettext_lazy("Withdraw the time you proposed?"),
        gettext_lazy("Withdraw your proposal"),
        gettext_lazy("Your proposal is withdrawn."),
    ),
    # S1: the meeting page's form for the client side; a guest has no account, so it asks for
    # no written review (the domain refuses one: ``sign_in_required``), only for stars.
    "statement": Words(
        gettext_lazy("Say how the meeting went"),
        gettext_lazy("How did the meeting go?"),
        gettext_lazy("Send"),
        gettext_lazy("Thank you: your statement is recorded."),
    ),
}
DIALOGS = tuple(WORDS)
PAGES = {"change", "propose"}  # chosen on the calendar of free slots, not in a dialog


@dataclass
class GuestDialog(Dialog):
    """A meeting page dialog (``meeting.Dialog``) with a guest's words."""

    words: Words | None = None

    @property
    def title(self):
        return self.words.title


def _dialog(request: HttpRequest, token: str, meeting: Meeting, name: str, data=None) -> GuestDialog:
    words = WORDS[name]
    kind = replace(KINDS[name], opener=words.opener, submit=words.submit, done=words.done)
    url = reverse(f"web:guest_{name}", args=[token])
    zone = known_zone(request.GET.get("tz"))
    if zone:
        url += "?" + urlencode({"tz": zone})
    form = kind.form(meeting, Side.CLIENT, meeting.guest, data=data, prefix=name)
    return GuestDialog(name, kind, url, form, words=words)


STATUS_LABELS = {
    DisplayedStatus.PLANNING: gettext_lazy("Planning"),
    DisplayedStatus.AWAITING_APPROVAL: gettext_lazy("Awaiting approval"),
    DisplayedStatus.REJECTED: gettext_lazy("Rejected"),
    DisplayedStatus.SCHEDULED: gettext_lazy("Scheduled"),
    DisplayedStatus.STARTING_SOON: gettext_lazy("Starting soon"),
    DisplayedStatus.IN_PROGRESS: gettext_lazy("In progress"),
    DisplayedStatus.COMPLETED: gettext_lazy("Completed"),
    DisplayedStatus.MISSED: gettext_lazy("Missed"),
    DisplayedStatus.CANCELLED: gettext_lazy("Cancelled"),
    DisplayedStatus.FAILED: gettext_lazy("Failed"),
}

# S3: how the meeting settled, as the guest reads it.
GUEST_OUTCOMES = {
    **OUTCOMES,
    Outcome.CLIENT_NO_SHOW: gettext_lazy("Not held: you did not come"),
    Outcome.REFUNDED: gettext_lazy("Not held"),
}


def next_step(meeting: Meeting, pending=None) -> str:
    """What happens next, in a sentence for the guest."""
    name = meeting.expert.name
    if meeting.status in ENDED and clock.now() >= meeting.end:
        if meeting.outcome != Outcome.UNDECIDED:
            return ""
        if not meeting.statements.filter(side=Side.CLIENT).exists():
            return _("Please say whether the meeting took place.")
        return _("Thank you: your statement is recorded. The outcome follows when it is decided.")
    if pending is not None:
        if pending.proposed_by == Side.CLIENT:
            return _("You proposed a new time; %(name)s is asked to accept it. You get an email when they answer.") % {
                "name": name
            }
        return _("%(name)s proposes a new time: accept it or decline.") % {"name": name}
    if meeting.status == Status.AWAITING_APPROVAL:
        if meeting.origin == Side.CLIENT:
            return _("%(name)s will confirm the meeting; you get an email when they answer.") % {"name": name}
        return _("%(name)s proposes this meeting: confirm it or decline.") % {"name": name}
    if meeting.status == Status.PLANNING:
        return _("Choose one of the times offered, or decline.")
    if meeting.status == Status.AGREED:
        minutes = meeting.organization.settings.join_window_minutes
        return _("The meeting is agreed. You can enter the room from %(minutes)s minutes before it starts.") % {
            "minutes": minutes
        }
    if meeting.status == Status.REJECTED and clock.now() < meeting.start:
        return _("The meeting will not take place at this time. You can propose another time.")
    return ""


def statements(meeting: Meeting) -> list[dict]:
    """S1, S2: what each side stated, as the guest reads it: the words of their own side's
    list, the expert's summary with the summaries add-on. Stars are the organization's."""
    rows = []
    for statement in meeting.statements.order_by("at", "id"):
        side = Side(statement.side)
        mine = side == Side.CLIENT
        rows.append(
            {
                "mine": mine,
                "said": dict(SAID[side]).get(statement.said, statement.said),
                "summary": statement.summary if meeting.organization.summaries_enabled and not mine else "",
                "at": statement.at,
            }
        )
    return rows


# --- the page ------------------------------------------------------------------------


def _page(
    request,
    token: str,
    meeting: Meeting,
    *,
    acted: GuestDialog | None = None,
    error: str = "",
    status=200,
    conflict: bool = False,
    chosen: int | None = None,
):
    now = clock.now()
    zone = _zone(request, meeting)
    shown = displayed_status(meeting, now)
    options = list(meeting.time_options.order_by("start", "id")) if meeting.status == Status.PLANNING else []
    actions = guest_actions(meeting, now)
    opened = request.GET.get("open")
    dialogs = []
    for name in actions:
        if name not in DIALOGS:
            continue
        dialog = acted if acted is not None and acted.name == name else _dialog(request, token, meeting, name)
        dialog.opened = dialog is acted or name == opened
        dialogs.append(dialog)
    if acted is not None and acted.name not in actions:
        error = acted.error or "; ".join(str(e) for errors in acted.form.errors.values() for e in errors)
    pending = meeting.pending_alternative if meeting.status in (Status.AGREED, Status.REJECTED) else None
    stated = statements(meeting)
    context = {
        "meeting": meeting,
        "token": token,
        "zone": zone,
        "zone_chosen": known_zone(request.GET.get("tz")),
        "zones": zone_choices(),
        "shown_status": shown,
        "status_label": STATUS_LABELS[shown],
        "next_step": next_step(meeting, pending),
        "actions": actions,
        "join": meeting.status == Status.AGREED and now < meeting.end,
        # K1: an agreed meeting, or a request still awaiting the expert (a tentative event).
        "calendar": meeting.status in (Status.AGREED, Status.AWAITING_APPROVAL) and now < meeting.end,
        "dialogs": dialogs,
        "alternative_dialogs": [d for d in dialogs if d.name.endswith("_alternative")],
        "other_dialogs": [d for d in dialogs if not d.name.endswith("_alternative")],
        "pending": pending,
        "options": options,
        "page_url": reverse("web:guest_page", args=[token]),
        "error": error,
        "conflict": conflict,
        "chosen": chosen,
        "ended": meeting.status in ENDED and now >= meeting.end,
        "statements": stated,
        "outcome_label": GUEST_OUTCOMES.get(meeting.outcome, meeting.outcome),
    }
    return _render_in(request, zone, "web/booking/guest.html", context, status)


@require_GET
def guest_page(request: HttpRequest, token: str) -> HttpResponse:
    """B5: the guest's meeting and what they may do with it. Reading changes nothing; with
    ``open`` (a dialog's button without JavaScript) that dialog is shown open."""
    return _page(request, token, _meeting(token))


@require_POST
def guest_action(request: HttpRequest, token: str, action: str) -> HttpResponse:
    """One dialog's action (L1, L5–L7, L12–L14): the meeting page's form and domain call,
    with the guest as the actor; back to the guest's page with a message, or the dialog
    again with the refusal or its second step (L17)."""
    meeting = _meeting(token)
    zone = _zone(request, meeting)
    dialog = _dialog(request, token, meeting, action, data=request.POST)
    status = 400
    if dialog.form.is_valid():
        try:
            dialog.kind.run(meeting.guest, meeting, dialog.form.cleaned_data, meeting.organization)
        except DomainError as error:
            status = error.status
            _refused(dialog, error, meeting, zone)
        else:
            messages.success(request, dialog.kind.done)
            url = _page_url(token, request)
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        return _render_in(request, zone, "web/meeting/dialog_body.html", {"dialog": dialog, "meeting": meeting})
    return _page(request, token, meeting, acted=dialog, status=status)


def _refused(dialog: GuestDialog, error: DomainError, meeting: Meeting, zone: str) -> None:
    """As on the meeting page: a refusal that asks for a knowing confirmation (L8, L17)
    becomes the dialog's second step, in the domain's words (L17's on the guest's clock);
    any other shows its message."""
    step = SECOND_STEPS.get(error.code)
    if step is None or dialog.form.cleaned_data.get(step[1]):
        dialog.error = error.message
        return
    dialog.step, dialog.confirm_field = step
    dialog.details = {
        **error.details,
        "message": _overlap(error, meeting, zone) or error.message,
        "notice_hours": meeting.organization.settings.cancellation_notice_hours,
    }


def _overlap(error: DomainError, meeting: Meeting, zone: str) -> str:
    """L17 for a guest: the agreed meeting of theirs that overlaps, named on their clock."""
    other_id = error.details.get("conflicting_meeting") if error.code == "conflict_warning" else None
    other = Meeting.objects.filter(pk=other_id, guest_id=meeting.guest_id).select_related("service", "expert").first()
    if other is None:
        return ""
    with timezone.override(zone):
        at = when(other.start, other.end)
    return _("You already have an agreed meeting at this time: %(service)s with %(name)s, %(when)s.") % {
        "service": other.service.name,
        "name": other.expert.name,
        "when": at,
    }


@require_POST
def guest_pick(request: HttpRequest, token: str) -> HttpResponse:
    """B4: the guest picks one of the times the expert offered; it is agreed. When it overlaps
    one of their agreed meetings they are told which, and pick again knowing it (L17)."""
    meeting = _meeting(token)
    try:
        option = int(request.POST.get("option", ""))
    except ValueError:
        option = 0
    acknowledged = request.POST.get("acknowledge_conflict") == "1"
    try:
        lifecycle.pick_time_option(meeting.guest, meeting, option, acknowledge_conflict=acknowledged)
    except DomainError as refusal:
        conflict = refusal.code == "conflict_warning"
        error = _overlap(refusal, meeting, _zone(request, meeting)) or refusal.message
        return _page(request, token, meeting, error=error, status=refusal.status, conflict=conflict, chosen=option)
    messages.success(request, _("Thank you: the meeting is agreed."))
    return redirect(_page_url(token, request))


# --- a new time from the expert's free slots (L10, L11, L16) -----------------------------


def _start(text: str | None) -> datetime | None:
    try:
        start = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return start.astimezone(UTC) if start.utcoffset() is not None else None


def _move(meeting: Meeting, start: datetime, length: int) -> None:
    lifecycle.change_meeting_time(meeting.guest, meeting, start=start, length=length)


def _propose(meeting: Meeting, start: datetime, length: int) -> None:
    lifecycle.propose_alternative(meeting.guest, meeting, start=start, length=length)


TIME_PAGES = {
    # L16: moved at once.
    "change": (_move, gettext_lazy("Your meeting is moved.")),
    # L10, L11: the expert is asked; an agreed meeting keeps its date until they accept.
    "propose": (_propose, gettext_lazy("The new time is proposed; the expert is asked to accept it.")),
}


@require_http_methods(["GET", "POST"])
def guest_time(request: HttpRequest, token: str, mode: str) -> HttpResponse:
    """A new time from the expert's week of free slots (GET), the chosen one to confirm (GET
    with ``start``), then (POST) either the move itself (``change``, L16: a service without
    confirmation) or the proposal of an alternative date (``propose``, L10 on an agreed
    meeting, L11 on a rejected one) that the expert accepts or declines."""
    meeting = _meeting(token)
    data = request.POST if request.method == "POST" else request.GET
    zone = known_zone(data.get("tz")) or _zone(request, meeting)
    service = meeting.service
    service.organization = meeting.organization
    length = parse_length(service, data.get("length") or meeting.length_minutes)
    start = _start(data.get("start"))
    act, done = TIME_PAGES[mode]
    error, status = "", 200
    if request.method == "POST":
        if start is None:
            error, status = _("Choose a time from the calendar."), 400
        else:
            try:
                act(meeting, start, length)
            except DomainError as refusal:
                error, status = refusal.message, refusal.status
            else:
                messages.success(request, done)
                return redirect("web:guest_page", token)
    profile = (
        ExpertProfile.objects.filter(membership__organization=meeting.organization, membership__user=meeting.expert)
        .select_related("membership__user")
        .first()
    )
    day = start.astimezone(ZoneInfo(zone)).date() if start else parse_day(data.get("week"))
    # L16: the meeting's own time is free for itself, as the domain's check counts it.
    week = week_of(service, zone, day, length, clock.now(), profile, exclude=meeting if mode == "change" else None)
    url = reverse(f"web:guest_{mode}", args=[token])
    context = {
        "mode": mode,
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
        "can_change": mode in guest_actions(meeting, clock.now()),
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


GUEST = "g/<str:token>/"
urlpatterns = [
    path(GUEST, guest_page, name="guest_page"),
    path(f"{GUEST}pick/", guest_pick, name="guest_pick"),
    path(f"{GUEST}change/", guest_time, {"mode": "change"}, name="guest_change"),
    path(f"{GUEST}propose/", guest_time, {"mode": "propose"}, name="guest_propose"),
    *(path(f"{GUEST}{KINDS[name].segment}/", guest_action, {"action": name}, name=f"guest_{name}") for name in DIALOGS),
]
