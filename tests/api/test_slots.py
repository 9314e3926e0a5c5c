"""Slots through the API (E4, E5, B7, Q1, Q2): what an expert's free dates, limits and
meetings leave bookable, in the viewer's time zone, and the union over a service's experts.

The clock stands at Monday 2030-06-03 08:00 in Amsterdam (06:00 UTC, summer time, no
transition near); the experts' hours are in Amsterdam unless a test says otherwise."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import ClientAccount
from parlour.core.errors import DomainError
from parlour.meetings import lifecycle
from tests.factories import world

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)
MONDAY, TUESDAY = "2030-06-03", "2030-06-04"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def put_free_dates(w, person, **body):
    """Replace ``person``'s free dates as the admin would, Amsterdam and weekdays 09–17 by default."""
    body = {
        "time_zone": "Europe/Amsterdam",
        "weekly": [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
        **body,
    }
    api = Api(Client()).org(w)
    api.client.force_login(w.admin)
    response = api.client.put(
        f"{api.base}/experts/{person.pk}/free-dates", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content


def slots(api: Api, w, *, person=None, day=MONDAY, to=None, tz="Europe/Amsterdam", **params) -> list[str]:
    """Local wall times "HH:MM" of the slots on ``day`` (to ``to``) for the paid service (30 min)."""
    params = {"service_id": w.service.pk, "from": day, "to": to or day, "tz": tz, **params}
    response = api.get(f"/experts/{(person or w.expert).pk}/slots", params)
    assert response.status_code == 200, response.content
    return [s["start"][11:16] for s in response.json()["slots"]]


def every(first: str, last: str, minutes: int = 15) -> list[str]:
    t, end, out = datetime.fromisoformat(f"2000-01-01T{first}"), datetime.fromisoformat(f"2000-01-01T{last}"), []
    while t <= end:
        out.append(t.strftime("%H:%M"))
        t += timedelta(minutes=minutes)
    return out


def amsterdam(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00+02:00")


def test_e4_slots_follow_weekly_hours_with_several_intervals_a_day(w, as_user):
    put_free_dates(
        w,
        w.expert,
        weekly=[
            {"weekday": 0, "start": "09:00", "end": "12:00"},
            {"weekday": 0, "start": "13:00", "end": "17:00"},
            {"weekday": 1, "start": "14:00", "end": "15:00"},
        ],
    )
    api = as_user(w.client).org(w)
    assert slots(api, w) == every("09:00", "11:30") + every("13:00", "16:30")
    assert slots(api, w, length=60) == every("09:00", "11:00") + every("13:00", "16:00")
    assert slots(api, w, day=TUESDAY) == every("14:00", "14:30")
    assert slots(api, w, day="2030-06-08") == []  # a Saturday


def test_e4_slots_shown_in_the_viewers_zone_with_offset(w, as_user):
    put_free_dates(w, w.expert, weekly=[{"weekday": 0, "start": "09:00", "end": "10:00"}])
    w.client.time_zone = "Asia/Kolkata"
    w.client.save()
    api = as_user(w.client).org(w)
    body = api.get(f"/experts/{w.expert.pk}/slots", {"service_id": w.service.pk, "from": MONDAY}).json()
    assert body["time_zone"] == "Asia/Kolkata"  # the signed-in person's own zone by default
    first = body["slots"][0]
    assert first == {
        "start": "2030-06-03T12:30:00+05:30",
        "end": "2030-06-03T13:00:00+05:30",
        "start_utc": "2030-06-03T07:00:00Z",
    }
    assert len(body["slots"]) == 3
    utc = api.get(f"/experts/{w.expert.pk}/slots", {"service_id": w.service.pk, "from": MONDAY, "tz": "UTC"}).json()
    assert [s["start"] for s in utc["slots"]] == [
        "2030-06-03T07:00:00Z",
        "2030-06-03T07:15:00Z",
        "2030-06-03T07:30:00Z",
    ]


def test_e4_dated_exceptions_add_and_remove_hours(w, as_user):
    put_free_dates(
        w,
        w.expert,
        exceptions=[
            {"date": MONDAY, "kind": "day_off"},
            {"date": MONDAY, "kind": "add", "start": "18:00", "end": "19:00"},
            {"date": TUESDAY, "kind": "remove", "start": "10:00", "end": "16:00"},
            {"date": "2030-06-08", "kind": "add", "start": "10:00", "end": "11:00"},
        ],
    )
    api = as_user(w.client).org(w)
    assert slots(api, w) == every("18:00", "18:30")
    assert slots(api, w, day=TUESDAY) == every("09:00", "09:30") + every("16:00", "16:30")
    assert slots(api, w, day="2030-06-08") == every("10:00", "10:30")
    assert slots(api, w, day="2030-06-05") == every("09:00", "16:30")


def test_e4_time_off_removes_its_span(w, as_user):
    put_free_dates(
        w,
        w.expert,
        time_off=[{"start": "2030-06-03T11:00:00+02:00", "end": "2030-06-04T15:00:00+02:00", "note": "Conference"}],
    )
    api = as_user(w.client).org(w)
    assert slots(api, w, to=TUESDAY) == every("09:00", "10:30") + every("15:00", "16:30")


def test_e4_meetings_and_their_buffers_block_slots(w, as_user):
    put_free_dates(w, w.expert, buffer_before_minutes=15, buffer_after_minutes=15)
    w.book(service=w.free_service, start=amsterdam(MONDAY, "12:00"), length=30)  # agreed at once
    w.book(start=amsterdam(MONDAY, "15:00"))  # awaiting approval: blocks too
    cancelled = w.book(service=w.free_service, start=amsterdam(TUESDAY, "12:00"), length=30)
    lifecycle.cancel_meeting(w.client, cancelled, note="Cannot make it")
    api = as_user(w.client).org(w)
    # 12:00–12:30 and 15:00–15:30 widened by 15 + 15 minutes on each side.
    assert slots(api, w) == every("09:00", "11:00") + every("13:00", "14:00") + every("16:00", "16:30")
    assert slots(api, w, day=TUESDAY) == every("09:00", "16:30")  # a cancelled meeting blocks nothing


def test_e4_minimum_notice_and_booking_window(w, as_user):
    put_free_dates(w, w.expert, minimum_notice_minutes=120)
    api = as_user(w.client).org(w)
    assert slots(api, w) == every("10:00", "16:30")  # it is 08:00 now
    # The window is 30 days ahead (O5): 2030-07-03 08:00 is its last moment.
    assert slots(api, w, day="2030-07-03") == []
    assert slots(api, w, day="2030-07-02") == every("09:00", "16:30")
    w.org.settings.booking_window_days = 40
    w.org.settings.save()
    assert slots(api, w, day="2030-07-03") == every("09:00", "16:30")


def test_e4_max_meetings_a_day_closes_the_day(w, as_user):
    put_free_dates(w, w.expert, max_meetings_per_day=1)
    w.book(service=w.free_service, start=amsterdam(MONDAY, "09:00"), length=30)
    api = as_user(w.client).org(w)
    assert slots(api, w) == []
    assert slots(api, w, day=TUESDAY) == every("09:00", "16:30")


def test_e4_the_experts_client_meetings_block_too(w, as_user):
    """An expert booked elsewhere as a client (agreed) is not free either."""
    put_free_dates(w, w.expert)
    other = world()
    ClientAccount.objects.create(organization=other.org, user=w.expert)
    put_free_dates(other, other.expert)
    other.book(by=w.expert, service=other.free_service, start=amsterdam(MONDAY, "10:00"), length=30)
    api = as_user(w.client).org(w)
    assert slots(api, w) == every("09:00", "09:30") + every("10:30", "16:30")


def test_b7_service_slots_are_the_union_and_members_see_who_is_free(w, as_user):
    put_free_dates(w, w.expert, weekly=[{"weekday": 0, "start": "09:00", "end": "12:00"}])
    put_free_dates(w, w.colleague, weekly=[{"weekday": 0, "start": "11:00", "end": "14:00"}])
    w.book(service=w.free_service, start=amsterdam(MONDAY, "09:00"), length=30)  # Eve is busier this week
    params = {"from": MONDAY, "tz": "Europe/Amsterdam", "length": 30}

    member = as_user(w.admin).org(w).get(f"/services/{w.service.pk}/slots", params).json()
    starts = [s["start"][11:16] for s in member["slots"]]
    assert starts == every("09:30", "13:30")  # 09:00 is Eve's meeting
    by_start = {s["start"][11:16]: [e["name"] for e in s["experts"]] for s in member["slots"]}
    assert by_start["10:00"] == ["Eve Expert"]
    assert by_start["11:00"] == ["Carl Colleague", "Eve Expert"]  # the less busy first
    assert by_start["13:00"] == ["Carl Colleague"]

    guest_view = as_user(w.client).org(w).get(f"/services/{w.service.pk}/slots", params).json()
    assert [s["start"][11:16] for s in guest_view["slots"]] == starts
    assert all(set(s) == {"start", "end", "start_utc"} for s in guest_view["slots"])


@pytest.mark.parametrize(
    ("params", "status", "code", "rule"),
    [
        ({"from": "2030-06-01", "to": "2030-08-02"}, 400, "range_too_long", "E4"),
        ({"from": "2030-06-05", "to": "2030-06-04"}, 400, "invalid_range", "Q2"),
        ({"from": "2030-06-05T10:00:00+02:00", "to": "2030-06-05T10:00:00+02:00"}, 400, "invalid_range", "Q2"),
        ({"from": "2030-06-05T10:00:00"}, 400, "invalid_input", "Q1"),
        ({"from": "next tuesday"}, 422, "invalid_input", "Q2"),
        ({"from": "2030-13-01"}, 422, "invalid_input", "Q2"),
        ({"from": "9999-12-31"}, 400, "invalid_range", "Q2"),
        ({"tz": "Moon/Tranquility"}, 400, "invalid_input", "Q1"),
        ({"length": 45}, 400, "invalid_length", "E4"),
        ({"length": -30}, 422, "invalid_input", "Q2"),
        ({"service_id": "abc"}, 422, "invalid_input", "Q2"),
    ],
)
def test_q2_bad_slot_questions_get_a_clear_answer(w, as_user, params, status, code, rule):
    api = as_user(w.client).org(w)
    response = api.get(f"/experts/{w.expert.pk}/slots", {"service_id": w.service.pk, **params})
    assert_error(response, status, code, rule)


def test_e4_from_and_to_as_datetimes_and_the_62_day_limit(w, as_user):
    put_free_dates(w, w.expert)
    api = as_user(w.client).org(w)
    # A "+" sent unencoded arrives as a space; it is understood all the same.
    for start in ("2030-06-03T14:00:00+02:00", "2030-06-03T14:00:00 02:00", "2030-06-03T12:00:00Z"):
        assert slots(api, w, day=start, to="2030-06-03T15:00:00+02:00") == every("14:00", "14:45")
    body = api.get(
        f"/experts/{w.expert.pk}/slots", {"service_id": w.service.pk, "from": "2030-06-01", "to": "2030-08-01"}
    ).json()
    assert (body["starts_from"], body["starts_before"]) == ("2030-06-01T00:00:00Z", "2030-08-02T00:00:00Z")


def test_o3_slots_of_unknown_or_foreign_things_are_not_found(w, as_user):
    elsewhere = world()
    api = as_user(w.client).org(w)
    assert_error(api.get(f"/experts/{w.admin.pk}/slots", {"service_id": w.service.pk}), 404, "not_found")
    assert_error(api.get(f"/experts/{elsewhere.expert.pk}/slots", {"service_id": w.service.pk}), 404, "not_found")
    assert_error(api.get(f"/experts/{w.expert.pk}/slots", {"service_id": elsewhere.service.pk}), 404, "not_found")
    assert_error(api.get(f"/services/{elsewhere.service.pk}/slots"), 404, "not_found")
    assert_error(api.get(f"/services/{2**70}/slots"), 404, "not_found")
    assert_error(as_user(elsewhere.client).org(w).get(f"/services/{w.service.pk}/slots"), 404, "not_found", "O3")
    assert_error(Api(Client()).org(w).get(f"/services/{w.service.pk}/slots"), 401, "not_authenticated")


def test_e4_an_expert_without_free_dates_has_no_slots(w, as_user):
    w.service.experts.add(w.admin)  # the admin gives the service but never set free dates
    assert slots(as_user(w.client).org(w), w, person=w.admin) == []


@pytest.mark.parametrize("kind", ["expert", "service"])
def test_e4_a_day_and_a_month_of_slots_cost_the_same_queries(w, as_user, django_assert_num_queries, kind):
    put_free_dates(w, w.expert, buffer_before_minutes=5, max_meetings_per_day=8)
    put_free_dates(w, w.colleague, time_off=[{"start": "2030-06-10T00:00:00+02:00", "end": "2030-06-12T00:00:00Z"}])
    for day in range(4, 29):
        if datetime(2030, 6, day).weekday() < 5:
            w.book(service=w.free_service, start=amsterdam(f"2030-06-{day:02d}", "10:00"), length=30)
    api = as_user(w.admin).org(w)
    path = f"/experts/{w.expert.pk}/slots" if kind == "expert" else f"/services/{w.service.pk}/slots"
    one_day = {"service_id": w.service.pk, "from": MONDAY, "to": MONDAY}
    month = {"service_id": w.service.pk, "from": MONDAY, "to": "2030-07-02"}
    api.get(path, one_day)  # warm the session and settings caches alike for both

    with CaptureQueriesContext(connection) as day_queries:
        small = api.get(path, one_day)
    with django_assert_num_queries(len(day_queries)):
        large = api.get(path, month)
    assert len(large.json()["slots"]) > 15 * len(small.json()["slots"]) > 0
    assert len(day_queries) <= 15


def test_b7_any_expert_booking_skips_who_is_taken(w):
    """The domain picks the least busy expert free at that time."""
    put_free_dates(w, w.expert)
    put_free_dates(w, w.colleague, weekly=[{"weekday": 0, "start": "13:00", "end": "17:00"}])
    morning = lifecycle.book_meeting(
        service=w.free_service, expert=None, party=lifecycle.Party(client=w.client), start=amsterdam(MONDAY, "10:00")
    )
    assert morning.expert == w.expert  # the colleague does not work mornings
    with pytest.raises(DomainError) as refused:
        lifecycle.book_meeting(
            service=w.free_service,
            expert=None,
            party=lifecycle.Party(client=w.client),
            start=amsterdam(MONDAY, "10:00"),
        )
    assert (refused.value.code, refused.value.status) == ("slot_taken", 409)
