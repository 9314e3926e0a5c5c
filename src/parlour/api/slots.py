"""Bookable slots (E4, E5, B7) for people of the organization; the public booking page asks
the same questions through ``parlour.api.public``.

A range is given in the viewer's own terms: ``from`` and ``to`` are dates (``2026-03-23``,
from that date's midnight to the end of the ``to`` date, in the viewer's zone) or ISO
datetimes with an offset. The viewer's zone is ``tz``, else the signed-in person's own, else
UTC. A range holds at most ``MAX_RANGE_DAYS`` days. Each slot is shown in the viewer's zone
with its offset, so a slot on either side of a daylight-saving change reads right (Q1).

Whatever the range's length, the answer costs the same few queries: the engine reads each
kind of data once (``parlour.availability.search``)."""

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from parlour.accounts.access import membership_of
from parlour.accounts.models import Membership, Organization, User
from parlour.availability import search
from parlour.availability.free_dates import is_time_zone
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.core.errors import DomainError, NotFound

from .lookups import organization_for, service_of, viewer
from .schemas import ERRORS, MAX_ID, ErrorOut, ExpertSlotsQuery, SlotsOut, SlotsQuery

router = Router(tags=["slots"])

MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 7
# Beyond this, no slot can be asked for: the booking window is counted in days, not centuries.
FARTHEST = timedelta(days=366 * 100)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A "+" of an offset sent unencoded in a query string arrives as a space.
_LOST_PLUS = re.compile(r" (\d{2}(:?\d{2})?)$")


def checked_id(value: int, what: str) -> int:
    """An id from a path: one that cannot exist is "not found", like one that does not."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(what)
    return value


# --- the viewer's zone and range ------------------------------------------------------------


def viewer_zone(tz: str | None, person: User | None) -> str:
    """``tz`` when given (and known), else the signed-in person's zone, else UTC."""
    if tz is not None:
        tz = tz.strip()
        if not is_time_zone(tz):
            raise DomainError(
                "invalid_input",
                _("%(zone)s is not a known time zone (e.g. America/New_York).") % {"zone": repr(tz)},
                "Q1",
                status=400,
            )
        return tz
    if person is not None and person.is_authenticated and is_time_zone(person.time_zone):
        return person.time_zone
    return "UTC"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date (where midnight is skipped, the first after it)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).astimezone(zone)


def _bound(text: str, zone: ZoneInfo, *, name: str, whole_day_after: bool) -> datetime:
    text = _LOST_PLUS.sub(r"+\1", text.strip())
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text)
            return _midnight(day + timedelta(days=1) if whole_day_after else day, zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise DomainError(
            "invalid_input",
            _("`%(name)s`: give a date (2030-05-01) or a date and time with its offset (2030-05-01T09:00:00+02:00).")
            % {"name": name},
            "Q2",
            status=422,
        ) from None
    if moment.utcoffset() is None:
        raise DomainError(
            "invalid_input",
            _("`%(name)s`: give the time with its offset, e.g. 2030-05-01T09:00:00+02:00, or just a date.")
            % {"name": name},
            "Q1",
            status=400,
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise DomainError("invalid_range", _("`%(name)s` is out of range.") % {"name": name}, "Q2") from None


def slot_range(params: SlotsQuery, zone_name: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC from ``from`` and ``to`` as the viewer means them."""
    zone = ZoneInfo(zone_name)
    if params.starts_from:
        start = _bound(params.starts_from, zone, name="from", whole_day_after=False)
    else:
        start = _midnight(now.astimezone(zone).date(), zone).astimezone(UTC)
    end = _bound(params.starts_to, zone, name="to", whole_day_after=True) if params.starts_to else None
    if not all(now - FARTHEST < bound < now + FARTHEST for bound in (start, end or start)):
        raise DomainError("invalid_range", _("Ask for slots within the coming years."), "Q2")
    end = end or start + timedelta(days=DEFAULT_RANGE_DAYS)
    if end <= start:
        raise DomainError("invalid_range", _("`to` must come after `from`."), "Q2")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise DomainError(
            "range_too_long",
            _("Ask for at most %(days)s days of slots at once; split the range.") % {"days": MAX_RANGE_DAYS},
            "E4",
        )
    return start, end


def slot_length(service: Service, length: int | None) -> int:
    if length is None:
        return service.default_length
    if length not in service.lengths:
        allowed = ", ".join(str(x) for x in service.lengths)
        raise DomainError(
            "invalid_length", _("This service can be booked for %(lengths)s minutes.") % {"lengths": allowed}, "E4"
        )
    return length


# --- lookups ----------------------------------------------------------------------------------


def active_service(organization: Organization, service_id: int) -> Service:
    service = service_of(organization, checked_id(service_id, "service"))
    service.organization = organization  # the same row: read its settings once
    return service


def expert_of_service(service: Service, expert_id: int) -> User:
    """An expert who gives ``service`` and is a member of its organization; else not found."""
    return expert_profile_of_service(service, expert_id)[0]


def expert_profile_of_service(service: Service, expert_id: int) -> tuple[User, ExpertProfile | None]:
    """``expert_of_service`` with the expert's profile, None while they have none: one query."""
    found = (
        Membership.objects.filter(
            organization_id=service.organization_id, user_id=checked_id(expert_id, "expert"), user__services=service
        )
        .select_related("user", "profile")
        .order_by()[:1]  # one at most: a membership per organization and person, a service lists a person once
    )
    membership = next(iter(found), None)
    if membership is None:
        raise NotFound("expert")
    try:
        return membership.user, membership.profile
    except ExpertProfile.DoesNotExist:
        return membership.user, None


# --- answers ----------------------------------------------------------------------------------
#
# The answer is written here as JSON, not through Ninja: validating a few hundred slots
# against ``SlotsOut`` and encoding their datetimes one by one cost more than finding them.
# ``SlotsOut`` still describes it (OpenAPI); the fields, their order, the datetimes' format
# (Django's JSON encoder, which Ninja's uses: "Z" for UTC, milliseconds at most) and the
# absent ``expert_id`` and ``experts`` (``exclude_none``) are those Ninja wrote.

_datetime = DjangoJSONEncoder().default
_JSON = "application/json; charset=utf-8"


def _answer(body: dict) -> HttpResponse:
    return HttpResponse(json.dumps(body), content_type=_JSON)


def _slot(start: datetime, length: timedelta, zone: ZoneInfo) -> dict:
    if start.tzinfo is not UTC:
        start = start.astimezone(UTC)
    return {
        "start": _datetime(start.astimezone(zone)),
        "end": _datetime((start + length).astimezone(zone)),
        "start_utc": _datetime(start),
    }


def expert_slots_answer(
    service: Service,
    expert: User,
    profile: ExpertProfile | None,
    params: SlotsQuery,
    zone_name: str,
    now: datetime | None = None,
) -> HttpResponse:
    """E4: one expert's slots for the service, in the viewer's zone (``SlotsOut``)."""
    now = now or clock.now()
    length = slot_length(service, params.length)
    start, end = slot_range(params, zone_name, now)
    starts = [] if profile is None else search.expert_slots(service, profile, search.Query(length, start, end, now))
    zone, span = ZoneInfo(zone_name), timedelta(minutes=length)
    return _answer(
        {
            "service_id": service.pk,
            "expert_id": expert.pk,
            "time_zone": zone_name,
            "length": length,
            "starts_from": _datetime(start),
            "starts_before": _datetime(end),
            "slots": [_slot(s, span, zone) for s in starts],
        }
    )


def service_slots_answer(
    service: Service, params: SlotsQuery, zone_name: str, *, show_experts: bool, now: datetime | None = None
) -> HttpResponse:
    """B7: the union of the service's experts' slots; who is free at each only for members
    (``SlotsOut``)."""
    now = now or clock.now()
    length = slot_length(service, params.length)
    start, end = slot_range(params, zone_name, now)
    zone, span = ZoneInfo(zone_name), timedelta(minutes=length)
    slots = []
    for moment, experts in search.service_slots(service, search.Query(length, start, end, now)):
        row = _slot(moment, span, zone)
        if show_experts:
            row["experts"] = [{"id": e.pk, "name": e.name} for e in experts]
        slots.append(row)
    return _answer(
        {
            "service_id": service.pk,
            "time_zone": zone_name,
            "length": length,
            "starts_from": _datetime(start),
            "starts_before": _datetime(end),
            "slots": slots,
        }
    )


SLOTS = {200: SlotsOut, ERRORS: ErrorOut}


@router.get("/orgs/{slug}/experts/{int:expert_id}/slots", response=SLOTS, exclude_none=True)
def expert_slots(request: HttpRequest, slug: str, expert_id: int, params: Query[ExpertSlotsQuery]):
    """E4, E5: when an expert can be booked for a service (``service_id``, required: the
    service decides the length and the grid). Slots are the expert's free dates minus their
    meetings (with buffers), time off and external busy times, past the minimum notice,
    inside the booking window and under the day's cap."""
    organization = organization_for(request, slug)
    service = active_service(organization, params.service_id)
    expert, profile = expert_profile_of_service(service, expert_id)
    return expert_slots_answer(service, expert, profile, params, viewer_zone(params.tz, viewer(request)))


@router.get("/orgs/{slug}/services/{int:service_id}/slots", response=SLOTS, exclude_none=True)
def service_slots(request: HttpRequest, slug: str, service_id: int, params: Query[SlotsQuery]):
    """B7: when the service can be booked with any of its experts. Members see at each slot
    which experts are free, the one a booking without an expert would go to first; clients
    see the times only."""
    person = viewer(request)
    organization = organization_for(request, slug)
    service = active_service(organization, service_id)
    member = membership_of(person, organization) is not None
    return service_slots_answer(service, params, viewer_zone(params.tz, person), show_experts=member)
