"""The public booking page's API (B1, B2, B5, B7, E4, O5, Q1): services and slots for anyone,
bookings by guests and signed-in clients, the refusals the rules name, and the acceptance
scenario across two daylight-saving changes."""

import json
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client

from parlour.accounts.models import Guest
from parlour.meetings.guest_links import link_token
from parlour.meetings.models import Meeting
from tests.factories import ServiceFactory, on_grid, world

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def public(w, client: Client | None = None, headers: dict | None = None) -> Api:
    return Api(client or Client(), f"/api/v1/public/{w.org.slug}", headers)


def as_guest(name="Gina Guest", email="gina@example.net", **more) -> dict:
    return {"name": name, "email": email, **more}


def booking(w, start: datetime, *, service=None, expert=None, guest=None, **more) -> dict:
    body = {"service_id": (service or w.free_service).pk, "start": start.isoformat(), **more}
    if expert is not None:
        body["expert_id"] = expert.pk
    if guest is not None:
        body["guest"] = guest
    return body


def put_free_dates(w, person, body: dict, *, by=None):
    api = Client()
    api.force_login(by or person)
    response = api.put(
        f"/api/v1/orgs/{w.org.slug}/experts/{person.pk}/free-dates", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content


# --- the acceptance scenario (Q1, E4) ---------------------------------------------------------


def _expected_new_york_starts(days: list[str], first: str, last: str) -> list[str]:
    out = []
    for day in days:
        t = datetime.fromisoformat(f"{day}T{first}")
        while t <= datetime.fromisoformat(f"{day}T{last}"):
            out.append(f"{t:%Y-%m-%dT%H:%M}:00-04:00")
            t += timedelta(minutes=15)
    return out


def test_q1_e4_amsterdam_expert_new_york_guest_across_both_dst_changes(w, time_machine):
    """An expert works Mon–Fri 09:00–17:00 in Amsterdam. A guest in New York (on summer time
    since 8 March 2026) looks at the week of 23 March and the next: Europe moves its clocks
    on 29 March, so 09:00 in Amsterdam is 04:00 in New York before it and 03:00 after."""
    time_machine.move_to(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False)
    weekdays = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]
    put_free_dates(w, w.expert, {"time_zone": "Europe/Amsterdam", "weekly": weekdays})

    guest_page = public(w)
    params = {"service_id": w.free_service.pk, "length": 30, "from": "2026-03-23", "to": "2026-04-05"}
    response = guest_page.get(f"/experts/{w.expert.pk}/slots", {**params, "tz": "America/New_York"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["time_zone"] == "America/New_York"
    starts = [s["start"] for s in body["slots"]]
    week_one = ["2026-03-23", "2026-03-24", "2026-03-25", "2026-03-26", "2026-03-27"]
    week_two = ["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03"]
    assert starts == _expected_new_york_starts(week_one, "04:00", "11:30") + _expected_new_york_starts(
        week_two, "03:00", "10:30"
    )
    by_start = {s["start"]: s for s in body["slots"]}
    assert by_start["2026-03-27T04:00:00-04:00"]["start_utc"] == "2026-03-27T08:00:00Z"
    assert by_start["2026-03-30T03:00:00-04:00"]["start_utc"] == "2026-03-30T07:00:00Z"
    assert by_start["2026-03-30T10:30:00-04:00"]["end"] == "2026-03-30T11:00:00-04:00"

    # The guest books the first morning slot of each week, dated in their own zone.
    guest = as_guest(time_zone="America/New_York")
    before = guest_page.post(
        "/bookings",
        {**booking(w, datetime.fromisoformat("2026-03-24T04:00:00-04:00"), expert=w.expert, guest=guest), "length": 30},
    )
    after = guest_page.post(
        "/bookings",
        {**booking(w, datetime.fromisoformat("2026-03-31T03:00:00-04:00"), expert=w.expert, guest=guest), "length": 30},
    )
    for response, local, utc in (
        (before, "2026-03-24T04:00:00-04:00", "2026-03-24T08:00:00+00:00"),
        (after, "2026-03-31T03:00:00-04:00", "2026-03-31T07:00:00+00:00"),
    ):
        assert response.status_code == 201, response.content
        meeting = response.json()
        assert (meeting["start"], meeting["time_zone"], meeting["status"]) == (local, "America/New_York", "agreed")
        stored = Meeting.objects.get(pk=meeting["id"])
        assert stored.start.isoformat() == utc
        assert stored.start.astimezone(ZoneInfo("Europe/Amsterdam")).hour == 9
        link = Client().get(f"/api/v1/guest/{link_token(stored)}").json()
        assert link["start"] == local

    again = guest_page.get(f"/experts/{w.expert.pk}/slots", {**params, "tz": "America/New_York"}).json()
    taken = {s["start"] for s in body["slots"]} - {s["start"] for s in again["slots"]}
    assert taken == {
        "2026-03-24T04:00:00-04:00",
        "2026-03-24T04:15:00-04:00",
        "2026-03-31T03:00:00-04:00",
        "2026-03-31T03:15:00-04:00",
    }


# --- services and slots for anyone -------------------------------------------------------------


def test_e2_public_services_with_lengths_price_and_experts(w, frozen):
    ServiceFactory(organization=w.org, name="Retired", is_active=False)
    world()
    services = public(w).get("/services").json()
    assert [s["name"] for s in services] == ["Expert advice", "Intro call"]
    intro = services[1]
    assert (intro["lengths"], intro["price"], intro["requires_confirmation"]) == ([15, 30], 0, False)
    assert [e["name"] for e in intro["experts"]] == ["Carl Colleague", "Eve Expert"]
    assert set(intro["experts"][0]) == {"id", "name"}


def test_o3_unknown_organization_is_not_found_everywhere(w, frozen):
    nowhere = Api(Client(), "/api/v1/public/no-such-org")
    assert_error(nowhere.get("/services"), 404, "not_found", "O3")
    assert_error(nowhere.get(f"/services/{w.free_service.pk}/slots"), 404, "not_found")
    assert_error(nowhere.get(f"/experts/{w.expert.pk}/slots", {"service_id": w.free_service.pk}), 404, "not_found")
    assert_error(nowhere.post("/bookings", booking(w, NOW + timedelta(days=1), guest=as_guest())), 404, "not_found")
    # Another organization's service or expert through this organization's page.
    elsewhere = world()
    page = public(w)
    assert_error(page.get(f"/services/{elsewhere.free_service.pk}/slots"), 404, "not_found")
    assert_error(page.get(f"/experts/{elsewhere.expert.pk}/slots", {"service_id": w.free_service.pk}), 404, "not_found")
    assert not Guest.objects.filter(email="gina@example.net").exists()


def test_b7_public_service_slots_show_times_only(w, frozen):
    body = public(w).get(f"/services/{w.free_service.pk}/slots", {"from": "2030-06-04", "to": "2030-06-04"}).json()
    assert body["time_zone"] == "UTC" and len(body["slots"]) == 96
    assert all(set(s) == {"start", "end", "start_utc"} for s in body["slots"])


# --- booking ---------------------------------------------------------------------------------


def test_b1_b5_guest_books_a_free_service_and_gets_a_link(w, frozen):
    start = NOW + timedelta(days=2)
    guest = as_guest(phone="+31 20 123 4567", time_zone="Europe/Amsterdam")
    response = public(w).post("/bookings", booking(w, start, expert=w.expert, guest=guest, subject="Intro"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["name"], body["email"]) == ("agreed", "Gina Guest", "gina@example.net")
    assert body["start"] == "2030-06-05T08:00:00+02:00"
    assert len(body["guest_key"]) == 8
    assert "guest_link" not in body  # mailed only: whoever books has just typed the address (O3)
    meeting = Meeting.objects.get(pk=body["id"])
    assert (meeting.guest.phone, meeting.guest.time_zone, meeting.client_id) == (
        "+31 20 123 4567",
        "Europe/Amsterdam",
        None,
    )
    shown = Client().get(f"/api/v1/guest/{link_token(meeting)}").json()
    assert (shown["id"], shown["guest_key"], shown["subject"]) == (meeting.pk, meeting.guest_key, "Intro")


def test_b2_guest_request_for_a_service_needing_confirmation_awaits_the_expert(w, frozen):
    w.service.price = 0
    w.service.save()
    response = public(w).post("/bookings", booking(w, NOW + timedelta(days=2), service=w.service, guest=as_guest()))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "awaiting_approval"


def test_b1_paid_service_is_refused_for_a_guest_and_leaves_no_guest(w, frozen):
    response = public(w).post(
        "/bookings", booking(w, NOW + timedelta(days=2), service=w.service, expert=w.expert, guest=as_guest())
    )
    assert_error(response, 400, "sign_in_required", "B1")
    assert not Guest.objects.filter(email="gina@example.net").exists()
    assert not Meeting.objects.exists()


def test_o5_b1_guest_limit_of_upcoming_meetings_with_one_expert(w, frozen):
    page = public(w)
    for hours, email in ((30, "gina@example.net"), (32, "GINA@Example.NET")):
        response = page.post(
            "/bookings", booking(w, NOW + timedelta(hours=hours), expert=w.expert, guest=as_guest(email=email))
        )
        assert response.status_code == 201, response.content
    third = page.post(
        "/bookings", booking(w, NOW + timedelta(hours=34), expert=w.expert, guest=as_guest(name="G. Guest"))
    )
    body = assert_error(third, 400, "too_many_upcoming", "B1")
    assert "2 upcoming meetings with Eve Expert" in body["message"]
    # One guest, whatever the letter case; the name is not changed by the refused booking.
    assert list(Guest.objects.filter(email__iexact="gina@example.net").values_list("name", flat=True)) == ["Gina Guest"]
    # With another expert the guest may still book; the limit is a setting.
    other = page.post("/bookings", booking(w, NOW + timedelta(hours=34), expert=w.colleague, guest=as_guest()))
    assert other.status_code == 201, other.content
    w.org.settings.max_upcoming_guest_meetings = 3
    w.org.settings.save()
    assert (
        page.post("/bookings", booking(w, NOW + timedelta(hours=36), expert=w.expert, guest=as_guest())).status_code
        == 201
    )


def test_b1_e4_limits_are_refused_with_their_reasons(w, frozen):
    put_free_dates(
        w,
        w.expert,
        {
            "time_zone": "UTC",
            "weekly": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)],
            "minimum_notice_minutes": 240,
            "max_meetings_per_day": 2,
        },
    )
    page = public(w)

    def book(start, **more):
        return page.post("/bookings", booking(w, start, expert=w.expert, guest=as_guest(**more), length=30))

    assert_error(book(NOW + timedelta(days=31)), 400, "outside_booking_window", "B1")
    assert_error(book(NOW + timedelta(hours=2)), 400, "too_short_notice", "B1")
    assert_error(book(NOW - timedelta(hours=2)), 400, "in_past", "B1")
    assert book(NOW + timedelta(days=2)).status_code == 201
    assert_error(book(NOW + timedelta(days=2), email="other@example.net"), 409, "slot_taken", "B1")
    assert_error(book(NOW + timedelta(days=2, minutes=15), email="other@example.net"), 409, "slot_taken", "B1")
    assert book(NOW + timedelta(days=2, hours=3), email="other@example.net").status_code == 201
    body = assert_error(book(NOW + timedelta(days=2, hours=6), email="third@example.net"), 409, "day_full", "B1")
    assert "2030-06-05" in body["message"]
    assert_error(
        page.post(
            "/bookings", {**booking(w, NOW + timedelta(days=3), expert=w.expert, guest=as_guest()), "length": 45}
        ),
        400,
        "invalid_length",
        "B1",
    )
    assert Meeting.objects.count() == 2


def test_q2_bad_guest_details_are_refused_and_leave_nothing(w, frozen):
    page = public(w)
    start = NOW + timedelta(days=2)
    for guest, field in (
        (as_guest(email="not-an-address"), "email"),
        (as_guest(name="   "), "name"),
        (as_guest(phone="call me maybe"), "phone"),
        (as_guest(time_zone="Atlantis/Capital"), "time_zone"),
    ):
        body = assert_error(page.post("/bookings", booking(w, start, guest=guest)), 400, "invalid_guest", "B1")
        assert body["details"]["errors"][0]["field"] == field
    assert_error(page.post("/bookings", booking(w, start)), 400, "client_required", "B1")
    assert_error(
        page.post("/bookings", {**booking(w, start, guest=as_guest()), "start": "2030-06-05T08:00:00"}),
        400,
        "invalid_input",
        "Q1",
    )
    assert_error(
        page.post("/bookings", {**booking(w, start, guest=as_guest()), "extra": 1}), 422, "invalid_input", "Q2"
    )
    assert not Guest.objects.filter(email="gina@example.net").exists()
    assert not Meeting.objects.exists()


def test_b1_signed_in_client_books_as_themself_and_a_session_needs_csrf(w, frozen):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(w.client)
    page = public(w, browser)
    start = NOW + timedelta(days=2)
    # Without the CSRF token a signed-in session is refused, and nothing is booked.
    assert_error(page.post("/bookings", booking(w, start, expert=w.expert)), 403, "csrf_failed", "I2")
    assert not Meeting.objects.exists()
    token = browser.get("/api/v1/auth/csrf").json()["csrf_token"]
    page = public(w, browser, {"X-CSRFToken": token})
    assert_error(page.post("/bookings", booking(w, start, guest=as_guest())), 400, "signed_in", "B1")
    w.client.time_zone = "Asia/Tokyo"
    w.client.save()
    response = page.post(
        "/bookings", booking(w, start, service=w.service, expert=w.expert)
    )  # paid: fine when signed in
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["name"]) == ("awaiting_approval", "Cleo Client")
    assert body["start"] == "2030-06-05T15:00:00+09:00"
    assert Meeting.objects.get(pk=body["id"]).client == w.client

    # A guest has no session: no CSRF token is needed, even from a strict client.
    guest_page = public(w, Client(enforce_csrf_checks=True))
    assert guest_page.post("/bookings", booking(w, start + timedelta(hours=1), guest=as_guest())).status_code == 201


def test_b1_a_script_books_with_its_token_and_no_csrf(w, frozen, with_token):
    script = with_token(w.client)
    script = Api(Client(enforce_csrf_checks=True), f"/api/v1/public/{w.org.slug}", script.headers)
    response = script.post("/bookings", booking(w, NOW + timedelta(days=2), expert=w.expert))
    assert response.status_code == 201, response.content
    assert Meeting.objects.get(pk=response.json()["id"]).client == w.client
    bad = Api(Client(), f"/api/v1/public/{w.org.slug}", {"Authorization": "Bearer plr_forged"})
    assert_error(bad.get("/services"), 401, "invalid_token", "I2")


# --- any expert (B7) ---------------------------------------------------------------------------


def test_b7_any_expert_booking_goes_to_the_least_loaded_and_ties_alternate(w, time_machine):
    time_machine.move_to(NOW, tick=False)
    page = public(w)
    eve, carl = w.expert, w.colleague
    # Carl has two meetings this week, Eve one (booked last): the next goes to Eve.
    for hours, expert in ((50, carl), (52, carl), (54, eve)):
        w.book(service=w.free_service, expert=expert, start=NOW + timedelta(hours=hours))
        time_machine.shift(timedelta(minutes=1))
    picked = []
    for n in range(5):
        response = page.post(
            "/bookings", booking(w, NOW + timedelta(hours=60 + n), guest=as_guest(email=f"g{n}@example.net"))
        )
        assert response.status_code == 201, response.content
        picked.append(response.json()["expert"]["name"])
        time_machine.shift(timedelta(minutes=1))
    # Eve catches up (2–2); from then on they are tied after every second booking, and the
    # tie goes to whoever was booked least recently — Carl first, though Eve's id is lower —
    # so they take turns.
    assert picked == ["Eve Expert", "Carl Colleague", "Eve Expert", "Carl Colleague", "Eve Expert"]


def test_b7_any_expert_booking_goes_to_whoever_is_free(w, frozen):
    put_free_dates(w, w.expert, {"time_zone": "UTC", "weekly": [{"weekday": 2, "start": "08:00", "end": "09:00"}]})
    w.book(service=w.free_service, expert=w.colleague, start=NOW + timedelta(hours=10))  # Carl is busier
    response = public(w).post("/bookings", booking(w, datetime(2030, 6, 5, 12, tzinfo=UTC), guest=as_guest()))
    assert response.status_code == 201, response.content
    assert response.json()["expert"]["name"] == "Carl Colleague"  # Eve does not work then
    taken = public(w).post(
        "/bookings", booking(w, datetime(2030, 6, 5, 12, tzinfo=UTC), guest=as_guest(email="late@example.net"))
    )
    assert_error(taken, 409, "slot_taken", "B7")


def test_b7_any_expert_booking_past_the_window_names_the_window(w, frozen):
    response = public(w).post("/bookings", booking(w, NOW + timedelta(days=31), guest=as_guest()))
    assert_error(response, 400, "outside_booking_window")


def test_b7_o5_any_expert_booking_skips_an_expert_the_guest_has_reached_the_limit_with(w, frozen):
    page = public(w)
    for hours in (30, 31):
        made = page.post("/bookings", booking(w, NOW + timedelta(hours=hours), expert=w.colleague, guest=as_guest()))
        assert made.status_code == 201, made.content
    for hours in (32, 33, 34):
        w.book(service=w.free_service, expert=w.expert, start=NOW + timedelta(hours=hours))
    response = page.post("/bookings", booking(w, NOW + timedelta(hours=40), guest=as_guest()))
    assert response.json().get("code") != "too_many_upcoming", response.content
    assert response.status_code == 201, response.content
    assert response.json()["expert"]["name"] == "Eve Expert"


# --- racing (B1, B7, Q3) -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_b1_b7_guests_racing_for_one_time_get_one_meeting_per_free_expert():
    """Six guests send the same any-expert booking at once, each through its own connection:
    the two experts get one meeting each, the four others hear 409 ``slot_taken``, and a
    refused booking leaves no guest behind."""
    w = world()
    start = on_grid(datetime.now(UTC)) + timedelta(days=2)
    barrier = threading.Barrier(6, timeout=30)
    answers: list = [None] * 6

    def book(index: int) -> None:
        try:
            page = public(w)
            barrier.wait()
            guest = as_guest(email=f"racer{index}@example.net")
            answers[index] = page.post("/bookings", booking(w, start, guest=guest))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 409, 409, 409, 409], [a.content for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_taken"}
    meetings = Meeting.objects.filter(start=start)
    assert sorted(m.expert.name for m in meetings) == ["Carl Colleague", "Eve Expert"]
    assert Guest.objects.filter(email__startswith="racer").count() == 2
