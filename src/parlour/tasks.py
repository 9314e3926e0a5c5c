"""Background work, run by ``parlour worker`` (Huey): thin wrappers that call the domain.

- ``deliver_outbox``: enqueued by ``notifications.delivery.wake`` after a commit that wrote
  outbox rows, so messages leave at once;
- ``every_minute``: gives back claims of dead workers, does the time-driven work (lapsing,
  closing, settling, reminders) and delivers whatever is due, so nothing depends on a wake;
- ``deliver_webhooks``: enqueued after a commit that queued webhook deliveries (I3); the
  every-minute run sends those due for another attempt.

Every worker process's scheduler enqueues ``every_minute``; with several it runs several
times a minute, which is safe (each step claims or locks what it changes) and can be avoided
with ``parlour worker --no-periodic`` on all but one.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from parlour.core import clock
from parlour.notifications import delivery
from parlour.webhooks import delivery as webhooks

logger = logging.getLogger(__name__)


@db_task()
def deliver_outbox() -> int:
    return delivery.deliver_woken(worker=delivery.worker_name())


@db_task()
def deliver_webhooks() -> int:
    return webhooks.deliver_due()


@db_periodic_task(crontab())
def every_minute() -> None:
    now = clock.now()
    # One step failing (and logged) does not keep the others from running.
    for step in (delivery.recover_stale, webhooks.recover_stale, _run_due_work, _deliver, _deliver_webhooks):
        try:
            step(now)
        except Exception:
            logger.exception("Every-minute work failed: %s", step.__name__)


def _run_due_work(now) -> None:
    from parlour.meetings.due import run_due_work

    if done := {name: count for name, count in run_due_work(now).items() if count}:
        logger.info("Due work: %s", done)


def _deliver(now) -> None:
    delivery.deliver_woken(worker=delivery.worker_name())


def _deliver_webhooks(now) -> None:
    webhooks.deliver_due()


# K4: external calendars. Their busy times are read every five minutes (and right after
# connecting), and meetings are written into them within a minute of a change.


@db_task()
def sync_calendar(connection_id: int) -> bool:
    from parlour.calendars import external
    from parlour.calendars.models import CalendarConnection

    connection = CalendarConnection.objects.filter(pk=connection_id, enabled=True).first()
    return connection is not None and external.sync_busy(connection)


@db_periodic_task(crontab(minute="*/5"))
def sync_calendars() -> int:
    from parlour.calendars import external

    return external.sync_all()


@db_periodic_task(crontab())
def write_calendars() -> int:
    from parlour.calendars import external

    return external.write_due()
