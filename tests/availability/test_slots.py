"""The slot engine on ordinary days (E3, E4, B7, Q1): plain values in, plain values out, no DB.

Days are in June 2025 in Europe/Amsterdam (+02:00, no transition near); daylight-saving days
are in test_slots_dst.py.
"""

import os
import time as process_time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parlour.availability.slots import (
    Busy,
    DateException,
    FreeDates,
    LocalInterval,
    SlotRequest,
    bookable_slots,
    count_per_local_day,
    intersect,
    normalize,
    subtract,
    union,
    union_slots,
)

ZONE = "Europe/Amsterdam"
AMS = ZoneInfo(ZONE)
MONDAY = date(2025, 6, 2)
TUESDAY = MONDAY + timedelta(days=1)
NOW = datetime(2025, 5, 1, tzinfo=UTC)


def at(day: date, hhmm: str, zone: ZoneInfo = AMS) -> datetime:
    """A local wall-clock time of the expert as an aware instant."""
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=zone)


def hours(*spans: str) -> list[LocalInterval]:
    """``hours("09:00-12:00", "13:00-24:00")``."""
    return [LocalInterval.of(*span.split("-")) for span in spans]


def free_dates(weekly: dict[int, list[LocalInterval]] | None = None, **limits) -> FreeDates:
    return FreeDates(ZONE, weekly={0: hours("09:00-17:00")} if weekly is None else weekly, **limits)


def find(
    free: FreeDates,
    busy: Busy | None = None,
    *,
    day: date = MONDAY,
    days: int = 1,
    length: int = 60,
    step: int = 15,
    now: datetime = NOW,
    window_end: datetime | None = None,
    range_start: datetime | None = None,
    range_end: datetime | None = None,
) -> list[datetime]:
    """Slots for whole local days starting at ``day`` unless a range is given."""
    zone = ZoneInfo(free.time_zone)
    request = SlotRequest(
        length_minutes=length,
        range_start=range_start or at(day, "00:00", zone),
        range_end=range_end or at(day + timedelta(days=days), "00:00", zone),
        window_end=window_end or now + timedelta(days=365),
        now=now,
        step_minutes=step,
    )
    return bookable_slots(free, busy or Busy(), request)


def walls(instants: list[datetime], zone: ZoneInfo = AMS) -> list[str]:
    return [instant.astimezone(zone).strftime("%H:%M") for instant in instants]


def every(start: str, end: str, minutes: int) -> list[str]:
    """Wall times from start to end inclusive, every ``minutes``."""
    t, last, out = datetime.fromisoformat(f"2000-01-01T{start}"), datetime.fromisoformat(f"2000-01-01T{end}"), []
    while t <= last:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=minutes)
    return out


# Interval algebra ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ([], []),
        ([(3, 3)], []),
        ([(5, 3)], []),
        ([(5, 7), (1, 3)], [(1, 3), (5, 7)]),
        ([(1, 3), (3, 5)], [(1, 5)]),
        ([(1, 10), (2, 3)], [(1, 10)]),
        ([(1, 4), (2, 6), (8, 9)], [(1, 6), (8, 9)]),
    ],
)
def test_e4_normalize_sorts_drops_empty_and_merges_touching(given_, expected):
    assert normalize(given_) == expected


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (([], []), []),
        (([(1, 3)], [(2, 5)], [(7, 8)]), [(1, 5), (7, 8)]),
        (([(7, 8), (1, 2)], [(2, 3)]), [(1, 3), (7, 8)]),
    ],
)
def test_e4_union_table(groups, expected):
    assert union(*groups) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([(1, 5)], [(3, 8)], [(3, 5)]),
        ([(1, 3)], [(3, 5)], []),
        ([(0, 10)], [(1, 2), (4, 6), (8, 12)], [(1, 2), (4, 6), (8, 10)]),
        ([(0, 4), (6, 10)], [(2, 8)], [(2, 4), (6, 8)]),
        ([(1, 2), (4, 6)], [], []),
        ([(4, 6), (1, 2)], [(0, 5)], [(1, 2), (4, 5)]),
    ],
)
def test_e4_intersect_table(a, b, expected):
    assert intersect(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([(0, 10)], [(3, 5)], [(0, 3), (5, 10)]),
        ([(0, 10)], [(0, 10)], []),
        ([(0, 10)], [(-5, 2), (8, 15)], [(2, 8)]),
        ([(0, 10)], [(10, 12)], [(0, 10)]),
        ([(0, 4), (6, 10)], [(3, 7)], [(0, 3), (7, 10)]),
        ([(0, 10), (20, 30)], [(5, 25)], [(0, 5), (25, 30)]),
        ([(0, 2), (3, 5), (6, 8)], [(1, 7)], [(0, 1), (7, 8)]),
        ([(6, 8), (0, 2)], [(1, 7)], [(0, 1), (7, 8)]),
        ([], [(1, 2)], []),
        ([(0, 10)], [], [(0, 10)]),
    ],
)
def test_e4_subtract_table(a, b, expected):
    assert subtract(a, b) == expected


def test_e4_algebra_works_on_datetimes():
    nine, ten, eleven, noon = (at(MONDAY, f"{h:02}:00") for h in (9, 10, 11, 12))
    assert subtract([(nine, noon)], [(ten, eleven)]) == [(nine, ten), (eleven, noon)]
    assert intersect([(nine, eleven)], [(ten, noon)]) == [(ten, eleven)]
    assert union([(nine, ten)], [(ten, eleven)]) == [(nine, eleven)]


def _points(intervals: list[tuple[int, int]]) -> set[int]:
    return {x for start, end in intervals for x in range(start, end)}


_intervals = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=8)


@given(_intervals, _intervals)
def test_e4_algebra_agrees_with_sets_of_points(a, b):
    for result in (normalize(a), union(a, b), intersect(a, b), subtract(a, b)):
        assert all(start < end for start, end in result)
        assert all(x[1] < y[0] for x, y in zip(result, result[1:], strict=False))  # sorted, disjoint, apart
    assert _points(union(a, b)) == _points(a) | _points(b)
    assert _points(intersect(a, b)) == _points(a) & _points(b)
    assert _points(subtract(a, b)) == _points(a) - _points(b)


# Weekly hours and exceptions (E3) --------------------------------------------------------------


def test_e3_weekly_hours_several_intervals_a_day():
    free = free_dates({0: hours("09:00-10:00", "13:00-14:00")})
    assert walls(find(free, length=30)) == ["09:00", "09:15", "09:30", "13:00", "13:15", "13:30"]


def test_e3_weekly_hours_apply_to_their_weekday_only():
    free = free_dates({0: hours("09:00-10:00"), 2: hours("14:00-15:00")})
    slots = find(free, days=7)
    assert [(s.astimezone(AMS).date(), walls([s])[0]) for s in slots] == [
        (MONDAY, "09:00"),
        (MONDAY + timedelta(days=2), "14:00"),
    ]


def test_e3_an_end_of_24_00_or_00_00_is_midnight_and_hours_join_across_it():
    assert LocalInterval.of("22:00", "24:00") == LocalInterval.of("22:00", "00:00") == LocalInterval(time(22), time(0))
    free = free_dates({0: hours("22:00-24:00"), 1: hours("00:00-01:00")})
    assert walls(find(free, length=120)) == ["22:00", "22:15", "22:30", "22:45", "23:00"]
    # Starts end at 23:30, but the slots still need Tuesday's hours.
    assert walls(find(free, length=120, range_end=at(MONDAY, "23:30"))) == ["22:00", "22:15", "22:30", "22:45", "23:00"]
    assert len(find(free_dates({0: hours("00:00-24:00")}), step=60)) == 24


@pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("11:00", "10:00"), ("24:00", "24:00")])
def test_e3_empty_or_reversed_local_interval_is_refused(start, end):
    with pytest.raises(ValueError):
        LocalInterval.of(start, end)


def test_e3_exception_adds_hours_on_a_working_day_and_on_a_free_day():
    sunday = MONDAY - timedelta(days=1)
    free = free_dates(
        {0: hours("09:00-10:00")},
        exceptions=[
            DateException(MONDAY, add=hours("14:00-15:00")),
            DateException(sunday, add=hours("11:00-12:00")),
        ],
    )
    assert walls(find(free, step=60)) == ["09:00", "14:00"]
    assert walls(find(free, day=sunday, step=60)) == ["11:00"]


def test_e3_exception_removes_part_of_the_day():
    free = free_dates({0: hours("09:00-12:00")}, exceptions=[DateException(MONDAY, remove=hours("10:00-11:00"))])
    assert walls(find(free, step=30)) == ["09:00", "11:00"]


def test_e3_whole_day_off_only_on_its_date():
    free = free_dates(exceptions=[DateException(MONDAY, day_off=True)])
    assert find(free) == []
    assert walls(find(free, day=MONDAY + timedelta(days=7), step=60)) == every("09:00", "16:00", 60)


def test_e3_day_off_with_added_hours_replaces_the_day():
    free = free_dates(exceptions=[DateException(MONDAY, add=hours("18:00-19:00"), day_off=True)])
    assert walls(find(free)) == ["18:00"]


def test_e3_exceptions_of_one_date_combine():
    free = free_dates(
        exceptions=[
            DateException(MONDAY, remove=hours("09:00-16:00")),
            DateException(MONDAY, add=hours("19:00-20:00"), remove=hours("16:30-24:00")),
        ]
    )
    assert walls(find(free, length=30, step=30)) == ["16:00"]


def test_e3_time_off_removes_hours_across_days():
    off = (at(MONDAY, "11:00"), at(TUESDAY, "15:00"))
    free = free_dates({0: hours("09:00-17:00"), 1: hours("09:00-17:00")}, time_off=[off])
    slots = find(free, days=2, step=60)
    assert [s.astimezone(AMS).strftime("%a %H:%M") for s in slots] == [
        "Mon 09:00",
        "Mon 10:00",
        "Tue 15:00",
        "Tue 16:00",
    ]


# Limits (E3) -----------------------------------------------------------------------------------


def test_e3_minimum_notice_counts_from_now_and_keeps_the_grid():
    free = free_dates(minimum_notice=timedelta(hours=2))
    assert walls(find(free, now=at(MONDAY, "09:10")))[0] == "11:15"
    assert walls(find(free, now=at(MONDAY, "09:00")))[0] == "11:00"
    just_after = at(MONDAY, "09:00") + timedelta(microseconds=1)
    assert walls(find(free, now=just_after))[0] == "11:15"


def test_e4_no_slot_in_the_past_without_notice():
    assert walls(find(free_dates(), now=at(MONDAY, "15:30")))[0] == "15:30"


MEETING = (at(MONDAY, "12:00"), at(MONDAY, "13:00"))


def test_e3_without_buffers_adjacent_slots_touch_the_meeting():
    slots = walls(find(free_dates(), Busy(meetings=[MEETING]), step=5))
    assert "11:00" in slots and "13:00" in slots
    assert "11:05" not in slots and "12:55" not in slots


def test_e3_buffers_before_and_after_keep_both_gaps_exactly():
    """The gap between a meeting and a new slot holds the earlier one's after-buffer plus the
    later one's before-buffer: 5 + 10 minutes either side."""
    free = free_dates(buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=5))
    slots = walls(find(free, Busy(meetings=[MEETING]), step=5))
    assert slots == every("09:00", "10:45", 5) + every("13:15", "16:00", 5)


def test_e3_a_new_slot_needs_its_own_after_buffer_before_a_meeting():
    free = free_dates(buffer_after=timedelta(minutes=15))
    slots = walls(find(free, Busy(meetings=[MEETING]), step=5))
    assert slots[slots.index("10:45") + 1] == "13:15"


def test_e3_buffers_separate_meetings_not_working_hours_or_external_busy():
    free = free_dates(buffer_before=timedelta(minutes=30), buffer_after=timedelta(minutes=30))
    assert walls(find(free, step=60)) == every("09:00", "16:00", 60)
    slots = walls(find(free, Busy(external=[MEETING]), step=60))
    assert "11:00" in slots and "13:00" in slots and "12:00" not in slots


def test_e3_a_meeting_outside_free_hours_still_needs_its_buffer():
    early = (at(MONDAY, "08:00"), at(MONDAY, "08:50"))
    free = free_dates(buffer_after=timedelta(minutes=15))
    assert walls(find(free, Busy(meetings=[early])))[0] == "09:15"


def test_e4_awaiting_and_agreed_meetings_block_their_time():
    slots = walls(find(free_dates(), Busy(meetings=[MEETING, (at(MONDAY, "15:00"), at(MONDAY, "15:30"))]), step=30))
    assert slots == ["09:00", "09:30", "10:00", "10:30", "11:00", "13:00", "13:30", "14:00", "15:30", "16:00"]


def test_e4_external_busy_blocks_without_buffers():
    busy = Busy(external=[(at(MONDAY, "10:00"), at(MONDAY, "10:20"))])
    slots = walls(find(free_dates(buffer_after=timedelta(hours=1)), busy, length=30))
    assert slots[:4] == ["09:00", "09:15", "09:30", "10:30"]


def test_e3_max_meetings_a_day_closes_a_full_day_only():
    free = free_dates({0: hours("09:00-10:00"), 1: hours("09:00-10:00")}, max_per_day=2)
    full_monday = Busy(meetings_per_day={MONDAY: 2})
    assert [s.astimezone(AMS).date() for s in find(free, full_monday, days=2, step=60)] == [TUESDAY]
    one_on_monday = Busy(meetings_per_day={MONDAY: 1})
    assert len(find(free, one_on_monday, days=2, step=60)) == 2
    assert find(free_dates(max_per_day=0)) == []


def test_e3_max_meetings_a_day_counts_the_experts_local_day():
    """Tuesday 00:00-02:00 in Amsterdam is Monday 22:00-24:00 in UTC: Tuesday's count decides."""
    free = free_dates({1: hours("00:00-02:00")}, max_per_day=1)
    assert find(free, Busy(meetings_per_day={TUESDAY: 1}), day=TUESDAY) == []
    assert len(find(free, Busy(meetings_per_day={MONDAY: 1}), day=TUESDAY, step=60)) == 2


def test_e3_count_per_local_day_uses_the_experts_dates():
    late, later = at(MONDAY, "23:30"), at(TUESDAY, "00:30")  # both on Monday in UTC
    assert count_per_local_day([late, later, late], ZONE) == {MONDAY: 2, TUESDAY: 1}
    assert count_per_local_day([late, later], "UTC") == {MONDAY: 2}
    assert count_per_local_day([], ZONE) == {}


# Grid, window and range (E4) -------------------------------------------------------------------


def test_e4_grid_is_on_local_multiples_of_the_step():
    free = free_dates({0: hours("09:10-11:00")})
    assert walls(find(free, length=30)) == every("09:15", "10:30", 15)
    assert walls(find(free, length=30, step=20)) == ["09:20", "09:40", "10:00", "10:20"]


def test_e4_grid_starts_again_on_the_next_step_after_a_meeting():
    busy = Busy(meetings=[(at(MONDAY, "09:00"), at(MONDAY, "10:05"))])
    assert walls(find(free_dates(), busy))[0] == "10:15"


@pytest.mark.parametrize("step", [0, -15, 25, 7])
def test_e4_a_step_that_does_not_divide_a_day_is_refused(step):
    with pytest.raises(ValueError):
        find(free_dates(), step=step)


def test_e4_booking_window_end_limits_starts_not_ends():
    slots = walls(find(free_dates(), window_end=at(MONDAY, "12:00")))
    assert slots == every("09:00", "11:45", 15)


def test_e4_range_start_is_inclusive_end_exclusive_and_slots_may_run_past_it():
    slots = walls(find(free_dates(), range_start=at(MONDAY, "10:00"), range_end=at(MONDAY, "12:00")))
    assert slots == every("10:00", "11:45", 15)
    assert walls(find(free_dates(), range_start=at(MONDAY, "10:05"), range_end=at(MONDAY, "11:00"))) == [
        "10:15",
        "10:30",
        "10:45",
    ]
    assert find(free_dates(), range_start=at(MONDAY, "12:00"), range_end=at(MONDAY, "12:00")) == []
    assert find(free_dates(), range_start=at(MONDAY, "12:00"), range_end=at(MONDAY, "11:00")) == []


def test_e4_slot_longer_than_a_free_interval_is_not_offered_there():
    free = free_dates({0: hours("09:00-09:45", "10:00-12:00")})
    assert walls(find(free)) == every("10:00", "11:00", 15)
    assert find(free, length=180) == []


def test_e4_slots_are_sorted_distinct_utc_instants():
    free = free_dates({d: hours("00:00-10:00", "08:00-24:00") for d in range(7)})
    slots = find(free, days=14, length=45, step=15)
    assert slots == sorted(set(slots))
    assert all(s.tzinfo is UTC for s in slots)
    assert len(slots) == 14 * 96  # overlapping hours merge, and the last slot runs on into the next day


def test_e4_requests_ranges_in_any_zone_alike():
    tokyo = ZoneInfo("Asia/Tokyo")
    a = find(free_dates(), range_start=at(MONDAY, "00:00"), range_end=at(TUESDAY, "00:00"))
    b = find(free_dates(), range_start=at(MONDAY, "00:00").astimezone(tokyo), range_end=at(TUESDAY, "00:00"))
    assert a == b


@pytest.mark.parametrize(
    "make",
    [
        lambda: FreeDates("Mars/Olympus_Mons"),
        lambda: FreeDates(ZONE, weekly={7: hours("09:00-10:00")}),
        lambda: FreeDates(ZONE, buffer_before=timedelta(minutes=-5)),
        lambda: FreeDates(ZONE, max_per_day=-1),
        lambda: FreeDates(ZONE, time_off=[(datetime(2025, 6, 2, 9), datetime(2025, 6, 2, 10))]),
        lambda: Busy(meetings=[(datetime(2025, 6, 2, 9), datetime(2025, 6, 2, 10))]),
        lambda: SlotRequest(60, datetime(2025, 6, 2), NOW, NOW, NOW),
        lambda: SlotRequest(0, NOW, NOW, NOW, NOW),
    ],
)
def test_q2_bad_input_is_refused_early(make: Callable[[], object]):
    with pytest.raises((ValueError, KeyError)):
        make()


# Several experts (B7) --------------------------------------------------------------------------


def test_b7_union_of_experts_says_who_is_free_at_each_start():
    nine, quarter, half = (at(MONDAY, t) for t in ("09:00", "09:15", "09:30"))
    merged = union_slots({"ann": [quarter, nine, nine], "bob": [half, quarter.astimezone(ZoneInfo("Asia/Tokyo"))]})
    assert merged == [
        (nine.astimezone(UTC), ["ann"]),
        (quarter.astimezone(UTC), ["ann", "bob"]),
        (half.astimezone(UTC), ["bob"]),
    ]
    assert all(start.tzinfo is UTC for start, _ in merged)
    assert union_slots({}) == [] and union_slots({"ann": []}) == []


def test_b7_union_over_engine_results():
    morning = free_dates({0: hours("09:00-11:00")})
    late_morning = free_dates({0: hours("10:00-12:00")})
    merged = union_slots({1: find(morning, step=60), 2: find(late_morning, step=60)})
    assert [(walls([s])[0], keys) for s, keys in merged] == [("09:00", [1]), ("10:00", [1, 2]), ("11:00", [2])]


# Independence from the process (Q1) ------------------------------------------------------------


@pytest.fixture
def process_zone() -> Iterator[Callable[[str], None]]:
    """Sets the process time zone (TZ + tzset) and puts the old one back afterwards."""
    old = os.environ.get("TZ")

    def set_zone(name: str) -> None:
        os.environ["TZ"] = name
        process_time.tzset()

    yield set_zone
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    process_time.tzset()


def test_q1_result_does_not_depend_on_the_process_time_zone(process_zone):
    free = FreeDates(
        ZONE,
        weekly={6: hours("00:00-04:00", "09:00-12:00"), 0: hours("09:00-17:00")},
        buffer_after=timedelta(minutes=10),
        max_per_day=3,
    )
    busy = Busy(meetings=[(datetime(2025, 10, 27, 9, tzinfo=UTC), datetime(2025, 10, 27, 10, tzinfo=UTC))])
    results, epoch_hours = {}, set()
    for name in ("UTC", "America/Sao_Paulo", "Asia/Kathmandu"):
        process_zone(name)
        epoch_hours.add(process_time.localtime(0).tm_hour)  # proof that the process zone changed
        results[name] = find(free, busy, day=date(2025, 10, 26), days=2, length=30, step=30)
    assert len(epoch_hours) == 3
    assert results["UTC"] == results["America/Sao_Paulo"] == results["Asia/Kathmandu"]
    # Sunday 00:00-04:00 holds five hours that night; the meeting and its buffer take four slots.
    assert len(results["UTC"]) == 10 + 6 + 16 - 4
