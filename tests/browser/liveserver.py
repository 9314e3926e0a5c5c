"""Parlour on a real ASGI server for tests of the built-in room: uvicorn serving
``parlour.asgi`` (pages, static files, the websocket) on a free loopback port, either in a
thread of the test process (``LiveServer``: it sees the test database, and time-machine's
clock) or as processes of their own (``ServerProcess``: the scaled-out mode, with Redis).

Tests using them need ``django_db(transaction=True)``: the server reads the database through
connections of its own, which see only what the test has committed."""

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import time_machine
import uvicorn
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connection, connections

from parlour.core import clock
from tests.pgserver import free_port


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test process keeps its own
        pass


@contextlib.contextmanager
def short_lived_connections():
    """Under ASGI every request and every database call of a consumer may run in a thread of
    its own; a connection kept open there (CONN_MAX_AGE) would outlive the test and keep
    PostgreSQL from dropping the test database. Django's advice for ASGI is to close them."""
    database = connections.settings["default"]
    kept = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0
    try:
        yield
    finally:
        database["CONN_MAX_AGE"] = kept


class LiveServer:
    """``parlour.asgi`` as ``parlour run`` serves it, in a thread of the test process."""

    def __init__(self) -> None:
        from parlour.asgi import WS_MAX_SIZE, build_application, http_application

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        application = build_application(http=ASGIStaticFilesHandler(http_application))
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            ws_max_size=WS_MAX_SIZE,
            timeout_graceful_shutdown=5,
        )
        self.server = _Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"parlour-live-{self.port}", daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@contextlib.contextmanager
def live_server():
    with short_lived_connections():
        server = LiveServer().start()
        try:
            yield server
        finally:
            server.stop()


def database_url() -> str:
    """The test database, as ``PARLOUR_DATABASE_URL`` for another process."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite://{Path(database['NAME']).resolve()}"
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class ServerProcess:
    """``parlour.asgi`` in a uvicorn process of its own, on the test database, with the test
    process's secret key (so that its session cookies hold) and the given environment."""

    def __init__(self, **environment: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "PARLOUR_DATABASE_URL": database_url(),
            "PARLOUR_SECRET_KEY": settings.SECRET_KEY,
            **environment,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        from parlour.asgi import WS_MAX_SIZE

        command = [
            sys.executable, "-m", "uvicorn", "parlour.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "off", "--log-level", "warning",
            "--ws-max-size", str(WS_MAX_SIZE),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env=self.environment, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"the server process exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the server process did not start")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        async def knock() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True

        return asyncio.run(knock())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def agreed_now(world, **booking):
    """An agreed meeting whose room is open now, on the real clock (a server in another
    process, or a browser, cannot travel in time): booked three days ago for now."""
    now = clock.now()
    with time_machine.travel(now - timedelta(hours=72), tick=False):
        meeting = world.agreed(hours_ahead=72, **booking)
    assert meeting.start - timedelta(minutes=15) <= now < meeting.end
    return meeting
