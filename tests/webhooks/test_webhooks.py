"""I3: signed outgoing webhooks for meeting events, retried with back-off. A real HTTP
receiver on loopback records what Parlour sends."""

import json
from datetime import timedelta

import pytest

from parlour.core import clock
from parlour.meetings import lifecycle
from parlour.webhooks import delivery
from parlour.webhooks.models import Delivery, DeliveryState, Endpoint
from parlour.webhooks.signing import verify
from tests.api.conftest import Api
from tests.factories import member, world
from tests.meetings.checks import NOW


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def make_endpoint(api: Api, world_, url: str, **fields):
    answer = api.org(world_).post("/webhooks", {"url": url, **fields})
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_i3_confirming_a_meeting_sends_an_event_signed_with_the_endpoint_secret(w, as_user, receiver, frozen):
    endpoint = make_endpoint(as_user(w.admin), w, receiver.url + "/hooks", kinds=["approved"])
    meeting = w.book()
    assert delivery.deliver_due() == 1  # the client's own approval of the request (L2)
    assert receiver.bodies()[0]["side"] == "client"
    lifecycle.confirm_meeting(w.expert, meeting)

    assert delivery.deliver_due() == 1
    request = receiver.requests[-1]
    headers = request["headers"]
    assert request["path"] == "/hooks"
    assert headers["Content-Type"] == "application/json"
    assert verify(endpoint["secret"], headers["Parlour-Signature"], request["body"])
    assert not verify("whsec_another", headers["Parlour-Signature"], request["body"])
    assert not verify(endpoint["secret"], headers["Parlour-Signature"], request["body"] + b" ")
    event = json.loads(request["body"])
    assert headers["Parlour-Event-Id"] == event["id"]
    assert (event["type"], event["side"]) == ("approved", "expert")
    assert event["organization"] == w.org.slug
    assert event["occurred_at"] == "2026-03-02T09:00:00Z"
    assert event["meeting"]["id"] == meeting.pk
    assert event["meeting"]["status"] == "agreed"
    assert event["meeting"]["credit_status"] == "blocked"
    assert event["meeting"]["expert"] == {"id": w.expert.pk, "name": w.expert.name}
    assert event["meeting"]["service"] == {"id": w.service.pk, "name": w.service.name}
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_i3_a_failed_delivery_is_sent_again_with_the_same_event_id_after_a_back_off(w, as_user, receiver, frozen):
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["booked"])
    receiver.answers = [500, 302]
    w.book()
    first = Delivery.objects.get()

    delivery.deliver_due()  # the first attempt answers 500
    first.refresh_from_db()
    assert (first.state, first.attempts, first.last_status) == (DeliveryState.PENDING, 1, 500)
    assert first.next_try_at == NOW + timedelta(minutes=1)

    frozen.shift(timedelta(seconds=59))
    delivery.deliver_due()
    assert len(receiver.requests) == 1  # not yet again

    frozen.shift(timedelta(seconds=1))
    delivery.deliver_due()  # answers 302: a redirect is not followed, and not a success
    first.refresh_from_db()
    assert (first.state, first.attempts, first.last_status) == (DeliveryState.PENDING, 2, 302)
    assert first.next_try_at == NOW + timedelta(minutes=1 + 5)

    frozen.shift(timedelta(minutes=5))
    delivery.deliver_due()
    first.refresh_from_db()
    assert (first.state, first.attempts, first.last_status) == (DeliveryState.DELIVERED, 3, 200)
    assert len(receiver.requests) == 3
    assert {r["headers"]["Parlour-Event-Id"] for r in receiver.requests} == {first.event_id}
    assert len({r["body"] for r in receiver.requests}) == 1
    assert not any("elsewhere" in r["path"] for r in receiver.requests)


def test_i3_after_the_last_attempt_a_delivery_has_failed(w, as_user, receiver, frozen):
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["booked"])
    receiver.answers = [503] * 10
    w.book()
    for wait in (0, 1, 5, 30, 120, 360):
        frozen.shift(timedelta(minutes=wait))
        delivery.deliver_due()
    found = Delivery.objects.get()
    assert (found.state, found.attempts, found.last_status) == (DeliveryState.FAILED, 6, 503)
    frozen.shift(timedelta(days=1))
    assert delivery.deliver_due() == 0
    assert len(receiver.requests) == 6


def test_i3_a_dead_workers_claim_is_taken_back_and_the_event_sent(w, as_user, receiver, frozen):
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["booked"])
    w.book()
    found = Delivery.objects.get()
    assert delivery._claim(found.pk, NOW, "a worker that dies")
    assert delivery.deliver_due(worker="another") == 0  # claimed: nobody else sends it
    assert delivery.recover_stale() == 0
    frozen.shift(delivery.LEASE + timedelta(seconds=1))
    assert delivery.recover_stale() == 1
    assert delivery.deliver_due(worker="another") == 1
    assert len(receiver.requests) == 1
    found.refresh_from_db()
    assert (found.state, found.attempts) == (DeliveryState.DELIVERED, 2)  # the interrupted try counts too


def test_i3_a_receiver_holding_every_try_open_is_given_up_after_the_last_attempt(w, as_user, receiver, frozen):
    """A try that never ends is taken back after the lease and counted, so it is not sent
    again for ever: after the last attempt the delivery is failed."""
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["booked"])
    w.book()
    found = Delivery.objects.get()
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        found.refresh_from_db()
        assert found.state == DeliveryState.PENDING
        assert delivery._claim(found.pk, clock.now(), f"hung worker {attempt}")
        frozen.shift(delivery.LEASE + timedelta(seconds=1))
        assert delivery.recover_stale() == (1 if attempt < delivery.MAX_ATTEMPTS else 0)
    found.refresh_from_db()
    assert (found.state, found.attempts) == (DeliveryState.FAILED, delivery.MAX_ATTEMPTS)
    assert delivery.deliver_due() == 0 and receiver.requests == []


def test_i3_the_payload_never_holds_the_guest_key_or_contact_details(w, as_user, receiver, frozen):
    make_endpoint(as_user(w.admin), w, receiver.url)
    meeting = w.book(by=w.guest, service=w.free_service, length=30)
    lifecycle.cancel_meeting(w.expert, meeting, reason="illness", note="Sorry")
    delivery.deliver_due()
    assert receiver.requests
    for request in receiver.requests:
        assert meeting.guest_key.encode() not in request["body"]
        assert w.guest.email.encode() not in request["body"]
        assert b"guest_key" not in request["body"]


def test_i3_endpoints_of_other_kinds_or_inactive_get_nothing(w, as_user, receiver, frozen):
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["cancelled"])
    make_endpoint(as_user(w.admin), w, receiver.url + "/off")
    Endpoint.objects.filter(url__endswith="/off").update(is_active=False)
    other = world()
    other.book()
    w.book()
    assert delivery.deliver_due() == 0
    assert receiver.requests == []


# --- the API ------------------------------------------------------------------------------


def test_i3_the_secret_is_shown_once_and_deliveries_are_listed(w, as_user, receiver, frozen):
    admin = as_user(w.admin).org(w)
    made = make_endpoint(as_user(w.admin), w, receiver.url, description="CRM")
    assert made["secret"].startswith("whsec_")
    listed = admin.get("/webhooks").json()
    assert [e["id"] for e in listed] == [made["id"]]
    assert "secret" not in listed[0] and made["secret"] not in json.dumps(listed)

    test = admin.post(f"/webhooks/{made['id']}/test")
    assert test.status_code == 202
    assert test.json()["event_type"] == "test"
    delivery.deliver_due()
    assert receiver.bodies()[0]["type"] == "test"
    assert verify(made["secret"], receiver.requests[0]["headers"]["Parlour-Signature"], receiver.requests[0]["body"])
    [row] = admin.get(f"/webhooks/{made['id']}/deliveries").json()
    assert (row["state"], row["last_status"], row["attempts"]) == ("delivered", 200, 1)
    assert made["secret"] not in json.dumps(row)

    assert admin.client.delete(f"{admin.base}/webhooks/{made['id']}").status_code == 204
    assert admin.get("/webhooks").json() == []
    assert not Delivery.objects.exists()


def test_i3_another_organizations_admin_gets_not_found(w, as_user, receiver):
    made = make_endpoint(as_user(w.admin), w, receiver.url)
    other = world()
    stranger = as_user(other.admin)
    assert stranger.org(w).get("/webhooks").status_code == 404
    # Their own organization's address with our endpoint's id: not found either.
    mine = stranger.org(other)
    assert mine.get(f"/webhooks/{made['id']}/deliveries").status_code == 404
    assert mine.post(f"/webhooks/{made['id']}/test").status_code == 404
    assert mine.client.delete(f"{mine.base}/webhooks/{made['id']}").status_code == 404
    assert Endpoint.objects.filter(pk=made["id"]).exists()
    assert not Delivery.objects.exists()


def test_i3_members_who_are_not_admins_are_refused(w, as_user, receiver):
    made = make_endpoint(as_user(w.admin), w, receiver.url)
    for person in (w.expert, w.client):
        api = as_user(person).org(w)
        listed = api.get("/webhooks")
        assert listed.status_code in (403, 404)
        assert api.post("/webhooks", {"url": receiver.url}).status_code in (403, 404)
        assert api.get(f"/webhooks/{made['id']}/deliveries").status_code in (403, 404)
        assert api.post(f"/webhooks/{made['id']}/test").status_code in (403, 404)
    assert as_user(w.expert).org(w).get("/webhooks").json()["code"] == "admins_only"
    assert Endpoint.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "javascript:alert(1)",
        "example.org/hook",
        "",
        "http://example.org/hook",  # plain http is only for loopback
        "https://user:secret@example.org/hook",
    ],
)
def test_i3_an_address_that_is_not_a_web_address_is_refused_and_nothing_stored(w, as_user, receiver, url):
    answer = as_user(w.admin).org(w).post("/webhooks", {"url": url})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_url"
    assert answer.json()["message"]
    assert not Endpoint.objects.exists()


def test_i3_plain_http_to_loopback_only_in_development(w, as_user, settings):
    settings.PARLOUR_WEBHOOKS_LOOPBACK_HTTP = False
    answer = as_user(w.admin).org(w).post("/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert answer.status_code == 400
    assert "https://" in answer.json()["message"]
    assert as_user(w.admin).org(w).post("/webhooks", {"url": "https://example.org/hook"}).status_code == 201


def test_i3_unknown_event_kinds_are_refused(w, as_user):
    answer = as_user(w.admin).org(w).post("/webhooks", {"url": "https://example.org/h", "kinds": ["exploded"]})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_kinds")
    assert not Endpoint.objects.exists()


def test_i3_a_new_admin_of_the_organization_sees_its_endpoints(w, as_user, receiver):
    make_endpoint(as_user(w.admin), w, receiver.url)
    second = member(w.org, "admin", name="Second Admin")
    assert len(as_user(second).org(w).get("/webhooks").json()) == 1


def test_i3_d4_the_refusal_is_in_the_callers_language(w, as_user):
    w.admin.language = "de"
    w.admin.save()
    api = as_user(w.admin).org(w)
    answer = api.post("/webhooks", {"url": "ftp://example.org/hook"})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_url")
    assert answer.json()["message"] == "Die Adresse muss eine vollständige Webadresse sein, die mit https:// beginnt."
