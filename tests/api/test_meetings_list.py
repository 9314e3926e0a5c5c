"""The meetings overview (O2, D1, D2) and one meeting with its timeline (L19), as the API
shows them, and what may not be seen (O3)."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlour.meetings import lifecycle
from tests.factories import client as new_client
from tests.factories import member, open_all_week, world

from .conftest import assert_error, hours_from_now, iso

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


@pytest.fixture
def crowd(w):
    """Meetings of the expert, their group colleague and an expert outside the group."""
    loner = member(w.org, name="Lou Loner")
    open_all_week(w.org, loner)
    w.free_service.experts.add(loner)
    other_client = new_client(w.org, name="Otto Other")
    return {
        "loner": loner,
        "other_client": other_client,
        "expert": w.book(service=w.free_service, hours_ahead=10),
        "colleague": w.book(service=w.free_service, hours_ahead=20, expert=w.colleague),
        "loner_meeting": w.book(service=w.free_service, hours_ahead=30, expert=loner, by=other_client),
    }


def test_o2_my_tab_holds_my_meetings_as_expert_or_client(w, crowd, as_user):
    assert ids(as_user(w.expert).org(w).get("/meetings")) == [crowd["expert"].pk]
    assert ids(as_user(w.client).org(w).get("/meetings", {"tab": "my"})) == [crowd["colleague"].pk, crowd["expert"].pk]
    assert ids(as_user(w.admin).org(w).get("/meetings", {"tab": "my"})) == []


def test_o2_everyone_tab_group_member_sees_colleagues_but_not_others(w, crowd, as_user):
    expert_sees = ids(as_user(w.expert).org(w).get("/meetings", {"tab": "everyone"}))
    assert expert_sees == [crowd["colleague"].pk, crowd["expert"].pk]
    loner_sees = ids(as_user(crowd["loner"]).org(w).get("/meetings", {"tab": "everyone"}))
    assert loner_sees == [crowd["loner_meeting"].pk]


def test_o2_everyone_tab_admin_sees_all_client_only_own(w, crowd, as_user):
    everyone = {"tab": "everyone"}
    all_three = [crowd["loner_meeting"].pk, crowd["colleague"].pk, crowd["expert"].pk]
    assert ids(as_user(w.admin).org(w).get("/meetings", everyone)) == all_three
    assert ids(as_user(w.client).org(w).get("/meetings", everyone)) == [crowd["colleague"].pk, crowd["expert"].pk]
    assert ids(as_user(crowd["other_client"]).org(w).get("/meetings", everyone)) == [crowd["loner_meeting"].pk]


def test_o3_another_organizations_meetings_never_show(w, crowd, as_user):
    elsewhere = world()
    elsewhere.book()
    assert ids(as_user(elsewhere.admin).org(elsewhere).get("/meetings", {"tab": "everyone"})) != []
    assert_error(as_user(elsewhere.admin).org(w).get("/meetings"), 404, "not_found", "O3")


def test_d1_filters_by_statuses_and_start_range(w, crowd, as_user):
    api = as_user(w.admin).org(w)
    requested = w.book(hours_ahead=40)  # awaiting approval
    lifecycle.cancel_meeting(w.client, crowd["expert"], note="cannot make it")
    everyone = {"tab": "everyone"}
    assert ids(api.get("/meetings", {**everyone, "status": "awaiting_approval"})) == [requested.pk]
    both = ids(api.get("/meetings", {**everyone, "status": ["awaiting_approval", "cancelled"]}))
    assert both == [requested.pk, crowd["expert"].pk]
    window = {**everyone, "from": iso(hours_from_now(15)), "to": iso(hours_from_now(35))}
    assert ids(api.get("/meetings", window)) == [crowd["loner_meeting"].pk, crowd["colleague"].pk]


@pytest.mark.parametrize(
    ("params", "status", "rule"),
    [
        ({"from": "2030-01-01T10:00:00"}, 400, "Q1"),  # naive
        ({"from": "yesterday"}, 422, "Q2"),
        ({"from": "2030-13-45T10:00:00+01:00"}, 422, "Q2"),
        ({"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}, 400, "Q2"),
        ({"status": "sleeping"}, 422, "Q2"),
        ({"limit": 0}, 422, "Q2"),
        ({"limit": 101}, 422, "Q2"),
        ({"limit": 10**30}, 422, "Q2"),
        ({"tab": "theirs"}, 422, "Q2"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, 400, "Q2"),
        ({"cursor": "%%%"}, 400, "Q2"),
    ],
)
def test_q2_bad_list_parameters_are_clear_errors(w, as_user, params, status, rule):
    assert_error(as_user(w.expert).org(w).get("/meetings", params), status, "invalid_input", rule)


def test_d1_paging_is_stable_while_meetings_are_added(w, as_user):
    """Keyset paging: a meeting booked between two page fetches never makes a row repeat
    or go missing; ties on the start are broken by id."""
    second = member(w.org, name="Sam Second")
    open_all_week(w.org, second)
    w.free_service.experts.add(second)
    base = hours_from_now(0)
    # A second client books the second expert at the same times (a client never overlaps, L17).
    other = new_client(w.org, name="Olga Other")
    originals = [
        w.book(service=w.free_service, start=base + timedelta(hours=hours), expert=expert, by=by)
        for hours, expert, by in [(5, w.expert, w.client), (6, w.expert, w.client), (6, second, other)]
        + [(7, w.expert, w.client), (8, w.expert, w.client), (8, second, other), (9, w.expert, w.client)]
        + [(10, w.expert, w.client)]
    ]
    assert len({m.start for m in originals}) == 6  # two pairs start at the same time
    api = as_user(w.admin).org(w)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, "tab": "everyone"} | ({"cursor": cursor} if cursor else {})
        body = api.get("/meetings", params).json()
        seen += [row["id"] for row in body["items"]]
        pages += 1
        if pages == 1:
            # Between the fetches: one newer than everything, one in the middle of what is left.
            w.book(service=w.free_service, start=base + timedelta(hours=20), expert=second)
            w.book(service=w.free_service, start=base + timedelta(hours=7), expert=second, by=other)
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert {m.pk for m in originals} <= set(seen)
    expected = sorted(originals, key=lambda m: (m.start, m.pk), reverse=True)
    assert [i for i in seen if i in {m.pk for m in originals}] == [m.pk for m in expected]


def _queries(api, limit: int) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/meetings", {"tab": "everyone", "limit": limit})
    assert response.status_code == 200
    return len(queries), len(response.json()["items"])


def test_d1_query_count_does_not_grow_with_page_size(w, as_user, django_assert_max_num_queries):
    for i in range(50):
        meeting = w.book(service=w.free_service, hours_ahead=3 + i, expert=w.expert if i % 2 else w.colleague)
        if i % 5 == 0:
            lifecycle.propose_alternative(w.client, meeting, start=hours_from_now(200 + i))
    api = as_user(w.expert).org(w)
    small, rows_small = _queries(api, 5)
    large, rows_large = _queries(api, 50)
    assert (rows_small, rows_large) == (5, 50)
    assert small == large, (small, large)
    with django_assert_max_num_queries(8):
        api.get("/meetings", {"tab": "everyone", "limit": 50})


def test_d1_row_shows_people_service_terms_and_pending_alternative(w, as_user):
    meeting = w.agreed(subject="Career change")
    lifecycle.propose_alternative(w.expert, meeting, start=hours_from_now(96))
    row = as_user(w.client).org(w).get("/meetings").json()["items"][0]
    assert row["id"] == meeting.pk
    assert row["service"] == {"id": w.service.pk, "name": "Expert advice"}
    assert row["expert"] == {"id": w.expert.pk, "name": "Eve Expert"}
    assert row["client"] == {"kind": "client", "id": w.client.pk, "name": "Cleo Client", "email": w.client.email}
    assert row["guest_key"] == meeting.guest_key
    assert row["subject"] == "Career change"
    assert (row["status"], row["credit_status"], row["outcome"]) == ("agreed", "blocked", "")
    assert (row["length"], row["price"]) == (30, 100)
    assert row["start"].endswith(("Z", "+00:00"))
    alternative = row["pending_alternative"]
    assert alternative["proposed_by"] == "expert" and alternative["length"] == 30


def test_d1_guest_meeting_shows_the_guest(w, as_user):
    meeting = w.book(service=w.free_service, by=w.guest)
    row = as_user(w.expert).org(w).get("/meetings").json()["items"][0]
    assert row["id"] == meeting.pk
    assert row["client"] == {"kind": "guest", "id": w.guest.pk, "name": "Gus Guest", "email": w.guest.email}


def test_d2_displayed_status_follows_the_clock(w, as_user):
    meeting = w.agreed(hours_ahead=72)
    requested = w.book(hours_ahead=100)
    api = as_user(w.client).org(w)

    def shown() -> dict:
        return {row["id"]: row["displayed_status"] for row in api.get("/meetings").json()["items"]}

    assert shown() == {meeting.pk: "scheduled", requested.pk: "awaiting_approval"}
    with time_machine.travel(meeting.start - timedelta(minutes=30)):
        assert shown()[meeting.pk] == "starting_soon"
    with time_machine.travel(meeting.start + timedelta(minutes=5)):
        assert shown()[meeting.pk] == "in_progress"
        assert api.get(f"/meetings/{meeting.pk}").json()["displayed_status_label"] == "In progress"


def test_l19_meeting_shows_its_timeline_with_who_when_why(w, as_user):
    meeting = w.book()
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available", note="Away that week")
    body = as_user(w.client).org(w).get(f"/meetings/{meeting.pk}").json()
    titles = [(e["title"], e["actor"], e["side"]) for e in body["timeline"]]
    assert titles == [
        ("Meeting booked by client", "Cleo Client", "client"),
        ("Approved by client", "Cleo Client", "client"),
        ("Rejected by expert", "Eve Expert", "expert"),
    ]
    rejected = body["timeline"][-1]
    assert rejected["reason"] == "Away that week" and rejected["data"] == {"code": "not_available"}
    assert rejected["at"]
    assert body["status"] == "rejected" and body["credit_status"] == "returned"


def test_o3_meetings_one_may_not_see_answer_exactly_like_missing_ones(w, crowd, as_user):
    missing = as_user(w.expert).org(w).get("/meetings/999999")
    assert_error(missing, 404, "not_found", "O3")
    for viewer, meeting in [
        (crowd["loner"], crowd["expert"]),  # not in the group
        (crowd["other_client"], crowd["expert"]),  # another client's meeting
        (w.expert, crowd["loner_meeting"]),  # a member outside the group
    ]:
        response = as_user(viewer).org(w).get(f"/meetings/{meeting.pk}")
        assert (response.status_code, response.json()) == (404, missing.json())
    elsewhere = world()
    theirs = elsewhere.book()
    assert as_user(w.admin).org(w).get(f"/meetings/{theirs.pk}").json() == missing.json()
    assert_error(as_user(w.admin).org(w).get(f"/meetings/{10**25}"), 404, "not_found")
    assert_error(as_user(w.admin).org(w).get("/meetings/abc"), 404, "not_found")
    outsider = new_client(elsewhere.org)
    assert_error(as_user(outsider).org(w).get(f"/meetings/{crowd['expert'].pk}"), 404, "not_found", "O3")
