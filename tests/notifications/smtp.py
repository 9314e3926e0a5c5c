"""A real SMTP server on loopback (aiosmtpd) that keeps every mail it receives, for tests of
delivery: in this process through ``override_settings`` (``settings``), or in a worker
process through the environment (``env``).

It can refuse (``answer = "451 ..."``); it can hold a mail it has received without
answering yet (``holding = True``), as a slow server would: the sender is then in the middle
of sending; and it can hang up after receiving a mail, before answering (``hang_up = True``):
the sender cannot know whether the mail was taken."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from django.test import override_settings

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


class MailServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.answer: str | None = None  # e.g. "451 4.3.0 Try again later": refuse every mail
        self.holding = False
        self.hang_up = False
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    # aiosmtpd's handler hook, run on the server's own event loop.
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if self.answer:
            return self.answer
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        while self.holding:
            await asyncio.sleep(0.02)
        if self.hang_up:
            server.transport.close()
        return "250 Message accepted for delivery"

    def start(self) -> "MailServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self.holding = False
        with contextlib.suppress(AssertionError, RuntimeError):
            self._controller.stop()

    @property
    def settings(self) -> dict:
        return {
            "EMAIL_BACKEND": SMTP_BACKEND,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_TIMEOUT": 10,
        }

    @property
    def env(self) -> dict[str, str]:
        return {
            "PARLOUR_EMAIL_BACKEND": SMTP_BACKEND,
            "PARLOUR_EMAIL_HOST": "127.0.0.1",
            "PARLOUR_EMAIL_PORT": str(self.port),
            "PARLOUR_EMAIL_TIMEOUT": "10",
        }

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address in r.recipients]

    def wait_for(self, count: int, *, address: str | None = None, timeout: float = 60) -> list[Received]:
        """The mails (to ``address``) once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                mails = [r for r in self.received if address is None or address in r.recipients]
            if len(mails) >= count or time.monotonic() > deadline:
                return mails
            time.sleep(0.05)


@contextlib.contextmanager
def mail_server() -> Iterator[MailServer]:
    """A started server, with this process's Django mail sent to it."""
    server = MailServer().start()
    try:
        with override_settings(**server.settings):
            yield server
    finally:
        server.stop()
