"""How long the worker's minute job takes (``parlour.meetings.due.run_due_work``) as the
meetings that are due for nothing pile up: 100, then 10,000 of them.

Two organizations, one on the default timing and one with its own, in a throwaway database
(SQLite by default, a throwaway PostgreSQL server with ``--postgres``). The meetings are
inserted directly and are due for nothing at the measured instant:

- past ones, ended up to two years before: settled (held, no-show, refunded), disputed,
  cancelled or rejected;
- future ones: agreed from 25 hours to 60 days ahead (before their reminder time), awaiting
  an answer or planning from 1 hour to 30 days ahead, and one in a hundred rejected with an
  alternative date pending a day after its own.

For each count, the script prints, in milliseconds, the median and 95th percentile of the
wall-clock time of a run with nothing to do (what the worker pays every minute), the median
of this process's CPU time, and the queries of one run. Then each of those queries alone, run
again in the database without the ORM: what grows with the meetings, if anything does.
With ``--explain`` it also prints each query's plan at 10,000.

    .venv/bin/python bench/due.py [runs] [--postgres] [--explain]
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The settings read the environment once, at import: a data folder of our own (SQLite file,
# secret key), never a database named in the shell.
DATA_DIR = tempfile.mkdtemp(prefix="parlour-bench-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
os.environ["PARLOUR_DATA_DIR"] = DATA_DIR
os.environ.pop("PARLOUR_DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "parlour.settings"
POSTGRES = "--postgres" in sys.argv
if POSTGRES:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pgserver import PostgresServer

    server = PostgresServer()
    server.start()
    atexit.register(server.stop)
    os.environ["PARLOUR_DATABASE_URL"] = server.url

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import Guest, Membership, Organization, OrganizationSettings, Role, User
from parlour.catalog.models import Service
from parlour.meetings.due import run_due_work
from parlour.meetings.models import Alternative, Meeting, Outcome, Side, Status

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WARMUP = 5
COUNTS = (100, 10_000)
COLUMNS = "{:>8} | {:>8} {:>8} | {:>8} | {:>7}"

PAST_SETTLED = [
    (Status.COMPLETED, Outcome.HELD),
    (Status.MISSED, Outcome.CLIENT_NO_SHOW),
    (Status.MISSED, Outcome.REFUNDED),
    (Status.FAILED, Outcome.REFUNDED),
]


def build() -> list[dict]:
    """Two organizations, each with an expert, a guest and a free service: what a meeting
    row needs. The second has its own timing (O5)."""
    parties = []
    for n, timing in enumerate(({}, {"reminder_hours_before": 2, "link_minutes_before": 10})):
        org = Organization.objects.create(name=f"Bench {n}", slug=f"bench-{n}")
        OrganizationSettings.objects.create(organization=org, **timing)
        expert = User.objects.create_user(f"expert{n}@bench.test", name="Eve Expert")
        Membership.objects.create(organization=org, user=expert, role=Role.EXPERT)
        guest = Guest.objects.create(organization=org, name="Gus Guest", email=f"guest{n}@bench.test")
        service = Service.objects.create(organization=org, name="Advice", lengths=[30], price=0)
        parties.append({"organization": org, "service": service, "expert": expert, "guest": guest})
    return parties


def not_due(count: int, parties: list[dict], rng: random.Random) -> None:
    """Insert ``count`` meetings due for nothing at NOW (see the module's docstring)."""
    rows: list[Meeting] = []
    alternatives: list[int] = []
    for _ in range(count):
        roll = rng.random()
        result = Outcome.UNDECIDED
        if roll < 0.50:
            (status, result), start = rng.choice(PAST_SETTLED), NOW - timedelta(hours=rng.uniform(1, 2 * 365 * 24))
        elif roll < 0.55:
            status, result = Status.COMPLETED, Outcome.DISPUTED
            start = NOW - timedelta(hours=rng.uniform(1, 60 * 24))
        elif roll < 0.70:
            status = rng.choice((Status.CANCELLED, Status.REJECTED))
            start = NOW - timedelta(hours=rng.uniform(0, 2 * 365 * 24))
        elif roll < 0.89:
            status, start = Status.AGREED, NOW + timedelta(hours=rng.uniform(25, 60 * 24))
        elif roll < 0.90:
            status, start = Status.REJECTED, NOW + timedelta(hours=rng.uniform(1, 30 * 24))
            alternatives.append(len(rows))
        else:
            status = rng.choice((Status.AWAITING_APPROVAL, Status.PLANNING))
            start = NOW + timedelta(hours=rng.uniform(1, 30 * 24))
        start = start.replace(second=0, microsecond=0)
        meeting = Meeting(**rng.choice(parties), origin=Side.CLIENT, status=status, outcome=result)
        meeting.set_time(start, 30)
        rows.append(meeting)
    Meeting.objects.bulk_create(rows, batch_size=500)
    later = timedelta(days=1)
    Alternative.objects.bulk_create(
        Alternative(meeting=rows[i], proposed_by=Side.EXPERT, start=rows[i].start + later, length_minutes=30)
        for i in alternatives
    )


def timed(runs: int) -> tuple[float, float, float]:
    """Median and 95th percentile of the wall-clock time, and median of this process's CPU
    time, in milliseconds, of a run with nothing to do, after a warm-up. The CPU time leaves
    out waiting for a CPU on a busy machine; it includes SQLite's work, which runs in this
    process, but not PostgreSQL's."""
    for _ in range(WARMUP):
        assert not any(run_due_work(NOW).values()), "something was due"
    gc.collect()
    wall, cpu = [], []
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        run_due_work(NOW)
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - began_cpu) * 1000)
    return statistics.median(wall), statistics.quantiles(wall, n=20)[-1], statistics.median(cpu)


def query_times(repeats: int = 200) -> list[tuple[float, str]]:
    """Each query of one run, executed again ``repeats`` times on its own: the median in
    microseconds, in the database alone (no ORM), with the start of its SQL."""
    with CaptureQueriesContext(connection) as queries:
        run_due_work(NOW)
    times = []
    with connection.cursor() as cursor:
        for query in queries:
            spent = []
            for _ in range(repeats):
                began = time.perf_counter()
                cursor.execute(query["sql"])
                cursor.fetchall()
                spent.append((time.perf_counter() - began) * 1e6)
            times.append((statistics.median(spent), query["sql"]))
    return times


def explain() -> None:
    with CaptureQueriesContext(connection) as queries:
        run_due_work(NOW)
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for number, query in enumerate(queries, 1):
        print(f"\n-- query {number}: {query['sql'][:300]}{' …' if len(query['sql']) > 300 else ''}")
        with connection.cursor() as cursor:
            cursor.execute(prefix + query["sql"])
            for row in cursor.fetchall():
                print("   ", row[-1])


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    runs = int(numbers[0]) if numbers else 50
    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    parties = build()

    load, cpus = os.getloadavg()[0], os.cpu_count()
    print(f"run_due_work on {connection.vendor} with nothing due; ms per run, {runs} runs a row after {WARMUP} warm-up")
    print(f"load average {load:.1f} on {cpus} CPUs: on a busy machine the timings include waiting for a CPU")
    header = COLUMNS.format("meetings", "median", "p95", "cpu med", "queries")
    print(header)
    print("-" * len(header))
    medians = {}
    per_query: dict[int, list[tuple[float, str]]] = {}
    inserted = 0
    for count in COUNTS:
        not_due(count - inserted, parties, rng)
        inserted = count
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum would have done by now
        median, p95, cpu = timed(runs)
        with CaptureQueriesContext(connection) as queries:
            run_due_work(NOW)
        medians[count] = median, cpu
        per_query[count] = query_times()
        print(COLUMNS.format(f"{count:,}", f"{median:.2f}", f"{p95:.2f}", f"{cpu:.2f}", len(queries)))
    first, last = (medians[count] for count in COUNTS)
    print(
        f"growth {COUNTS[0]:,} -> {COUNTS[1]:,} meetings: wall x{last[0] / first[0]:.2f}, "
        f"cpu x{last[1] / first[1]:.2f} (x1 is flat)"
    )
    print(f"\nthe same queries in the database alone, median µs of 200 executions: {COUNTS[0]:,} | {COUNTS[1]:,}")
    for (few, sql), (many, _) in zip(per_query[COUNTS[0]], per_query[COUNTS[1]], strict=True):
        print(f"{few:9.1f} | {many:9.1f}   {' '.join(sql.split())[:90]} …")
    total = [sum(t for t, _ in per_query[count]) for count in COUNTS]
    print(f"{total[0]:9.1f} | {total[1]:9.1f}   all of them")
    if "--explain" in sys.argv:
        explain()


if __name__ == "__main__":
    main()
