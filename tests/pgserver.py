"""A throwaway PostgreSQL server for one test session: the system's binaries (Debian's
``postgresql`` package), a data directory in a temporary folder, gone when it stops."""

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "parlour"
DATABASE = "parlour"

# Durability buys nothing for a database that is deleted at the end of the run.
SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def bin_dir() -> Path:
    """The newest version under /usr/lib/postgresql, else whatever is on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: tuple(int(n) for n in p.parts[-3].split(".") if n.isdigit()),
    )
    if found:
        return found[-1].parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL not found: install it (Debian: apt-get install postgresql)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="parlour-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgres://{USER}@127.0.0.1:{self.port}/{DATABASE}"
        self._running = False

    def start(self) -> None:
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                owner = pwd.getpwnam("postgres")
                os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._run(
                "initdb", "-D", self.data, "-U", USER, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"
            )
            settings = {
                **SETTINGS,
                "listen_addresses": "'127.0.0.1'",
                "port": str(self.port),
                "unix_socket_directories": f"'{self.dir}'",
            }
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            self._running = True
            self._run("pg_ctl", "start", "-w", "-D", self.data, "-l", self.dir / "server.log")
            with psycopg.connect(
                host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
            ) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._running:
            self._running = False
            # The data is thrown away, so nothing is worth a clean shutdown; and a server
            # that is already gone is fine.
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", self.data)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, program: str, *args: object) -> None:
        command = [str(self.bin / program), *map(str, args)]
        if os.geteuid() == 0:
            # initdb and pg_ctl refuse to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True)
        if done.returncode != 0:
            log = self.dir / "server.log"
            raise RuntimeError(
                f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}" + (log.read_text() if log.exists() else "")
            )
