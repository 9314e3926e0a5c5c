"""K4, O3: how the CalDAV client reaches a calendar server. It connects only to the addresses
it has just checked (a name that resolves elsewhere a moment later is not followed there),
still checks the server's certificate against the name, goes through an outgoing proxy
when one is configured, and sends a password over plain http only on premises.

What lies outside this machine (name servers, hosts on the internet) is played by
patching ``socket``; every server actually reached runs on loopback."""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import niquests
import pytest
from django.urls import reverse

from parlour.calendars import external
from parlour.calendars.models import CalendarConnection
from parlour.core.errors import DomainError
from tests.pgserver import free_port

from .conftest import PASSWORD, USER, profile_of, signed_in

PUBLIC = "93.184.215.14"  # a public address on the internet (outside this machine)
NAME = "calendar.example.com"


class Listener:
    """A TCP server on loopback that counts the connections it accepts (and answers none)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        self.socket.settimeout(0.2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                peer, _address = self.socket.accept()
            except OSError:
                continue
            self.accepted += 1
            peer.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.stop()


@pytest.fixture
def offline(monkeypatch):
    """No way out of this machine: a connection to any address but loopback is refused, as
    by a host on the internet that does not answer. The addresses tried are kept."""
    tried = []

    class OfflineSocket(socket.socket):
        def connect(self, address):
            tried.append(address[0])
            if not ipaddress.ip_address(address[0]).is_loopback:
                raise ConnectionRefusedError(f"{address[0]} is outside this machine")
            return super().connect(address)

    monkeypatch.setattr(socket, "socket", OfflineSocket)
    return tried


def test_k4_o3_the_client_connects_only_to_the_address_it_checked(w, settings, monkeypatch, listener, offline):
    """DNS rebinding: the name answers a public address when checked and this machine's
    address a moment later, when a library would look it up again to connect. The client
    connects to the public address it checked; nothing reaches the server on loopback."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    real_getaddrinfo = socket.getaddrinfo
    answers = iter([PUBLIC])

    def rebinding(host, port, *args, **kwargs):
        if host != NAME:
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    connection = CalendarConnection.objects.create(
        profile=profile_of(w), url=f"https://{NAME}:{listener.port}/{USER}/work/", username=USER, password=PASSWORD
    )

    assert external.sync_busy(connection) is False

    assert listener.accepted == 0
    assert offline == [PUBLIC]
    connection.refresh_from_db()
    assert connection.last_error == external.UNREACHABLE


@pytest.fixture
def public_name(monkeypatch):
    """``NAME`` resolves to a public address (a name server outside this machine says so)."""
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


# --- https only, but on premises ------------------------------------------------------------


def test_k4_a_calendar_over_plain_http_is_refused_with_a_clear_reason(w, settings, public_name, offline):
    """Over http:// the password would cross the network readable: refused on the page,
    nothing kept, nothing sent; a calendar kept before over http is not read either."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = False
    answer = signed_in(w.expert).post(
        reverse("web:external_calendar_connect", args=[w.org.slug]),
        {"url": f"http://{NAME}/{USER}/work/", "username": USER, "password": PASSWORD},
    )
    assert answer.status_code == 400
    assert "Not connected: The address must start with https://" in answer.content.decode()
    assert not CalendarConnection.objects.exists()

    connection = CalendarConnection.objects.create(
        profile=profile_of(w), url=f"http://{NAME}/{USER}/work/", username=USER, password=PASSWORD
    )
    assert external.sync_busy(connection) is False
    connection.refresh_from_db()
    assert connection.last_error == external.INSECURE
    assert offline == []


def test_k4_plain_http_is_allowed_on_premises_and_while_debugging(settings):
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS, settings.DEBUG = False, False
    with pytest.raises(DomainError):
        external.require_https("http://calendar.example.com/")
    external.require_https("https://calendar.example.com/")
    settings.DEBUG = True
    external.require_https("http://calendar.example.com/")
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS, settings.DEBUG = True, False
    external.require_https("http://calendar.example.com/")


# --- an outgoing proxy ----------------------------------------------------------------------


@pytest.fixture
def proxy_server():
    """A proxy on loopback that answers every request 502 and keeps what it was asked."""
    asked = []

    class Proxy(BaseHTTPRequestHandler):
        def answer(self):
            asked.append((self.command, self.path))
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PROPFIND = do_REPORT = do_GET = do_OPTIONS = do_CONNECT = answer

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Proxy)
    server.asked = asked
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_k4_o3_the_environments_proxy_is_not_followed(w, settings, monkeypatch, proxy_server):
    """``HTTP_PROXY`` would resolve the calendar's name past the checks: it is ignored, and
    the client goes to the checked address itself (here: nothing listens there)."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True
    settings.PARLOUR_OUTGOING_PROXY = ""
    monkeypatch.setenv("HTTP_PROXY", f"http://localhost:{proxy_server.server_port}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://localhost:{proxy_server.server_port}")
    niquests.utils.getproxies.cache_clear()  # niquests reads the environment once per process
    try:
        with pytest.raises(external.CalendarUnusable):
            external.check(f"http://127.0.0.1:{free_port()}/eve/work/", USER, PASSWORD)
    finally:
        niquests.utils.getproxies.cache_clear()
    assert proxy_server.asked == []


def test_k4_with_an_outgoing_proxy_set_the_proxy_makes_the_connection(w, settings, proxy_server):
    """``PARLOUR_OUTGOING_PROXY`` (a name, resolved as usual: the operator chose it): the
    client sends its request to the proxy, which connects to the calendar itself."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True
    settings.PARLOUR_OUTGOING_PROXY = f"http://localhost:{proxy_server.server_port}"
    with pytest.raises(external.CalendarUnusable):
        external.check("http://10.0.0.5/eve/work/", USER, PASSWORD)
    assert proxy_server.asked and proxy_server.asked[0][1] == "http://10.0.0.5/eve/work/"


# --- TLS checks the name, not the address ---------------------------------------------------


def certificate(folder, name: str) -> tuple[str, str]:
    cert, key = str(folder / f"{name}.pem"), str(folder / f"{name}.key")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            key,
            "-out",
            cert,
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl program to make a certificate")
def test_k4_o3_tls_checks_the_certificate_against_the_name_not_the_address(settings, monkeypatch, tmp_path):
    """The connection goes to the checked address, yet TLS sends the name (SNI) and accepts
    only a certificate for that name."""
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True  # the calendar "server" is on loopback
    real_getaddrinfo = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            if host == NAME
            else real_getaddrinfo(host, port, *a, **k)
        ),
    )
    right, wrong = certificate(tmp_path, NAME), certificate(tmp_path, "elsewhere.example.org")
    names = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    for cert, key in (right, wrong):
        server = HTTPServer(("127.0.0.1", 0), Answer)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: names.append(name)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"https://{NAME}:{server.server_port}/"
        client = external.GuardedClient(url=url, ssl_verify_cert=cert, timeout=5)
        try:
            if (cert, key) == right:
                assert client.request(url, "GET").status == 200
            else:
                with pytest.raises(niquests.exceptions.SSLError, match="[Hh]ostname"):
                    client.request(url, "GET")
        finally:
            server.shutdown()
            server.server_close()
    assert names[:2] == [NAME, NAME]
