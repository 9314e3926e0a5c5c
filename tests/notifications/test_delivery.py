"""Delivering the outbox (SPEC §9, STYLE rule 3, Q3) in this process, to a real SMTP server on
loopback: what arrives (N2 with its HTML and calendar invitation), what is dropped because it
is no longer true (N7, N8, N9), retries with back-off and failing with the reason, recovery
from dead workers, several workers at once, and waking a worker after a commit.

The worker processes themselves (killed mid-way, Redis, ``parlour run``) are in test_worker.py."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from huey.contrib.djhuey import HUEY

from parlour import tasks
from parlour.core import clock
from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import Said
from parlour.notifications import delivery
from parlour.notifications.delivery import BACKOFF, INTERRUPTED, deliver_due, recover_stale
from parlour.notifications.models import Notification, OutboxItem, OutboxState, Topic
from tests.factories import world
from tests.meetings.checks import NOW

from .smtp import mail_server


@pytest.fixture
def smtp():
    with mail_server() as server:
        yield server


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def queue():
    """This process's task queue (a SQLite file in the test data folder), empty."""
    HUEY.flush()
    yield HUEY
    HUEY.flush()


def messages(**filters) -> list[OutboxItem]:
    return list(OutboxItem.objects.exclude(topic__startswith="room.").filter(**filters).order_by("id"))


def reminder(meeting, topic: str, person) -> OutboxItem:
    """A time-driven message as the due work writes it: keyed by whom and the start it is about."""
    start = meeting.start.isoformat()
    return OutboxItem.objects.create(
        organization=meeting.organization,
        topic=topic,
        meeting=meeting,
        recipient=person,
        payload={"start": start},
        key=f"user:{person.pk}@{start}",
        due_at=clock.now(),
        created_at=clock.now(),
    )


def message_id(item: OutboxItem) -> str:
    return f"<parlour.outbox.{item.pk}.{item.created_at:%Y%m%d%H%M%S}@127.0.0.1>"


def parts(received) -> dict[str, list]:
    """The content types of a received mail's parts, and its attachments' names."""
    message = received.message
    return {
        "types": [part.get_content_type() for part in message.walk() if not part.is_multipart()],
        "attachments": [part.get_filename() for part in message.iter_attachments()],
    }


# --- what arrives ----------------------------------------------------------------------


@pytest.mark.django_db
def test_n2_booked_meeting_arrives_at_both_sides_with_html_and_calendar_invitation(smtp, frozen):
    """N2, K2: a meeting agreed at once is mailed to the expert and the client, each with an
    HTML part and the .ics invitation, and listed in each one's notifications."""
    w = world()
    meeting = w.book(service=w.free_service)
    assert deliver_due(worker="w1") == 2

    for person in (w.expert, w.client):
        (mail,) = smtp.to(person.email)
        found = parts(mail)
        assert "text/plain" in found["types"] and "text/html" in found["types"]
        assert "text/calendar" in found["types"]
        assert any(name.endswith(".ics") for name in found["attachments"])
        item = OutboxItem.objects.get(topic=Topic.N2, recipient=person)
        assert mail.message_id == message_id(item)
        assert (item.state, item.delivered_at, item.attempts, item.claimed_by) == (OutboxState.SENT, NOW, 0, "w1")
        (note,) = Notification.objects.filter(recipient=person)
        assert (note.topic, note.meeting, note.outbox_item) == (Topic.N2, meeting, item)
        assert note.title and note.link.startswith("http://127.0.0.1:8000/")
    assert len(smtp.received) == 2
    # Room commands are not messages to people: they wait for the video-room work.
    assert OutboxItem.objects.get(topic=Topic.ROOM_CREATE).state == OutboxState.PENDING
    # Nothing more is due: nothing is sent twice.
    assert deliver_due(worker="w2") == 0
    assert len(smtp.received) == 2


@pytest.mark.django_db
def test_n2_guest_gets_the_mail_and_no_in_app_notification(smtp, frozen):
    """N2 for a guest's booking: the guest has no account, so only the expert's list shows it."""
    w = world()
    w.book(service=w.free_service, by=w.guest)
    assert deliver_due(worker="w1") == 2
    assert len(smtp.to(w.guest.email)) == 1 and len(smtp.to(w.expert.email)) == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [w.expert.pk]


@pytest.mark.django_db
def test_messages_wait_until_due(smtp, frozen):
    w = world()
    w.book(service=w.free_service)
    OutboxItem.objects.update(due_at=NOW + timedelta(minutes=10))
    assert deliver_due(worker="w1") == 0
    assert deliver_due(NOW + timedelta(minutes=10), worker="w1") == 2
    assert len(smtp.received) == 2


# --- a notification no longer true is not sent (SPEC §9) ----------------------------------


@pytest.mark.django_db
def test_n7_reminder_of_a_cancelled_meeting_is_dropped_not_sent(smtp, frozen):
    w = world()
    meeting = w.book(service=w.free_service)
    deliver_due(worker="w1")
    smtp.received.clear()
    stale = reminder(meeting, Topic.N7, w.client)
    lifecycle.cancel_meeting(w.client, meeting, note="I am ill")

    deliver_due(worker="w1")
    stale.refresh_from_db()
    assert (stale.state, stale.last_error, stale.delivered_at) == (OutboxState.DROPPED, "no longer true", None)
    assert message_id(stale) not in [mail.message_id for mail in smtp.received]
    # The expert still hears of the cancellation (N5); the client gets nothing.
    assert [item.topic for item in messages(state=OutboxState.SENT)][-1] == Topic.N5
    assert len(smtp.to(w.expert.email)) == 1 and smtp.to(w.client.email) == []
    assert not Notification.objects.filter(outbox_item=stale).exists()


@pytest.mark.django_db
def test_n7_n8_reminders_of_a_moved_meeting_are_dropped_and_the_new_ones_sent(smtp, frozen):
    """L16 moves the meeting: reminders of the old start are no longer true; reminders of
    the new start are."""
    w = world()
    meeting = w.book(service=w.free_service)
    old = [reminder(meeting, Topic.N7, w.client), reminder(meeting, Topic.N8, w.expert)]
    meeting = lifecycle.change_meeting_time(w.client, meeting, start=meeting.start + timedelta(hours=2))
    new = reminder(meeting, Topic.N7, w.client)

    deliver_due(worker="w1")
    for item in old:
        item.refresh_from_db()
        assert item.state == OutboxState.DROPPED
    new.refresh_from_db()
    assert new.state == OutboxState.SENT
    ids = [mail.message_id for mail in smtp.received]
    assert message_id(new) in ids and not {message_id(item) for item in old} & set(ids)


@pytest.mark.django_db
def test_n7_reminder_of_an_unchanged_agreed_meeting_is_sent(smtp, frozen):
    w = world()
    meeting = w.agreed()
    item = reminder(meeting, Topic.N7, w.client)
    deliver_due(worker="w1")
    item.refresh_from_db()
    assert item.state == OutboxState.SENT
    assert message_id(item) in [mail.message_id for mail in smtp.to(w.client.email)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("topic", "minutes_after_start", "sent"),
    [(Topic.N7, -1, True), (Topic.N7, 0, False), (Topic.N8, 29, True), (Topic.N8, 30, False)],
    ids=["n7-before-start", "n7-at-start", "n8-during", "n8-at-end"],
)
def test_n7_n8_reminders_delivered_late_are_dropped_once_they_are_news_of_nothing(
    smtp, frozen, topic, minutes_after_start, sent
):
    """A worker that was down delivers late: a reminder once the meeting has started, or its
    link once it has ended, is no longer true."""
    w = world()
    meeting = w.book(service=w.free_service, length=30)
    item = reminder(meeting, topic, w.client)
    deliver_due(meeting.start + timedelta(minutes=minutes_after_start), worker="w1")
    item.refresh_from_db()
    assert item.state == (OutboxState.SENT if sent else OutboxState.DROPPED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "said", "sent"),
    [(None, None, True), ("client", Said.HELD, False), ("expert", Said.NOT_HELD_EXPERT, False)],
    ids=["not-evaluated", "client-stated", "outcome-decided"],
)
def test_n9_reminder_to_evaluate_is_sent_only_while_not_evaluated(smtp, frozen, who, said, sent):
    """N9: only while the client has not stated and the outcome is undecided (S1–S3)."""
    w = world()
    meeting = w.agreed()
    frozen.move_to(meeting.end + timedelta(hours=24), tick=False)
    if who:
        outcome.submit_statement(getattr(w, who), meeting, said=said)
    item = reminder(meeting, Topic.N9, w.client)
    deliver_due(worker="w1")
    item.refresh_from_db()
    assert item.state == (OutboxState.SENT if sent else OutboxState.DROPPED)
    assert (message_id(item) in [mail.message_id for mail in smtp.received]) is sent


# --- failing mail servers ------------------------------------------------------------------


@pytest.fixture
def operator(client):
    """A signed-in superuser, to read the admin's outbox list (I5)."""
    w = world()
    w.admin.is_staff = w.admin.is_superuser = True
    w.admin.save()
    client.force_login(w.admin)
    return w


@pytest.mark.django_db
def test_a_refusing_server_451_is_retried_with_back_off_then_failed_with_the_reason(smtp, frozen, operator, client):
    """STYLE rule 3, I5: each attempt waits longer (1, 5, 30, 120, 720 minutes); after the
    last one the item has failed, and the admin's outbox list says why."""
    w = operator
    w.book(service=w.free_service, by=w.guest)
    item = OutboxItem.objects.get(topic=Topic.N2, recipient_guest=w.guest)
    OutboxItem.objects.filter(topic=Topic.N2).exclude(pk=item.pk).update(state=OutboxState.DROPPED)
    smtp.answer = "451 4.3.0 Try again later"

    now = NOW
    for attempt, wait in enumerate(BACKOFF, start=1):
        assert deliver_due(now, worker="w1") == 1
        item.refresh_from_db()
        assert (item.state, item.attempts, item.due_at) == (OutboxState.PENDING, attempt, now + wait)
        assert "451" in item.last_error and item.claimed_by == ""
        assert deliver_due(now + wait - timedelta(seconds=1), worker="w1") == 0  # not due yet
        now += wait
    assert deliver_due(now, worker="w1") == 1
    item.refresh_from_db()
    assert (item.state, item.attempts) == (OutboxState.FAILED, len(BACKOFF) + 1)
    assert item.last_error == "mail server answered 451 4.3.0 Try again later"
    assert smtp.received == []

    smtp.answer = None  # a failed item stays failed
    assert deliver_due(now + timedelta(days=1), worker="w1") == 0
    page = client.get(reverse("admin:notifications_outboxitem_changelist"), {"state__exact": "failed"})
    assert page.status_code == 200
    assert "mail server answered 451 4.3.0 Try again later" in page.content.decode()


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once(smtp, frozen):
    w = world()
    w.book(service=w.free_service, by=w.guest)
    smtp.answer = "550 5.1.1 No such mailbox"
    deliver_due(worker="w1")
    for item in messages():
        assert (item.state, item.attempts) == (OutboxState.FAILED, 1)
        assert item.last_error == "mail server answered 550 5.1.1 No such mailbox"


@pytest.mark.django_db
def test_a_server_that_hangs_up_after_taking_the_mail_is_not_tried_again(smtp, frozen):
    """At most once: the server has the mail but the connection drops before its answer.
    Whether it left is unknown, so the message fails with that reason and is never resent."""
    w = world()
    w.book(service=w.free_service, by=w.guest)
    smtp.hang_up = True
    assert deliver_due(worker="w1") == 2
    for item in messages():
        assert (item.state, item.attempts) == (OutboxState.FAILED, 0)
        assert item.last_error.startswith(INTERRUPTED + ": SMTPServerDisconnected")
    smtp.hang_up = False
    assert deliver_due(NOW + timedelta(days=1), worker="w1") == 0
    assert len(smtp.received) == 2


@pytest.mark.django_db
def test_a_stopped_server_counts_an_attempt_and_the_retry_delivers_once(frozen):
    w = world()
    w.book(service=w.free_service, by=w.guest)
    with mail_server() as down:
        down.stop()
        assert deliver_due(worker="w1") == 2
    for item in messages():
        assert (item.state, item.attempts, item.due_at) == (OutboxState.PENDING, 1, NOW + BACKOFF[0])
        assert "ConnectionRefusedError" in item.last_error
    with mail_server() as up:
        assert deliver_due(NOW + BACKOFF[0], worker="w1") == 2
        assert len(up.received) == 2
    assert {item.state for item in messages()} == {OutboxState.SENT}


# --- dead and slow workers ---------------------------------------------------------------


@pytest.mark.django_db
def test_recover_stale_gives_back_claims_and_fails_interrupted_sends(frozen):
    """At most once: a worker that died after claiming sent nothing (pending again); one that
    died while sending may have sent (failed, never again). Fresh claims are left alone."""
    w = world()
    w.book(service=w.free_service)
    w.book(service=w.free_service, hours_ahead=96)
    claimed_old, sending_old, claimed_new, sending_new = messages()
    old, new = NOW - timedelta(minutes=6), NOW - timedelta(minutes=4)
    for item, state, at in (
        (claimed_old, OutboxState.CLAIMED, old),
        (sending_old, OutboxState.SENDING, old),
        (claimed_new, OutboxState.CLAIMED, new),
        (sending_new, OutboxState.SENDING, new),
    ):
        OutboxItem.objects.filter(pk=item.pk).update(state=state, claimed_at=at, claimed_by="dead")

    assert recover_stale(NOW) == {"returned": 1, "interrupted": 1}
    states = {item.pk: (item.state, item.claimed_by, item.last_error) for item in messages()}
    assert states[claimed_old.pk] == (OutboxState.PENDING, "", "")
    assert states[sending_old.pk] == (OutboxState.FAILED, "dead", INTERRUPTED)
    assert states[claimed_new.pk][0] == OutboxState.CLAIMED
    assert states[sending_new.pk][0] == OutboxState.SENDING
    assert recover_stale(NOW) == {"returned": 0, "interrupted": 0}


@pytest.mark.django_db
def test_a_worker_whose_claim_was_taken_back_does_not_send(smtp, frozen):
    """A worker slower than the lease finds its claim gone and sends nothing; the worker that
    claimed the item after the recovery sends it: one mail."""
    w = world()
    w.book(service=w.free_service, by=w.guest)
    slow = delivery._claim_next(NOW, "slow")
    recover_stale(NOW + timedelta(minutes=6))
    assert deliver_due(NOW + timedelta(minutes=6), worker="quick") == 2
    delivery._deliver(slow, NOW + timedelta(minutes=7), "slow")
    slow.refresh_from_db()
    assert (slow.state, slow.claimed_by) == (OutboxState.SENT, "quick")
    assert len(smtp.received) == 2


@pytest.mark.django_db(transaction=True)
def test_q3_workers_racing_over_50_messages_send_each_exactly_once(smtp):
    """Four workers, each in its own thread with its own connection, released together,
    claim one item at a time from the same 50: every mail arrives once."""
    w = world()
    w.book(service=w.free_service)
    first = messages()
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
    items = messages()
    assert len(items) == 50

    counts: dict[str, int] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(4, timeout=60)

    def work(name: str) -> None:
        try:
            barrier.wait()
            counts[name] = 0
            while done := deliver_due(worker=name, limit=1):
                counts[name] += done
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    assert sum(counts.values()) == 50
    ids = [mail.message_id for mail in smtp.received]
    assert len(ids) == 50 and set(ids) == {message_id(item) for item in items}
    assert {item.state for item in messages()} == {OutboxState.SENT}
    assert Notification.objects.count() == 50


# --- waking a worker ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_transition_wakes_a_worker_once_after_commit(django_capture_on_commit_callbacks):
    w = world()
    with django_capture_on_commit_callbacks() as callbacks:
        w.book(service=w.free_service)  # two messages, one wake
    assert [callback for callback in callbacks if callback is delivery.wake] == [delivery.wake]


@pytest.mark.django_db
def test_wakes_make_one_task_until_a_worker_takes_it(queue):
    for _ in range(5):
        delivery.wake()
    assert [task.name for task in queue.pending()] == ["deliver_outbox"]
    assert tasks.deliver_outbox.call_local() == 0  # what the worker runs: nothing is due
    delivery.wake()
    assert queue.pending_count() == 2


@pytest.mark.django_db
def test_a_wake_whose_task_was_lost_enqueues_again(queue):
    queue.put(delivery.WAKE_KEY, time.time() - delivery.WAKE_STALE - 1)
    delivery.wake()
    assert queue.pending_count() == 1


def test_a_failing_queue_never_breaks_the_caller(queue, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(queue, "put_if_empty", broken)
    delivery.wake()
    assert "Could not wake a worker" in caplog.text


@pytest.mark.django_db
def test_n7_every_minute_writes_the_reminders_and_delivers_them(smtp, frozen, queue):
    """The worker's every-minute task: the due work writes N7 for both sides 24 hours before
    the start, and the same run delivers them."""
    w = world()
    meeting = w.book(service=w.free_service)
    deliver_due(worker="w1")
    smtp.received.clear()
    frozen.move_to(meeting.start - timedelta(hours=24), tick=False)

    tasks.every_minute.call_local()
    reminders = messages(topic=Topic.N7)
    assert len(reminders) == 2 and {item.state for item in reminders} == {OutboxState.SENT}
    assert len(smtp.to(w.client.email)) == 1 and len(smtp.to(w.expert.email)) == 1
    tasks.every_minute.call_local()  # once is once
    assert len(smtp.received) == 2
