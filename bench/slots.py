"""How long bookable slots take (E4): the pure engine, and the whole API call in-process.

One expert in Europe/Amsterdam with two intervals of weekly hours a day Monday to Friday, a
few dated exceptions, a time off, 200 external busy times and 10, 100 or 1,000 agreed or
awaiting meetings over 30 days, in a throwaway SQLite database. Per number of meetings, for
a 1-day and a 30-day range, it prints the median and 95th percentile in milliseconds of

- the engine: ``slots.bookable_slots`` on the inputs the API would load, prepared once;
- the API: GET /api/v1/orgs/{slug}/experts/{id}/slots through ``django.test.Client``,
  signed in as a client of the organization (session, routing, queries, engine, JSON);

and the SQL queries of one API call and the slots it returns. It measures; it never judges.

    .venv/bin/python bench/slots.py [runs]
"""

# ruff: noqa: E402  (the settings must see the environment, and Django be set up, before the models load)

import atexit
import gc
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

# The settings read the environment once, at import: a data folder of our own (SQLite file,
# secret key), never a database named in the shell.
DATA_DIR = tempfile.mkdtemp(prefix="parlour-bench-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
os.environ["PARLOUR_DATA_DIR"] = DATA_DIR
os.environ.pop("PARLOUR_DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "parlour.settings"

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import ClientAccount, Membership, Organization, OrganizationSettings, Role, User
from parlour.availability import search, slots
from parlour.availability.models import DateException, ExceptionKind, ExternalBusy, TimeOff, WeeklyHours
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.meetings.models import Meeting, Side, Status

ZONE = ZoneInfo("Europe/Amsterdam")
LENGTH = 45
DAYS = 30
HOURS = [("09:00", "12:30"), ("13:30", "17:30")]
WARMUP = 20
COLUMNS = "{:>8} {:>6} | {:>10} {:>8} | {:>10} {:>8} | {:>7} {:>6}"


def hhmm(text: str) -> wall_time:
    return datetime.strptime(text, "%H:%M").time()


def local(day: date, text: str) -> datetime:
    """A wall-clock time in Amsterdam, as a UTC instant."""
    return datetime.combine(day, hhmm(text), tzinfo=ZONE).astimezone(UTC)


def first_weekday() -> date:
    """The first Monday-to-Friday date after today in Amsterdam: where both ranges start."""
    day = clock.now().astimezone(ZONE).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def build(first: date, rng: random.Random) -> tuple[Organization, User, User, Service, ExpertProfile]:
    """The organization, its expert (free dates, limits, external busy times), a client, a service."""
    org = Organization.objects.create(name="Bench", slug="bench")
    # The whole 30-day range inside the booking window, whatever today's weekday.
    OrganizationSettings.objects.create(organization=org, booking_window_days=DAYS + 15)
    expert = User.objects.create_user("expert@bench.test", name="Eve Expert")
    customer = User.objects.create_user("client@bench.test", name="Cleo Client")
    ClientAccount.objects.create(organization=org, user=customer)
    profile = ExpertProfile.objects.create(
        membership=Membership.objects.create(organization=org, user=expert, role=Role.EXPERT),
        time_zone="Europe/Amsterdam",
        minimum_notice_minutes=240,
        buffer_before_minutes=10,
        buffer_after_minutes=5,
        max_meetings_per_day=40,
    )
    WeeklyHours.objects.bulk_create(
        WeeklyHours(profile=profile, weekday=day, start=hhmm(a), end=hhmm(b)) for day in range(5) for a, b in HOURS
    )
    DateException.objects.bulk_create(
        [
            DateException(profile=profile, date=first + timedelta(days=3), kind=ExceptionKind.DAY_OFF),
            DateException(
                profile=profile,
                date=first + timedelta(days=9),
                kind=ExceptionKind.ADD,
                start=hhmm("18:00"),
                end=hhmm("21:00"),
            ),
            DateException(
                profile=profile,
                date=first + timedelta(days=16),
                kind=ExceptionKind.REMOVE,
                start=hhmm("13:30"),
                end=hhmm("17:30"),
            ),
        ]
    )
    TimeOff.objects.create(
        profile=profile,
        start=local(first + timedelta(days=20), "00:00"),
        end=local(first + timedelta(days=22), "00:00"),
    )
    ExternalBusy.objects.bulk_create(
        ExternalBusy(profile=profile, start=start, end=start + timedelta(minutes=60))
        for start in (local(first, "00:00") + timedelta(minutes=15 * rng.randrange(DAYS * 96)) for _ in range(200))
    )
    service = Service.objects.create(organization=org, name="Advice", lengths=[LENGTH, 30, 60], price=0)
    service.experts.add(expert)
    return org, expert, customer, service, profile


def fill_meetings(count: int, org, expert, customer, service, first: date, rng: random.Random) -> None:
    """``count`` blocking meetings: four in five in working hours on weekdays, the rest anywhere.

    Inserted directly: a fixture for timing reads, not bookings (they may overlap at 1,000)."""
    Meeting.objects.all().delete()
    weekdays = [d for d in (first + timedelta(days=i) for i in range(DAYS)) if d.weekday() < 5]
    party = {"organization": org, "service": service, "expert": expert, "client": customer}
    rows = []
    for _ in range(count):
        length = rng.choice((30, 45, 60))
        if rng.random() < 0.8:  # on the grid, ending by the end of the interval
            day, (a, b) = rng.choice(weekdays), rng.choice(HOURS)
            quarters = (local(day, b) - local(day, a)) // timedelta(minutes=15) - length // 15
            start = local(day, a) + timedelta(minutes=15 * rng.randrange(quarters + 1))
        else:
            start = local(first, "00:00") + timedelta(minutes=15 * rng.randrange(DAYS * 96))
        status = Status.AGREED if rng.random() < 0.7 else Status.AWAITING_APPROVAL
        end = start + timedelta(minutes=length)
        rows.append(Meeting(**party, origin=Side.CLIENT, start=start, length_minutes=length, end=end, status=status))
    Meeting.objects.bulk_create(rows)


def timed(call, runs: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds, after a warm-up."""
    for _ in range(WARMUP):
        call()
    gc.collect()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def measure(browser: Client, url: str, service, profile, first: date, days: int, runs: int) -> dict:
    params = {
        "service_id": service.pk,
        "length": LENGTH,
        "from": first.isoformat(),
        "to": (first + timedelta(days=days - 1)).isoformat(),
        "tz": "Europe/Amsterdam",
    }
    # The engine's inputs, loaded as the endpoint loads them (same range, same rows).
    query = search.Query(LENGTH, local(first, "00:00"), local(first + timedelta(days=days), "00:00"), clock.now())
    free, busy = search._engine_inputs(profile, search._load([profile], query))
    request = search._request(service, query)
    engine = timed(lambda: slots.bookable_slots(free, busy, request), runs)
    api = timed(lambda: browser.get(url, params), runs)
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(url, params)
    if response.status_code != 200:
        sys.exit(f"GET {url} answered {response.status_code}: {response.content[:500]!r}")
    found, engine_found = len(response.json()["slots"]), len(slots.bookable_slots(free, busy, request))
    return {
        "engine": engine,
        "api": api,
        "queries": len(queries),
        "slots": str(found) if found == engine_found else f"{found} (engine {engine_found})",
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    first = first_weekday()
    org, expert, customer, service, profile = build(first, rng)
    browser = Client()
    browser.force_login(customer)
    url = f"/api/v1/orgs/{org.slug}/experts/{expert.pk}/slots"

    load, cpus = os.getloadavg()[0], os.cpu_count()
    print(f"slots of one expert from {first} (Europe/Amsterdam); ms per call, {runs} runs a row after {WARMUP} warm-up")
    print(f"load average {load:.1f} on {cpus} CPUs: on a busy machine the timings include waiting for a CPU")
    header = COLUMNS.format("meetings", "range", "engine med", "p95", "API med", "p95", "queries", "slots")
    print(header)
    print("-" * len(header))
    results = {}
    for meetings in (10, 100, 1000):
        fill_meetings(meetings, org, expert, customer, service, first, rng)
        for days in (1, DAYS):
            row = results[meetings, days] = measure(browser, url, service, profile, first, days, runs)
            timings = (f"{ms:.3f}" for ms in (*row["engine"], *row["api"]))
            print(COLUMNS.format(meetings, f"{days} d", *timings, row["queries"], row["slots"]))
    engine = results[1000, DAYS]["engine"][0] / results[100, DAYS]["engine"][0]
    api = results[1000, DAYS]["api"][0] / results[100, DAYS]["api"][0]
    print(
        f"growth 100 -> 1,000 meetings, {DAYS} d, median: engine x{engine:.1f}, API x{api:.1f} "
        "(linear would be x10, n log n about x15)"
    )


if __name__ == "__main__":
    main()
