"""Reading and replacing an expert's free dates (E3): the one writer of weekly hours, dated
exceptions, time off and the per-expert limits.

Who may: the expert themself or an admin of the organization (anyone else: 403, rule E3;
finding the expert at all is the caller's lookup, which answers "not found" outside the
organization, O3).

What is accepted — every problem is listed at once and then **nothing** changes (Q2):

- the time zone is an IANA name (``Europe/Amsterdam``); hours are wall-clock times in it;
- weekly hours: weekday 0 (Monday) to 6 (Sunday), start before end, where an end of 00:00
  means midnight at the end of the day; several intervals a day are fine, but **overlapping
  intervals of one weekday are refused**, not merged: an overlap is nearly always a typing
  mistake, and merging it silently would store something other than what was sent.
  Touching intervals (09:00–12:00 and 12:00–17:00) are not an overlap; a span over midnight
  is two intervals on two weekdays;
- dated exceptions: ``add`` (extra hours) and ``remove`` (hours off) need a start and an end,
  ``day_off`` takes neither; one date may carry several, e.g. ``day_off`` plus ``add``
  replaces that day's hours; overlapping intervals of one kind on one date are refused like
  weekly ones, and so is a second ``day_off`` on a date;
- time off: spans of real time (aware datetimes), end after start; they may overlap;
- minimum notice 0 to 525 600 minutes (a year), buffers 0 to 1 440 minutes each, at most
  1 to 100 meetings a day or no limit.

Replacing writes the whole set in one transaction with the profile row locked, so two
replacements never interleave. Meetings already booked stay as they are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

from django.db import transaction
from django.utils.translation import gettext, ngettext

from parlour.accounts.access import is_admin
from parlour.accounts.models import Membership, User
from parlour.catalog.models import ExpertProfile
from parlour.core.errors import DomainError, NotFound

from .models import DateException, ExceptionKind, TimeOff, Weekday, WeeklyHours

RULE = "E3"
MAX_WEEKLY = 100
MAX_EXCEPTIONS = 1000
MAX_TIME_OFF = 500
MAX_NOTE = 200
MAX_NOTICE_MINUTES = 60 * 24 * 365
MAX_BUFFER_MINUTES = 24 * 60
MAX_PER_DAY = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA time zone (``Europe/Amsterdam``, ``UTC``)."""
    return name in _zones()


@dataclass(frozen=True)
class Hours:
    """Weekly hours: on ``weekday`` (0 = Monday) from ``start`` to ``end`` (00:00 = midnight)."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class DatedHours:
    """A dated exception: ``add`` or ``remove`` hours on ``date``, or take the ``day_off``."""

    date: date
    kind: str
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Absence:
    """Time off: a span of real time. ``id`` is set when read back."""

    start: datetime
    end: datetime
    note: str = ""
    id: int | None = None


@dataclass(frozen=True)
class FreeDatesSet:
    """Everything an expert sets in E3, as one value: read whole, replaced whole."""

    time_zone: str
    weekly: list[Hours] = field(default_factory=list)
    exceptions: list[DatedHours] = field(default_factory=list)
    time_off: list[Absence] = field(default_factory=list)
    minimum_notice_minutes: int = 0
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    max_meetings_per_day: int | None = None


# --- who may ----------------------------------------------------------------------------------


def require_manager(actor: User, membership: Membership) -> None:
    """E3: the expert themself or an admin of the organization."""
    if actor.pk == membership.user_id or is_admin(actor, membership.organization):
        return
    raise DomainError(
        "not_allowed",
        gettext("Only the expert themself or an admin of the organization may manage free dates."),
        RULE,
        status=403,
    )


# --- reading ----------------------------------------------------------------------------------


def _profile(membership: Membership) -> ExpertProfile | None:
    return ExpertProfile.objects.filter(membership=membership).first()


def read_free_dates(actor: User, membership: Membership) -> FreeDatesSet:
    """The expert's free dates; an expert who never set any has none, in their own zone."""
    require_manager(actor, membership)
    profile = _profile(membership)
    if profile is None:
        return FreeDatesSet(time_zone=membership.user.time_zone)
    return _as_set(profile)


def _as_set(profile: ExpertProfile) -> FreeDatesSet:
    return FreeDatesSet(
        time_zone=profile.time_zone,
        weekly=[Hours(h.weekday, h.start, h.end) for h in WeeklyHours.objects.filter(profile=profile)],
        exceptions=[
            DatedHours(e.date, e.kind, e.start, e.end)
            for e in DateException.objects.filter(profile=profile).order_by("date", "kind", "start", "id")
        ],
        time_off=[Absence(t.start, t.end, t.note, t.pk) for t in TimeOff.objects.filter(profile=profile)],
        minimum_notice_minutes=profile.minimum_notice_minutes,
        buffer_before_minutes=profile.buffer_before_minutes,
        buffer_after_minutes=profile.buffer_after_minutes,
        max_meetings_per_day=profile.max_meetings_per_day,
    )


# --- checking ---------------------------------------------------------------------------------


def _minutes(value: time | None) -> int | None:
    return None if value is None else value.hour * 60 + value.minute


def _span(start: time, end: time) -> tuple[int, int]:
    """Minutes since local midnight, an end of 00:00 being the day's end (1440)."""
    return _minutes(start), _minutes(end) or 1440


def _clock(value: time) -> str:
    return f"{value:%H:%M}"


class _Problems:
    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.found.append({"field": where, "message": message})

    def raise_any(self) -> None:
        if not self.found:
            return
        first, more = self.found[0], len(self.found) - 1
        words = {"field": first["field"], "problem": first["message"], "count": more}
        raise DomainError(
            "invalid_free_dates",
            ngettext(
                "%(field)s: %(problem)s (and %(count)s more). Nothing was changed.",
                "%(field)s: %(problem)s (and %(count)s more). Nothing was changed.",
                more,
            )
            % words
            if more
            else gettext("%(field)s: %(problem)s. Nothing was changed.") % words,
            RULE,
            details={"errors": self.found},
        )


def _check_interval(problems: _Problems, where: str, start: time, end: time) -> bool:
    fine = True
    for name, value in (("start", start), ("end", end)):
        if value.second or value.microsecond or value.tzinfo is not None:
            problems.add(f"{where}.{name}", gettext("give a wall-clock time as HH:MM, without seconds or offset"))
            fine = False
    if fine:
        lo, hi = _span(start, end)
        if hi <= lo:
            problems.add(
                f"{where}.end",
                gettext("%(end)s is not after %(start)s (use 24:00 for midnight)")
                % {"end": _clock(end), "start": _clock(start)},
            )
            fine = False
    return fine


def _check_overlaps(problems: _Problems, where: str, spans: list[tuple[int, tuple[int, int], str]]) -> None:
    """``spans``: (index, (start, end), label) of one day and kind; overlaps are refused."""
    ordered = sorted(spans, key=lambda item: item[1])
    for (_, (_, end_a), label_a), (index_b, (start_b, _), label_b) in zip(ordered, ordered[1:], strict=False):
        if start_b < end_a:
            problems.add(
                f"{where}.{index_b}",
                gettext("%(hours)s overlaps %(other)s; join them into one interval")
                % {"hours": label_b, "other": label_a},
            )


def _label(start: time, end: time) -> str:
    return f"{_clock(start)}–{'24:00' if _minutes(end) == 0 else _clock(end)}"


def _check_time_off(problems: _Problems, where: str, absence: Absence) -> None:
    for name in ("start", "end"):
        value = getattr(absence, name)
        if not isinstance(value, datetime) or value.utcoffset() is None:
            problems.add(
                f"{where}.{name}", gettext("give a date and time with its offset, e.g. 2030-05-01T09:00:00+02:00")
            )
            return
    if absence.end <= absence.start:
        problems.add(f"{where}.end", gettext("time off must end after it starts"))
    if len(absence.note or "") > MAX_NOTE:
        problems.add(f"{where}.note", gettext("keep the note under %(count)s characters") % {"count": MAX_NOTE})


def _check_limit(problems: _Problems, name: str, value, lo: int, hi: int, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        words = {"lo": lo, "hi": hi}
        problems.add(
            name,
            gettext("give a whole number from %(lo)s to %(hi)s, or null for no limit") % words
            if optional
            else gettext("give a whole number from %(lo)s to %(hi)s") % words,
        )


def check_free_dates(new: FreeDatesSet) -> None:
    """Refuse, listing every problem, a set that E3 does not allow (see the module's text)."""
    problems = _Problems()
    for name, items, most in (
        ("weekly", new.weekly, MAX_WEEKLY),
        ("exceptions", new.exceptions, MAX_EXCEPTIONS),
        ("time_off", new.time_off, MAX_TIME_OFF),
    ):
        if len(items) > most:
            problems.add(name, gettext("at most %(count)s entries") % {"count": most})
    problems.raise_any()  # before looking at each of too many
    if not isinstance(new.time_zone, str) or not is_time_zone(new.time_zone):
        problems.add(
            "time_zone",
            gettext("%(zone)s is not a known time zone (e.g. Europe/Amsterdam)") % {"zone": repr(new.time_zone)},
        )

    per_day: dict[int, list] = defaultdict(list)
    for index, hours in enumerate(new.weekly):
        where = f"weekly.{index}"
        if not isinstance(hours.weekday, int) or isinstance(hours.weekday, bool) or not 0 <= hours.weekday <= 6:
            problems.add(
                f"{where}.weekday",
                gettext("%(weekday)s is not a weekday: 0 is Monday, 6 is Sunday") % {"weekday": repr(hours.weekday)},
            )
            continue
        if _check_interval(problems, where, hours.start, hours.end):
            per_day[hours.weekday].append((index, _span(hours.start, hours.end), _label(hours.start, hours.end)))
    for weekday, spans in per_day.items():
        before = len(problems.found)
        _check_overlaps(problems, "weekly", spans)
        for problem in problems.found[before:]:
            problem["message"] = f"{Weekday(weekday).label} {problem['message']}"

    dated: dict[tuple[date, str], list] = defaultdict(list)
    for index, exception in enumerate(new.exceptions):
        where = f"exceptions.{index}"
        if exception.kind not in ExceptionKind.values:
            problems.add(
                f"{where}.kind", gettext("choose one of %(kinds)s") % {"kinds": ", ".join(ExceptionKind.values)}
            )
            continue
        if exception.kind == ExceptionKind.DAY_OFF:
            if exception.start is not None or exception.end is not None:
                problems.add(where, gettext("a whole day off has no hours; add extra hours with a separate `add`"))
            elif dated[(exception.date, exception.kind)]:
                problems.add(where, gettext("%(date)s is already a day off") % {"date": exception.date})
            dated[(exception.date, exception.kind)].append((index, (0, 1440), gettext("day off")))
            continue
        if exception.start is None or exception.end is None:
            problems.add(where, gettext("extra hours and hours off need a start and an end"))
            continue
        if _check_interval(problems, where, exception.start, exception.end):
            span = _span(exception.start, exception.end)
            dated[(exception.date, exception.kind)].append((index, span, _label(exception.start, exception.end)))
    for (day, kind), spans in dated.items():
        if kind != ExceptionKind.DAY_OFF:
            before = len(problems.found)
            _check_overlaps(problems, "exceptions", spans)
            for problem in problems.found[before:]:
                problem["message"] = f"{day}: {problem['message']}"

    for index, absence in enumerate(new.time_off):
        _check_time_off(problems, f"time_off.{index}", absence)

    _check_limit(problems, "minimum_notice_minutes", new.minimum_notice_minutes, 0, MAX_NOTICE_MINUTES)
    _check_limit(problems, "buffer_before_minutes", new.buffer_before_minutes, 0, MAX_BUFFER_MINUTES)
    _check_limit(problems, "buffer_after_minutes", new.buffer_after_minutes, 0, MAX_BUFFER_MINUTES)
    _check_limit(problems, "max_meetings_per_day", new.max_meetings_per_day, 1, MAX_PER_DAY, optional=True)
    problems.raise_any()


# --- writing ----------------------------------------------------------------------------------


def _locked_profile(membership: Membership) -> ExpertProfile:
    profile, _ = ExpertProfile.objects.get_or_create(
        membership=membership, defaults={"time_zone": membership.user.time_zone}
    )
    return ExpertProfile.objects.select_for_update().get(pk=profile.pk)


def replace_free_dates(actor: User, membership: Membership, new: FreeDatesSet) -> FreeDatesSet:
    """E3: replace the expert's whole set of free dates and limits at once, or refuse and
    change nothing. Returns the set as stored (time off with its new ids)."""
    require_manager(actor, membership)
    check_free_dates(new)
    with transaction.atomic():
        profile = _locked_profile(membership)
        WeeklyHours.objects.filter(profile=profile).delete()
        DateException.objects.filter(profile=profile).delete()
        TimeOff.objects.filter(profile=profile).delete()
        WeeklyHours.objects.bulk_create(
            WeeklyHours(profile=profile, weekday=h.weekday, start=h.start, end=h.end) for h in new.weekly
        )
        DateException.objects.bulk_create(
            DateException(profile=profile, date=e.date, kind=e.kind, start=e.start, end=e.end) for e in new.exceptions
        )
        for absence in new.time_off:
            TimeOff.objects.create(profile=profile, start=absence.start, end=absence.end, note=absence.note or "")
        profile.time_zone = new.time_zone
        profile.minimum_notice_minutes = new.minimum_notice_minutes
        profile.buffer_before_minutes = new.buffer_before_minutes
        profile.buffer_after_minutes = new.buffer_after_minutes
        profile.max_meetings_per_day = new.max_meetings_per_day
        profile.save(
            update_fields=[
                "time_zone",
                "minimum_notice_minutes",
                "buffer_before_minutes",
                "buffer_after_minutes",
                "max_meetings_per_day",
            ]
        )
        return _as_set(profile)


def add_time_off(actor: User, membership: Membership, *, start: datetime, end: datetime, note: str = "") -> Absence:
    """E3: add one span of time off to what the expert has."""
    require_manager(actor, membership)
    absence = Absence(start, end, (note or "").strip())
    problems = _Problems()
    _check_time_off(problems, "time_off", absence)
    problems.raise_any()
    with transaction.atomic():
        profile = _locked_profile(membership)
        if TimeOff.objects.filter(profile=profile).count() >= MAX_TIME_OFF:
            raise DomainError(
                "too_much_time_off",
                gettext("An expert keeps at most %(count)s spans of time off; remove old ones.")
                % {"count": MAX_TIME_OFF},
                RULE,
            )
        row = TimeOff.objects.create(profile=profile, start=start, end=end, note=absence.note)
    return Absence(row.start, row.end, row.note, row.pk)


def remove_time_off(actor: User, membership: Membership, time_off_id: int) -> None:
    """E3: remove one span of time off; one of another expert is "not found"."""
    require_manager(actor, membership)
    with transaction.atomic():
        deleted, _ = TimeOff.objects.filter(profile__membership=membership, pk=time_off_id).delete()
    if not deleted:
        raise NotFound("time off")
