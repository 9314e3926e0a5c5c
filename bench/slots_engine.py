"""How long the slot engine takes per call (E4), by number of meetings and range length.

One expert in Europe/Amsterdam with two intervals of weekly hours a day, a few dated
exceptions, 200 external busy times and 10, 100 or 1,000 meetings spread over 30 days (all of
them passed on every call, as a caller that does not pre-filter would). Prints the median and
95th percentile per call in milliseconds.

    .venv/bin/python bench/slots_engine.py [runs]
"""

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from parlour.availability.slots import Busy, DateException, FreeDates, LocalInterval, SlotRequest, bookable_slots

START = datetime(2025, 10, 13, 6, tzinfo=UTC)  # a Monday morning; the month holds the autumn change
DAYS = 30


def free_dates() -> FreeDates:
    two_a_day = [LocalInterval.of("09:00", "12:30"), LocalInterval.of("13:30", "17:30")]
    first = START.date()
    return FreeDates(
        "Europe/Amsterdam",
        weekly={day: two_a_day for day in range(6)},
        exceptions=[
            DateException(first + timedelta(days=3), day_off=True),
            DateException(first + timedelta(days=9), add=[LocalInterval.of("18:00", "21:00")]),
            DateException(first + timedelta(days=16), remove=[LocalInterval.of("13:30", "17:30")]),
            DateException(date(2025, 11, 2), add=[LocalInterval.of("10:00", "14:00")]),
        ],
        time_off=[(START + timedelta(days=20), START + timedelta(days=22))],
        minimum_notice=timedelta(hours=4),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=5),
        max_per_day=40,
    )


def random_intervals(rng: random.Random, count: int, minutes: int) -> list[tuple[datetime, datetime]]:
    quarters = DAYS * 24 * 4
    starts = (START + timedelta(minutes=15 * rng.randrange(quarters)) for _ in range(count))
    return [(s, s + timedelta(minutes=minutes)) for s in starts]


def measure(free: FreeDates, busy: Busy, days: int, runs: int) -> tuple[float, float, int]:
    request = SlotRequest(
        length_minutes=45,
        range_start=START,
        range_end=START + timedelta(days=days),
        window_end=START + timedelta(days=30),
        now=START,
    )
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        slots = bookable_slots(free, busy, request)
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1], len(slots)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = random.Random(7)
    external = random_intervals(rng, 200, 60)
    free = free_dates()
    print(f"slot engine, {runs} runs per row, milliseconds per call")
    print(f"{'meetings':>8} {'range':>7} {'median':>8} {'p95':>8} {'slots':>6}")
    for meetings in (10, 100, 1000):
        busy = Busy(meetings=random_intervals(rng, meetings, 30), external=external)
        for days in (1, 30):
            median, p95, count = measure(free, busy, days, runs)
            print(f"{meetings:>8} {days:>5} d {median:>8.3f} {p95:>8.3f} {count:>6}")


if __name__ == "__main__":
    main()
