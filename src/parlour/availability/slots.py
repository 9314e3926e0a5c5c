"""Bookable slots of one expert (E3, E4, Q1): a pure core.

Plain values in, plain values out: no ORM, no clock, no settings. The caller passes ``now``,
so the same inputs always give the same slots, and tests need no time travel.

How a slot list is made, and why this way:

1. **Free hours are local.** Weekly hours and dated exceptions are wall-clock times in the
   expert's zone. A local interval of a date means *the instants whose wall-clock time on that
   date lies in it*. So a spring-forward gap simply has no instants (an interval starting in
   it starts at the first instant after it) and an autumn hour that happens twice contributes
   both of its runs. This is computed exactly per constant-offset run of the zone
   (``_offset_runs``), never by guessing ``fold``. Only the dates of the requested range are
   expanded, plus one each side: a fall-back across midnight revisits the previous date.
2. **Subtract what is taken:** time off, external busy times (as they are), and meetings
   widened by ``buffer_before + buffer_after`` on both sides. The gap between an existing
   meeting and a new slot must hold the earlier one's wrap-up and the later one's preparation;
   buffers separate meetings only, not the edges of working hours.
3. **Walk a local grid** over what is left: starts whose local wall-clock time is a multiple
   of the step, so 09:00, 09:15 also in +05:45 zones, realigned after every offset change.

Internally instants are integers (microseconds since the Unix epoch): exact, cheap to compare,
and the grid becomes modular arithmetic. The interval algebra itself works on either
integers or datetimes. Every step is linear after one sort: O(n log n) in the intervals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import TypeVar
from zoneinfo import ZoneInfo

__all__ = [
    "Busy",
    "DateException",
    "FreeDates",
    "Interval",
    "LocalInterval",
    "SlotRequest",
    "bookable_slots",
    "count_per_local_day",
    "intersect",
    "normalize",
    "subtract",
    "union",
    "union_slots",
]

T = TypeVar("T", int, datetime)
K = TypeVar("K", bound=Hashable)
Interval = tuple[datetime, datetime]
"""A half-open span [start, end) of UTC-aware instants."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_DAY = 86_400 * _SECOND


# Interval algebra on sorted half-open intervals ------------------------------------------------


def normalize(intervals: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Sort, drop empty intervals, merge overlapping and touching ones.

    Touching intervals ([a, b) and [b, c)) merge because a slot may run across the seam.
    """
    merged: list[tuple[T, T]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union(*groups: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """All instants in any of the groups."""
    return normalize(chain.from_iterable(groups))


def intersect(a: Iterable[tuple[T, T]], b: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Instants in both; one merge-walk over the two normalized lists."""
    left, right = normalize(a), normalize(b)
    out: list[tuple[T, T]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start, end = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Iterable[tuple[T, T]], b: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Instants in ``a`` but not in ``b``; linear after normalizing."""
    kept, cuts = normalize(a), normalize(b)
    out: list[tuple[T, T]] = []
    j = 0
    for start, end in kept:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        k = j  # a cut reaching past ``end`` may also cut the next interval: do not consume it
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > start:
                out.append((start, cuts[k][0]))
            start = max(start, cuts[k][1])
            k += 1
        if start < end:
            out.append((start, end))
    return out


# Inputs ----------------------------------------------------------------------------------------


def _parse_end(text: str) -> time:
    return time(0) if text == "24:00" else time.fromisoformat(text)


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * _SECOND + value.microsecond


@dataclass(frozen=True)
class LocalInterval:
    """A wall-clock span [start, end) within one local day.

    An end of 00:00 means midnight at the end of the day (24:00): ``datetime.time`` cannot say
    24:00, and an interval cannot end where the day begins. Spans over midnight are two
    intervals on two weekdays; they merge into one stretch of free time.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("local times carry no zone: the expert's time zone gives them meaning")
        start, end = self.span()
        if start >= end:
            raise ValueError(f"empty or reversed local interval {self.start}-{self.end}")

    @classmethod
    def of(cls, start: str, end: str) -> LocalInterval:
        """From "HH:MM" text; an end of "24:00" (or "00:00") is midnight at the end of the day."""
        return cls(time.fromisoformat(start), _parse_end(end))

    def span(self) -> tuple[int, int]:
        """Microseconds since local midnight, [start, end)."""
        return _time_us(self.start), _time_us(self.end) or _DAY


@dataclass(frozen=True)
class DateException:
    """One local date whose hours differ from the week's (E3).

    The date's hours are (the weekly hours, or none when ``day_off``) + ``add`` - ``remove``;
    so ``day_off`` with ``add`` replaces the day's hours.
    """

    date: date
    add: Sequence[LocalInterval] = ()
    remove: Sequence[LocalInterval] = ()
    day_off: bool = False


def _require_aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is not UTC and (instant.tzinfo is None or instant.utcoffset() is None):
            raise ValueError(f"naive datetime {instant!r}: instants must carry a zone (UTC)")


@dataclass(frozen=True)
class FreeDates:
    """What an expert sets in E3, in their own IANA time zone; weekday 0 is Monday."""

    time_zone: str
    weekly: Mapping[int, Sequence[LocalInterval]] = field(default_factory=dict)
    exceptions: Sequence[DateException] = ()
    time_off: Sequence[Interval] = ()
    minimum_notice: timedelta = timedelta(0)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    max_per_day: int | None = None

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not in the middle of a search
        if not set(self.weekly) <= set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6, not {sorted(self.weekly)}")
        if min(self.minimum_notice, self.buffer_before, self.buffer_after) < timedelta(0):
            raise ValueError("minimum notice and buffers cannot be negative")
        if self.max_per_day is not None and self.max_per_day < 0:
            raise ValueError("max_per_day cannot be negative")
        _require_aware(*chain.from_iterable(self.time_off))


@dataclass(frozen=True)
class Busy:
    """What is already taken.

    ``meetings`` are agreed and awaiting-approval meetings (buffers apply around them);
    ``external`` are busy times from the expert's own calendar (K4; no buffers);
    ``meetings_per_day`` counts existing meetings per local date of the expert, for
    ``max_per_day`` (``count_per_local_day`` builds it from meeting starts).
    """

    meetings: Sequence[Interval] = ()
    external: Sequence[Interval] = ()
    meetings_per_day: Mapping[date, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware(*chain.from_iterable(self.meetings), *chain.from_iterable(self.external))


@dataclass(frozen=True)
class SlotRequest:
    """Which slots are asked for: starts in [range_start, range_end) and before window_end."""

    length_minutes: int
    range_start: datetime
    range_end: datetime
    window_end: datetime
    now: datetime
    step_minutes: int = 15

    def __post_init__(self) -> None:
        _require_aware(self.range_start, self.range_end, self.window_end, self.now)
        if self.length_minutes <= 0:
            raise ValueError("a slot lasts at least a minute")
        if self.step_minutes <= 0 or 1440 % self.step_minutes:
            raise ValueError("the grid step must divide a day (5, 10, 15, 20, 30, 60, ...)")


# Time zones ------------------------------------------------------------------------------------


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _US


def _instant(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


Run = tuple[int, int, int]
"""[start, end) in epoch microseconds during which the zone's UTC offset (the third) holds."""


def _offset_runs(zone: ZoneInfo, lo: int, hi: int) -> list[Run]:
    """The zone's constant-offset runs covering [lo, hi), lo and hi on whole seconds.

    The offset is looked up once a day; where it changed, bisection finds the transition to
    the second (tzdata transitions fall on whole seconds). A month costs about 30 lookups.
    Two transitions cancelling out within one day would go unseen; tzdata has none.
    """

    def offset(us: int) -> int:
        return _instant(us).astimezone(zone).utcoffset() // _US  # type: ignore[operator]

    runs: list[Run] = []
    run_start = cursor = lo
    current = offset(lo)
    while cursor < hi:
        step_end = min(cursor + _DAY, hi)
        if offset(step_end) == current:
            cursor = step_end
            continue
        same, other = cursor // _SECOND, step_end // _SECOND
        while other - same > 1:
            middle = (same + other) // 2
            if offset(middle * _SECOND) == current:
                same = middle
            else:
                other = middle
        cursor = other * _SECOND
        runs.append((run_start, cursor, current))
        run_start, current = cursor, offset(cursor)
    runs.append((run_start, hi, current))
    return runs


# The engine ------------------------------------------------------------------------------------


def _day_spans(free: FreeDates) -> tuple[dict[int, list[tuple[int, int]]], dict[date, list[tuple[int, int]]]]:
    """Weekly hours per weekday and the hours of each excepted date, as local microsecond spans."""
    weekly = {day: normalize(i.span() for i in intervals) for day, intervals in free.weekly.items()}
    grouped: dict[date, list[DateException]] = {}
    for exception in free.exceptions:
        grouped.setdefault(exception.date, []).append(exception)
    dated: dict[date, list[tuple[int, int]]] = {}
    for day, exceptions in grouped.items():
        base = [] if any(e.day_off for e in exceptions) else weekly.get(day.weekday(), [])
        added = (i.span() for e in exceptions for i in e.add)
        removed = (i.span() for e in exceptions for i in e.remove)
        dated[day] = subtract(union(base, added), removed)
    return weekly, dated


def _free_hours(free: FreeDates, runs: list[Run], first: date, last: date) -> list[tuple[int, int]]:
    """The instants of each local date from first to last whose wall-clock time is in its hours.

    Per run of one offset, wall time ``w`` is instant ``w - offset``; clipping to the run makes
    a gap contribute nothing and a repeated hour contribute once per run.
    """
    weekly, dated = _day_spans(free)
    pieces: list[tuple[int, int]] = []
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        spans = dated[day] if day in dated else weekly.get(day.weekday(), [])
        midnight = (ordinal - _EPOCH_ORDINAL) * _DAY
        for start, end in spans:
            for run_start, run_end, offset in runs:
                piece = (max(midnight + start - offset, run_start), min(midnight + end - offset, run_end))
                if piece[0] < piece[1]:
                    pieces.append(piece)
    return normalize(pieces)


def _taken(intervals: Sequence[Interval], lo: int, hi: int, pad: timedelta) -> list[Interval]:
    """Intervals widened by ``pad`` each side, keeping only those reaching into [lo, hi).

    Busy times stay datetimes, compared and sorted in C; converting each one to an integer
    would cost more than everything else at a thousand meetings. They are put in UTC, because
    two datetimes of one zone compare by wall-clock time and misorder a repeated hour.
    """
    after, before = _instant(lo) - pad, _instant(hi) + pad
    return [
        (start - pad, end + pad)
        if start.tzinfo is UTC and end.tzinfo is UTC
        else (start.astimezone(UTC) - pad, end.astimezone(UTC) + pad)
        for start, end in intervals
        if end > after and start < before
    ]


def _grid_starts(
    open_time: list[tuple[int, int]], runs: list[Run], lo: int, hi: int, length: int, step: int
) -> list[tuple[int, int]]:
    """(start, offset) of every local-grid start in [lo, hi) whose slot fits in open time."""
    starts: list[tuple[int, int]] = []
    r = 0
    for free_start, free_end in open_time:
        first, last = max(free_start, lo), min(free_end - length, hi - 1)
        if first > last:
            continue
        while runs[r][1] <= first:
            r += 1
        for run_start, run_end, offset in runs[r:]:
            if run_start > last:
                break
            a, b = max(first, run_start), min(last, run_end - 1)
            a += -(a + offset) % step  # the next instant whose wall-clock time is on the grid
            starts.extend((s, offset) for s in range(a, b + 1, step))
    return starts


def bookable_slots(free: FreeDates, busy: Busy, request: SlotRequest) -> list[datetime]:
    """E4: the sorted, distinct UTC starts at which a slot of the requested length can be booked.

    A start is on the expert's local grid, in [range_start, range_end), before window_end, not
    before now + minimum notice, on a local date still under ``max_per_day``; its whole slot
    lies in free hours, outside time off and external busy times, and at least
    ``buffer_before + buffer_after`` away from every meeting.
    """
    zone = ZoneInfo(free.time_zone)
    length = request.length_minutes * _MINUTE
    step = request.step_minutes * _MINUTE
    lo = max(_us(request.range_start), _us(request.now + free.minimum_notice))
    hi = min(_us(request.range_end), _us(request.window_end))
    if lo >= hi or free.max_per_day == 0:
        return []

    # Runs cover the expanded dates whatever the offset (offsets stay within a day of UTC).
    runs = _offset_runs(zone, lo // _SECOND * _SECOND - 3 * _DAY, -(-(hi + length) // _SECOND) * _SECOND + 3 * _DAY)
    first = _instant(lo).astimezone(zone).date() - timedelta(days=1)
    last = _instant(hi + length).astimezone(zone).date() + timedelta(days=1)
    hours = _free_hours(free, runs, first, last)

    gap, none = free.buffer_before + free.buffer_after, timedelta(0)
    taken = chain(
        _taken(free.time_off, lo, hi + length, none),
        _taken(busy.external, lo, hi + length, none),
        _taken(busy.meetings, lo, hi + length, gap),
    )
    open_time = subtract([(_instant(a), _instant(b)) for a, b in hours], taken)
    starts = _grid_starts([(_us(a), _us(b)) for a, b in open_time], runs, lo, hi, length, step)

    if free.max_per_day is not None:
        full = {day.toordinal() - _EPOCH_ORDINAL for day, n in busy.meetings_per_day.items() if n >= free.max_per_day}
        starts = [(s, offset) for s, offset in starts if (s + offset) // _DAY not in full]
    return [_instant(s) for s, _ in starts]


# Helpers for callers ---------------------------------------------------------------------------


def count_per_local_day(instants: Iterable[datetime], time_zone: str) -> dict[date, int]:
    """How many of the instants fall on each local date of the zone (for ``max_per_day``).

    The expert's day, not UTC's: a 23:30 meeting in Amsterdam counts for that Amsterdam date.
    """
    zone = ZoneInfo(time_zone)
    return dict(Counter(instant.astimezone(zone).date() for instant in instants))


def union_slots(per_expert: Mapping[K, Iterable[datetime]]) -> list[tuple[datetime, list[K]]]:
    """B7: the union of the experts' starts, each with the experts free at it.

    Keys keep the mapping's order at every start, so the caller's ranking (fewest meetings in
    the coming week first) decides who gets the booking.
    """
    free_at: dict[datetime, list[K]] = {}
    for key, starts in per_expert.items():
        for start in dict.fromkeys(s.astimezone(UTC) for s in starts):
            free_at.setdefault(start, []).append(key)
    return sorted(free_at.items(), key=lambda item: item[0])
