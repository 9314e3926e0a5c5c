"""Calendars (K1, K3): a meeting as an .ics file to add to one's calendar, and each person's
private calendar feed — made, rotated and revoked while signed in, read by a calendar
program with the token in its address alone.

A meeting's file and the feed carry the same UID and SEQUENCE as the invitations sent by
email (K2), so a calendar that has the event from one of them updates it from the others."""

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from parlour.calendars import feeds, ics
from parlour.meetings.models import Meeting

from .lookups import meeting_for, viewer
from .schemas import ERRORS, ErrorOut
from .security import session_auth

router = Router(tags=["calendars"])

CALENDAR_TYPE = "text/calendar; charset=utf-8"
ICS_ANSWER = {
    "responses": {
        200: {
            "description": "An iCalendar file (RFC 5545).",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
}


class CalendarFeedOut(Schema):
    url: str = Field(description="The feed's address, shown this once: subscribe to it in a calendar program.")
    webcal_url: str = Field(description="The same address as webcal://, which many programs open by themselves.")


def calendar_file(meeting: Meeting) -> HttpResponse:
    """K1: ``meeting`` as ``meeting-<id>.ics`` (METHOD:PUBLISH), to download."""
    response = HttpResponse(ics.event_ics(meeting), content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/orgs/{slug}/meetings/{int:meeting_id}/calendar.ics",
    response={ERRORS: ErrorOut},
    openapi_extra=ICS_ANSWER,
)
def meeting_calendar(request: HttpRequest, slug: str, meeting_id: int):
    """K1: add the meeting to a calendar. Anyone who may see the meeting may download it
    (O2); for anyone else it does not exist (O3)."""
    _, meeting = meeting_for(request, slug, meeting_id)
    return calendar_file(meeting)


@router.post("/me/calendar-feed", auth=session_auth, response={201: CalendarFeedOut, ERRORS: ErrorOut})
def create_calendar_feed(request: HttpRequest):
    """K3: a new private feed address with my meetings of every organization. The address
    is shown in this answer only; making a new one stops the previous one. Only from a
    signed-in session, so that a leaked API token cannot make an address that outlives it."""
    token = feeds.issue_feed(viewer(request))
    url = request.build_absolute_uri(reverse("api-v1:calendar_feed", kwargs={"token": token}))
    return Status(201, {"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]})


@router.delete("/me/calendar-feed", response={204: None, ERRORS: ErrorOut})
def revoke_calendar_feed(request: HttpRequest):
    """K3: my feed address stops working at once. Revoking twice changes nothing."""
    feeds.revoke_feeds(viewer(request))
    return Status(204, None)


@router.get(
    "/calendar/{token}.ics",
    auth=None,
    url_name="calendar_feed",
    response={ERRORS: ErrorOut},
    openapi_extra=ICS_ANSWER,
)
def calendar_feed(request: HttpRequest, token: str):
    """K3: the feed a calendar program reads, with no sign-in: the token is the whole
    authority. An unknown or revoked token is "not found"."""
    user, meetings = feeds.feed_meetings(token)
    response = HttpResponse(ics.feed_ics(user, meetings), content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = 'inline; filename="parlour.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
