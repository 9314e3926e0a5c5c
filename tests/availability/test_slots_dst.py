"""Daylight-saving days (E4, Q1): the slot engine's wall-clock facts, zone by zone.

Each case names a transition day, the local hours of that weekday, and the exact local wall
times (with offsets) the slots must start at. On spring days the gap never appears; on autumn
days the repeated wall times appear twice, with two offsets; no instant appears twice.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from parlour.availability.slots import Busy, FreeDates, LocalInterval, SlotRequest, bookable_slots

NOW = datetime(1980, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    zone: str
    day: date
    hours: str  # "01:00-04:00"
    step: int  # minutes; the slots last as long
    expected: list[str]  # "HH:MM+hh:mm" wall times with offsets
    gap: tuple[str, str] | None = None  # local [start, end) that does not exist that day
    repeated: tuple[str, str] | None = None  # local [start, end) that happens twice


CASES = {
    "amsterdam-spring": Case(
        "Europe/Amsterdam",
        date(2025, 3, 30),
        "01:00-04:00",
        30,
        ["01:00+01:00", "01:30+01:00", "03:00+02:00", "03:30+02:00"],
        gap=("02:00", "03:00"),
    ),
    "amsterdam-spring-hours-begin-in-the-gap": Case(
        "Europe/Amsterdam",
        date(2025, 3, 30),
        "02:30-04:00",
        30,
        ["03:00+02:00", "03:30+02:00"],
        gap=("02:00", "03:00"),
    ),
    "amsterdam-autumn": Case(
        "Europe/Amsterdam",
        date(2025, 10, 26),
        "01:00-04:00",
        30,
        [
            *["01:00+02:00", "01:30+02:00", "02:00+02:00", "02:30+02:00"],
            *["02:00+01:00", "02:30+01:00", "03:00+01:00", "03:30+01:00"],
        ],
        repeated=("02:00", "03:00"),
    ),
    "amsterdam-autumn-hours-within-the-repeated-hour": Case(
        "Europe/Amsterdam",
        date(2025, 10, 26),
        "02:15-02:45",
        15,
        ["02:15+02:00", "02:30+02:00", "02:15+01:00", "02:30+01:00"],
        repeated=("02:00", "03:00"),
    ),
    "new-york-spring": Case(
        "America/New_York",
        date(2025, 3, 9),
        "01:00-04:00",
        30,
        ["01:00-05:00", "01:30-05:00", "03:00-04:00", "03:30-04:00"],
        gap=("02:00", "03:00"),
    ),
    "new-york-autumn": Case(
        "America/New_York",
        date(2025, 11, 2),
        "00:00-03:00",
        30,
        [
            *["00:00-04:00", "00:30-04:00", "01:00-04:00", "01:30-04:00"],
            *["01:00-05:00", "01:30-05:00", "02:00-05:00", "02:30-05:00"],
        ],
        repeated=("01:00", "02:00"),
    ),
    "lord-howe-autumn-half-hour-back": Case(
        "Australia/Lord_Howe",
        date(2025, 4, 6),
        "01:00-03:00",
        15,
        [
            *["01:00+11:00", "01:15+11:00", "01:30+11:00", "01:45+11:00"],
            *["01:30+10:30", "01:45+10:30", "02:00+10:30", "02:15+10:30", "02:30+10:30", "02:45+10:30"],
        ],
        repeated=("01:30", "02:00"),
    ),
    "lord-howe-spring-half-hour-forward": Case(
        "Australia/Lord_Howe",
        date(2025, 10, 5),
        "01:00-03:00",
        15,
        ["01:00+10:30", "01:15+10:30", "01:30+10:30", "01:45+10:30", "02:30+11:00", "02:45+11:00"],
        gap=("02:00", "02:30"),
    ),
    "lord-howe-hourly-grid-realigns-after-the-shift": Case(
        "Australia/Lord_Howe",
        date(2025, 4, 6),
        "00:00-06:00",
        60,
        # 01:00+11:00 to 02:00+10:30 is ninety real minutes: no hourly wall time repeats.
        ["00:00+11:00", "01:00+11:00", "02:00+10:30", "03:00+10:30", "04:00+10:30", "05:00+10:30"],
    ),
    "lord-howe-hourly-grid-skips-the-gap": Case(
        "Australia/Lord_Howe",
        date(2025, 10, 5),
        "00:00-06:00",
        60,
        ["00:00+10:30", "01:00+10:30", "03:00+11:00", "04:00+11:00", "05:00+11:00"],
        gap=("02:00", "02:30"),
    ),
    "kathmandu-quarter-hour-offset": Case(
        "Asia/Kathmandu",
        date(2025, 6, 2),
        "09:00-10:00",
        15,
        ["09:00+05:45", "09:15+05:45", "09:30+05:45", "09:45+05:45"],
    ),
    "kathmandu-1986-quarter-hour-forward-at-midnight": Case(
        "Asia/Kathmandu",
        date(1986, 1, 1),
        "00:00-01:00",
        15,
        ["00:15+05:45", "00:30+05:45", "00:45+05:45"],
        gap=("00:00", "00:15"),
    ),
    "santiago-midnight-does-not-exist": Case(
        "America/Santiago",
        date(2024, 9, 8),
        "00:00-03:00",
        30,
        ["01:00-03:00", "01:30-03:00", "02:00-03:00", "02:30-03:00"],
        gap=("00:00", "01:00"),
    ),
}


def run(case: Case, free: FreeDates | None = None, busy: Busy | None = None) -> list[datetime]:
    zone = ZoneInfo(case.zone)
    free = free or FreeDates(case.zone, weekly={case.day.weekday(): [LocalInterval.of(*case.hours.split("-"))]})
    end = datetime.combine(case.day + timedelta(days=1), time(), tzinfo=zone)
    request = SlotRequest(
        length_minutes=case.step,
        range_start=datetime.combine(case.day, time(), tzinfo=zone) - timedelta(hours=3),
        range_end=end,
        window_end=end + timedelta(days=30),
        now=NOW,
        step_minutes=case.step,
    )
    return bookable_slots(free, busy or Busy(), request)


def wall(instant: datetime, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    offset = local.isoformat()[-6:]
    return f"{local:%H:%M}{offset}"


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_e4_q1_dst_wall_times_are_exactly_the_expected_list(case: Case):
    slots = run(case)
    assert [wall(s, case.zone) for s in slots] == case.expected
    assert len(set(slots)) == len(slots), "no instant is offered twice"
    assert slots == sorted(slots)
    assert all(s.astimezone(ZoneInfo(case.zone)).date() == case.day for s in slots)


@pytest.mark.parametrize("case", [c for c in CASES.values() if c.gap], ids=[k for k, c in CASES.items() if c.gap])
def test_e4_q1_no_slot_starts_at_a_local_time_that_does_not_exist(case: Case):
    assert case.gap is not None
    gap_start, gap_end = (time.fromisoformat(t) for t in case.gap)
    zone = ZoneInfo(case.zone)
    for slot in run(case):
        local = slot.astimezone(zone)
        assert not gap_start <= local.time() < gap_end
        # The wall time exists: read back in the zone, it names the same instant.
        assert local.replace(tzinfo=None).replace(tzinfo=zone, fold=local.fold).astimezone(UTC) == slot


@pytest.mark.parametrize(
    "case", [c for c in CASES.values() if c.repeated], ids=[k for k, c in CASES.items() if c.repeated]
)
def test_e4_q1_repeated_local_times_are_offered_twice_with_distinct_offsets(case: Case):
    assert case.repeated is not None
    start, end = (time.fromisoformat(t) for t in case.repeated)
    zone = ZoneInfo(case.zone)
    in_repeat: dict[time, list[datetime]] = {}
    for slot in run(case):
        local = slot.astimezone(zone)
        if start <= local.time() < end:
            in_repeat.setdefault(local.time(), []).append(slot)
    assert in_repeat, "the case offers slots in the repeated hour"
    for twice in in_repeat.values():
        assert len(twice) == 2
        assert twice[0] != twice[1]
        assert len({s.astimezone(zone).utcoffset() for s in twice}) == 2


TRANSITION_DAYS = [
    ("Europe/Amsterdam", date(2025, 3, 30)),
    ("Europe/Amsterdam", date(2025, 10, 26)),
    ("America/New_York", date(2025, 3, 9)),
    ("America/New_York", date(2025, 11, 2)),
    ("Australia/Lord_Howe", date(2025, 4, 6)),
    ("Australia/Lord_Howe", date(2025, 10, 5)),
]


@pytest.mark.parametrize(("zone", "day"), TRANSITION_DAYS)
def test_e4_q1_office_hours_keep_their_local_meaning_on_a_transition_day(zone: str, day: date):
    """09:00-17:00 is 09:00-17:00 local whatever the night did: eight hourly slots, eight hours."""
    slots = run(Case(zone, day, "09:00-17:00", 60, []))
    assert [wall(s, zone)[:5] for s in slots] == [f"{h:02}:00" for h in range(9, 17)]
    assert slots[-1] + timedelta(hours=1) - slots[0] == timedelta(hours=8)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Amsterdam", date(2025, 3, 30), 23),
        ("Europe/Amsterdam", date(2025, 10, 26), 25),
        ("America/New_York", date(2025, 3, 9), 23),
        ("America/New_York", date(2025, 11, 2), 25),
    ],
)
def test_e4_q1_a_whole_transition_day_is_as_long_as_the_day_really_is(zone: str, day: date, hours: int):
    slots = run(Case(zone, day, "00:00-24:00", 60, []))
    assert len(slots) == len(set(slots)) == hours


def test_e4_q1_a_meeting_in_the_first_occurrence_leaves_the_second_free():
    case = CASES["amsterdam-autumn"]
    first_two = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)  # 02:00+02:00
    busy = Busy(meetings=[(first_two, first_two + timedelta(minutes=30))])
    walls = [wall(s, case.zone) for s in run(case, busy=busy)]
    assert "02:00+02:00" not in walls
    assert "02:00+01:00" in walls


def test_e4_q1_buffers_count_real_minutes_across_a_transition():
    """A meeting ending at 01:30+02:00 with a 60-minute buffer frees 02:30+02:00, not 03:00 wall."""
    case = CASES["amsterdam-autumn"]
    meeting_end = datetime(2025, 10, 25, 23, 30, tzinfo=UTC)  # 01:30+02:00
    busy = Busy(meetings=[(meeting_end - timedelta(minutes=30), meeting_end)])
    free = FreeDates(case.zone, weekly={6: [LocalInterval.of("01:00", "04:00")]}, buffer_after=timedelta(hours=1))
    walls = [wall(s, case.zone) for s in run(case, free, busy)]
    assert walls[0] == "02:30+02:00"


def test_e4_q1_meetings_given_in_local_time_are_placed_by_instant_not_wall_clock():
    """Two datetimes of one zone compare by wall clock, which misorders a repeated hour."""
    case = CASES["amsterdam-autumn"]
    zone = ZoneInfo(case.zone)
    second_two = (datetime(2025, 10, 26, 2, 0, tzinfo=zone, fold=1), datetime(2025, 10, 26, 2, 30, tzinfo=zone, fold=1))
    first_half_past_two = (datetime(2025, 10, 26, 2, 30, tzinfo=zone), datetime(2025, 10, 26, 2, 59, tzinfo=zone))
    walls = [wall(s, case.zone) for s in run(case, busy=Busy(meetings=[second_two, first_half_past_two]))]
    assert walls == ["01:00+02:00", "01:30+02:00", "02:00+02:00", "02:30+01:00", "03:00+01:00", "03:30+01:00"]


def test_e4_q1_a_fall_back_across_midnight_revisits_the_previous_date():
    """St. John's fell back from 00:01 to 23:01 of the day before until 2011: a range that
    starts on Sunday still holds Saturday's second 23:xx, so the day before is expanded too."""
    zone = ZoneInfo("America/St_Johns")
    free = FreeDates("America/St_Johns", weekly={5: [LocalInterval.of("23:00", "24:00")]})
    sunday = datetime(2010, 11, 7, tzinfo=zone)
    request = SlotRequest(15, sunday, sunday + timedelta(days=1), sunday + timedelta(days=2), NOW)
    walls = [wall(s, "America/St_Johns") for s in bookable_slots(free, Busy(), request)]
    assert walls == ["23:15-03:30", "23:30-03:30", "23:45-03:30"]
