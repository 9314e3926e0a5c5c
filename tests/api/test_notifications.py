"""The in-app notification list (SPEC §9, N1–N10): the caller's own notifications, newest
first, paged by cursor, read and unread; another person's answers "not found" (O3)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from parlour.core import clock
from parlour.notifications.messages import compose
from parlour.notifications.models import Notification, OutboxItem, Topic

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def notification(person, w, minutes: float = 0, **fields) -> Notification:
    values = {
        "recipient": person,
        "organization": w.org,
        "topic": Topic.N7,
        "title": "Meeting reminder",
        "body": f"Reminder {minutes}",
        "link": "http://127.0.0.1:8000/api/v1/orgs/x/meetings/1",
        "created_at": T0 + timedelta(minutes=minutes),
    }
    return Notification.objects.create(**{**values, **fields})


def delivered(item: OutboxItem) -> Notification:
    """What the delivery worker lists in the app for a message it sent."""
    message = compose(item)
    return Notification.objects.create(
        recipient=item.recipient,
        organization=item.organization,
        meeting=item.meeting,
        outbox_item=item,
        topic=item.topic,
        title=message.title,
        body=message.body,
        link=message.link,
        created_at=clock.now(),
    )


def test_n1_in_app_list_shows_the_message_as_composed(w, as_user):
    meeting = w.book(hours_ahead=72)
    row = delivered(OutboxItem.objects.get(topic=Topic.N1, recipient=w.expert))
    (item,) = as_user(w.expert).get("/me/notifications").json()["items"]
    assert item == {
        "id": row.pk,
        "topic": "N1",
        "title": "New meeting request from Cleo Client",
        "body": row.body,
        "link": f"http://127.0.0.1:8000/o/{w.org.slug}/meetings/{meeting.pk}/",
        "organization": w.org.slug,
        "meeting_id": meeting.pk,
        "created_at": item["created_at"],
        "read": False,
        "read_at": None,
    }
    assert "Cleo Client asks for a meeting with you" in item["body"]
    assert as_user(w.client).get("/me/notifications").json()["items"] == []


def test_n1_to_n10_in_app_list_pages_newest_first_without_repeats(w, as_user):
    rows = [notification(w.client, w, minutes=m) for m in (0, 1, 1, 1, 2, 3, 4)]  # ties break by id
    api = as_user(w.client)
    first = api.get("/me/notifications", {"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    notification(w.client, w, minutes=10)  # arrives between the two fetches
    second = api.get("/me/notifications", {"limit": 3, "cursor": first["next_cursor"]}).json()
    third = api.get("/me/notifications", {"limit": 3, "cursor": second["next_cursor"]}).json()
    assert third["next_cursor"] is None
    seen = [i["id"] for i in first["items"] + second["items"] + third["items"]]
    expected = sorted(rows, key=lambda n: (n.created_at, n.pk), reverse=True)
    assert seen == [n.pk for n in expected]


def test_q2_bad_paging_input_is_refused(w, as_user):
    api = as_user(w.client)
    assert_error(api.get("/me/notifications", {"limit": 0}), 422, "invalid_input")
    assert_error(api.get("/me/notifications", {"limit": 101}), 422, "invalid_input")
    assert_error(api.get("/me/notifications", {"cursor": "garbage"}), 400, "invalid_input")


def test_n1_to_n10_read_one_read_all_and_the_unread_count(w, as_user):
    a, b, c = (notification(w.client, w, minutes=m) for m in (0, 1, 2))
    api = as_user(w.client)
    assert api.get("/me/notifications/unread-count").json() == {"unread": 3}
    answer = api.post(f"/me/notifications/{b.pk}/read")
    assert answer.status_code == 200
    assert answer.json()["read"] is True and answer.json()["id"] == b.pk
    first_read = Notification.objects.get(pk=b.pk).read_at
    assert first_read is not None
    assert api.post(f"/me/notifications/{b.pk}/read").json()["read_at"] == answer.json()["read_at"]
    assert Notification.objects.get(pk=b.pk).read_at == first_read  # reading again keeps the first time
    assert api.get("/me/notifications/unread-count").json() == {"unread": 2}
    unread = api.get("/me/notifications", {"unread": "true"}).json()["items"]
    assert [i["id"] for i in unread] == [c.pk, a.pk]
    everything = api.get("/me/notifications").json()["items"]
    assert [(i["id"], i["read"]) for i in everything] == [(c.pk, False), (b.pk, True), (a.pk, False)]
    assert api.post("/me/notifications/read-all").json() == {"marked": 2, "unread": 0}
    assert api.get("/me/notifications/unread-count").json() == {"unread": 0}
    assert api.get("/me/notifications", {"unread": "true"}).json()["items"] == []
    assert api.post("/me/notifications/read-all").json() == {"marked": 0, "unread": 0}


def test_o3_another_persons_notification_is_not_found_and_stays_unread(w, as_user):
    theirs = notification(w.expert, w)
    mine = notification(w.client, w, minutes=1)
    api = as_user(w.client)
    assert_error(api.post(f"/me/notifications/{theirs.pk}/read"), 404, "not_found", "O3")
    assert_error(api.post("/me/notifications/999999/read"), 404, "not_found", "O3")
    assert_error(api.post(f"/me/notifications/{2**70}/read"), 404, "not_found", "O3")
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert [i["id"] for i in api.get("/me/notifications").json()["items"]] == [mine.pk]
    api.post("/me/notifications/read-all")
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert as_user(w.expert).get("/me/notifications/unread-count").json() == {"unread": 1}


def test_i2_notifications_need_a_signed_in_caller_and_take_a_token(w, with_token):
    anonymous = Api(Client())
    for answer in (
        anonymous.get("/me/notifications"),
        anonymous.get("/me/notifications/unread-count"),
        anonymous.post("/me/notifications/read-all"),
    ):
        assert_error(answer, 401, "not_authenticated")
    notification(w.client, w)
    api = with_token(w.client)
    assert api.get("/me/notifications/unread-count").json() == {"unread": 1}
    assert api.post("/me/notifications/read-all").json()["marked"] == 1


def test_n1_to_n10_a_page_of_fifty_costs_what_a_page_of_five_does(w, as_user, django_assert_max_num_queries):
    api = as_user(w.client)
    for m in range(5):
        notification(w.client, w, minutes=m)
    with django_assert_max_num_queries(4):
        assert len(api.get("/me/notifications", {"limit": 50}).json()["items"]) == 5
    for m in range(5, 50):
        notification(w.client, w, minutes=m)
    with django_assert_max_num_queries(4):
        assert len(api.get("/me/notifications", {"limit": 50}).json()["items"]) == 50
