"""A throwaway CalDAV server for tests of external calendars (K4): Radicale (a test extra)
run as ``python -m radicale`` on a free loopback port, its collections in a temporary
folder, with plain-text htpasswd users, gone when it stops."""

import atexit
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.pgserver import free_port


class RadicaleServer:
    def __init__(self, users: dict[str, str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parlour-radicale-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.users = users
        self.process: subprocess.Popen | None = None

    def start(self) -> "RadicaleServer":
        atexit.register(self.stop)
        users = self.dir / "users"
        users.write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        config = self.dir / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n"
            f"[storage]\nfilesystem_folder = {self.dir / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        log = (self.dir / "radicale.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"radicale exited:\n{self.log()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
                if time.monotonic() > deadline:
                    raise RuntimeError(f"radicale did not answer:\n{self.log()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def log(self) -> str:
        log = self.dir / "radicale.log"
        return log.read_text() if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
