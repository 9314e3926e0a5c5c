"""Delivering the outbox (STYLE rule 3, SPEC §9): a worker claims each due message to a
person, checks that it is still true, composes it, mails it and lists it in the app.

An item moves ``pending → claimed → sending → sent``, or ends ``dropped`` (no longer true,
or nothing to say) or ``failed`` (given up, with the reason in ``last_error``). Room commands
(``room.*``) are not messages: ``carry_out_room_commands`` claims them the same way, carries
them out (``rooms.commands``) and marks them ``sent``; they are idempotent, so they are
retried with the same back-off, and one interrupted midway is simply carried out again.

**At most once.** Nothing is ever sent twice, even when a worker dies or several run at once:

- A worker owns an item only when its conditional UPDATE (``state=pending`` → ``claimed``,
  naming the worker) changed the row; two workers never both get a row count of one, on
  SQLite or on PostgreSQL (which also skips rows another worker is claiming).
- The item is marked ``sending`` — committed — just before the mail is handed over, and only
  while the claim is still this worker's. ``recover_stale`` undoes claims older than the
  lease: a worker that died after claiming sent nothing, so its item goes back to pending and
  another worker sends it (nothing is lost). A worker that died while ``sending`` may or may
  not have got the mail out; its item becomes ``failed`` ("delivery interrupted; it may or
  may not have been sent") and is never tried again. A slow worker whose claim was undone
  finds the claim gone and does not send.
- A mail server that answers with an error took nothing: the item goes back to pending with
  ``attempts`` counted and ``due_at`` moved by the back-off (1, 5, 30, 120, 720 minutes);
  after the last attempt it is ``failed`` with the server's answer. A permanent refusal (5xx)
  fails at once. An error that leaves it unknown whether the server took the mail (the
  connection dropped or timed out after the message was handed over) is treated like a
  death while sending: ``failed``, never retried.
- Every mail carries a Message-ID made from its outbox item, so that a copy made further
  down the way (by mail servers) is recognisable as the same message.
- The lease is measured on the workers' clocks. A recovery that comes too early (a clock
  off by minutes, a send slower than the lease, which EMAIL_TIMEOUT prevents) never makes a
  second send: the slow worker finds its claim gone and sends nothing, or, already sending,
  writes the send's outcome over the recovery's "failed".

The price of "at most once" is that a mail lost in one of those unknowable moments is not
sent again; the admin's outbox list shows it as failed with its reason.

**Still true (SPEC §9).** Reminders (N7, N8) are sent only while the meeting is agreed at the
start they remind of (and, when late, before its start, or for the link its end); the
reminder to evaluate (N9) only while the client has not stated and the outcome is undecided; a new message (N10) only
while its recipient has not read the conversation since.
Other messages tell of something that happened, and stay true.

A worker runs ``deliver_due`` when woken after a commit (``wake``) and every minute
(``parlour.tasks``). Call it outside any transaction: each step commits on its own.
"""

import logging
import os
import smtplib
import socket
import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import Q
from django.utils.text import Truncator

from parlour.core import clock

from .models import Notification, OutboxItem, OutboxState, Topic

logger = logging.getLogger(__name__)

# How long to wait before the next attempt after the first, second, … failure; one attempt
# more than there are waits, then the item has failed.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 720))
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claim older than this belongs to a worker that died (or hangs); see ``recover_stale``.
LEASE = timedelta(minutes=5)
INTERRUPTED = "delivery interrupted; it may or may not have been sent"
ROOM_TOPICS = "room."
# How many candidates one claiming round reads; a worker that loses them all to others
# reads again.
CANDIDATES = 20

# The test-only pause between claiming an item and sending it, in seconds: lets a test kill
# a worker that holds a claim. Never set outside the tests.
TEST_PAUSE_AFTER_CLAIM = "PARLOUR_TEST_PAUSE_AFTER_CLAIM"


def worker_name() -> str:
    """Who claims: the machine, the process and the thread, unique among live workers."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:100]


# --- delivering --------------------------------------------------------------------------


def deliver_due(now: datetime | None = None, *, worker: str, limit: int = 100, rooms: bool = False) -> int:
    """Deliver up to ``limit`` due messages (with ``rooms``: room commands), one claimed item
    at a time; return how many items this worker finished (sent, dropped, failed or put back
    for a retry).

    Without ``now``, every step reads the clock, so that the times of claims (which the
    lease is measured from) stay true through a long batch; with it, every step happens
    at that instant (for tests)."""
    done = 0
    while done < limit:
        item = _claim_next(now or clock.now(), worker, rooms)
        if item is None:
            break
        try:
            _deliver(item, now, worker)
        except Exception:
            # The database failed under us: whatever state the item was left in, recovery
            # settles it (a claim returns, a send in progress fails).
            logger.exception("Outbox item %s: delivery broke off", item.pk)
        done += 1
    return done


def carry_out_room_commands(now: datetime | None = None, *, worker: str, limit: int = 100) -> int:
    """Carry out up to ``limit`` due room commands (V1), claimed one at a time like messages;
    return how many items this worker finished (carried out, or put back for a retry)."""
    return deliver_due(now, worker=worker, limit=limit, rooms=True)


def _due(rooms: bool = False):
    pending = OutboxItem.objects.filter(state=OutboxState.PENDING)
    room_topic = Q(topic__startswith=ROOM_TOPICS)
    return pending.filter(room_topic if rooms else ~room_topic).order_by("due_at", "id")


def _claim_next(now: datetime, worker: str, rooms: bool = False) -> OutboxItem | None:
    while True:
        due = _due(rooms).filter(due_at__lte=now)
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: pass over the rows other workers are claiming this instant.
            with transaction.atomic():
                candidates = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1])
                claimed = [pk for pk in candidates if _claim(pk, now, worker)]
        else:
            candidates = list(due.values_list("pk", flat=True)[:CANDIDATES])
            claimed = next(([pk] for pk in candidates if _claim(pk, now, worker)), [])
        if claimed:
            return OutboxItem.objects.select_related("organization", "meeting", "recipient", "recipient_guest").get(
                pk=claimed[0]
            )
        if not candidates:
            return None
        # Every candidate went to another worker: look again.


def _claim(pk: int, now: datetime, worker: str) -> bool:
    """The conditional UPDATE that decides who owns the item: only one worker changes the row."""
    return bool(
        OutboxItem.objects.filter(pk=pk, state=OutboxState.PENDING).update(
            state=OutboxState.CLAIMED, claimed_at=now, claimed_by=worker
        )
    )


def _deliver(item: OutboxItem, now: datetime | None, worker: str) -> None:
    from parlour.notifications.messages import compose

    def moment() -> datetime:
        return now or clock.now()

    mine = OutboxItem.objects.filter(pk=item.pk, claimed_by=worker)
    if item.topic.startswith(ROOM_TOPICS):
        _carry_out_room_command(item, mine, moment())
        return
    try:
        if not still_true(item, moment()):
            _end(mine, OutboxState.DROPPED, "no longer true")
            return
        message = compose(item)
        if message is None:
            _end(mine, OutboxState.DROPPED, "nothing to send")
            return
        email = _email(item, message)
        email.message()  # built in full now: an error here is a composing error, nothing was sent
    except Exception as error:
        logger.exception("Outbox item %s: could not compose the message", item.pk)
        _retry_later(item, mine, moment(), error)
        return
    _pause_for_tests()
    try:
        backend = mail.get_connection(fail_silently=False)
        backend.open()
    except Exception as error:
        _retry_later(item, mine, moment(), error)
        return
    try:
        # Committed before the mail is handed over, and only while the claim is still ours.
        if not mine.filter(state=OutboxState.CLAIMED).update(state=OutboxState.SENDING, claimed_at=moment()):
            logger.warning("Outbox item %s: the claim was taken back before sending; not sent", item.pk)
            return
        try:
            backend.send_messages([email])
        except Exception as error:
            if refusal := _refused(error):
                _retry_later(item, mine, moment(), error, permanent=refusal == "permanent")
            else:
                logger.exception("Outbox item %s: unknown whether the mail left", item.pk)
                _end(mine, OutboxState.FAILED, f"{INTERRUPTED}: {_describe(error)}")
            return
    finally:
        _close_quietly(backend)
    sent_at = moment()
    with transaction.atomic():
        # Not conditional on the state: the mail has left, whatever a recovery wrote meanwhile.
        mine.update(state=OutboxState.SENT, delivered_at=sent_at, last_error="")
        if item.recipient_id is not None:
            Notification.objects.create(
                recipient_id=item.recipient_id,
                organization_id=item.organization_id,
                meeting_id=item.meeting_id,
                outbox_item=item,
                topic=item.topic,
                title=Truncator(message.title).chars(200),
                body=message.body,
                link=message.link[:500],
                created_at=sent_at,
            )


def _carry_out_room_command(item: OutboxItem, mine, now: datetime) -> None:
    from parlour.rooms.commands import carry_out

    try:
        carry_out(item, now)
    except Exception as error:
        logger.exception("Outbox item %s: the room command failed", item.pk)
        _retry_later(item, mine, now, error)
        return
    mine.update(state=OutboxState.SENT, delivered_at=now, last_error="")


def _email(item: OutboxItem, message) -> mail.EmailMultiAlternatives:
    to = [message.to] if isinstance(message.to, str) else list(message.to)
    headers = {"Message-ID": f"<parlour.outbox.{item.pk}.{item.created_at:%Y%m%d%H%M%S}@{_mail_domain()}>"}
    if message.language:
        headers["Content-Language"] = message.language
    email = mail.EmailMultiAlternatives(subject=message.subject, body=message.text, to=to, headers=headers)
    if message.html:
        email.attach_alternative(message.html, "text/html")
    for filename, content, mimetype in message.attachments:
        email.attach(filename, content, mimetype)
    return email


def _mail_domain() -> str:
    from urllib.parse import urlparse

    return urlparse(settings.PARLOUR_BASE_URL).hostname or "localhost"


def _refused(error: Exception) -> str | None:
    """Whether the mail server answered that it did not take the mail: "temporary" (4xx, try
    again later), "permanent" (5xx), or None when it is unknown whether the mail left."""
    codes = []
    if isinstance(error, smtplib.SMTPResponseException):
        codes = [error.smtp_code]
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
    if not codes:
        return None
    return "permanent" if all(500 <= code < 600 for code in codes) else "temporary"


def _retry_later(item: OutboxItem, mine, now: datetime, error: Exception, *, permanent: bool = False) -> None:
    attempts = item.attempts + 1
    reason = _describe(error)
    if permanent or attempts >= MAX_ATTEMPTS:
        mine.update(state=OutboxState.FAILED, attempts=attempts, last_error=reason)
        logger.warning("Outbox item %s failed after %s attempts: %s", item.pk, attempts, reason)
        return
    mine.update(
        state=OutboxState.PENDING,
        attempts=attempts,
        last_error=reason,
        due_at=now + BACKOFF[attempts - 1],
        claimed_at=None,
        claimed_by="",
    )
    logger.info("Outbox item %s: attempt %s failed (%s); trying again later", item.pk, attempts, reason)


def _end(mine, state: str, reason: str) -> None:
    mine.update(state=state, last_error=reason)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"mail server answered {error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


def _close_quietly(backend) -> None:
    # After the server took the mail, a failure to say goodbye changes nothing.
    try:
        backend.close()
    except Exception:
        logger.debug("Closing the mail connection failed", exc_info=True)


def _pause_for_tests() -> None:
    if seconds := os.environ.get(TEST_PAUSE_AFTER_CLAIM):
        time.sleep(float(seconds))


# --- still true ----------------------------------------------------------------------------


def still_true(item: OutboxItem, now: datetime) -> bool:
    """Whether the message still says something true (SPEC §9)."""
    from parlour.meetings.models import Outcome, Side, Statement, Status

    meeting = item.meeting
    if item.topic in (Topic.N7, Topic.N8):
        if meeting is None or meeting.status != Status.AGREED:
            return False
        # Late (a worker was down): a reminder after the start, or a link after the end, is
        # news of nothing.
        if now >= (meeting.start if item.topic == Topic.N7 else meeting.end):
            return False
        start = item.payload.get("start")
        return start is None or datetime.fromisoformat(start) == meeting.start
    if item.topic == Topic.N9:
        if meeting is None or meeting.outcome != Outcome.UNDECIDED:
            return False
        return not Statement.objects.filter(meeting=meeting, side=Side.CLIENT).exists()
    if item.topic == Topic.N10:
        from parlour.conversations.domain import still_unread

        return still_unread(item)  # read meanwhile: no longer news
    return True


# --- recovering from dead workers ----------------------------------------------------------


def recover_stale(now: datetime | None = None, lease: timedelta = LEASE) -> dict[str, int]:
    """Claims older than ``lease`` belong to workers that died. One that died after claiming
    sent nothing: its item goes back to pending. One that died while sending may have sent
    it: its item fails and is never sent again (at most once)."""
    cutoff = (now or clock.now()) - lease
    returned = OutboxItem.objects.filter(state=OutboxState.CLAIMED, claimed_at__lt=cutoff).update(
        state=OutboxState.PENDING, claimed_at=None, claimed_by=""
    )
    interrupted = OutboxItem.objects.filter(state=OutboxState.SENDING, claimed_at__lt=cutoff).update(
        state=OutboxState.FAILED, last_error=INTERRUPTED
    )
    if returned or interrupted:
        logger.warning("Outbox: %s stale claims returned, %s interrupted sends failed", returned, interrupted)
    return {"returned": returned, "interrupted": interrupted}


# --- waking a worker -----------------------------------------------------------------------

# Set while a delivery task waits in the queue: many wakes before a worker gets to it make one
# task. It holds the time it was set; one older than WAKE_STALE seconds (its task was lost) is
# set again.
WAKE_KEY = "parlour.outbox.wake"
WAKE_STALE = 60


def wake_on_commit() -> None:
    """Wake a worker once the current transaction commits (once per transaction)."""
    if not any(func is wake for _, func, _ in transaction.get_connection().run_on_commit):
        transaction.on_commit(wake, robust=True)


def wake() -> None:
    """Enqueue an immediate delivery. Never raises: the every-minute run delivers anyway."""
    try:
        from huey.contrib.djhuey import HUEY

        from parlour.tasks import deliver_outbox

        stamp = time.time()
        if not HUEY.put_if_empty(WAKE_KEY, stamp):
            queued = HUEY.get(WAKE_KEY, peek=True)
            if queued is not None and stamp - queued < WAKE_STALE:
                return
            HUEY.put(WAKE_KEY, stamp)
        deliver_outbox()
    except Exception:
        logger.exception("Could not wake a worker; the every-minute run will deliver")


def deliver_woken(*, worker: str, limit: int = 100) -> int:
    """What a woken worker does: let the next wake enqueue again, then deliver. A full batch
    wakes another task for the rest, so a backlog is shared among the workers."""
    from huey.contrib.djhuey import HUEY

    HUEY.delete(WAKE_KEY)
    done = carry_out_room_commands(worker=worker, limit=limit) + deliver_due(worker=worker, limit=limit)
    if done >= limit:
        wake()
    return done
