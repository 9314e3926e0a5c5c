"""Sending webhook deliveries (I3): a worker claims each due delivery, signs it and POSTs it.

A delivery moves ``pending → sending → delivered``, or ends ``failed`` after the last attempt.

**At least once** (unlike mail, which is at most once): a receiver that answered 2xx within
the try's deadline got it; anything else — no status line and headers within
``transport.DEADLINE`` (10 s for the whole try), a refused connection, a redirect (never
followed), any other status, an address that now resolves inside a private network (then
nothing is sent: it is checked right before every attempt and the connection goes to the
addresses checked, ``core.destinations``; how one try is made, pinned and without the
environment's proxies: ``transport``) — is tried again later with the same event id and
the same body, after 1 min, 5 min, 30 min, 2 h and 6 h; after the sixth failed attempt the
delivery has ``failed``. A receiver may therefore see one event more than once (a 2xx lost
on the way back, a worker dying after sending) and must deduplicate by ``Parlour-Event-Id``.

**Claims.** A worker owns a delivery only when its conditional UPDATE (``state=pending`` →
``sending``, naming the worker) changed the row, so two workers never send one delivery at
the same time. A claim older than ``LEASE`` (two minutes, far longer than a try's deadline)
belongs to a worker that died: ``recover_stale`` puts it back to pending, to be sent again
(at least once). A slow worker whose claim was taken back writes its outcome only while the
claim is still its own.

Call ``deliver_due`` outside any transaction: each step commits on its own."""

import json
import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F

from parlour.core import clock, destinations
from parlour.core.errors import DomainError

from .models import Delivery, DeliveryState
from .signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header
from .transport import outgoing_proxy, post

logger = logging.getLogger(__name__)

BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)
USER_AGENT = "Parlour-Webhooks/1"
CANDIDATES = 20


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:100]


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- delivering ----------------------------------------------------------------------------


def deliver_due(now: datetime | None = None, *, worker: str | None = None, limit: int = 100) -> int:
    """Send up to ``limit`` due deliveries, one claimed at a time; return how many were
    finished (delivered, failed, or put back for a later attempt). With ``now`` every step
    happens at that instant (tests); without, each reads the clock."""
    worker = worker or worker_name()
    done = 0
    while done < limit:
        delivery = _claim_next(now or clock.now(), worker)
        if delivery is None:
            break
        try:
            _send(delivery, now, worker)
        except Exception:
            logger.exception("Webhook delivery %s: broke off; recovery puts it back", delivery.pk)
        done += 1
    return done


def _claim_next(now: datetime, worker: str) -> Delivery | None:
    due = Delivery.objects.filter(state=DeliveryState.PENDING, next_try_at__lte=now).order_by("next_try_at", "id")
    while True:
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                candidates = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:1])
                claimed = [pk for pk in candidates if _claim(pk, now, worker)]
        else:
            candidates = list(due.values_list("pk", flat=True)[:CANDIDATES])
            claimed = next(([pk] for pk in candidates if _claim(pk, now, worker)), [])
        if claimed:
            return Delivery.objects.select_related("endpoint").get(pk=claimed[0])
        if not candidates:
            return None


def _claim(pk: int, now: datetime, worker: str) -> bool:
    return bool(
        Delivery.objects.filter(pk=pk, state=DeliveryState.PENDING).update(
            state=DeliveryState.SENDING, claimed_at=now, claimed_by=worker
        )
    )


def _send(delivery: Delivery, now: datetime | None, worker: str) -> None:
    endpoint = delivery.endpoint
    mine = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING, claimed_by=worker)
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_ID_HEADER: delivery.event_id,
        SIGNATURE_HEADER: signature_header(endpoint.secret, int(time.time()), body),
    }
    status, error = None, ""
    try:
        # Through an egress proxy a name this machine cannot resolve is the proxy's to resolve
        # (and the proxy's to refuse when it is private): ``transport``.
        addresses = destinations.check_destination(endpoint.url, "I3", unresolved_ok=outgoing_proxy() is not None)
        status = post(endpoint.url, body, headers, addresses)
    except DomainError as refusal:  # I3: the address resolves inside a private network now
        error = f"not sent: {refusal.message}"[:500]
    except Exception as failure:  # refused, timed out, name not found, TLS …
        error = f"{type(failure).__name__}: {failure}"[:500]
    moment = now or clock.now()
    if status is not None and 200 <= status < 300:
        mine.update(
            state=DeliveryState.DELIVERED,
            attempts=delivery.attempts + 1,
            last_status=status,
            last_error="",
            delivered_at=moment,
            claimed_by="",
        )
        return
    if status is not None:
        error = f"the receiver answered {status}"
    _retry_later(delivery, mine, moment, status, error)


def _retry_later(delivery: Delivery, mine, now: datetime, status: int | None, error: str) -> None:
    attempts = delivery.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        mine.update(state=DeliveryState.FAILED, attempts=attempts, last_status=status, last_error=error, claimed_by="")
        logger.warning("Webhook delivery %s failed after %s attempts: %s", delivery.pk, attempts, error)
        return
    mine.update(
        state=DeliveryState.PENDING,
        attempts=attempts,
        last_status=status,
        last_error=error,
        next_try_at=now + BACKOFF[attempts - 1],
        claimed_at=None,
        claimed_by="",
    )
    logger.info("Webhook delivery %s: attempt %s failed (%s); trying again later", delivery.pk, attempts, error)


# --- recovering from dead workers ----------------------------------------------------------


def recover_stale(now: datetime | None = None, lease: timedelta = LEASE) -> int:
    """Claims older than ``lease`` belong to workers that died (or hang): back to pending, to
    be sent (again) at once — a receiver deduplicates by the event id. The interrupted try
    counts as an attempt, so a receiver that holds every try open until the lease runs out
    is given up after ``MAX_ATTEMPTS`` like one that refuses."""
    cutoff = (now or clock.now()) - lease
    stale = Delivery.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=cutoff)
    given_up = stale.filter(attempts__gte=MAX_ATTEMPTS - 1).update(
        state=DeliveryState.FAILED,
        attempts=F("attempts") + 1,
        claimed_at=None,
        claimed_by="",
        last_error="interrupted on every attempt; given up",
    )
    returned = stale.update(
        state=DeliveryState.PENDING,
        attempts=F("attempts") + 1,
        claimed_at=None,
        claimed_by="",
        last_error="delivery interrupted; sent again",
    )
    if given_up:
        logger.warning("Webhooks: %s deliveries interrupted on every attempt, given up", given_up)
    if returned:
        logger.warning("Webhooks: %s stale claims returned", returned)
    return returned


# --- waking a worker -----------------------------------------------------------------------


def wake() -> None:
    """Enqueue an immediate delivery after a commit. Never raises: the every-minute run
    delivers anyway."""
    try:
        from parlour.tasks import deliver_webhooks

        deliver_webhooks()
    except Exception:
        logger.exception("Could not wake a worker for webhooks; the every-minute run will deliver")
