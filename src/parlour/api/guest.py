"""A guest's own meeting through the signed link sent to them (B5, O3): read it, and do what
SPEC §4 lets the client side do: confirm or reject an expert's proposal (L5, L6), pick one
of the offered times (B4), cancel (L1, L7), propose an alternative date (L10, L11), confirm,
reject or withdraw one (L12–L14), or move the meeting to another free time (L16); once it
has ended, state whether it took place (S1), which may settle it (S3).

No account and no session: the token in the path is the whole authority, so there is no
cookie for another site to ride on and no CSRF token to send. A token that is forged,
broken, or whose meeting's guest key has changed is "not found". Reading never changes
anything; the actions are the lifecycle's own functions with the guest as the actor, with
the same rules and refusals as for a client."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from ninja import Field, Router

from parlour.core import clock
from parlour.meetings import guest_links, lifecycle, outcome
from parlour.meetings.display import displayed_status
from parlour.meetings.models import SAID_LABELS, Meeting, Outcome, Status

from .calendars import ICS_ANSWER, calendar_file
from .schemas import (
    ERRORS,
    AlternativeIn,
    AlternativeOut,
    ConfirmIn,
    ErrorOut,
    GuestCancelIn,
    GuestChangeIn,
    GuestMeetingOut,
    PickIn,
    RejectIn,
    StatementIn,
    StatementOut,
    TimeOptionOut,
)

router = Router(tags=["guest links"], auth=None)


class GuestLinkMeetingOut(GuestMeetingOut):
    """The meeting through the guest's link, with what waits for the guest's answer."""

    pending_alternative: AlternativeOut | None = Field(
        description="L10–L14: the alternative date waiting for an answer, dated in `time_zone`; "
        "`proposed_by` says whose it is: the guest (`client`) withdraws it, the expert's is "
        "confirmed or rejected by the guest."
    )
    time_options: list[TimeOptionOut] = Field(
        description="B4: the times offered while the meeting is planning, dated in `time_zone`; one is picked."
    )
    outcome: Outcome = Field(description="S3: how the meeting settled; empty while not decided.")
    outcome_label: str
    statements: list[StatementOut] = Field(
        description="S1, S2: what each side stated (`client` is the guest); stars stay the organization's."
    )


ANSWER = {200: GuestLinkMeetingOut, ERRORS: ErrorOut}


def meeting_view(meeting: Meeting, now: datetime | None = None) -> dict:
    """The meeting as its guest (or client) sees it, dated in their own zone."""
    person = meeting.guest if meeting.guest_id else meeting.client
    zone_name = person.time_zone or "UTC"
    zone = ZoneInfo(zone_name)
    now = now or clock.now()
    shown = displayed_status(meeting, now)
    return {
        "id": meeting.pk,
        "organization": meeting.organization.name,
        "service": {"id": meeting.service_id, "name": meeting.service.name},
        "expert": {"id": meeting.expert_id, "name": meeting.expert.name},
        "name": person.name,
        "email": person.email,
        "status": meeting.status,
        "displayed_status": shown.value,
        "displayed_status_label": str(shown.label),
        "time_zone": zone_name,
        "start": meeting.start.astimezone(zone),
        "end": meeting.end.astimezone(zone),
        "length": meeting.length_minutes,
        "price": meeting.price,
        "subject": meeting.subject,
        "description": meeting.description,
        "guest_key": meeting.guest_key,
        "pending_alternative": _alternative(meeting, zone),
        "time_options": [
            {
                "id": option.pk,
                "start": option.start.astimezone(zone),
                "end": option.end.astimezone(zone),
                "length": option.length_minutes,
                "picked": option.picked,
            }
            for option in (meeting.time_options.order_by("start", "id") if meeting.status == Status.PLANNING else [])
        ],
        "outcome": meeting.outcome,
        "outcome_label": str(Outcome(meeting.outcome).label),
        "statements": [
            {
                "side": s.side,
                "said": s.said,
                "said_label": str(SAID_LABELS[s.side][s.said]),
                "stars": None,
                "summary": s.summary if meeting.organization.summaries_enabled else None,
                "at": s.at.astimezone(zone),
            }
            # Stated only after the end: a booking just made asks for none.
            for s in (meeting.statements.order_by("at", "id") if now >= meeting.end else [])
        ],
    }


def _alternative(meeting: Meeting, zone: ZoneInfo) -> dict | None:
    pending = meeting.pending_alternative if meeting.status in (Status.AGREED, Status.REJECTED) else None
    if pending is None:
        return None
    return {
        "id": pending.pk,
        "proposed_by": pending.proposed_by,
        "start": pending.start.astimezone(zone),
        "end": pending.end.astimezone(zone),
        "length": pending.length_minutes,
    }


@router.get("/guest/{token}", response=ANSWER, url_name="guest_meeting")
def guest_meeting(request: HttpRequest, token: str):
    """B5: the guest's meeting, its date in the guest's time zone. Reading changes nothing."""
    return meeting_view(guest_links.meeting_for_link(token))


@router.get("/guest/{token}/calendar.ics", response={ERRORS: ErrorOut}, openapi_extra=ICS_ANSWER)
def guest_calendar(request: HttpRequest, token: str):
    """K1: the guest's meeting as an .ics file to add to their calendar, with the guest key."""
    return calendar_file(guest_links.meeting_for_link(token))


@router.post("/guest/{token}/cancel", response=ANSWER)
def guest_cancel(request: HttpRequest, token: str, payload: GuestCancelIn):
    """L1 (a request still awaiting the expert) or L7 (an agreed meeting: say why in
    ``note``). Guests book free services only, so no late charge applies to them."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.cancel_meeting(meeting.guest, meeting, note=payload.note, confirm_late=payload.confirm_late)
    return meeting_view(meeting)


@router.post("/guest/{token}/change-time", response=ANSWER)
def guest_change_time(request: HttpRequest, token: str, payload: GuestChangeIn):
    """L16: move an agreed meeting of a service without confirmation to another free time
    or length; a time taken meanwhile answers 409 ``slot_taken``."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.change_meeting_time(meeting.guest, meeting, start=payload.start, length=payload.length)
    return meeting_view(meeting)


# --- answering the expert (B4, L5, L6) -------------------------------------------------


@router.post("/guest/{token}/confirm", response=ANSWER)
def guest_confirm(request: HttpRequest, token: str, payload: ConfirmIn | None = None):
    """L5: the guest confirms the meeting the expert proposed (B3); it is agreed. An overlap
    with another agreed meeting of the guest answers 409 ``conflict_warning`` (L17) until
    sent again with ``acknowledge_conflict``."""
    payload = payload or ConfirmIn()
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.confirm_meeting(meeting.guest, meeting, acknowledge_conflict=payload.acknowledge_conflict)
    return meeting_view(meeting)


@router.post("/guest/{token}/reject", response=ANSWER)
def guest_reject(request: HttpRequest, token: str, payload: RejectIn):
    """L6: the guest rejects the expert's proposal, or all its offered times, with a reason
    from the list (the values of ``reason``) and a note."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.reject_meeting(meeting.guest, meeting, reason=payload.reason.value, note=payload.note)
    return meeting_view(meeting)


@router.post("/guest/{token}/pick-option", response=ANSWER)
def guest_pick_option(request: HttpRequest, token: str, payload: PickIn):
    """B4: the guest picks one of the offered times (``time_options``); it is agreed and the
    other times are released. A time the expert is no longer free at answers 409; one that
    overlaps another agreed meeting of the guest answers 409 ``conflict_warning`` (L17) until
    sent again with ``acknowledge_conflict``."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.pick_time_option(
        meeting.guest, meeting, payload.option_id, acknowledge_conflict=payload.acknowledge_conflict
    )
    return meeting_view(meeting)


# --- alternative dates (L10–L14) -------------------------------------------------------


@router.post("/guest/{token}/alternative/propose", response=ANSWER)
def guest_propose_alternative(request: HttpRequest, token: str, payload: AlternativeIn):
    """L10 (agreed: the meeting keeps its date until the expert confirms the new one) or L11
    (rejected: the expert is asked again, for the new date). For a service without
    confirmation, an agreed meeting may rather be moved at once with ``change-time`` (L16).
    One alternative waits at a time: 409 ``alternative_pending`` otherwise."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.propose_alternative(meeting.guest, meeting, start=payload.start, length=payload.length)
    return meeting_view(meeting)


@router.post("/guest/{token}/alternative/confirm", response=ANSWER)
def guest_confirm_alternative(request: HttpRequest, token: str, payload: ConfirmIn | None = None):
    """L12: the guest confirms the expert's alternative date; it replaces the meeting's date
    (a rejected meeting becomes agreed). An overlap answers 409 ``conflict_warning`` (L17)
    until sent again with ``acknowledge_conflict``."""
    payload = payload or ConfirmIn()
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.confirm_alternative(meeting.guest, meeting, acknowledge_conflict=payload.acknowledge_conflict)
    return meeting_view(meeting)


@router.post("/guest/{token}/alternative/reject", response=ANSWER)
def guest_reject_alternative(request: HttpRequest, token: str, payload: RejectIn):
    """L13: the guest rejects the expert's alternative date with a reason from the list; an
    agreed meeting keeps its date."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.reject_alternative(meeting.guest, meeting, reason=payload.reason.value, note=payload.note)
    return meeting_view(meeting)


@router.post("/guest/{token}/alternative/withdraw", response=ANSWER)
def guest_withdraw_alternative(request: HttpRequest, token: str):
    """L14: the guest takes back the alternative date they proposed."""
    meeting = guest_links.meeting_for_link(token)
    meeting = lifecycle.withdraw_alternative(meeting.guest, meeting)
    return meeting_view(meeting)


# --- after the meeting (S1, S3) ----------------------------------------------------------


@router.post("/guest/{token}/statement", response=ANSWER)
def guest_statement(request: HttpRequest, token: str, payload: StatementIn):
    """S1: once the agreed meeting has ended, the guest (the client side) states whether it
    took place: ``held`` ("went smoothly"), ``not_held_client`` ("because of me") or
    ``not_held_expert``; with the reviews add-on also ``stars`` (1–5, seen by the organization
    only). A written ``review`` needs a client account: 403 ``sign_in_required``. Once: a
    second answers 409 ``already_stated``. A decisive first statement settles the meeting (S3)."""
    meeting = guest_links.meeting_for_link(token)
    meeting = outcome.submit_statement(
        meeting.guest,
        meeting,
        said=payload.said.value,
        stars=payload.stars,
        review=payload.review,
        summary=payload.summary,
    )
    return meeting_view(meeting)
