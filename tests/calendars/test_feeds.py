"""K3: a person's private calendar feed — made, rotated and revoked; read with the token
alone; only that person's meetings, in every organization; bounded in time; and as cheap
for many meetings as for a few."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import ApiToken, ClientAccount
from parlour.calendars.feeds import feed_meetings, issue_feed, revoke_feeds
from parlour.calendars.ics import feed_ics, sequence_of, uid_of
from parlour.calendars.models import CalendarFeed
from parlour.core.errors import NotFound
from parlour.credits import ledger
from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import Meeting
from tests.api.conftest import Api
from tests.factories import World, admin_of, client, world

from .conftest import NOW, mailto, parse

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2030, 6, 5, 10, 0, tzinfo=UTC)


def read_feed(token: str):
    return Client().get(f"/api/v1/calendar/{token}.ics")


def events_by_uid(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    calendar = parse(response.content)
    assert calendar["X-WR-CALNAME"] == "Parlour meetings" and "METHOD" not in calendar
    return {str(event["UID"]): event for event in calendar.events}


def test_k3_issue_rotate_and_revoke(w):
    token = issue_feed(w.expert)
    user, _ = feed_meetings(token)
    assert user == w.expert
    assert CalendarFeed.objects.get(user=w.expert).digest != token  # only the hash is kept

    newer = issue_feed(w.expert)
    assert newer != token
    with pytest.raises(NotFound):
        feed_meetings(token)
    assert feed_meetings(newer)[0] == w.expert
    assert CalendarFeed.objects.filter(user=w.expert, revoked_at__isnull=True).count() == 1

    assert revoke_feeds(w.expert) == 1
    assert revoke_feeds(w.expert) == 0
    for old in (token, newer, "", "x" * 300):
        with pytest.raises(NotFound):
            feed_meetings(old)


def test_k3_feed_through_the_api_create_rotate_revoke(w, as_user):
    meeting = w.agreed(start=WEDNESDAY_10)
    me = as_user(w.client)
    response = me.post("/me/calendar-feed")
    assert response.status_code == 201, response.content
    first = response.json()
    assert first["url"].startswith("http://testserver/api/v1/calendar/") and first["url"].endswith(".ics")
    assert first["webcal_url"] == "webcal://" + first["url"].removeprefix("http://")
    first_path = first["url"].removeprefix("http://testserver")

    assert uid_of(meeting) in events_by_uid(Client().get(first_path))

    second = me.post("/me/calendar-feed").json()
    second_path = second["url"].removeprefix("http://testserver")
    assert second_path != first_path
    stale = Client().get(first_path)
    assert stale.status_code == 404 and stale.json()["code"] == "not_found"
    assert uid_of(meeting) in events_by_uid(Client().get(second_path))

    revoke = me.client.delete("/api/v1/me/calendar-feed")
    assert revoke.status_code == 204
    assert Client().get(second_path).status_code == 404
    assert me.client.delete("/api/v1/me/calendar-feed").status_code == 204


def test_k3_feed_address_needs_a_session_and_unknown_tokens_are_not_found(w):
    _, api_token = ApiToken.issue(w.client, "script")
    scripted = Api(Client(), headers={"Authorization": f"Bearer {api_token}"})
    assert scripted.post("/me/calendar-feed").status_code == 401
    assert Client().post("/api/v1/me/calendar-feed").status_code == 401
    assert Client().delete("/api/v1/me/calendar-feed").status_code == 401
    assert read_feed("not-a-token").status_code == 404


def test_k3_feed_shows_only_that_persons_meetings_in_every_organization(w, as_user):
    mine = w.agreed(start=WEDNESDAY_10)
    with_guest = w.book(by=w.guest, service=w.free_service, start=WEDNESDAY_10 + timedelta(hours=3), length=30)
    others = w.agreed(start=WEDNESDAY_10, expert=w.colleague, by=client(w.org, credits=500, name="Otto Other"))
    with_colleague = w.agreed(start=WEDNESDAY_10 + timedelta(days=2), expert=w.colleague)
    # The expert is also a client of another organization.
    elsewhere: World = world()
    client_of = elsewhere.book(by=_client_in(elsewhere, w.expert), start=WEDNESDAY_10 + timedelta(days=1))

    expert_events = events_by_uid(read_feed(issue_feed(w.expert)))
    assert set(expert_events) == {uid_of(mine), uid_of(with_guest), uid_of(client_of)}
    assert str(expert_events[uid_of(mine)]["SUMMARY"]) == "Expert advice with Cleo Client"
    assert str(expert_events[uid_of(client_of)]["SUMMARY"]) == "Expert advice with Eve Expert"
    assert expert_events[uid_of(client_of)]["STATUS"] == "TENTATIVE"
    assert with_guest.guest_key not in read_feed(issue_feed(w.expert)).content.decode()

    client_events = events_by_uid(read_feed(issue_feed(w.client)))
    assert set(client_events) == {uid_of(mine), uid_of(with_colleague)}
    assert uid_of(others) not in expert_events | client_events
    event = client_events[uid_of(mine)]
    assert str(event["SUMMARY"]) == "Expert advice with Eve Expert"
    assert mailto(event["ORGANIZER"]) == f"mailto:{w.expert.email}"
    assert (event.start, event["SEQUENCE"], event["STATUS"]) == (WEDNESDAY_10, sequence_of(mine), "CONFIRMED")

    assert events_by_uid(read_feed(issue_feed(w.admin))) == {}


def _client_in(world_: World, user):
    ClientAccount.objects.create(organization=world_.org, user=user)
    ledger.grant_credits(world_.org, user, 500, by=admin_of(world_.org))
    return user


def test_k3_updates_and_cancellations_reach_the_feed_with_the_same_uid(w):
    meeting = w.agreed(start=WEDNESDAY_10)
    token = issue_feed(w.client)
    before = events_by_uid(read_feed(token))[uid_of(meeting)]

    moved_to = datetime(2030, 6, 7, 16, 0, tzinfo=UTC)
    lifecycle.propose_alternative(w.expert, meeting, start=moved_to, length=60)
    lifecycle.confirm_alternative(w.client, meeting)
    moved = events_by_uid(read_feed(token))[uid_of(meeting)]
    assert (moved.start, moved.end) == (moved_to, moved_to + timedelta(minutes=60))
    assert moved["SEQUENCE"] > before["SEQUENCE"]

    lifecycle.cancel_meeting(w.client, meeting, note="Plans changed.")
    cancelled = events_by_uid(read_feed(token))[uid_of(meeting)]
    assert cancelled["STATUS"] == "CANCELLED" and cancelled["SEQUENCE"] > moved["SEQUENCE"]


def test_k3_feed_is_bounded_in_time(w, frozen):
    """Cancelled meetings stay 30 days (as CANCELLED) and then leave; nothing that started
    more than 90 days ago is listed; meetings that took place stay while inside the window."""
    held = w.agreed(start=WEDNESDAY_10)
    cancelled = w.agreed(start=WEDNESDAY_10 + timedelta(hours=4))
    lifecycle.cancel_meeting(w.client, cancelled, note="No longer needed.")
    token = issue_feed(w.client)

    frozen.move_to(held.end + timedelta(minutes=5), tick=False)
    outcome.close_meeting(held)
    events = events_by_uid(read_feed(token))
    assert events[uid_of(held)]["STATUS"] == "CONFIRMED"  # missed or completed: it took that time
    assert events[uid_of(cancelled)]["STATUS"] == "CANCELLED"

    frozen.move_to(NOW + timedelta(days=31), tick=False)
    assert set(events_by_uid(read_feed(token))) == {uid_of(held)}

    frozen.move_to(WEDNESDAY_10 + timedelta(days=91), tick=False)
    assert events_by_uid(read_feed(token)) == {}


def test_k3_inactive_person_has_no_feed(w):
    token = issue_feed(w.client)
    w.client.is_active = False
    w.client.save()
    assert read_feed(token).status_code == 404


def test_k3_feed_queries_do_not_grow_with_the_number_of_meetings(w, django_assert_max_num_queries):
    w.agreed(start=WEDNESDAY_10)
    token = issue_feed(w.client)
    with CaptureQueriesContext(connection) as few:
        assert len(events_by_uid(read_feed(token))) == 1

    busy = client(w.org, name="Bea Busy")
    for day in range(12):
        start = WEDNESDAY_10 + timedelta(days=day)
        m = w.book(by=busy, service=w.free_service, start=start, length=30, expert=w.colleague)
        if day % 3 == 0:
            lifecycle.change_meeting_time(busy, m, start=start + timedelta(hours=2))
    token = issue_feed(busy)
    with django_assert_max_num_queries(len(few)):
        events = events_by_uid(read_feed(token))
    assert len(events) == 12
    for meeting in Meeting.objects.filter(client=busy):
        assert events[uid_of(meeting)]["SEQUENCE"] == sequence_of(meeting)
    assert len(few) == 2  # the feed and its person; the meetings with their SEQUENCEs


def test_k3_feed_ics_takes_a_plain_list_too(w):
    meeting = w.agreed(start=WEDNESDAY_10)
    calendar = parse(feed_ics(w.client, [meeting]))
    (event,) = calendar.events
    assert (event["UID"], event["SEQUENCE"]) == (uid_of(meeting), sequence_of(meeting))
