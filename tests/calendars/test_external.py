"""K4, E4: an expert's external calendar over CalDAV, against a real Radicale server on
loopback. Its busy times block the expert's slots; agreed meetings are written into it
under Parlour's UID and taken out again; a failing server keeps the busy times read before.

The clock stands at Monday 2030-06-03 06:00 UTC (``conftest``); the experts are free every
hour of every day, in UTC (``tests.factories.world``)."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from caldav.lib import error as dav_error
from django.test import Client
from django.urls import reverse

from parlour.availability.models import ExternalBusy
from parlour.calendars import external
from parlour.calendars.ics import uid_of
from parlour.calendars.models import CalendarConnection
from parlour.meetings import lifecycle
from tests.factories import world
from tests.pgserver import free_port

from .conftest import NOW, PASSWORD, USER, add_event, connect, profile_of, starts_on, utc

pytestmark = pytest.mark.usefixtures("loopback_allowed")


def test_k4_e4_busy_events_of_the_calendar_block_the_experts_slots(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")  # Wednesday 10–11
    add_event(calendar, "20300605T140000Z", "20300605T150000Z", extra="TRANSP:TRANSPARENT\r\n")  # shown as free
    add_event(calendar, "20300605T160000Z", "20300605T170000Z", extra="STATUS:CANCELLED\r\n")
    add_event(calendar, "20300606", "20300607", all_day=True)  # all Thursday
    add_event(calendar, "20300607T080000Z", "20300607T090000Z", extra="RRULE:FREQ=WEEKLY;COUNT=2\r\n")  # Fridays
    wednesday = utc("2030-06-05T00:00")
    assert "10:00" in starts_on(w, wednesday)

    connection = connect(w, calendar)

    connection.refresh_from_db()
    assert connection.synced_at is not None and connection.last_error == ""
    wednesday_starts = starts_on(w, wednesday)
    assert not {"09:15", "09:30", "10:00", "10:45"} & set(wednesday_starts)
    assert {"09:00", "11:00", "14:00", "16:00"} <= set(wednesday_starts)
    assert starts_on(w, utc("2030-06-06T00:00")) == []
    for friday in ("2030-06-07T00:00", "2030-06-14T00:00"):
        assert "08:00" not in starts_on(w, utc(friday)) and "09:00" in starts_on(w, utc(friday))


def test_k4_the_busy_times_are_replaced_by_each_reading(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z", uid="dentist")
    connection = connect(w, calendar)
    calendar.event_by_uid("dentist").delete()
    add_event(calendar, "20300605T120000Z", "20300605T130000Z")

    assert external.sync_all() == 1

    assert list(ExternalBusy.objects.filter(profile=profile_of(w)).values_list("start", "end")) == [
        (utc("2030-06-05T12:00"), utc("2030-06-05T13:00"))
    ]
    assert connection.pk == CalendarConnection.objects.get().pk


def test_k4_agreed_meeting_is_written_with_parlours_uid_and_removed_after_cancellation(w, calendar):
    connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=50, length=30)

    assert external.write_due() == 1
    written = calendar.event_by_uid(uid_of(meeting)).icalendar_component
    assert written["DTSTART"].dt == meeting.start and written["DTEND"].dt == meeting.end
    assert "Intro call" in str(written["SUMMARY"])
    assert "ATTENDEE" not in written and "ORGANIZER" not in written

    # The meeting Parlour wrote does not block itself.
    external.sync_busy(CalendarConnection.objects.get())
    assert not ExternalBusy.objects.filter(profile=profile_of(w)).exists()

    moved = lifecycle.change_meeting_time(w.expert, meeting, start=meeting.start + timedelta(hours=2))
    external.write_due()
    assert calendar.event_by_uid(uid_of(meeting)).icalendar_component["DTSTART"].dt == moved.start
    assert len(calendar.events()) == 1

    lifecycle.cancel_meeting(w.client, moved, note="Something came up")
    assert external.write_due() == 1
    with pytest.raises(dav_error.NotFoundError):
        calendar.event_by_uid(uid_of(meeting))
    assert external.write_due() == 0  # nothing left to do


def test_k4_a_reassigned_meeting_leaves_the_former_experts_calendar(w, calendar):
    connect(w, calendar)
    meeting = w.agreed(service=w.free_service, hours_ahead=50, length=30)
    external.write_due()
    assert calendar.event_by_uid(uid_of(meeting))

    lifecycle.reassign_meeting(w.admin, meeting, expert=w.colleague)
    external.write_due()

    with pytest.raises(dav_error.NotFoundError):
        calendar.event_by_uid(uid_of(meeting))


def test_k4_meetings_awaiting_approval_are_not_written(w, calendar):
    connect(w, calendar)
    w.book(hours_ahead=50)  # the paid service awaits the expert's confirmation
    external.write_due()
    assert calendar.events() == []


def test_k4_a_wrong_password_records_an_error_and_keeps_the_busy_times(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    connection = connect(w, calendar)
    CalendarConnection.objects.filter(pk=connection.pk).update(password="wrong")
    connection.refresh_from_db()

    assert external.sync_busy(connection) is False

    connection.refresh_from_db()
    assert connection.last_error == external.WRONG_LOGIN and connection.last_error_at == NOW
    assert ExternalBusy.objects.filter(profile=profile_of(w)).count() == 1
    assert "10:00" not in starts_on(w, utc("2030-06-05T00:00"))


def test_k4_connecting_is_refused_with_a_clear_reason_and_nothing_is_kept(w, calendar, radicale):
    cases = [
        (str(calendar.url), "wrong", external.WRONG_LOGIN),
        (f"{radicale.url}/{USER}/no-such-calendar/", PASSWORD, external.NOT_FOUND),
        (f"http://127.0.0.1:{free_port()}/{USER}/work/", PASSWORD, external.UNREACHABLE),
    ]
    for url, password, reason in cases:
        with pytest.raises(external.CalendarUnusable) as refused:
            external.connect(profile_of(w), url=url, username=USER, password=password)
        assert str(refused.value) == reason
    assert not CalendarConnection.objects.exists()


# --- the page -----------------------------------------------------------------------------


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def page_url(w, name="web:external_calendar", expert=None) -> str:
    url = reverse(name, args=[w.org.slug])
    return url + (f"?expert={expert.pk}" if expert else "")


def test_k4_the_expert_connects_on_the_page_and_never_sees_the_password_again(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    expert = signed_in(w.expert)
    page = expert.get(reverse("web:free_dates", args=[w.org.slug]))
    assert page_url(w) in page.content.decode()

    answer = expert.post(
        page_url(w, "web:external_calendar_connect"), {"url": calendar.url, "username": USER, "password": PASSWORD}
    )

    assert answer.status_code == 302
    page = expert.get(answer["Location"]).content.decode()
    assert "Your calendar is connected" in page
    assert str(calendar.url) in page and PASSWORD not in page
    assert '<label for="id_password">Password</label>' in page
    assert ExternalBusy.objects.filter(profile=profile_of(w)).count() == 1

    # The same address and user with an empty password keeps the password.
    answer = expert.post(page_url(w, "web:external_calendar_connect"), {"url": calendar.url, "username": USER})
    assert answer.status_code == 302
    assert CalendarConnection.objects.get().password == PASSWORD


def test_k4_a_wrong_password_is_said_on_the_page(w, calendar):
    expert = signed_in(w.expert)
    answer = expert.post(
        page_url(w, "web:external_calendar_connect"), {"url": calendar.url, "username": USER, "password": "nope"}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "did not accept the user name or password" in page and "nope" not in page
    assert not CalendarConnection.objects.exists()


def test_k4_the_last_error_is_shown_and_check_now_reads_again(w, calendar):
    connection = connect(w, calendar)
    CalendarConnection.objects.filter(pk=connection.pk).update(password="wrong")
    expert = signed_in(w.expert)
    answer = expert.post(page_url(w, "web:external_calendar_check"), follow=True)
    page = answer.content.decode()
    assert "did not accept the user name or password" in page
    assert "The busy times read before still count." in page


def test_k4_disconnecting_removes_the_busy_times(w, calendar):
    add_event(calendar, "20300605T100000Z", "20300605T110000Z")
    connect(w, calendar)
    answer = signed_in(w.expert).post(page_url(w, "web:external_calendar_disconnect"), follow=True)
    assert "Your calendar is disconnected" in answer.content.decode()
    assert not CalendarConnection.objects.exists()
    assert not ExternalBusy.objects.exists()
    assert "10:00" in starts_on(w, utc("2030-06-05T00:00"))


def test_k4_an_admin_sees_the_connection_but_not_the_password(w, calendar):
    connect(w, calendar)
    page = signed_in(w.admin).get(page_url(w, expert=w.expert))
    assert page.status_code == 200
    text = page.content.decode()
    assert str(calendar.url) in text and PASSWORD not in text


def test_k4_another_organizations_admin_cannot_see_or_change_the_connection(w, calendar):
    connect(w, calendar)
    stranger = world().admin
    client = signed_in(stranger)
    assert client.get(page_url(w, expert=w.expert)).status_code == 404
    for name in ("web:external_calendar_disconnect", "web:external_calendar_check", "web:external_calendar_connect"):
        answer = client.post(page_url(w, name, expert=w.expert), {"url": "http://127.0.0.1:1/", "username": "x"})
        assert answer.status_code == 404
    assert CalendarConnection.objects.get().url == str(calendar.url)


# --- only public addresses (K4, O3) -------------------------------------------------------

INTERNAL = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://169.254.169.254/",
    "http://10.0.0.5/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_k4_o3_a_calendar_inside_a_private_network_is_refused_on_the_page_and_nothing_kept(w, settings, url):
    """An expert of one organization must not make the server call this machine, the cloud's
    metadata service or the private network (what other organizations may use)."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    answer = signed_in(w.expert).post(
        page_url(w, "web:external_calendar_connect"), {"url": f"{url}{USER}/work/", "username": USER, "password": "x"}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Not connected: Parlour does not send requests to" in page and "private network" in page
    assert not CalendarConnection.objects.exists()


def test_k4_o3_a_calendar_whose_name_now_resolves_to_a_private_address_is_not_read(w, settings, monkeypatch):
    """Checked again before every request (DNS rebinding): nothing is asked, the expert reads why."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    connection = CalendarConnection.objects.create(
        profile=profile_of(w), url="https://dav.example.invalid/eve/work/", username=USER, password=PASSWORD
    )
    asked = []

    def resolves_inside(host, port, *args, **kwargs):
        asked.append(host)
        return [(2, 1, 6, "", ("10.0.0.5", port))]

    monkeypatch.setattr("socket.getaddrinfo", resolves_inside)
    assert external.sync_busy(connection) is False
    connection.refresh_from_db()
    assert connection.last_error == external.REFUSED
    assert asked == ["dav.example.invalid"]  # checked, and no connection was attempted after

    w.expert.language = "nl"
    w.expert.save(update_fields=["language"])
    page = signed_in(w.expert).get(page_url(w)).content.decode()
    assert "privénetwerk" in page


def test_k4_a_calendar_server_that_redirects_is_not_followed(w):
    """The client follows no redirect (its new address would not be checked): a server
    answering with one has failed, the address it names is never asked, nothing is kept."""
    reached = []

    class Handler(BaseHTTPRequestHandler):
        def answer(self):
            if self.server is elsewhere:
                reached.append(self.command)
                self.send_response(500)
            else:
                self.send_response(301)
                self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}/{USER}/work/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PROPFIND = do_REPORT = do_GET = do_OPTIONS = answer

        def log_message(self, *args):
            pass

    first, elsewhere = HTTPServer(("127.0.0.1", 0), Handler), HTTPServer(("127.0.0.1", 0), Handler)
    for server in (first, elsewhere):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(external.CalendarUnusable):
            url = f"http://127.0.0.1:{first.server_port}/{USER}/work/"
            external.connect(profile_of(w), url=url, username=USER, password=PASSWORD)
    finally:
        for server in (first, elsewhere):
            server.shutdown()
            server.server_close()
    assert reached == []
    assert not CalendarConnection.objects.exists()
