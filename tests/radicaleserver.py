"""A throwaway CalDAV server for tests of external calendars (K4): Radicale (a test extra)
run as ``python -m radicale`` on a free loopback port, its collections in a temporary
folder, with plain-text htpasswd users, gone when it stops."""

import contextlib
import socket
import sys

from tests.loopbackserver import LoopbackServer


class RadicaleServer(LoopbackServer):
    name = "radicale"

    def __init__(self, users: dict[str, str]) -> None:
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}"
        self.users = users

    def command(self) -> list[str]:
        users = self.dir / "users"
        users.write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
        config = self.dir / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\ndelay = 0\n"
            f"[storage]\nfilesystem_folder = {self.dir / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        return [sys.executable, "-m", "radicale", "--config", str(config)]

    def answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True
        return False
