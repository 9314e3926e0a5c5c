"""The worker as a process of its own (SPEC §9, Q3, Q4, I4), against the test database (a
SQLite file, or the PostgreSQL server) and a real SMTP server on loopback:

- at most once: a worker killed with SIGKILL after claiming sent nothing, and another sends
  the message; one killed while sending is never sent again;
- worker processes racing over the same messages send each once;
- ``parlour worker`` runs the delivery task a commit enqueued, from the SQLite queue and from
  a real Redis server shared by several workers, and stops cleanly on SIGTERM;
- ``parlour run`` starts a worker beside the web server: a booking through the API is mailed,
  and the worker stops with it, even when it is killed.

Every test commits (``transaction=True``) so that the processes see its rows."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from huey.contrib.djhuey import HUEY

from parlour.cli import main
from parlour.core import clock
from parlour.notifications.delivery import INTERRUPTED, LEASE, TEST_PAUSE_AFTER_CLAIM, deliver_due, recover_stale
from parlour.notifications.models import OutboxItem, OutboxState, Topic
from tests.factories import world
from tests.redisserver import redis_server

from .smtp import free_port, mail_server

pytestmark = pytest.mark.django_db(transaction=True)

PARLOUR = str(Path(sys.executable).with_name("parlour"))

# A worker in a few lines: from a given moment (so that several start together), claim and
# deliver one item at a time until none is left; print how many.
ENTRY = """
import sys, time
import django
django.setup()
from parlour.notifications.delivery import deliver_due
worker, start_at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start_at - time.time()))
total = 0
while done := deliver_due(worker=worker, limit=1):
    total += done
print(total, flush=True)
"""

WAKE = "import django; django.setup(); from parlour.notifications.delivery import wake; wake()"


@pytest.fixture
def smtp():
    with mail_server() as server:
        yield server


def database_url() -> str:
    """The test database, for another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite://{Path(db['NAME']).resolve()}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def environment(smtp, **more: str) -> dict[str, str]:
    """A worker process's environment: the test database, this process's data folder (its
    secret key and its task queue), mail to ``smtp``."""
    env = {key: value for key, value in os.environ.items() if key not in ("PARLOUR_REDIS_URL", TEST_PAUSE_AFTER_CLAIM)}
    env.update(
        DJANGO_SETTINGS_MODULE="parlour.settings",
        PARLOUR_DATABASE_URL=database_url(),
        PARLOUR_DATA_DIR=str(settings.DATA_DIR),
        **smtp.env,
        **more,
    )
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def entry(name: str, env: dict[str, str], log: Path, *, start_at: float = 0) -> subprocess.Popen:
    return spawn([sys.executable, "-c", ENTRY, name, str(start_at)], env, log)


def wait_until(condition: Callable, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if found := condition():
            return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended before {what}:\n{log.read_text() if log else ''}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within 60 s:\n{log.read_text() if log else ''}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def processes():
    """Processes a test starts, killed at its end whatever happens."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        stop(process)


def sent_ids(smtp) -> list[str]:
    return [mail.message_id for mail in smtp.received]


# --- at most once when a worker dies ------------------------------------------------------


def test_at_most_once_a_worker_killed_after_claiming_sent_nothing_and_another_sends_it(smtp, processes, tmp_path):
    """§9: the worker is killed (SIGKILL) between claiming a message and sending it. Within
    the lease its claim stands; after it, the message is pending again and another worker
    sends it: exactly one mail."""
    w = world()
    w.book(service=w.free_service)
    log = tmp_path / "doomed.log"
    doomed = entry("doomed", environment(smtp, **{TEST_PAUSE_AFTER_CLAIM: "300"}), log)
    processes.append(doomed)
    item = wait_until(
        lambda: OutboxItem.objects.filter(state=OutboxState.CLAIMED, claimed_by="doomed").first(),
        "claim",
        doomed,
        log,
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    assert smtp.received == []

    now = clock.now()
    assert recover_stale(now) == {"returned": 0, "interrupted": 0}  # within the lease
    assert recover_stale(now + LEASE + timedelta(seconds=1)) == {"returned": 1, "interrupted": 0}
    assert deliver_due(worker="survivor") == 2
    item.refresh_from_db()
    assert (item.state, item.claimed_by) == (OutboxState.SENT, "survivor")
    assert len(smtp.received) == 2 and len(set(sent_ids(smtp))) == 2
    assert deliver_due(now + timedelta(hours=1), worker="survivor") == 0


def test_at_most_once_a_worker_killed_while_sending_is_never_sent_again(smtp, processes, tmp_path):
    """§9: the mail server has the message but has not answered when the worker is killed.
    Whether the mail left is unknown, so the message fails with that reason and no worker
    sends it again."""
    w = world()
    w.book(service=w.free_service)
    smtp.holding = True
    log = tmp_path / "doomed.log"
    doomed = entry("doomed", environment(smtp), log)
    processes.append(doomed)
    (held,) = wait_until(lambda: smtp.wait_for(1, timeout=0), "mail at the server", doomed, log)
    item = OutboxItem.objects.get(claimed_by="doomed")
    assert item.state == OutboxState.SENDING
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    smtp.holding = False

    assert recover_stale(clock.now() + LEASE + timedelta(seconds=1)) == {"returned": 0, "interrupted": 1}
    assert deliver_due(worker="survivor") == 1  # the other side's message only
    item.refresh_from_db()
    assert (item.state, item.last_error) == (OutboxState.FAILED, INTERRUPTED)
    assert deliver_due(clock.now() + timedelta(days=1), worker="survivor") == 0
    assert sent_ids(smtp).count(held.message_id) == 1
    assert len(smtp.received) == 2


def test_q3_worker_processes_racing_over_50_messages_send_each_once(smtp, processes, tmp_path):
    w = world()
    w.book(service=w.free_service)
    first = list(OutboxItem.objects.filter(topic=Topic.N2).order_by("id"))
    OutboxItem.objects.bulk_create(
        OutboxItem(
            organization=w.org,
            topic=Topic.N2,
            meeting_id=first[i % 2].meeting_id,
            recipient_id=first[i % 2].recipient_id,
            payload=first[i % 2].payload,
        )
        for i in range(48)
    )
    start_at = time.time() + 4  # both have started Django by then
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    workers = [entry(f"worker-{i}", environment(smtp), log, start_at=start_at) for i, log in enumerate(logs)]
    processes.extend(workers)
    for process, log in zip(workers, logs, strict=True):
        assert process.wait(120) == 0, log.read_text()
    assert sum(int(log.read_text().split()[-1]) for log in logs) == 50
    ids = sent_ids(smtp)
    assert len(ids) == 50 and len(set(ids)) == 50
    assert set(OutboxItem.objects.filter(topic=Topic.N2).values_list("state", flat=True)) == {OutboxState.SENT}


# --- parlour worker -----------------------------------------------------------------------


def test_i4_parlour_worker_delivers_what_a_commit_woke_it_for_and_stops_cleanly(smtp, processes, tmp_path):
    """The booking's commit enqueues one delivery task in the SQLite queue of the data folder;
    ``parlour worker`` (without its every-minute run) takes it and the mails leave. SIGTERM
    lets it finish and stop."""
    HUEY.flush()
    w = world()
    w.book(service=w.free_service, by=w.guest)
    assert [task.name for task in HUEY.pending()] == ["deliver_outbox"]

    log = tmp_path / "worker.log"
    worker = spawn([PARLOUR, "worker", "--no-periodic", "--workers", "2"], environment(smtp), log)
    processes.append(worker)
    wait_until(lambda: len(smtp.received) == 2, "two mails", worker, log)
    assert len(smtp.to(w.guest.email)) == 1 and len(smtp.to(w.expert.email)) == 1
    assert HUEY.pending_count() == 0

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(90) == 0
    out = log.read_text()
    assert "Parlour worker: 2 thread(s)" in out and "Parlour worker stopped." in out
    assert "Traceback" not in out


def test_q4_redis_queue_shared_by_two_workers_delivers_once(smtp, processes, tmp_path):
    """Scaled out: a task enqueued through Redis (by another process, as a web server on
    another machine would) is run by one of two ``parlour worker`` processes sharing the
    queue; each mail arrives once."""
    with redis_server() as server:
        env = environment(smtp, PARLOUR_REDIS_URL=server.url)
        queue = redis.Redis.from_url(server.url)
        logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
        workers = [spawn([PARLOUR, "worker", "--no-periodic"], env, log) for log in logs]
        processes.extend(workers)
        for worker, log in zip(workers, logs, strict=True):
            wait_until(lambda log=log: "Parlour worker:" in log.read_text(), "worker start", worker, log)

        w = world()
        w.book(service=w.free_service, by=w.guest)
        subprocess.run([sys.executable, "-c", WAKE], env=env, check=True, timeout=60)
        wait_until(lambda: len(smtp.received) == 2, "two mails", workers[0], logs[0])
        assert len(smtp.to(w.guest.email)) == 1 and len(smtp.to(w.expert.email)) == 1
        assert queue.llen("huey.redis.parlour") == 0
        executed = sum(log.read_text().count("Executing parlour.tasks.deliver_outbox") for log in logs)
        assert executed == 1

        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker, log in zip(workers, logs, strict=True):
            assert worker.wait(90) == 0, log.read_text()
        queue.close()
    assert len(smtp.received) == 2


def test_i4_parlour_worker_refuses_a_bad_number_of_workers(capsys):
    assert main(["worker", "--workers", "0"]) == 2
    assert "--workers 0" in capsys.readouterr().err


# --- parlour run ----------------------------------------------------------------------------


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


@pytest.fixture
def serve(smtp, processes, tmp_path):
    """``serve(demo=...)``: ``parlour run`` on a data folder of its own (with the demo loaded
    first, if asked), mailing to ``smtp``; answers the process, its address and its log."""

    def start(*, demo: bool) -> tuple[subprocess.Popen, str, Path]:
        env = {k: v for k, v in os.environ.items() if k not in ("PARLOUR_DATABASE_URL", "PARLOUR_REDIS_URL")}
        env.update(PARLOUR_DATA_DIR=str(tmp_path / "data"), **smtp.env)
        if demo:
            subprocess.run([PARLOUR, "demo"], env=env, check=True, timeout=300, capture_output=True)
        port = free_port()
        log = tmp_path / "run.log"
        process = spawn([PARLOUR, "run", "--port", str(port)], env, log)
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{url}/admin/login/"), "web server", process, log)
        wait_until(lambda: "Parlour worker:" in log.read_text(), "worker start", process, log)
        return process, url, log

    return start


def test_i4_parlour_run_starts_the_worker_and_a_booking_is_mailed(serve, smtp):
    """One command runs everything: a guest books through the public API of the server
    ``parlour run`` started, and the booking's mail (N2) arrives; Ctrl-C stops both."""
    process, url, log = serve(demo=True)
    status, body = get(f"{url}/api/v1/public/demo/services")
    assert status == 200, body
    intro = next(s for s in json.loads(body) if s["price"] == 0 and not s["requires_confirmation"])
    status, body = get(f"{url}/api/v1/public/demo/services/{intro['id']}/slots")
    assert status == 200, body
    slot = json.loads(body)["slots"][0]
    guest = "walk-in@example.net"
    status, booked = post(
        f"{url}/api/v1/public/demo/bookings",
        {"service_id": intro["id"], "start": slot["start"], "guest": {"name": "Walk In", "email": guest}},
    )
    assert status == 201, booked

    (mail,) = wait_until(lambda: smtp.to(guest), "the guest's mail", process, log)
    assert mail.message["Subject"]
    process.send_signal(signal.SIGINT)
    assert process.wait(120) == 0
    out = log.read_text()
    assert "Parlour worker stopped." in out and "Parlour stopped." in out
    assert "Traceback" not in out, out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
def test_i4_the_worker_stops_by_itself_when_parlour_run_is_killed(serve):
    process, url, log = serve(demo=False)
    (worker,) = wait_until(lambda: children(process.pid), "worker process", process, log)
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_until(lambda: not Path(f"/proc/{worker}").exists() or zombie(worker), "worker exit")
    assert "Parlour worker stopped." in log.read_text()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
def test_i4_parlour_run_starts_a_dead_worker_again(serve):
    process, url, log = serve(demo=False)
    (first,) = wait_until(lambda: children(process.pid), "worker process", process, log)
    os.kill(first, signal.SIGKILL)
    (second,) = wait_until(lambda: [pid for pid in children(process.pid) if pid != first], "new worker", process, log)
    wait_until(lambda: log.read_text().count("Parlour worker:") == 2, "new worker start", process, log)
    assert "starting it again" in log.read_text()
    process.send_signal(signal.SIGTERM)
    assert process.wait(120) == 0
    assert not Path(f"/proc/{second}").exists() or zombie(second)


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
