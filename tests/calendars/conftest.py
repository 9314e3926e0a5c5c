"""Calendars (K1–K3): a world frozen at a known Monday morning, people signed in to the API,
and the .ics answers parsed back the way a calendar program reads them."""

import uuid
from datetime import UTC, datetime, timedelta

import caldav
import pytest
from django.test import Client
from icalendar import Calendar, Event

from parlour.availability import search
from parlour.calendars import external
from parlour.calendars.models import CalendarConnection
from parlour.catalog.models import ExpertProfile
from tests.api.conftest import Api
from tests.factories import World, world
from tests.radicaleserver import RadicaleServer

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db, frozen) -> World:
    return world()


@pytest.fixture
def as_user(db):
    """``as_user(person)`` → an ``Api`` signed in by session (CSRF not enforced)."""

    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client)

    return make


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def only_event(data: bytes) -> tuple[Calendar, Event]:
    calendar = parse(data)
    assert len(calendar.events) == 1, calendar.events
    return calendar, calendar.events[0]


def mailto(address) -> str:
    """An ORGANIZER or ATTENDEE value as a plain, lower-case ``mailto:`` address."""
    return str(address).lower()


# --- external calendars (K4): a real CalDAV server on loopback ---------------------------

USER, PASSWORD = "eve", "s3cret-Pa55"


@pytest.fixture
def loopback_allowed(settings):
    """The Radicale server runs on loopback, which only an installation on premises allows."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture(scope="module")
def radicale():
    server = RadicaleServer({USER: PASSWORD}).start()
    yield server
    server.stop()


@pytest.fixture
def calendar(radicale) -> caldav.Calendar:
    """A new, empty calendar of the expert on the server."""
    principal = caldav.DAVClient(url=f"{radicale.url}/{USER}/", username=USER, password=PASSWORD).principal()
    return principal.make_calendar(name="Work", cal_id=uuid.uuid4().hex)


def add_event(calendar: caldav.Calendar, start: str, end: str, *, uid=None, extra: str = "", all_day=False):
    value = ";VALUE=DATE" if all_day else ""
    calendar.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid or uuid.uuid4().hex}\r\nDTSTAMP:20300601T000000Z\r\n"
        f"DTSTART{value}:{start}\r\nDTEND{value}:{end}\r\nSUMMARY:Busy\r\n{extra}"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def profile_of(w, person=None) -> ExpertProfile:
    return ExpertProfile.objects.get(membership__user=person or w.expert, membership__organization=w.org)


def connect(w, calendar, password=PASSWORD) -> CalendarConnection:
    return external.connect(profile_of(w), url=str(calendar.url), username=USER, password=password)


def starts_on(w, day: datetime) -> list[str]:
    """The expert's 60-minute slot starts (UTC "HH:MM") for the paid service on ``day``."""
    query = search.Query(length_minutes=60, start=day, end=day + timedelta(days=1), now=NOW)
    return [f"{start:%H:%M}" for start in search.expert_slots(w.service, profile_of(w), query)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client
