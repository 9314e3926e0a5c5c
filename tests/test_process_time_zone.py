"""Q1: the suite passes whatever the process time zone is — and a run asked to use a zone
provably used it.

Django moves ``settings.TIME_ZONE`` into the process as it loads its settings
(``os.environ["TZ"]`` and ``time.tzset()``), so ``TZ=America/Sao_Paulo pytest`` alone still
runs every test in UTC. Loaded as a plugin (``pytest -p tests.test_process_time_zone``, as
``make test`` does), this module notes the zone the run was started with — it is imported
before Django loads — and puts it back once Django has. The test then checks, when
``PARLOUR_EXPECT_TZ`` names a zone, that the process is in that zone; the report header
and the summary show the zone at the start and at the end of the run."""

import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

GIVEN = os.environ.get("TZ")  # as a plugin, read before Django replaces it
EXPECTED = "PARLOUR_EXPECT_TZ"

# Winter and summer, in years with and without daylight saving time in São Paulo.
SAMPLES = [datetime(year, month, 15, 12, tzinfo=UTC) for year in (2018, 2026) for month in (1, 7)]


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if GIVEN and os.environ.get("TZ") != GIVEN:
        os.environ["TZ"] = GIVEN
        time.tzset()


def pytest_report_header(config: pytest.Config) -> str:
    return f"process time zone: {describe()}"


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(f"process time zone at the end: {describe()}")


def describe() -> str:
    now = datetime.now().astimezone()
    return f"TZ={os.environ.get('TZ')!r}, {now:%Z} (UTC{now:%z})"


def process_offsets() -> list[timedelta]:
    """The offsets the C library's local time gives at the sample instants."""
    return [timedelta(seconds=time.localtime(instant.timestamp()).tm_gmtoff) for instant in SAMPLES]


def test_q1_the_suite_runs_in_the_process_time_zone_it_was_given():
    expected = os.environ.get(EXPECTED)
    if not expected:
        pytest.skip(f"{EXPECTED} is not set: make test sets it, with TZ, for each run")
    print(f"process time zone: {describe()}")
    zone = ZoneInfo(expected)
    assert os.environ.get("TZ") == expected, describe()
    assert process_offsets() == [instant.astimezone(zone).utcoffset() for instant in SAMPLES], describe()
    assert datetime.now().astimezone().utcoffset() == datetime.now(zone).utcoffset(), describe()
