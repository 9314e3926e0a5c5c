"""An expert's free dates (E3): read and replace the whole set, or add and remove one span of
time off. The expert themself or an admin of the organization may; another person of the
organization hears 403, anyone else "not found" (O3). The rules of what is accepted are in
``parlour.availability.free_dates``; a refusal lists every problem and changes nothing."""

from datetime import time

from django.http import HttpRequest
from ninja import Router, Status

from parlour.accounts.models import Membership, Organization
from parlour.availability import free_dates
from parlour.availability.free_dates import WEEKDAYS, Absence, DatedHours, FreeDatesSet, Hours
from parlour.core.errors import NotFound

from .lookups import organization_for, viewer
from .schemas import ERRORS, ErrorOut, FreeDatesIn, FreeDatesOut, TimeOffIn, TimeOffOut
from .slots import checked_id

router = Router(tags=["free dates"])

PATH = "/orgs/{slug}/experts/{int:expert_id}/free-dates"


def _membership(organization: Organization, expert_id: int) -> Membership:
    membership = (
        Membership.objects.filter(organization=organization, user_id=checked_id(expert_id, "expert"))
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        raise NotFound("expert")
    return membership


def _clock(value: time | None, *, end: bool = False) -> str | None:
    if value is None:
        return None
    return "24:00" if end and value == time(0) else f"{value:%H:%M}"


def _time_off(absence: Absence) -> dict:
    return {"id": absence.id, "start": absence.start, "end": absence.end, "note": absence.note}


def _answer(membership: Membership, found: FreeDatesSet) -> dict:
    return {
        "expert": {"id": membership.user_id, "name": membership.user.name},
        "time_zone": found.time_zone,
        "weekly": [
            {
                "weekday": h.weekday,
                "weekday_name": WEEKDAYS[h.weekday],
                "start": _clock(h.start),
                "end": _clock(h.end, end=True),
            }
            for h in found.weekly
        ],
        "exceptions": [
            {"date": e.date, "kind": e.kind, "start": _clock(e.start), "end": _clock(e.end, end=True)}
            for e in found.exceptions
        ],
        "time_off": [_time_off(t) for t in found.time_off],
        "minimum_notice_minutes": found.minimum_notice_minutes,
        "buffer_before_minutes": found.buffer_before_minutes,
        "buffer_after_minutes": found.buffer_after_minutes,
        "max_meetings_per_day": found.max_meetings_per_day,
    }


@router.get(PATH, response={200: FreeDatesOut, ERRORS: ErrorOut})
def get_free_dates(request: HttpRequest, slug: str, expert_id: int):
    """E3: the expert's weekly hours, dated exceptions, time off and limits, in their zone.
    An end of 24:00 is midnight at the end of the day."""
    membership = _membership(organization_for(request, slug), expert_id)
    return _answer(membership, free_dates.read_free_dates(viewer(request), membership))


@router.put(PATH, response={200: FreeDatesOut, ERRORS: ErrorOut})
def replace_free_dates(request: HttpRequest, slug: str, expert_id: int, payload: FreeDatesIn):
    """E3: replace the whole set at once. Overlapping intervals of one day are refused, not
    merged (touching ones are fine); every problem is listed in ``details.errors`` and then
    nothing changes. Time off gets new ids. Meetings already booked stay."""
    membership = _membership(organization_for(request, slug), expert_id)
    new = FreeDatesSet(
        time_zone=payload.time_zone.strip(),
        weekly=[Hours(h.weekday, h.start, h.end) for h in payload.weekly],
        exceptions=[DatedHours(e.date, e.kind, e.start, e.end) for e in payload.exceptions],
        time_off=[Absence(t.start, t.end, t.note.strip()) for t in payload.time_off],
        minimum_notice_minutes=payload.minimum_notice_minutes,
        buffer_before_minutes=payload.buffer_before_minutes,
        buffer_after_minutes=payload.buffer_after_minutes,
        max_meetings_per_day=payload.max_meetings_per_day,
    )
    return _answer(membership, free_dates.replace_free_dates(viewer(request), membership, new))


@router.post(PATH + "/time-off", response={201: TimeOffOut, ERRORS: ErrorOut})
def add_time_off(request: HttpRequest, slug: str, expert_id: int, payload: TimeOffIn):
    """E3: add one span of time off (a holiday, a conference) to what the expert has."""
    membership = _membership(organization_for(request, slug), expert_id)
    absence = free_dates.add_time_off(
        viewer(request), membership, start=payload.start, end=payload.end, note=payload.note
    )
    return Status(201, _time_off(absence))


@router.delete(PATH + "/time-off/{int:time_off_id}", response={204: None, ERRORS: ErrorOut})
def remove_time_off(request: HttpRequest, slug: str, expert_id: int, time_off_id: int):
    """E3: remove one span of time off."""
    membership = _membership(organization_for(request, slug), expert_id)
    free_dates.remove_time_off(viewer(request), membership, checked_id(time_off_id, "time off"))
    return Status(204, None)
