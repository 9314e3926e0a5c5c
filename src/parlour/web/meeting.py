"""The meeting page and every action on a meeting (SPEC §4, §7, issue 6 item 4).

The page shows one meeting as the viewer may see it (O3, O4) with exactly the actions they
may take now (``actions_for``, a mirror of the domain's rules of side, state and time). Each
action is a POST to its own address that parses a form, calls the one domain function of
``parlour.meetings.lifecycle`` or ``parlour.meetings.outcome`` the API calls too, and
answers with a redirect and a message (PRG). A refusal shows the domain's message and
changes nothing; the refusals that ask for a second, knowing confirmation (L8, L9, L17) are
shown as the dialog's second step. With htmx the dialog's form posts in place: its second
step or errors replace the dialog's content, success reloads the page."""

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from parlour.accounts.access import is_admin
from parlour.accounts.models import Membership, Organization, User
from parlour.catalog.models import ExpertProfile
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound
from parlour.meetings import lifecycle, outcome
from parlour.meetings.access import access_meeting
from parlour.meetings.display import displayed_status
from parlour.meetings.models import Meeting, Outcome, Review, Side, Status
from parlour.meetings.outcome import room_is_open
from parlour.meetings.transitions import side_of

from . import meeting_forms as f
from .booking_calendar import Week, parse_day, week_of
from .conversations import conversation_links
from .meeting_labels import CREDIT_STATUS, DISPLAYED_STATUS, OUTCOMES, SIDES, timeline
from .pages import organization_page
from .proposals import CLIENT, GUEST

ENDED = (Status.AGREED, Status.COMPLETED, Status.MISSED, Status.FAILED)


# --- what the viewer may do now ------------------------------------------------------


def actions_for(meeting: Meeting, viewer: User, organization: Organization, now: datetime) -> list[str]:
    """The actions ``viewer`` may take on ``meeting`` at ``now``, in the page's order: the
    domain's rules of side, state and time (L1–L16, S1–S3), mirrored so that the page offers
    no button the domain would refuse. The domain still decides."""
    side = side_of(meeting, viewer)
    admin = is_admin(viewer, organization)
    status, before = meeting.status, now < meeting.start
    pending = meeting.pending_alternative
    found = []
    if side and before and meeting.origin != side:
        if status == Status.AWAITING_APPROVAL:
            found += ["confirm", "reject"]
        elif status == Status.PLANNING and side == Side.CLIENT:
            found.append("reject")
    unanswered = status in (Status.AWAITING_APPROVAL, Status.PLANNING)
    if side and before and (status == Status.AGREED or (unanswered and meeting.origin == side)):
        found.append("cancel")
    if side and before and status in (Status.AGREED, Status.REJECTED) and pending is None:
        found.append("propose_alternative")
    if side and pending is not None and now < (pending.start if status == Status.REJECTED else meeting.start):
        if pending.proposed_by == side:
            found.append("withdraw_alternative")
        else:
            if status in (Status.AGREED, Status.REJECTED) and now < pending.start:
                found.append("confirm_alternative")
            found.append("reject_alternative")
    reassigner = side == Side.EXPERT or admin
    if reassigner and before and status in (Status.AGREED, Status.PLANNING) and f.reassign_candidates(meeting):
        found.append("reassign")
    if side and before and status == Status.AGREED and not meeting.service.requires_confirmation and pending is None:
        found.append("change")
    if side and status in ENDED and now >= meeting.end and not meeting.statements.filter(side=side).exists():
        found.append("statement")
    if admin and meeting.outcome == Outcome.DISPUTED:
        found.append("decide")
    return found


# --- the actions ---------------------------------------------------------------------


def _confirm(viewer, meeting, data, organization):
    return lifecycle.confirm_meeting(viewer, meeting, acknowledge_conflict=data["acknowledge_conflict"])


def _reject(viewer, meeting, data, organization):
    return lifecycle.reject_meeting(viewer, meeting, reason=data["reason"], note=data["note"])


def _cancel(viewer, meeting, data, organization):
    return lifecycle.cancel_meeting(
        viewer, meeting, reason=data.get("reason", ""), note=data["note"], confirm_late=data["confirm_late"]
    )


def _propose_alternative(viewer, meeting, data, organization):
    return lifecycle.propose_alternative(viewer, meeting, start=data["start"], length=data["length"])


def _confirm_alternative(viewer, meeting, data, organization):
    return lifecycle.confirm_alternative(viewer, meeting, acknowledge_conflict=data["acknowledge_conflict"])


def _reject_alternative(viewer, meeting, data, organization):
    return lifecycle.reject_alternative(viewer, meeting, reason=data["reason"], note=data["note"])


def _withdraw_alternative(viewer, meeting, data, organization):
    return lifecycle.withdraw_alternative(viewer, meeting)


def _reassign(viewer, meeting, data, organization):
    membership = Membership.objects.filter(organization=organization, user_id=data["expert"]).select_related("user")
    found = membership.first()
    if found is None:
        raise NotFound("expert")
    return lifecycle.reassign_meeting(viewer, meeting, expert=found.user)


def _change(viewer, meeting, data, organization):
    return lifecycle.change_meeting_time(viewer, meeting, start=data["start"], length=data["length"])


def _statement(viewer, meeting, data, organization):
    return outcome.submit_statement(
        viewer,
        meeting,
        said=data["said"],
        stars=data.get("stars"),
        review=data.get("review", ""),
        summary=data.get("summary", ""),
    )


def _decide(viewer, meeting, data, organization):
    return outcome.decide_dispute(viewer, meeting, outcome=data["outcome"], note=data["note"])


@dataclass(frozen=True)
class Kind:
    """One action: its address, its form, the domain call, and its words."""

    segment: str
    form: type[f.ActionForm]
    run: Any
    opener: Promise  # the button that opens its dialog, and the dialog's title
    submit: Promise
    done: Promise  # the message after it went through
    danger: bool = False


KINDS = {
    "confirm": Kind(
        "confirm", f.ConfirmForm, _confirm, _("Confirm the meeting"), _("Confirm"), _("The meeting is confirmed.")
    ),
    "reject": Kind(
        "reject", f.RejectForm, _reject, _("Reject"), _("Reject the meeting"), _("The meeting is rejected."), True
    ),
    "cancel": Kind(
        "cancel",
        f.CancelForm,
        _cancel,
        _("Cancel the meeting"),
        _("Cancel the meeting"),
        _("The meeting is cancelled."),
        True,
    ),
    "propose_alternative": Kind(
        "alternative",
        f.AlternativeForm,
        _propose_alternative,
        _("Propose another date"),
        _("Propose this date"),
        _("The new date is proposed; the other side confirms it."),
    ),
    "confirm_alternative": Kind(
        "alternative/confirm",
        f.ConfirmForm,
        _confirm_alternative,
        _("Confirm the new date"),
        _("Confirm the new date"),
        _("The new date is confirmed."),
    ),
    "reject_alternative": Kind(
        "alternative/reject",
        f.RejectForm,
        _reject_alternative,
        _("Reject the new date"),
        _("Reject the new date"),
        _("The new date is rejected."),
        True,
    ),
    "withdraw_alternative": Kind(
        "alternative/withdraw",
        f.WithdrawForm,
        _withdraw_alternative,
        _("Withdraw the new date"),
        _("Withdraw the new date"),
        _("The new date is withdrawn."),
    ),
    "reassign": Kind(
        "reassign",
        f.ReassignForm,
        _reassign,
        _("Reassign to another expert"),
        _("Reassign"),
        _("The meeting is reassigned."),
    ),
    "change": Kind(
        "change", f.ChangeForm, _change, _("Change time or length"), _("Change"), _("The meeting is moved.")
    ),
    "statement": Kind(
        "statement",
        f.StatementForm,
        _statement,
        _("Say how the meeting went"),
        _("Send"),
        _("Thank you: your statement is recorded."),
    ),
    "decide": Kind("decide", f.DecideForm, _decide, _("Decide the dispute"), _("Decide"), _("The dispute is decided.")),
}

# Refusals that ask for a second, knowing confirmation, and the field that gives it.
SECOND_STEPS = {
    "late_cancellation_charge": ("late_charge", "confirm_late"),
    "late_cancellation_warning": ("late_warning", "confirm_late"),
    "conflict_warning": ("conflict", "acknowledge_conflict"),
}


@dataclass
class Dialog:
    """One action's dialog as the page shows it: a fresh form, or the form as posted with
    its errors, the domain's refusal, or the second step it asks for."""

    name: str
    kind: Kind
    url: str
    form: f.ActionForm
    error: str = ""
    step: str = ""
    confirm_field: str = ""
    details: dict = field(default_factory=dict)
    opened: bool = False
    week: Week | None = None  # L16: the expert's free times to choose from (``free_times``)
    page_url: str = ""
    current: str = ""  # the meeting's own start, as a free time's value

    @property
    def title(self):
        return self.kind.opener


def _dialog(request, organization, meeting, name: str, side, data=None) -> Dialog:
    kind = KINDS[name]
    url = reverse(f"web:meeting_{name}", args=[organization.slug, meeting.pk])
    form = kind.form(meeting, side, request.user, data=data, prefix=name)
    return Dialog(name, kind, url, form)


def free_times(request: HttpRequest, organization: Organization, meeting: Meeting, dialog: Dialog) -> None:
    """L16: the change dialog lists the expert's free slots for the meeting's service and a
    length, a week at a time on the viewer's clock, as if the meeting were not there (its own
    time is free for it, as ``change_meeting_time`` sees it). The length and week are the
    ones asked for (``change-length``, ``change-week``), or after a refusal those of the
    time that was refused."""
    form = dialog.form
    wanted, day = request.GET.get("change-length"), parse_day(request.GET.get("change-week"))
    if form.is_bound:
        wanted = form.data.get("change-length")
        chosen = form.cleaned_data.get("start") if hasattr(form, "cleaned_data") else None
        day = chosen.astimezone(timezone.get_current_timezone()).date() if chosen else None
    lengths = meeting.service.lengths
    length = next((n for n in lengths if str(n) == wanted), meeting.length_minutes)
    service = meeting.service
    service.organization = organization
    profile = ExpertProfile.objects.filter(
        membership__organization=organization, membership__user_id=meeting.expert_id
    ).first()
    zone = timezone.get_current_timezone_name()
    dialog.week = week_of(service, zone, day, length, clock.now(), profile, exclude=meeting)
    dialog.page_url = reverse("web:meeting", args=[organization.slug, meeting.pk])
    dialog.current = meeting.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meeting(request: HttpRequest, slug: str, meeting_id: int) -> tuple[Organization, Meeting]:
    organization = organization_page(request, slug)
    try:
        return organization, access_meeting(request.user, organization, meeting_id)
    except NotFound:
        raise Http404 from None


# --- the page ------------------------------------------------------------------------


def _page(request, organization, meeting, acted: Dialog | None = None, status: int = 200) -> HttpResponse:
    now = clock.now()
    viewer = request.user
    side = side_of(meeting, viewer)
    admin = is_admin(viewer, organization)
    dialogs = []
    page_error = ""
    for name in actions_for(meeting, viewer, organization, now):
        if acted is not None and acted.name == name:
            dialogs.append(acted)
        else:
            dialogs.append(_dialog(request, organization, meeting, name, side))
    if acted is not None and not any(d is acted for d in dialogs):
        page_error = acted.error or "; ".join(str(e) for errors in acted.form.errors.values() for e in errors)
    opened = request.GET.get("open")
    for dialog in dialogs:
        dialog.opened = dialog is acted or dialog.name == opened
        if dialog.name == "change":
            free_times(request, organization, meeting, dialog)
    shown = displayed_status(meeting, now)
    statements = list(meeting.statements.order_by("at", "id"))
    review = None
    if organization.reviews_enabled and meeting.client_id:
        review = Review.objects.filter(meeting=meeting).first()
    context = {
        "organization": organization,
        "meeting": meeting,
        "side": side,
        "side_label": SIDES.get(side, "") if side else "",
        "admin": admin,
        "member": side != Side.CLIENT,
        "shown": shown,
        "shown_label": DISPLAYED_STATUS[shown],
        "credit_label": CREDIT_STATUS.get(meeting.credit_status, meeting.credit_status),
        "outcome_label": OUTCOMES.get(meeting.outcome, meeting.outcome),
        "pending": meeting.pending_alternative,
        "proposer_label": "",
        "timeline": timeline(meeting),
        "statements": [_statement_row(s, organization, admin) for s in statements],
        "review": review,
        "ended": meeting.status in ENDED and now >= meeting.end,
        "room_open": side is not None and room_is_open(meeting, now),
        "calendar_url": f"/api/v1/orgs/{organization.slug}/meetings/{meeting.pk}/calendar.ics",
        "dialogs": dialogs,
        "page_url": reverse("web:meeting", args=[organization.slug, meeting.pk]),
        "page_error": page_error,
        "time_options": list(meeting.time_options.order_by("start", "id")) if meeting.status == Status.PLANNING else [],
    }
    if context["pending"] is not None:
        context["proposer_label"] = SIDES[context["pending"].proposed_by]
    context.update(conversation_links(viewer, organization, meeting))  # X2
    context["propose_url"] = _propose_url(viewer, organization, meeting, side)
    return render(request, "web/meeting/page.html", context, status=status)


def _propose_url(viewer: User, organization: Organization, meeting: Meeting, side) -> str | None:
    """B3 "from a meeting": the meeting's expert proposes another meeting to the same client
    or guest; the proposal form comes filled in with the service and the person."""
    if side != Side.EXPERT:  # the meeting's expert gives its service, whatever their role
        return None
    query = {"service": meeting.service_id}
    if meeting.client_id:
        query.update(party=CLIENT, client=meeting.client_id)
    else:
        guest = meeting.guest
        query.update(party=GUEST, guest_name=guest.name, guest_email=guest.email, guest_phone=guest.phone)
    kept = {name: value for name, value in query.items() if value}
    return reverse("web:propose", args=[organization.slug]) + "?" + urlencode(kept)


def _statement_row(statement, organization, admin: bool) -> dict:
    return {
        "side": SIDES[statement.side],
        "said": dict(f.SAID[Side(statement.side)]).get(statement.said, statement.said),
        "stars": statement.stars if admin and organization.reviews_enabled else None,
        "summary": statement.summary if organization.summaries_enabled else "",
        "at": statement.at,
    }


@login_required
@require_GET
def meeting_page(request: HttpRequest, slug: str, meeting_id: int) -> HttpResponse:
    """The meeting, as the viewer may see it, with the actions they may take now."""
    organization, meeting = _meeting(request, slug, meeting_id)
    return _page(request, organization, meeting)


@login_required
@require_POST
def meeting_action(request: HttpRequest, slug: str, meeting_id: int, action: str) -> HttpResponse:
    """One action: parse, call the domain, redirect with a message; or show why not."""
    organization, meeting = _meeting(request, slug, meeting_id)
    dialog = _dialog(request, organization, meeting, action, side_of(meeting, request.user), data=request.POST)
    status = 400
    if dialog.form.is_valid():
        try:
            dialog.kind.run(request.user, meeting, dialog.form.cleaned_data, organization)
        except DomainError as error:
            status = error.status
            _refused(dialog, error, request.user, organization)
        else:
            messages.success(request, dialog.kind.done)
            url = reverse("web:meeting", args=[organization.slug, meeting.pk])
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if request.htmx:
        if dialog.name == "change":
            free_times(request, organization, meeting, dialog)
        return render(request, "web/meeting/dialog_body.html", {"dialog": dialog, "meeting": meeting})
    # A refused action changed nothing: the domain worked on a fresh copy of the meeting.
    return _page(request, organization, meeting, acted=dialog, status=status)


def _refused(dialog: Dialog, error: DomainError, viewer: User, organization: Organization) -> None:
    """A refusal that asks for a knowing confirmation becomes the dialog's second step (L8,
    L9, L17); any other shows its message."""
    step = SECOND_STEPS.get(error.code)
    if step is None or dialog.form.cleaned_data.get(step[1]):
        dialog.error = error.message
        return
    dialog.step, dialog.confirm_field = step
    dialog.details = dict(error.details)
    dialog.details["notice_hours"] = organization.settings.cancellation_notice_hours
    dialog.details["message"] = error.message
    other = error.details.get("conflicting_meeting")
    if other is not None:
        # A meeting of another organization is not found here: the domain's words name it.
        with suppress(NotFound):
            dialog.details["other"] = access_meeting(viewer, organization, other)


PAGE = "o/<slug:slug>/meetings/<int:meeting_id>/"
urlpatterns = [
    path(PAGE, meeting_page, name="meeting"),
    *(
        path(f"{PAGE}{kind.segment}/", meeting_action, {"action": name}, name=f"meeting_{name}")
        for name, kind in KINDS.items()
    ),
]
