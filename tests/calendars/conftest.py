"""Calendars (K1–K3): a world frozen at a known Monday morning, people signed in to the API,
and the .ics answers parsed back the way a calendar program reads them."""

from datetime import UTC, datetime

import pytest
from django.test import Client
from icalendar import Calendar, Event

from tests.api.conftest import Api
from tests.factories import World, world

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
