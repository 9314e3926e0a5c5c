"""The API tests' world and signed-in clients, and real servers on loopback (I3): an HTTP
receiver that records what Parlour sends (also serving as an outgoing proxy), and a slow
receiver that trickles its answer."""

import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.api.conftest import as_user, w  # noqa: F401 -- fixtures


class Receiver:
    """An HTTP server on loopback that records every request and answers with the next of
    ``answers`` (then 200). As a proxy it records a plain http request by its whole address
    and refuses every ``CONNECT`` (403): it tunnels nowhere."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(
                    {"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"{receiver.url}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_CONNECT(self):
                receiver.requests.append({"method": "CONNECT", "path": self.path, "headers": dict(self.headers)})
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]


@pytest.fixture
def receiver(settings):
    settings.PARLOUR_WEBHOOKS_LOOPBACK_HTTP = True
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True  # the receiver is on loopback
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def proxy():
    """An outgoing proxy on loopback (a ``Receiver``): what reaches it went through it."""
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


class SlowReceiver:
    """A receiver on loopback that reads the request, then writes ``pieces`` of its answer one
    every ``pace`` seconds — each read of the answer gets something well within any per-read
    timeout, the whole answer takes long. ``cut_off`` tells whether the client went away
    before the last piece."""

    def __init__(self, pieces: list[bytes], pace: float = 0.1) -> None:
        self.requests: list[bytes] = []
        self.cut_off = False
        self.finished = threading.Event()
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    head = b"".join(iter(self.rfile.readline, b"\r\n"))
                    length = next(
                        (
                            int(line.split(b":", 1)[1])
                            for line in head.lower().splitlines()
                            if line.startswith(b"content-length:")
                        ),
                        0,
                    )
                    receiver.requests.append(head + b"\r\n" + self.rfile.read(length))
                    for piece in pieces:
                        self.wfile.write(piece)
                        self.wfile.flush()
                        time.sleep(pace)
                except OSError:  # the client closed the connection: the rest is not wanted
                    receiver.cut_off = True
                finally:
                    receiver.finished.set()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def slow_receiver(settings):
    """Makes a ``SlowReceiver`` writing the pieces given, and stops it after the test."""
    settings.PARLOUR_WEBHOOKS_LOOPBACK_HTTP = True
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True
    made: list[SlowReceiver] = []

    def make(pieces: list[bytes], pace: float = 0.1) -> SlowReceiver:
        found = SlowReceiver(pieces, pace)
        found.thread.start()
        made.append(found)
        return found

    yield make
    for found in made:
        found.server.shutdown()
        found.server.server_close()
