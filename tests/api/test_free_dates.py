"""An expert's free dates through the API (E3, O3, Q2): read and replace the whole set, add
and remove time off; only the expert themself or an admin; bad input changes nothing."""

import json
from datetime import time

import pytest
from django.test import Client

from parlour.accounts.models import Membership
from parlour.availability.models import DateException, TimeOff, WeeklyHours
from parlour.catalog.models import ExpertProfile
from tests.factories import world

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db

AMSTERDAM_WEEK = {
    "time_zone": "Europe/Amsterdam",
    "weekly": [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "17:00"},
        {"weekday": 2, "start": "12:00", "end": "24:00"},
        {"weekday": 3, "start": "00:00", "end": "02:00"},
    ],
    "exceptions": [
        {"date": "2030-05-06", "kind": "day_off"},
        {"date": "2030-05-06", "kind": "add", "start": "10:00", "end": "11:00"},
        {"date": "2030-05-08", "kind": "remove", "start": "14:00", "end": "15:30"},
    ],
    "time_off": [{"start": "2030-07-01T00:00:00+02:00", "end": "2030-07-15T00:00:00+02:00", "note": "Summer"}],
    "minimum_notice_minutes": 120,
    "buffer_before_minutes": 10,
    "buffer_after_minutes": 5,
    "max_meetings_per_day": 6,
}


def put(api: Api, path: str, body):
    return api.client.put(api.base + path, json.dumps(body), content_type="application/json", headers=api.headers)


def delete(api: Api, path: str):
    return api.client.delete(api.base + path, headers=api.headers)


def path(w, person=None) -> str:
    return f"/experts/{(person or w.expert).pk}/free-dates"


def stored(w, person=None) -> dict:
    """Everything E3 keeps for the expert, to compare before and after a refusal."""
    profile = ExpertProfile.objects.get(membership=Membership.objects.get(user=person or w.expert))
    return {
        "profile": (
            profile.time_zone,
            profile.minimum_notice_minutes,
            profile.buffer_before_minutes,
            profile.buffer_after_minutes,
            profile.max_meetings_per_day,
        ),
        "weekly": sorted(WeeklyHours.objects.filter(profile=profile).values_list("weekday", "start", "end")),
        "exceptions": sorted(
            DateException.objects.filter(profile=profile).values_list("date", "kind", "start", "end"), key=str
        ),
        "time_off": sorted(TimeOff.objects.filter(profile=profile).values_list("pk", "start", "end", "note")),
    }


def test_e3_expert_replaces_and_reads_back_the_whole_set(w, as_user):
    api = as_user(w.expert).org(w)
    response = put(api, path(w), AMSTERDAM_WEEK)
    assert response.status_code == 200, response.content
    body = api.get(path(w)).json()
    assert body == response.json()
    assert body["expert"] == {"id": w.expert.pk, "name": "Eve Expert"}
    assert body["time_zone"] == "Europe/Amsterdam"
    assert [(h["weekday_name"], h["start"], h["end"]) for h in body["weekly"]] == [
        ("Monday", "09:00", "12:00"),
        ("Monday", "13:00", "17:00"),
        ("Wednesday", "12:00", "24:00"),
        ("Thursday", "00:00", "02:00"),
    ]
    assert body["exceptions"] == [
        {"date": "2030-05-06", "kind": "add", "start": "10:00", "end": "11:00"},
        {"date": "2030-05-06", "kind": "day_off", "start": None, "end": None},
        {"date": "2030-05-08", "kind": "remove", "start": "14:00", "end": "15:30"},
    ]
    [summer] = body["time_off"]
    assert (summer["start"], summer["end"], summer["note"]) == (
        "2030-06-30T22:00:00Z",
        "2030-07-14T22:00:00Z",
        "Summer",
    )
    assert (body["minimum_notice_minutes"], body["buffer_before_minutes"], body["buffer_after_minutes"]) == (120, 10, 5)
    assert body["max_meetings_per_day"] == 6

    # Replacing again replaces: what is left out is gone, limits go back to none.
    again = put(api, path(w), {"time_zone": "UTC", "weekly": [{"weekday": 4, "start": "08:00", "end": "10:00"}]})
    assert again.status_code == 200, again.content
    assert stored(w) == {
        "profile": ("UTC", 0, 0, 0, None),
        "weekly": [(4, time(8), time(10))],
        "exceptions": [],
        "time_off": [],
    }


def test_e3_admin_manages_an_experts_free_dates_even_without_a_profile_yet(w, as_user):
    api = as_user(w.admin).org(w)
    assert put(api, path(w), AMSTERDAM_WEEK).status_code == 200
    assert stored(w)["profile"][0] == "Europe/Amsterdam"
    # The admin has no expert profile yet: reading shows none, replacing makes one.
    empty = api.get(path(w, w.admin)).json()
    assert (empty["weekly"], empty["time_off"], empty["max_meetings_per_day"]) == ([], [], None)
    assert put(api, path(w, w.admin), AMSTERDAM_WEEK).status_code == 200
    assert len(stored(w, w.admin)["weekly"]) == 4


def test_e3_colleague_and_client_are_refused_another_organization_is_not_found(w, as_user):
    before = stored(w)
    for person in (w.colleague, w.client):
        api = as_user(person).org(w)
        assert_error(api.get(path(w)), 403, "not_allowed", "E3")
        assert_error(put(api, path(w), AMSTERDAM_WEEK), 403, "not_allowed", "E3")
        assert_error(api.post(path(w) + "/time-off", AMSTERDAM_WEEK["time_off"][0]), 403, "not_allowed", "E3")
    elsewhere = world()
    # Someone of another organization asks through their own organization, or through ours.
    assert_error(as_user(elsewhere.admin).org(elsewhere).get(path(w)), 404, "not_found", "O3")
    assert_error(as_user(elsewhere.admin).org(w).get(path(w)), 404, "not_found", "O3")
    assert_error(put(as_user(elsewhere.admin).org(elsewhere), path(w), AMSTERDAM_WEEK), 404, "not_found")
    # A client is no expert; unknown and impossible ids are not found.
    for missing in (w.client.pk, 999999, 2**70):
        assert_error(as_user(w.admin).org(w).get(f"/experts/{missing}/free-dates"), 404, "not_found")
    assert_error(Api(Client()).org(w).get(path(w)), 401, "not_authenticated")
    assert stored(w) == before


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "not a known time zone"),
        ({"weekly": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "weekly.0.weekday", "0 is Monday"),
        ({"weekly": [{"weekday": -1, "start": "09:00", "end": "10:00"}]}, "weekly.0.weekday", "not a weekday"),
        ({"weekly": [{"weekday": 1, "start": "17:00", "end": "09:00"}]}, "weekly.0.end", "not after"),
        ({"weekly": [{"weekday": 1, "start": "09:00", "end": "09:00"}]}, "weekly.0.end", "not after"),
        (
            {
                "weekly": [
                    {"weekday": 1, "start": "09:00", "end": "12:30"},
                    {"weekday": 1, "start": "12:00", "end": "17:00"},
                ]
            },
            "weekly.1",
            "Tuesday 12:00–17:00 overlaps 09:00–12:30",
        ),
        ({"exceptions": [{"date": "2030-05-06", "kind": "add"}]}, "exceptions.0", "need a start and an end"),
        (
            {"exceptions": [{"date": "2030-05-06", "kind": "day_off", "start": "09:00", "end": "10:00"}]},
            "exceptions.0",
            "has no hours",
        ),
        (
            {"exceptions": [{"date": "2030-05-06", "kind": "day_off"}, {"date": "2030-05-06", "kind": "day_off"}]},
            "exceptions.1",
            "already a day off",
        ),
        (
            {"time_off": [{"start": "2030-07-15T00:00:00+02:00", "end": "2030-07-01T00:00:00+02:00"}]},
            "time_off.0.end",
            "end after it starts",
        ),
        ({"minimum_notice_minutes": -5}, "minimum_notice_minutes", "from 0 to"),
        ({"buffer_after_minutes": 100000}, "buffer_after_minutes", "from 0 to 1440"),
        ({"max_meetings_per_day": 0}, "max_meetings_per_day", "null for no limit"),
    ],
)
def test_q2_e3_bad_free_dates_are_refused_with_a_reason_and_nothing_changes(w, as_user, change, field, words):
    api = as_user(w.expert).org(w)
    put(api, path(w), AMSTERDAM_WEEK)
    before = stored(w)
    # The bad part arrives together with good ones: all or nothing.
    body = assert_error(put(api, path(w), {**AMSTERDAM_WEEK, **change}), 400, "invalid_free_dates", "E3")
    assert field in [e["field"] for e in body["details"]["errors"]], body
    assert words in body["message"] + " ".join(e["message"] for e in body["details"]["errors"])
    assert "Nothing was changed" in body["message"]
    assert stored(w) == before


@pytest.mark.parametrize(
    "change",
    [
        {"weekly": [{"weekday": 1, "start": "9am", "end": "10:00"}]},
        {"weekly": [{"weekday": 1, "start": "24:00", "end": "10:00"}]},
        {"weekly": [{"weekday": 10**40, "start": "09:00", "end": "10:00"}]},
        {"exceptions": [{"date": "2030-02-30", "kind": "add", "start": "09:00", "end": "10:00"}]},
        {"exceptions": [{"date": "2030-05-06", "kind": "holiday"}]},
        {"time_off": [{"start": "2030-07-01T00:00:00", "end": "2030-07-02T00:00:00+02:00"}]},
        {"surprise": True},
        {"time_zone": None},
    ],
)
def test_q2_malformed_free_dates_are_refused_and_nothing_changes(w, as_user, change):
    api = as_user(w.expert).org(w)
    put(api, path(w), AMSTERDAM_WEEK)
    before = stored(w)
    response = put(api, path(w), {**AMSTERDAM_WEEK, **change})
    assert response.status_code in (400, 422), response.content
    assert response.json()["code"] == "invalid_input"
    assert stored(w) == before


def test_e3_touching_intervals_and_a_span_over_midnight_are_fine(w, as_user):
    api = as_user(w.expert).org(w)
    weekly = [
        {"weekday": 4, "start": "09:00", "end": "12:00"},
        {"weekday": 4, "start": "12:00", "end": "24:00"},
        {"weekday": 5, "start": "00:00", "end": "01:00"},
    ]
    response = put(api, path(w), {"time_zone": "Europe/Amsterdam", "weekly": weekly})
    assert response.status_code == 200, response.content
    assert len(response.json()["weekly"]) == 3


def test_e3_time_off_is_added_and_removed_one_at_a_time(w, as_user):
    api = as_user(w.expert).org(w)
    put(api, path(w), AMSTERDAM_WEEK)
    response = api.post(
        path(w) + "/time-off",
        {"start": "2030-09-01T09:00:00+02:00", "end": "2030-09-01T13:00:00+02:00", "note": "Dentist"},
    )
    assert response.status_code == 201, response.content
    added = response.json()
    assert (added["start"], added["end"], added["note"]) == ("2030-09-01T07:00:00Z", "2030-09-01T11:00:00Z", "Dentist")
    assert len(api.get(path(w)).json()["time_off"]) == 2

    # Another expert's time off is not found through this expert, and nothing goes.
    colleague = as_user(w.colleague).org(w)
    assert_error(delete(colleague, f"{path(w, w.colleague)}/time-off/{added['id']}"), 404, "not_found")
    assert_error(delete(colleague, f"{path(w)}/time-off/{added['id']}"), 403, "not_allowed", "E3")
    assert len(api.get(path(w)).json()["time_off"]) == 2

    assert delete(as_user(w.admin).org(w), f"{path(w)}/time-off/{added['id']}").status_code == 204
    assert [t["note"] for t in api.get(path(w)).json()["time_off"]] == ["Summer"]
    assert_error(delete(api, f"{path(w)}/time-off/{added['id']}"), 404, "not_found")

    reversed_ = {"start": "2030-09-02T13:00:00+02:00", "end": "2030-09-02T09:00:00+02:00"}
    assert_error(api.post(path(w) + "/time-off", reversed_), 400, "invalid_free_dates", "E3")
    assert len(api.get(path(w)).json()["time_off"]) == 1
