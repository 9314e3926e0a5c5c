"""The booking pages' calendar (E4, E5, B7): a week of free slots, grouped by day, in the
visitor's time zone.

The slots are the domain's (``availability.search``), the same the API answers with; this
only cuts the visitor's week out of them and dates them on the visitor's clock. A week is
seven local days from a first day (today by default), so a week across a daylight-saving
change has its 23 or 25 hours, and an hour that happens twice shows each slot with its
zone's abbreviation (E4, Q1)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.http import HttpRequest

from parlour.availability import search
from parlour.catalog.models import ExpertProfile, Service
from parlour.meetings.models import Meeting

WEEK = timedelta(days=7)


@lru_cache(maxsize=1)
def zone_choices() -> tuple[str, ...]:
    """The zones a visitor can choose from: the IANA regions' zones and UTC, sorted."""
    regions = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/")
    regions += ("Pacific/",)
    return ("UTC", *sorted(name for name in available_timezones() if name.startswith(regions)))


def known_zone(name: str | None) -> str | None:
    name = (name or "").strip()
    return name if name in _all_zones() else None


@lru_cache(maxsize=1)
def _all_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def visitor_zone(request: HttpRequest, chosen: str | None = None) -> tuple[str, bool]:
    """The zone to show times in, and whether the visitor chose it on the page: ``tz`` from
    the form or address when it is a known zone, else the viewer's own (their setting when
    signed in, or the browser's, reported in the ``tz`` cookie)."""
    chosen = known_zone(chosen if chosen is not None else request.GET.get("tz"))
    if chosen:
        return chosen, True
    zone = getattr(request, "time_zone", None)
    return (getattr(zone, "key", None) or "UTC"), False


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local date (where midnight is skipped, the first after it)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).astimezone(zone)


@dataclass
class Slot:
    start: datetime  # in the visitor's zone
    end: datetime
    with_zone: bool = False  # shown with the zone's abbreviation (the hour that happens twice)

    @property
    def zone_name(self) -> str:
        """The zone's abbreviation at the start (CEST, CET); Django's date filter leaves it
        out for the hour that happens twice, where it matters most."""
        return self.start.tzname() or ""

    @property
    def value(self) -> str:
        """The start in UTC, as the booking form sends it back."""
        return self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Day:
    day: date
    slots: list[Slot] = field(default_factory=list)


@dataclass
class Week:
    first: date
    days: list[Day]
    previous: date | None
    next: date | None
    length: int
    zone: str

    @property
    def count(self) -> int:
        return sum(len(day.slots) for day in self.days)

    @property
    def last(self) -> date:
        return self.first + timedelta(days=6)


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def parse_length(service: Service, text) -> int:
    """One of the service's lengths; its default for anything else."""
    try:
        length = int(text)
    except (TypeError, ValueError):
        return service.default_length
    return length if length in service.lengths else service.default_length


def week_of(
    service: Service,
    zone_name: str,
    first: date | None,
    length: int,
    now: datetime,
    profile: ExpertProfile | None = None,
    *,
    any_expert: bool = False,
    exclude: Meeting | None = None,
) -> Week:
    """The free slots of seven local days from ``first``: one expert's (``profile``; none
    while they have no free dates) or, with ``any_expert``, the union over the service's
    experts (B7). The first day is kept between today and the end of the booking window.
    ``exclude``: a meeting whose own time counts as free (L16, moving that meeting)."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    window = service.organization.settings.booking_window_days
    last_day = (now + timedelta(days=window)).astimezone(zone).date()
    first = min(max(first or today, today), last_day)
    start, end = midnight(first, zone), midnight(first + WEEK, zone)
    query = search.Query(length, start.astimezone(UTC), end.astimezone(UTC), now)
    if any_expert:
        starts = [moment for moment, _experts in search.service_slots(service, query)]
    elif profile is not None:
        starts = search.expert_slots(service, profile, query, exclude=exclude)
    else:
        starts = []
    span = timedelta(minutes=length)
    days = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(7)}
    for moment in starts:
        local = moment.astimezone(zone)
        days[local.date()].slots.append(Slot(local, (moment + span).astimezone(zone)))
    for day in days.values():
        labels: dict[str, set] = {}
        for slot in day.slots:
            labels.setdefault(slot.start.strftime("%H:%M"), set()).add(slot.start.utcoffset())
        for slot in day.slots:
            slot.with_zone = len(labels[slot.start.strftime("%H:%M")]) > 1
    return Week(
        first=first,
        days=list(days.values()),
        previous=max(first - WEEK, today) if first > today else None,
        next=first + WEEK if first + WEEK <= last_day else None,
        length=length,
        zone=zone_name,
    )
