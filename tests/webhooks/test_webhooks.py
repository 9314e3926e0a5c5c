"""I3: signed outgoing webhooks for meeting events, retried with back-off. A real HTTP
receiver on loopback records what Parlour sends."""

import base64
import ipaddress
import json
import socket
from datetime import timedelta

import pytest

from parlour.core import clock, destinations
from parlour.meetings import lifecycle
from parlour.webhooks import delivery, transport
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


# --- one try: its deadline, proxies ----------------------------------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# Each takes about four seconds to answer 200, never ten without a byte.
SLOW_ANSWERS = {
    "status line a byte at a time": bytewise(OK),
    "headers a byte at a time": [b"HTTP/1.1 200 OK\r\n", *bytewise(b"X-Slow: " + b"." * 30 + b"\r\n"), OK[17:]],
    "100 Continue again and again": [b"HTTP/1.1 100 Continue\r\n\r\n"] * 40 + [OK],
    "nothing for a while": [b""] * 40 + [OK],
}


@pytest.fixture
def short_deadline(monkeypatch):
    monkeypatch.setattr(transport, "DEADLINE", 1.0)


@pytest.mark.parametrize("pieces", SLOW_ANSWERS.values(), ids=SLOW_ANSWERS.keys())
def test_i3_a_receiver_trickling_its_answer_fails_the_try_at_its_deadline(
    w, as_user, slow_receiver, short_deadline, frozen, pieces
):
    """The deadline is for the whole try, not for each read: a receiver that keeps sending a
    little does not hold the worker; the try has timed out and is tried again later."""
    slow = slow_receiver(pieces)
    make_endpoint(as_user(w.admin), w, slow.url + "/hooks", kinds=["booked"])
    w.book()

    assert delivery.deliver_due() == 1

    found = Delivery.objects.get()
    assert (found.state, found.attempts, found.last_status) == (DeliveryState.PENDING, 1, None)
    assert "timed out" in found.last_error
    assert found.next_try_at == NOW + timedelta(minutes=1)
    assert len(slow.requests) == 1 and slow.requests[0].startswith(b"POST /hooks ")


def test_i3_the_body_of_the_answer_is_not_waited_for(w, as_user, slow_receiver, short_deadline, frozen):
    """The status decides; a 2xx whose body trickles is delivered, and Parlour hangs up
    without reading the rest."""
    slow = slow_receiver([b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", *[b"."] * 40])
    make_endpoint(as_user(w.admin), w, slow.url, kinds=["booked"])
    w.book()

    assert delivery.deliver_due() == 1

    found = Delivery.objects.get()
    assert (found.state, found.last_status) == (DeliveryState.DELIVERED, 200)
    assert slow.finished.wait(10) and slow.cut_off


def only_for_the_check(monkeypatch) -> None:
    """Names under ``.invalid`` resolve nowhere on this machine (what ``destinations.resolve``
    answers aside)."""
    resolve = socket.getaddrinfo

    def nothing_outside(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", nothing_outside)


def test_i3_addresses_that_do_not_answer_share_the_one_deadline(receiver, short_deadline):
    """Connecting to each address in turn is within the try's deadline too: a name with many
    addresses that never answer cannot multiply it."""
    port = receiver.server.server_port
    hole = socket.socket()
    try:
        hole.bind(("127.0.0.2", port))
    except OSError:
        pytest.skip("no second loopback address here")
    hole.listen(0)
    queued = socket.create_connection(("127.0.0.2", port))  # the queue is full: the next connections hang
    silent, answering = ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")
    try:
        with pytest.raises(TimeoutError):
            delivery.post(f"http://hooks.example.invalid:{port}/late", b"{}", {}, [silent, silent, answering])
    finally:
        queued.close()
        hole.close()
    assert receiver.requests == []


@pytest.fixture
def proxy_environment(monkeypatch, proxy):
    """Every proxy variable of the environment names the loopback ``proxy``."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return proxy


def test_i3_o3_proxies_of_the_environment_are_not_used(
    w, as_user, receiver, proxy_environment, frozen, settings, monkeypatch
):
    """A proxy resolves the name itself, where the private-address rule does not hold: without
    ``PARLOUR_OUTGOING_PROXY`` a delivery goes straight to the addresses checked (here the
    check's answer for the name; nothing else on this machine, nor the proxy, knows it)."""
    settings.PARLOUR_OUTGOING_PROXY = ""
    make_endpoint(as_user(w.admin), w, receiver.url, kinds=["booked"])
    Endpoint.objects.update(url=f"http://hooks.example.invalid:{receiver.server.server_port}/hooks")
    monkeypatch.setattr(destinations, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    only_for_the_check(monkeypatch)
    w.book()

    assert delivery.deliver_due() == 1

    assert proxy_environment.requests == []
    assert [r["path"] for r in receiver.requests] == ["/hooks"]
    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def test_i3_with_an_outgoing_proxy_set_a_delivery_goes_through_it(w, as_user, receiver, proxy, frozen, settings):
    settings.PARLOUR_OUTGOING_PROXY = proxy.url.replace("http://", "http://parlour:s%40cret@")
    endpoint = make_endpoint(as_user(w.admin), w, receiver.url + "/hooks?from=parlour", kinds=["booked"])
    w.book()

    assert delivery.deliver_due() == 1

    assert receiver.requests == []
    [request] = proxy.requests
    assert (request["method"], request["path"]) == ("POST", receiver.url + "/hooks?from=parlour")
    assert request["headers"]["Proxy-Authorization"] == "Basic " + base64.b64encode(b"parlour:s@cret").decode()
    assert verify(endpoint["secret"], request["headers"]["Parlour-Signature"], request["body"])
    assert Delivery.objects.get().state == DeliveryState.DELIVERED


def test_i3_through_the_proxy_an_https_endpoint_is_tunnelled_and_its_name_left_to_the_proxy(
    w, as_user, proxy, frozen, settings, monkeypatch
):
    """The name does not resolve here (only the proxy reaches the internet): the proxy is
    asked for a tunnel to it, and the proxy's refusal is an unsuccessful attempt that shows
    nothing of the proxy's password."""
    settings.PARLOUR_OUTGOING_PROXY = proxy.url.replace("http://", "http://parlour:s3cret@")
    only_for_the_check(monkeypatch)
    make_endpoint(as_user(w.admin), w, "https://hooks.example.invalid/in", kinds=["booked"])
    w.book()

    assert delivery.deliver_due() == 1

    [request] = proxy.requests
    assert (request["method"], request["path"]) == ("CONNECT", "hooks.example.invalid:443")
    assert request["headers"]["Proxy-Authorization"] == "Basic " + base64.b64encode(b"parlour:s3cret").decode()
    found = Delivery.objects.get()
    assert (found.state, found.attempts) == (DeliveryState.PENDING, 1)
    assert "Tunnel connection failed: 403" in found.last_error and "s3cret" not in found.last_error


def test_i3_an_outgoing_proxy_that_is_not_an_http_address_fails_without_showing_its_password(settings):
    settings.PARLOUR_OUTGOING_PROXY = "socks5://parlour:s3cret@127.0.0.1:1080"
    with pytest.raises(ValueError) as refused:
        transport.outgoing_proxy()
    assert "s3cret" not in str(refused.value)
    settings.PARLOUR_OUTGOING_PROXY = "127.0.0.1:3128"
    assert transport.outgoing_proxy() == transport.Proxy("127.0.0.1", 3128, "")


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
