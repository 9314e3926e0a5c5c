"""I3, O3: webhooks are sent only to public addresses. An admin of one organization must not
make Parlour's server call this machine, the cloud's metadata service or the private
network (what other organizations of the installation may use): such an address is refused
when saved, and checked again before every attempt, since a name may resolve elsewhere by
then. ``PARLOUR_ALLOW_PRIVATE_DESTINATIONS`` (off here) allows them on premises."""

import ipaddress
import socket

import pytest
from django.urls import reverse

from parlour.core import destinations
from parlour.core.errors import DomainError
from parlour.webhooks import delivery
from parlour.webhooks.models import Delivery, DeliveryState, Endpoint
from tests.web.clients import signed_in, text

INTERNAL = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://169.254.169.254/",
    "http://10.0.0.5/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
]


@pytest.fixture
def private_refused(settings):
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    settings.PARLOUR_WEBHOOKS_LOOPBACK_HTTP = True  # so that plain http to loopback is not the reason
    return settings


def resolving_to(monkeypatch, address: str) -> None:
    """Every name resolves to ``address`` now (DNS is outside this machine)."""

    def answer(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", answer)


@pytest.mark.parametrize("url", INTERNAL)
def test_i3_o3_an_endpoint_inside_a_private_network_is_refused_by_the_api_and_nothing_stored(
    w, as_user, private_refused, url
):
    api = as_user(w.admin).org(w)
    for address in (url, url.replace("http://", "https://", 1)):
        answer = api.post("/webhooks", {"url": address + "hook"})
        assert answer.status_code == 400, address
        assert answer.json()["code"] in ("invalid_url", "private_destination")
        assert answer.json()["rule"] == "I3"
    assert answer.json()["code"] == "private_destination"  # the https form: refused for where it goes
    assert "private network" in answer.json()["message"]
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", INTERNAL)
def test_i3_o3_an_endpoint_inside_a_private_network_is_refused_on_the_page_and_nothing_stored(w, private_refused, url):
    address = url.replace("http://", "https://", 1) + "hook"
    answer = signed_in(w.admin).post(reverse("web:settings_webhook_add", args=[w.org.slug]), {"new-url": address})
    assert answer.status_code == 400
    assert "Parlour does not send requests to" in text(answer) and "private network" in text(answer)
    assert not Endpoint.objects.exists()


def test_i3_o3_a_name_that_now_resolves_to_a_private_address_is_not_sent_and_recorded(
    w, as_user, receiver, private_refused, monkeypatch
):
    """The name resolved nowhere when it was saved; by the time of sending it points at this
    machine (DNS rebinding): nothing is sent, the attempt is recorded as failed and tried
    again later."""
    port = receiver.server.server_port
    answer = (
        as_user(w.admin)
        .org(w)
        .post("/webhooks", {"url": f"https://hooks.example.invalid:{port}/in", "kinds": ["booked"]})
    )
    assert answer.status_code == 201
    w.book()
    resolving_to(monkeypatch, "127.0.0.1")

    delivery.deliver_due()

    sent = Delivery.objects.get()
    assert receiver.requests == []
    assert (sent.state, sent.attempts, sent.last_status) == (DeliveryState.PENDING, 1, None)
    assert sent.last_error.startswith("not sent:") and "private network" in sent.last_error


def test_i3_a_delivery_goes_to_the_address_checked_not_to_a_new_answer_of_the_name(receiver):
    """The connection is made to the addresses just checked (pinned): a name resolving to
    something else a moment later does not change where the event goes."""
    url = f"http://hooks.example.invalid:{receiver.server.server_port}/pinned"
    status = delivery.post(url, b"{}", {"Content-Type": "application/json"}, [ipaddress.ip_address("127.0.0.1")])
    assert status == 200
    assert [r["path"] for r in receiver.requests] == ["/pinned"]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:10.0.0.5",
        "2002:a00:5::1",  # 6to4 of 10.0.0.5
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_i3_k4_o3_addresses_that_are_not_public_are_internal(address):
    assert destinations.is_internal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_i3_k4_public_addresses_are_not_internal(address):
    assert not destinations.is_internal(ipaddress.ip_address(address))


def test_i3_k4_the_setting_allows_private_destinations_for_installations_on_premises(settings):
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    with pytest.raises(DomainError) as refused:
        destinations.check_destination("https://10.0.0.5/dav/", "K4")
    assert (refused.value.code, refused.value.rule) == ("private_destination", "K4")
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True
    assert destinations.check_destination("https://10.0.0.5/dav/", "K4") == [ipaddress.ip_address("10.0.0.5")]
    with pytest.raises(DomainError):  # still no user name in the address, and web addresses only
        destinations.check_destination("https://eve:secret@10.0.0.5/dav/", "K4")
    with pytest.raises(DomainError):
        destinations.check_destination("file:///etc/passwd", "K4")
