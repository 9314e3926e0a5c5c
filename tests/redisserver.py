"""A throwaway Redis server for tests of the scaled-out mode: the system's binary (Debian's
``redis-server`` package), on a free loopback port, its folder in a temporary directory,
keeping nothing on disk, gone when it stops."""

import contextlib
import os
import shutil

import pytest
import redis

from tests.loopbackserver import LoopbackServer


def binary() -> str | None:
    return shutil.which("redis-server")


class RedisServer(LoopbackServer):
    name = "redis"

    def __init__(self) -> None:
        found = binary()
        if found is None:
            raise RuntimeError("redis-server not found: install it (Debian: apt-get install redis-server)")
        self.binary = found
        super().__init__()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
        ]  # fmt: skip

    def answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()


@contextlib.contextmanager
def redis_server():
    """A running server; skipped where redis-server is not installed, except on CI (the
    CI environment variable), where its absence fails the test."""
    if binary() is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()
