"""What the throwaway servers the tests run have in common (Radicale, Redis): a process on
a free loopback port, its files in a temporary folder, a start that waits until it answers
(or says why it did not), and a stop that ends it and deletes the folder, also at exit."""

import atexit
import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.pgserver import free_port


class LoopbackServer:
    name = "server"  # in the errors, and the log file's name

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"parlour-{self.name}-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The command line that runs the server; may write its configuration first."""
        raise NotImplementedError

    def answers(self) -> bool:
        """Whether the server answers yet."""
        raise NotImplementedError

    def start(self):
        atexit.register(self.stop)
        log = self.log_file.open("w")
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        try:
            while not self.answers():
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited:\n{self.log()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer:\n{self.log()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def log_file(self) -> Path:
        return self.dir / f"{self.name}.log"

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
