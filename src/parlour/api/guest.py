"""A guest's own meeting through the signed link sent to them (B5, O3): read it, cancel it,
or move it to another free time (L16). No account and no session: the token in the path is
the whole authority, so there is no cookie for another site to ride on and no CSRF token to
send. A token that is forged, broken, or whose meeting's guest key has changed is "not
found". Reading never changes anything; the actions are the lifecycle's own functions with
the guest as the actor, with the same rules and refusals as for a client."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router

from parlour.core import clock
from parlour.meetings import guest_links, lifecycle
from parlour.meetings.display import displayed_status
from parlour.meetings.models import Meeting

from .calendars import ICS_ANSWER, calendar_file
from .schemas import ERRORS, ErrorOut, GuestCancelIn, GuestChangeIn, GuestMeetingOut

router = Router(tags=["guest links"], auth=None)

ANSWER = {200: GuestMeetingOut, ERRORS: ErrorOut}


def guest_link(meeting: Meeting) -> str:
    """The path of the meeting's guest link, ``/api/v1/guest/<token>``."""
    return reverse("api-v1:guest_meeting", kwargs={"token": guest_links.link_token(meeting)})


def meeting_view(meeting: Meeting, now: datetime | None = None) -> dict:
    """The meeting as its guest (or client) sees it, dated in their own zone."""
    person = meeting.guest if meeting.guest_id else meeting.client
    zone_name = person.time_zone or "UTC"
    zone = ZoneInfo(zone_name)
    shown = displayed_status(meeting, now or clock.now())
    return {
        "id": meeting.pk,
        "organization": meeting.organization.name,
        "service": {"id": meeting.service_id, "name": meeting.service.name},
        "expert": {"id": meeting.expert_id, "name": meeting.expert.name},
        "name": person.name,
        "email": person.email,
        "status": meeting.status,
        "displayed_status": shown.value,
        "displayed_status_label": shown.label,
        "time_zone": zone_name,
        "start": meeting.start.astimezone(zone),
        "end": meeting.end.astimezone(zone),
        "length": meeting.length_minutes,
        "price": meeting.price,
        "subject": meeting.subject,
        "description": meeting.description,
        "guest_key": meeting.guest_key,
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
