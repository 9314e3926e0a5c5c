"""A guest's own meeting through the signed link (B5, O3, L1, L7, L16): reading changes
nothing, cancelling and moving go through the lifecycle with the guest as the actor, and a
forged or outdated link is "not found"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client

from parlour.meetings.guest_links import SALT, link_token, meeting_for_link
from parlour.meetings.models import EventKind, Meeting, Status, new_guest_key
from parlour.notifications.models import OutboxItem

from .conftest import Api, assert_error, snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def booked(w):
    """A guest in Amsterdam booked the free service (agreed at once) for Wednesday 10:00 UTC."""
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    return w.book(by=w.guest, service=w.free_service, start=datetime(2030, 6, 5, 10, tzinfo=UTC), length=30)


def link(meeting) -> Api:
    return Api(Client(enforce_csrf_checks=True), f"/api/v1/guest/{link_token(meeting)}")


def test_b5_link_shows_the_guests_meeting_and_reading_changes_nothing(w, booked):
    before = snapshot(booked)
    outbox = OutboxItem.objects.count()
    for _ in range(2):
        response = link(booked).get("")
        assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["displayed_status"]) == (booked.pk, "agreed", "scheduled")
    assert (body["start"], body["end"], body["time_zone"]) == (
        "2030-06-05T12:00:00+02:00",
        "2030-06-05T12:30:00+02:00",
        "Europe/Amsterdam",
    )
    assert (body["expert"]["name"], body["name"], body["guest_key"]) == ("Eve Expert", "Gus Guest", booked.guest_key)
    assert snapshot(booked) == before
    assert OutboxItem.objects.count() == outbox


def test_l7_guest_cancels_through_the_link_with_a_reason(w, booked):
    page = link(booked)
    assert_error(page.post("/cancel", {}), 400, "reason_required", "L7")
    assert Meeting.objects.get(pk=booked.pk).status == Status.AGREED
    response = page.post("/cancel", {"note": "Something came up"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    booked.refresh_from_db()
    event = booked.timeline.get(kind=EventKind.CANCELLED)
    assert (event.actor_guest, event.reason, event.data["rule"]) == (w.guest, "Something came up", "L7")
    assert_error(page.post("/cancel", {"note": "again"}), 409, "wrong_state", "L7")


def test_l1_guest_withdraws_a_request_awaiting_the_expert(w):
    w.service.price = 0
    w.service.save()
    meeting = w.book(by=w.guest, service=w.service, start=NOW + timedelta(days=2))
    response = link(meeting).post("/cancel", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_l16_guest_moves_the_meeting_to_another_free_time(w, booked):
    page = link(booked)
    response = page.post("/change-time", {"start": "2030-06-05T15:00:00+02:00", "length": 15})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["length"], body["status"]) == ("2030-06-05T15:00:00+02:00", 15, "agreed")
    booked.refresh_from_db()
    assert booked.start == datetime(2030, 6, 5, 13, tzinfo=UTC)
    assert booked.timeline.filter(kind=EventKind.CHANGED, actor_guest=w.guest).exists()
    # The same link still works after the change (the key did not change).
    assert page.get("").json()["start"] == "2030-06-05T15:00:00+02:00"

    # A time the expert is busy is refused and nothing moves.
    other = w.book(service=w.free_service, start=datetime(2030, 6, 6, 9, tzinfo=UTC), length=30)
    before = snapshot(booked)
    assert_error(page.post("/change-time", {"start": other.start.isoformat()}), 409, "slot_taken", "L16")
    assert_error(page.post("/change-time", {"start": "2030-06-06T09:00:00"}), 400, "invalid_input", "Q1")
    assert_error(page.post("/change-time", {"length": 45}), 400, "invalid_length", "L16")
    assert snapshot(booked) == before


def test_o3_forged_or_outdated_links_are_not_found(w, booked):
    good = link_token(booked)
    client_meeting = w.book(service=w.free_service, start=NOW + timedelta(days=3))
    forged = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # signature altered
        "nonsense",
        "",
        signing.Signer(salt="another.purpose").sign_object([booked.pk, booked.guest_key]),
        signing.Signer(salt=SALT).sign_object([client_meeting.pk, client_meeting.guest_key]),  # no guest
        signing.Signer(salt=SALT).sign_object([client_meeting.pk, booked.guest_key]),  # key of another meeting
        signing.Signer(salt=SALT).sign_object({"m": booked.pk}),
        signing.Signer(salt=SALT).sign_object([str(booked.pk), booked.guest_key]),
        signing.dumps([booked.pk, booked.guest_key]),
    ]
    before = snapshot(booked)
    for token in forged:
        page = Api(Client(), f"/api/v1/guest/{token}")
        assert page.get("").status_code == 404, token
        assert page.post("/cancel", {"note": "x"}).status_code == 404, token
        assert page.post("/change-time", {"start": "2030-06-05T15:00:00+02:00"}).status_code == 404, token
    assert_error(Api(Client(), f"/api/v1/guest/{forged[0]}").get(""), 404, "not_found", "O3")
    assert snapshot(booked) == before

    # A new guest key makes every link sent before it stop working.
    Meeting.objects.filter(pk=booked.pk).update(guest_key=new_guest_key())
    assert_error(Api(Client(), f"/api/v1/guest/{good}").get(""), 404, "not_found", "O3")
    booked.refresh_from_db()
    assert meeting_for_link(link_token(booked)) == booked


def test_b5_a_link_is_only_for_a_meeting_with_a_guest(w):
    meeting = w.book(service=w.free_service, start=NOW + timedelta(days=3))
    with pytest.raises(ValueError):
        link_token(meeting)
