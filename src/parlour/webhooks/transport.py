"""One try of a webhook delivery (I3): a POST, answered by a status code or an exception.

- **Pinned.** The connection goes to the addresses ``core.destinations.check_destination``
  checked right before the try, whatever the name resolves to a moment later (DNS
  rebinding); TLS still checks the certificate of the name.
- **One deadline for the whole try.** ``DEADLINE`` (10 s) covers connecting (to each address
  in turn), the TLS handshake, sending the request and reading the answer's status line and
  headers; every socket operation waits at most for the time left. So a receiver that
  trickles its answer a byte at a time, sends ``100 Continue`` again and again, or never
  answers holds a worker for ``DEADLINE`` at most, never until the claim's lease runs out.
  The body of the answer is not read at all: the status alone decides. A try past the
  deadline raises ``TimeoutError`` ("timed out"), an unsuccessful attempt like any other.
- **No redirects.** ``http.client`` follows none: a ``3xx`` is the answer, a failure.
- **Proxies.** The environment's proxies (``HTTPS_PROXY``, ``HTTP_PROXY``, …) are ignored:
  a proxy resolves the name itself, so the private-address rule would no longer hold. An
  installation whose servers may reach the internet only through an egress proxy sets
  ``PARLOUR_OUTGOING_PROXY`` (``http://[user:password@]host:port``); requests then go
  through it (``CONNECT`` for https), a name that does not resolve here is left to the
  proxy, and **that proxy must refuse private destinations itself** (docs/webhooks.md)."""

import base64
import functools
import http.client
import io
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

DEADLINE = 10.0  # seconds for one whole try: connect, TLS, send, status line and headers


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str  # the Proxy-Authorization header's value, or ""


def outgoing_proxy() -> Proxy | None:
    """The egress proxy of ``PARLOUR_OUTGOING_PROXY`` (a setting, else the environment
    variable of that name), or ``None``: requests go straight to the addresses checked."""
    value = getattr(settings, "PARLOUR_OUTGOING_PROXY", None)
    if value is None:
        value = os.environ.get("PARLOUR_OUTGOING_PROXY", "")
    value = (value or "").strip()
    if not value:
        return None
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        scheme, host, port = parts.scheme, parts.hostname, parts.port or 80
    except ValueError:
        scheme, host, port = "", None, 0
    if scheme != "http" or not host:
        # Never the value itself: it may hold the proxy's password.
        raise ValueError("PARLOUR_OUTGOING_PROXY must be an address like http://proxy.example:3128")
    authorization = ""
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return Proxy(host, port, authorization)


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        """The seconds left; ``TimeoutError`` once there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left


class _ReadWithin(io.RawIOBase):
    """The socket as a file each read of which waits at most for the time left."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock, self._deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self._sock.settimeout(self._deadline.left())
        return self._sock.recv_into(buffer)


class _Answer(http.client.HTTPResponse):
    def __init__(self, sock, *args, deadline: _Deadline, **kwargs) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the plain socket file, whose every read may wait the whole timeout
        self.fp = io.BufferedReader(_ReadWithin(sock, deadline))


class _Connection(http.client.HTTPConnection):
    """An HTTP(S) connection that connects to ``addresses`` (or to the proxy, which then
    tunnels TLS to the name) and does every step within ``deadline``."""

    def __init__(self, host: str, port: int, *, deadline: _Deadline, addresses: list, tls_name: str | None) -> None:
        super().__init__(host, port)
        self.deadline, self.addresses, self.tls_name = deadline, addresses, tls_name
        self.response_class = functools.partial(_Answer, deadline=deadline)

    def connect(self) -> None:
        failure: OSError = OSError("no address to connect to")
        for ip in self.addresses:
            try:
                self.sock = socket.create_connection((str(ip), self.port), self.deadline.left())
                break
            except TimeoutError:  # the whole deadline is spent: no time for the next address
                raise
            except OSError as error:
                failure = error
        else:
            raise failure
        if self._tunnel_host:
            self._tunnel()
        if self.tls_name:
            self.sock.settimeout(self.deadline.left())
            self.sock = _tls().wrap_socket(self.sock, server_hostname=self.tls_name)

    def send(self, data) -> None:
        if self.sock is not None:
            self.sock.settimeout(self.deadline.left())
        super().send(data)


def post(url: str, body: bytes, headers: dict[str, str], addresses: list) -> int:
    """POST ``body`` to ``url`` at the checked ``addresses`` (or through the configured
    proxy), within ``DEADLINE``; the answer's status code. Raises when there is none
    (refused, timed out, TLS, a broken answer)."""
    deadline = _Deadline(DEADLINE)
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    tls_name = host if parts.scheme == "https" else None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "Connection": "close"}
    proxy = outgoing_proxy()
    if proxy is None:
        connection = _Connection(host, port, deadline=deadline, addresses=addresses, tls_name=tls_name)
    else:
        connection = _Connection(proxy.host, proxy.port, deadline=deadline, addresses=[proxy.host], tls_name=tls_name)
        tunnel_headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else {}
        if tls_name:
            connection.set_tunnel(host, port, tunnel_headers)
        else:
            target = url.split("#", 1)[0]  # a plain http request names the whole address
            headers.update(tunnel_headers)
    try:
        connection.request("POST", target, body, headers)
        answer = connection.getresponse()  # the status line and headers; the body stays unread
        answer.close()
        return answer.status
    finally:
        connection.close()
