"""What the main web pages cost as an organization's data grows: SQL queries, time and size.

The demo organization (``parlour.demo.load()``) in a throwaway SQLite database, measured as it
loads (x1), then grown to about ten times its meetings of Eve, its conversations, their
messages and Eve's notifications (x10) and measured again. The growth goes through the domain
as real use would: new clients with credits book Eve's free slots (``lifecycle.book_meeting``;
each first booking opens the client's conversation, B6), a third of them in the past, held
(``outcome``), the rest ahead, some mentoring ones still awaiting her; the admin starts the
conversations of clients who booked nothing (X2); clients and Eve write messages
(``conversations.domain.write_message``); and what that queued is delivered into the
notification lists as the demo does it (``DemoBuilder.deliver_the_past``). Eve's list is
then topped up to ten times with copies of her own notifications if it is short.

For each page, requested through ``django.test.Client`` signed in as the person who would
open it (``force_login``), it prints the SQL queries of one request, the median and 95th
percentile in milliseconds over ``runs`` requests, and the size of the response; then, per
page, how the queries at x10 compare with x1 (the aim: the same). It measures; it never judges.

    .venv/bin/python bench/pages.py [runs]
"""

# ruff: noqa: E402  (the settings must see the environment, and Django be set up, before the models load)

import atexit
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta

# The settings read the environment once, at import: a data folder of our own (SQLite file,
# secret key), never a database named in the shell; the local memory cache and mail outbox,
# never a server of the shell's; no limit on messages an hour while the data grows.
DATA_DIR = tempfile.mkdtemp(prefix="parlour-bench-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
os.environ["PARLOUR_DATA_DIR"] = DATA_DIR
os.environ.pop("PARLOUR_DATABASE_URL", None)
os.environ.pop("PARLOUR_REDIS_URL", None)
os.environ["PARLOUR_EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["PARLOUR_MESSAGES_PER_HOUR"] = "1000000"
os.environ["PARLOUR_GUEST_MESSAGES_PER_HOUR"] = "1000000"
os.environ["DJANGO_SETTINGS_MODULE"] = "parlour.settings"

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parlour import demo
from parlour.accounts.models import ClientAccount, User
from parlour.catalog.models import Service
from parlour.conversations import domain as conversations
from parlour.conversations.access import may_see, of_party
from parlour.conversations.models import Conversation, Message
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.meetings import lifecycle, outcome
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import Meeting, Status
from parlour.notifications.models import Notification

FACTOR = 10
WARMUP = 3
COLUMNS = "{:<28} {:<7} {:>5} | {:>7} | {:>8} {:>8} | {:>7}"


def demo_people() -> dict:
    org = demo.load().organization
    people = {key: User.objects.get(email=demo.email(key)) for key in (*demo.EXPERTS, *demo.CLIENTS)}
    people["ada"] = User.objects.get(email=demo.ADMIN_EMAIL)
    return {
        "org": org,
        **people,
        "mentoring": Service.objects.get(organization=org, name="Career mentoring"),
        "intro": Service.objects.get(organization=org, name="Intro call"),
    }


def counts(d: dict) -> dict:
    eve = d["eve"]
    return {
        "meetings of Eve": Meeting.objects.filter(expert=eve).count(),
        "conversations": Conversation.objects.filter(organization=d["org"]).count(),
        "messages": Message.objects.filter(conversation__organization=d["org"]).count(),
        "notifications of Eve": Notification.objects.filter(recipient=eve).count(),
    }


def eve_slots(d: dict, working_days: range):
    """Candidate starts on Eve's clock, every half hour of her office hours, on her working days."""
    builder = demo.DemoBuilder(clock.now())
    for n in working_days:
        for a, b in demo.OFFICE:
            hour, end = int(a[:2]), int(b[:2])
            for minutes in range(hour * 60, end * 60 - 30, 30):
                yield builder.on("eve", n, f"{minutes // 60:02d}:{minutes % 60:02d}")


def grow(d: dict, before: dict) -> int:
    """About ``FACTOR`` times the demo's meetings of Eve, conversations and messages, and
    Eve's notifications: see the module's docstring. Returns how many of hers are copies."""
    org, eve, ada = d["org"], d["eve"], d["ada"]
    now = clock.now().replace(second=0, microsecond=0)
    want_meetings = FACTOR * before["meetings of Eve"] - before["meetings of Eve"]
    new_clients = FACTOR * before["conversations"] - before["conversations"]
    clients = []
    for n in range(new_clients):
        user = User.objects.create_user(f"bench{n}@client.test", name=f"Bench Client {n:03d}", time_zone="Europe/Paris")
        ClientAccount.objects.create(organization=org, user=user)
        ledger.grant_credits(org, user, 10_000, by=ada, note="Bench")
        clients.append(user)

    made: list[Meeting] = []

    def book(start, booked, n, *, held: bool) -> Meeting | None:
        service = d["mentoring"] if n % 3 == 0 else d["intro"]
        client = clients[n % len(clients)]
        try:
            meeting = lifecycle.book_meeting(
                service=service,
                expert=eve,
                party=Party(client=client),
                start=start,
                length=30,
                subject=f"Bench {n}",
                now=booked,
            )
            if meeting.status == Status.AWAITING_APPROVAL and (held or n % 2 == 0):
                meeting = lifecycle.confirm_meeting(eve, meeting, now=booked + timedelta(minutes=30))
        except DomainError:
            return None  # not one of her free slots (a demo meeting, a day off, the notice)
        made.append(meeting)
        return meeting

    # A third in the past (held), the rest ahead, within the booking window.
    past = want_meetings // 3
    for start in eve_slots(d, range(-1, -40, -1)):
        if len(made) >= past:
            break
        meeting = book(start, start - timedelta(days=3), len(made), held=True)
        if meeting is not None and meeting.status == Status.AGREED:
            client = meeting.client
            outcome.record_entry(eve, meeting, now=meeting.start - timedelta(minutes=3))
            outcome.record_entry(client, meeting, now=meeting.start - timedelta(minutes=1))
            outcome.close_meeting(meeting, now=meeting.end + timedelta(minutes=1))
    for start in eve_slots(d, range(2, 30)):
        if len(made) >= want_meetings:
            break
        book(start, now - timedelta(hours=2), len(made), held=False)

    # Messages: in every new conversation, and ten times as many in Cleo's with Eve.
    want_messages = FACTOR * before["messages"] - before["messages"]
    cleo_conversation = of_party(org.pk, client=d["cleo"])
    cleo_count = cleo_conversation.messages.count()
    threads = [(d["cleo"], cleo_conversation)] * (FACTOR * cleo_count - cleo_count)
    # Clients who booked nothing: the admin starts their conversation (X2).
    opened = [(c, of_party(org.pk, client=c) or conversations.start_conversation(ada, org, client=c)) for c in clients]
    while len(threads) < want_messages and opened:
        threads.extend(opened[: want_messages - len(threads)])
    for n, (client, conversation) in enumerate(threads):
        author = client if n % 2 == 0 or not may_see(eve, conversation) else eve
        at = now - timedelta(hours=len(threads) - n)
        conversations.write_message(author, conversation, f"Bench message {n}: a line or two of text.", now=at)

    # What that queued, delivered into the lists as the demo does; Eve's topped up if short.
    builder = demo.DemoBuilder(clock.now())
    builder.organization = org
    builder.deliver_the_past()
    have = Notification.objects.filter(recipient=eve)
    short = FACTOR * before["notifications of Eve"] - have.count()
    copies = list(have.order_by("-created_at", "-pk")[: max(short, 0)])
    for n, notification in enumerate(copies * (short // max(len(copies), 1) + 1)):
        if n >= short:
            break
        notification.pk = None
        notification.outbox_item = None
        notification.created_at -= timedelta(days=1 + n)
        notification.save()
    return max(short, 0)


def timed(call, runs: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds, after a warm-up."""
    for _ in range(WARMUP):
        call()
    gc.collect()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=20)[-1]


def pages(d: dict) -> list[tuple[str, str, str]]:
    """(what, who, address): the pages and who opens them (None: anonymous)."""
    org = d["org"].slug
    meeting = Meeting.objects.get(expert=d["eve"], subject="First steps as a team lead")
    conversation = of_party(d["org"].pk, client=d["cleo"])
    return [
        ("meetings overview, Everyone", "ada", f"/o/{org}/meetings/?tab=everyone"),
        ("dashboard", "eve", f"/o/{org}/"),
        ("meeting page", "eve", f"/o/{org}/meetings/{meeting.pk}/"),
        ("conversation list", "eve", f"/o/{org}/conversations/"),
        ("conversation page (Cleo's)", "eve", f"/o/{org}/conversations/{conversation.pk}/"),
        ("notification list", "eve", "/notifications/"),
        ("visitors' organization page", None, f"/o/{org}/experts/"),
        ("Eve's booking page, a week", "cleo", f"/o/{org}/experts/{d['eve'].pk}/?service={d['mentoring'].pk}"),
    ]


def measure(d: dict, size: str, runs: int, browsers: dict) -> dict:
    results = {}
    for what, who, url in pages(d):
        browser = browsers[who]
        with CaptureQueriesContext(connection) as queries:
            response = browser.get(url)
        count = len(queries)  # now: the next request empties the log the capture reads
        if response.status_code != 200:
            sys.exit(f"GET {url} as {who or 'anonymous'} answered {response.status_code}: {response.content[:300]!r}")
        median, p95 = timed(lambda browser=browser, url=url: browser.get(url), runs)
        results[what] = count
        kb = len(response.content) / 1024
        print(COLUMNS.format(what, who or "anon", size, count, f"{median:.1f}", f"{p95:.1f}", f"{kb:.1f}"))
    return results


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    call_command("migrate", verbosity=0)
    d = demo_people()
    browsers = {None: Client()}
    for who in ("ada", "eve", "cleo"):
        browsers[who] = Client()
        browsers[who].force_login(d[who])

    load, cpus = os.getloadavg()[0], os.cpu_count()
    print(f"pages of the demo organization on {connection.vendor}; ms per request, {runs} runs after {WARMUP} warm-up")
    print(f"load average {load:.1f} on {cpus} CPUs: on a busy machine the timings include waiting for a CPU")
    header = COLUMNS.format("page", "as", "size", "queries", "median", "p95", "KB")
    print(header)
    print("-" * len(header))
    big = f"x{FACTOR}"
    sizes = {"x1": counts(d)}
    queries = {"x1": measure(d, "x1", runs, browsers)}
    began = time.perf_counter()
    copies = grow(d, sizes["x1"])
    grown = time.perf_counter() - began
    sizes[big] = counts(d)
    queries[big] = measure(d, big, runs, browsers)
    print(f"\nthe data (grown through the domain in {grown:.0f} s):")
    for name in sizes["x1"]:
        print(f"  {name:<22} x1 {sizes['x1'][name]:>5}   {big} {sizes[big][name]:>5}")
    print(f"  ({copies} of Eve's notifications at {big} are copies of her others)")
    print(f"\nqueries per request, x1 -> {big} (the aim: the same):")
    for what, few in queries["x1"].items():
        many = queries[big][what]
        verdict = "the same" if many == few else f"{many - few:+d}"
        print(f"  {what:<28} {few:>4} -> {many:<4} {verdict}")


if __name__ == "__main__":
    main()
