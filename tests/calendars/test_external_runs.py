"""K4: the worker's runs over external calendars, against a real Radicale server on loopback.
Runs claim what they read or write for a lease, give up what cannot be useful any more,
stop asking with a password the server refuses, keep a recurring event's cost bounded, and
take Parlour's meetings out of a calendar when it is disconnected.

The clock stands at Monday 2030-06-03 06:00 UTC (``conftest``)."""

import socket
from datetime import timedelta

import pytest
from caldav.lib import error as dav_error
from django.urls import reverse

from parlour.availability.models import ExternalBusy
from parlour.calendars import external
from parlour.calendars.ics import uid_of
from parlour.calendars.models import CalendarConnection, ExternalEvent
from parlour.meetings import lifecycle
from tests.pgserver import free_port

from .conftest import NOW, PASSWORD, USER, add_event, connect, profile_of, signed_in, utc

pytestmark = pytest.mark.usefixtures("loopback_allowed")

AFTER_THE_LEASE = NOW + external.LEASE + timedelta(seconds=1)


def busy_of(w) -> list[tuple]:
    return list(ExternalBusy.objects.filter(profile=profile_of(w)).order_by("start").values_list("start", "end"))


# --- claims with a lease --------------------------------------------------------------------


def test_k4_a_calendar_another_run_is_reading_is_skipped_until_its_lease_ends(w, calendar):
    connection = connect(w, calendar)
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    CalendarConnection.objects.filter(pk=connection.pk).update(claimed_at=NOW, claimed_by="another run")

    assert external.sync_all() == 0
    assert external.sync_busy(connection) is False
    assert busy_of(w) == []

    # That run died: after the lease another takes the calendar over, and lets it go after.
    assert external.sync_all(AFTER_THE_LEASE) == 1
    assert busy_of(w) == [(utc("2030-06-05T10:00"), utc("2030-06-05T11:00"))]
    connection.refresh_from_db()
    assert (connection.claimed_at, connection.claimed_by) == (None, "")


def test_k4_a_meeting_another_run_is_writing_is_skipped_until_its_lease_ends(w, calendar):
    connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=50, length=30)
    ExternalEvent.objects.filter(meeting=meeting).update(claimed_at=NOW, claimed_by="another run")

    assert external.write_due() == 0
    assert calendar.events() == []

    assert external.write_due(AFTER_THE_LEASE) == 1
    assert calendar.event_by_uid(uid_of(meeting))
    item = ExternalEvent.objects.get(meeting=meeting)
    assert (item.pending, item.claimed_by) == (False, "")


def test_k4_a_reading_overtaken_by_disconnecting_keeps_nothing(w, calendar, monkeypatch):
    """The expert disconnects while a run is reading: the run's claim is gone with the
    connection, so the busy times it read are not stored after the disconnection."""
    connection = connect(w, calendar)
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    reading = external.read_busy

    def read_while_the_expert_disconnects(*args):
        found = reading(*args)
        external.disconnect(profile_of(w))
        return found

    monkeypatch.setattr(external, "read_busy", read_while_the_expert_disconnects)
    assert external.sync_busy(connection) is False
    assert not CalendarConnection.objects.exists()
    assert busy_of(w) == []


# --- giving up ------------------------------------------------------------------------------


def test_k4_writing_a_meeting_is_given_up_once_the_meeting_has_ended(w, calendar):
    connection = connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=5, length=30)
    CalendarConnection.objects.filter(pk=connection.pk).update(url=f"http://127.0.0.1:{free_port()}/{USER}/work/")

    assert external.write_due() == 0
    item = ExternalEvent.objects.get(meeting=meeting)
    assert item.pending and item.attempts == 1 and item.last_error == external.UNREACHABLE

    assert external.write_due(meeting.end + timedelta(minutes=1)) == 0
    item.refresh_from_db()
    assert not item.pending and item.attempts == 2
    assert item.last_error == f"{external.ENDED} {external.UNREACHABLE}"
    assert external.write_due(meeting.end + timedelta(days=1)) == 0  # nothing left to try


def test_k4_a_calendar_refusing_the_login_five_times_in_a_row_is_disabled_until_connected_again(w, calendar):
    connection = connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=50, length=30)
    external.write_due()
    CalendarConnection.objects.filter(pk=connection.pk).update(password="changed elsewhere")

    for failures in range(1, external.MAX_LOGIN_FAILURES):
        assert external.sync_all() == 0
        connection.refresh_from_db()
        assert connection.enabled and connection.login_failures == failures
        assert connection.last_error == external.WRONG_LOGIN
    assert external.sync_all() == 0
    connection.refresh_from_db()
    assert not connection.enabled and connection.last_error == external.DISABLED

    # Neither read nor written: the cancelled meeting stays in the calendar for now.
    assert external.sync_all() == 0 and external.sync_busy(connection) is False
    lifecycle.cancel_meeting(w.client, meeting, note="Something came up")
    external.write_due()
    assert calendar.event_by_uid(uid_of(meeting))
    assert not ExternalEvent.objects.get(meeting=meeting).pending

    expert = signed_in(w.expert)
    page = expert.get(reverse("web:external_calendar", args=[w.org.slug])).content.decode()
    assert "This calendar is switched off" in page and "Connect it again with the password" in page
    assert "Check now" not in page

    # Connecting again with the password turns it back on and brings what it holds in line.
    answer = expert.post(
        reverse("web:external_calendar_connect", args=[w.org.slug]),
        {"url": connection.url, "username": USER, "password": PASSWORD},
    )
    assert answer.status_code == 302
    connection.refresh_from_db()
    assert connection.enabled and connection.login_failures == 0 and connection.last_error == ""
    external.write_due()
    with pytest.raises(dav_error.NotFoundError):
        calendar.event_by_uid(uid_of(meeting))
    assert "switched off" not in expert.get(answer["Location"]).content.decode()


def test_k4_another_failure_between_refused_logins_starts_the_count_again(w, calendar):
    connection = connect(w, calendar)
    CalendarConnection.objects.filter(pk=connection.pk).update(
        url=f"http://127.0.0.1:{free_port()}/{USER}/work/", login_failures=external.MAX_LOGIN_FAILURES - 1
    )
    assert external.sync_all() == 0
    connection.refresh_from_db()
    assert connection.enabled and connection.login_failures == 0


# --- recurring events and merged busy times -------------------------------------------------


def test_k4_a_recurring_event_counts_at_most_its_first_thousand_occurrences(w, calendar):
    """Every other minute for the whole booking window would be 21,600 occurrences; one
    event's expansion stops at ``MAX_OCCURRENCES``."""
    add_event(calendar, "20300603T070000Z", "20300603T070100Z", extra="RRULE:FREQ=MINUTELY;INTERVAL=2\r\n")
    connect(w, calendar)
    busy = busy_of(w)
    assert len(busy) == external.MAX_OCCURRENCES == 1000
    assert busy[0] == (utc("2030-06-03T07:00"), utc("2030-06-03T07:01"))
    assert busy[-1] == (utc("2030-06-03T07:00") + timedelta(minutes=2 * 999), utc("2030-06-04T16:19"))


def test_k4_overlapping_and_touching_busy_times_are_stored_merged(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    add_event(calendar, "20300605T103000Z", "20300605T120000Z")
    add_event(calendar, "20300605T120000Z", "20300605T130000Z")
    add_event(calendar, "20300605T140000Z", "20300605T150000Z", extra="RRULE:FREQ=DAILY;COUNT=2\r\n")
    add_event(calendar, "20300606T143000Z", "20300606T160000Z")
    connect(w, calendar)
    assert busy_of(w) == [
        (utc("2030-06-05T10:00"), utc("2030-06-05T13:00")),
        (utc("2030-06-05T14:00"), utc("2030-06-05T15:00")),
        (utc("2030-06-06T14:00"), utc("2030-06-06T16:00")),
    ]


# --- disconnecting --------------------------------------------------------------------------


def test_k4_disconnecting_takes_the_meetings_parlour_wrote_out_of_the_calendar(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z", uid="dentist")
    connect(w, calendar)
    meetings = [w.agreed(service=w.free_service, hours_ahead=hours, length=30) for hours in (30, 50)]
    assert external.write_due() == 2

    answer = signed_in(w.expert).post(reverse("web:external_calendar_disconnect", args=[w.org.slug]), follow=True)

    assert "Your calendar is disconnected" in answer.content.decode()
    assert [event.icalendar_component["UID"] for event in calendar.events()] == ["dentist"]
    for meeting in meetings:
        with pytest.raises(dav_error.NotFoundError):
            calendar.event_by_uid(uid_of(meeting))
    assert not CalendarConnection.objects.exists() and not ExternalBusy.objects.exists()


def test_k4_a_server_that_does_not_answer_does_not_hold_up_disconnecting(w, calendar, monkeypatch):
    """A server that accepts the connection and never answers: each request gives up after
    ``DISCONNECT_TIMEOUT`` and the first failure ends the removals; the calendar is
    forgotten all the same."""
    connection = connect(w, calendar)
    w.agreed(service=w.free_service, hours_ahead=50, length=30)
    w.agreed(service=w.free_service, hours_ahead=70, length=30)
    external.write_due()
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts nor answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/{USER}/work/"
        CalendarConnection.objects.filter(pk=connection.pk).update(url=url)
        monkeypatch.setattr(external, "DISCONNECT_TIMEOUT", 0.3)
        connection.refresh_from_db()
        assert external.remove_written(connection, budget=5) == 0
        assert external.disconnect(profile_of(w)) is True
    finally:
        silent.close()
    assert not CalendarConnection.objects.exists()
    assert len(calendar.events()) == 2  # what could not be taken out stays


def test_k4_disconnecting_a_disabled_calendar_asks_the_server_nothing(w, calendar):
    connection = connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=50, length=30)
    external.write_due()
    CalendarConnection.objects.filter(pk=connection.pk).update(enabled=False, password="wrong")
    assert external.disconnect(profile_of(w)) is True
    assert calendar.event_by_uid(uid_of(meeting))
