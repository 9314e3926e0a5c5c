"""K4: an expert's external calendar over CalDAV (``CalendarConnection``).

- ``connect`` checks the address, user name and password against the server and keeps them
  only when the server accepts them (switching a disabled calendar back on); ``disconnect``
  first takes the events Parlour wrote out of that calendar, as far as it can within a few
  seconds (``remove_written``), then forgets the calendar and the busy times read.
- ``sync_busy`` (the worker, every few minutes, and right after connecting) reads the busy
  events of the organization's booking window and replaces the expert's ``ExternalBusy``
  rows in one transaction: all-day events block whole days in the expert's time zone,
  recurring events count each occurrence (at most ``MAX_OCCURRENCES`` of one event),
  transparent ("free") and cancelled events and the events Parlour wrote itself (its
  meeting UIDs) are left out, and overlapping or touching times are merged. A server that
  fails keeps the rows of the last good reading and leaves a message for the expert
  (``last_error``); after ``MAX_LOGIN_FAILURES`` readings in a row refused for the user name
  or password the calendar is disabled: neither read nor written until connected again.
- ``queue_meeting`` (called by the lifecycle wherever a meeting's room is commanded: agreed,
  moved, reassigned, cancelled) marks the meeting's ``ExternalEvent`` pending; ``write_due``
  (the worker) brings the calendars in line with the meeting as it is when it runs: an
  agreed meeting is put into its expert's calendar under the meeting's one UID, anything
  else is taken out, and a calendar that holds it but is no longer the expert's (after a
  reassignment) loses it. PUT and DELETE by UID are idempotent, so running twice is harmless.
  A failure is tried again later, until the meeting has ended: then it is given up.

**Claims.** A run reads a calendar, or writes a meeting, only after its conditional UPDATE
claimed the row (``claimed_by``, ``claimed_at``); another run skips a row claimed less than
``LEASE`` ago, and takes over one claimed longer ago (its worker died). A run writes what it
did only while the claim is still its own: connecting again or disconnecting takes it back.

No function here raises to the worker: a failure is recorded and tried again later.

**Only public addresses, over https (K4, O3).** The server fetches an address an expert
typed, so ``connect`` refuses one that is, or resolves to, this server or a private
network's address (``core.destinations``; ``PARLOUR_ALLOW_PRIVATE_DESTINATIONS`` allows them
on premises), and one over plain http, which would send the password readable on the way
(allowed on premises and with ``DEBUG``). The client checks again right before every
request it makes and then connects only to the addresses just checked (DNS rebinding: the
name is not looked up again), checks the certificate against the name, and follows no
redirects: a server that answers with one has failed.
"""

import contextlib
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from time import monotonic
from zoneinfo import ZoneInfo

import caldav
import recurring_ical_events
from caldav.lib import error as dav_error
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_noop
from icalendar import Calendar

from parlour.availability.models import ExternalBusy
from parlour.availability.slots import normalize
from parlour.catalog.models import ExpertProfile
from parlour.core import clock, destinations
from parlour.core.errors import DomainError
from parlour.meetings.models import Meeting, Status

from .caldav_client import INSECURE, RULE, GuardedClient, client_for, require_https  # noqa: F401 (GuardedClient: for tests)
from .ics import PRODID, _host, feed_ics, uid_of
from .models import CalendarConnection, ExternalEvent

logger = logging.getLogger(__name__)

RETRY = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
LEASE = timedelta(minutes=5)  # a claim older than this belongs to a run that died
MAX_LOGIN_FAILURES = 5  # readings refused for the login in a row before the calendar is disabled
MAX_OCCURRENCES = 1000  # occurrences of one recurring event that count in the window
DISCONNECT_TIMEOUT = 5  # seconds for one request when taking Parlour's events out
DISCONNECT_BUDGET = 15  # seconds after which disconnecting stops taking them out

# What the expert reads when the server cannot be used; the pages translate these words.
WRONG_LOGIN = "The calendar server did not accept the user name or password."
NOT_FOUND = "No calendar was found at this address."
UNREACHABLE = "The calendar server could not be reached. Check the address."
FAILED = "The calendar server answered with an error."
REFUSED = gettext_noop("Parlour does not call this address: it is this server itself or inside a private network.")
DISABLED = gettext_noop(
    "The calendar server refused the user name or password several times in a row, so Parlour stopped using "
    "this calendar: it is neither read nor written. Connect it again with the password to turn it back on."
)
ENDED = "Given up: the meeting has ended."


class CalendarUnusable(Exception):
    """The server could not be used; ``str()`` is one of the messages above."""


# --- the client -----------------------------------------------------------------------------


def _explain(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return {"private_destination": REFUSED, "insecure_url": INSECURE}.get(exc.code, UNREACHABLE)
    if isinstance(exc, dav_error.AuthorizationError):
        return WRONG_LOGIN
    if isinstance(exc, dav_error.NotFoundError):
        return NOT_FOUND
    if isinstance(exc, dav_error.DAVError):
        return FAILED
    if isinstance(exc, OSError | ValueError):  # refused, unreachable, timed out, bad address
        return UNREACHABLE
    return FAILED


def run_name() -> str:
    """Who claims: one name per run, unique across workers and machines."""
    return f"{uuid.uuid4().hex[:12]}@{socket.gethostname()}:{os.getpid()}"[:100]


def _claim(rows: QuerySet, now: datetime, run: str) -> bool:
    """Whether ``run`` claimed the row of ``rows`` (free, or its claim's lease ended)."""
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE)
    return bool(rows.filter(free).update(claimed_at=now, claimed_by=run))


# --- connecting -----------------------------------------------------------------------------


def check(url: str, username: str, password: str) -> None:
    """``CalendarUnusable`` unless the address is a calendar the user may read."""
    try:
        calendar = client_for(url, username, password)
        now = clock.now()
        calendar.search(start=now, end=now + timedelta(days=1), event=True)
    except Exception as exc:
        logger.info("Calendar check of %s failed: %r", url, exc)
        raise CalendarUnusable(_explain(exc)) from exc


def connect(profile: ExpertProfile, *, url: str, username: str, password: str) -> CalendarConnection:
    """Check and keep the expert's calendar (replacing the one they had, and switching it on
    if it was disabled); an empty password for the same address and user keeps the password
    already kept. An address inside a private network, or over plain http, is refused
    (``DomainError``) before anything is asked or kept."""
    destinations.check_destination(url, RULE, unresolved_ok=True)
    require_https(url)
    current = CalendarConnection.objects.filter(profile=profile).first()
    if not password and current and current.url == url and current.username == username:
        password = current.password
    check(url, username, password)
    with transaction.atomic():
        connection, _created = CalendarConnection.objects.update_or_create(
            profile=profile,
            defaults={
                "url": url,
                "username": username,
                "password": password,
                "enabled": True,
                "last_error": "",
                "login_failures": 0,
                "claimed_at": None,  # a run still reading with the former login keeps nothing
                "claimed_by": "",
            },
        )
    sync_busy(connection)  # the first reading at once; then the worker's, every few minutes
    _queue_agreed(profile, connection)
    return connection


def disconnect(profile: ExpertProfile, *, budget: float = DISCONNECT_BUDGET) -> bool:
    """Take the events Parlour wrote out of the expert's calendar (best effort, within
    ``budget`` seconds; not from a disabled one), then forget the calendar and the busy
    times read from it. Whether there was one."""
    connection = CalendarConnection.objects.filter(profile=profile).first()
    if connection is not None and connection.enabled:
        remove_written(connection, budget)
    with transaction.atomic():
        deleted, _deleted = CalendarConnection.objects.filter(profile=profile).delete()
        ExternalBusy.objects.filter(profile=profile).delete()
    return bool(deleted)


def remove_written(connection: CalendarConnection, budget: float) -> int:
    """Delete the meetings Parlour wrote into ``connection``'s calendar, the coming ones
    first, through the guarded client with a short timeout; stop at the first failure or
    when ``budget`` seconds have passed. How many went; never raises."""
    deadline = monotonic() + budget
    now = clock.now()
    items = ExternalEvent.objects.filter(connection=connection).select_related("meeting")
    items = sorted(items, key=lambda item: (item.meeting.end <= now, item.meeting.start))
    if not items:
        return 0
    removed = 0
    try:
        calendar = client_for(connection.url, connection.username, connection.password, DISCONNECT_TIMEOUT)
        for item in items:
            if monotonic() >= deadline:
                break
            _delete(calendar, uid_of(item.meeting))
            removed += 1
    except Exception as exc:
        logger.info("Taking meetings out of the calendar of profile %s failed: %r", connection.profile_id, exc)
    if removed < len(items):
        left = len(items) - removed
        logger.info("Disconnecting profile %s: %s meetings left in its calendar", connection.profile_id, left)
    return removed


# --- busy times ---------------------------------------------------------------------------


def window_of(profile: ExpertProfile, now: datetime) -> tuple[datetime, datetime]:
    days = profile.membership.organization.settings.booking_window_days
    return now, now + timedelta(days=days + 1)


def _moment(value, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    return datetime.combine(value, time(0), zone)


def _interval(event, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The busy (start, end) of one occurrence in UTC, or None when it does not block."""
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return None
    if str(event.get("STATUS", "")).upper() == "CANCELLED" or "DTSTART" not in event:
        return None
    raw_start = event["DTSTART"].dt
    start = _moment(raw_start, zone)
    if "DTEND" in event:
        end = _moment(event["DTEND"].dt, zone)
    elif "DURATION" in event:
        end = start + event["DURATION"].dt
    elif isinstance(raw_start, datetime):
        end = start
    else:
        end = _moment(raw_start + timedelta(days=1), zone)  # an all-day event: that day
    return start.astimezone(UTC), end.astimezone(UTC)


def busy_intervals(
    calendars: list[Calendar], zone: ZoneInfo, lo: datetime, hi: datetime, *, cap: int = MAX_OCCURRENCES
) -> list[tuple]:
    """The busy (start, end) in UTC of the VEVENTs, cut to [lo, hi), merged where they
    overlap or touch, sorted. Each calendar (one CalDAV object: an event, its recurrences
    and their exceptions) is expanded here, lazily and in order, to at most ``cap``
    occurrences from a day before the window, so that an event repeating every minute
    costs no more than that."""
    own = f"@{_host()}"
    found = []
    margin = timedelta(days=1)  # floating and all-day times are on the expert's clock
    for calendar in calendars:
        for event in islice(recurring_ical_events.of(calendar).after(lo - margin), cap):
            uid = str(event.get("UID", ""))
            if uid.startswith("meeting-") and uid.endswith(own):
                continue  # a meeting Parlour wrote: it must not block itself
            interval = _interval(event, zone)
            if interval is None:
                continue
            if interval[0] >= hi + margin:
                break  # in order of start: the rest lie past the window
            start, end = max(interval[0], lo), min(interval[1], hi)
            if start < end:
                found.append((start, end))
    return normalize(found)


def read_busy(connection: CalendarConnection, lo: datetime, hi: datetime) -> list[tuple]:
    calendar = client_for(connection.url, connection.username, connection.password)
    found = calendar.search(start=lo, end=hi, event=True)
    zone = ZoneInfo(connection.profile.time_zone or "UTC")
    return busy_intervals([item.icalendar_instance for item in found], zone, lo, hi)


def sync_busy(connection: CalendarConnection, now: datetime | None = None) -> bool:
    """Replace the expert's busy times by those of the calendar now; whether it worked
    (False too when the calendar is disabled or another run is reading it)."""
    now = now or clock.now()
    run = run_name()
    if not _claim(CalendarConnection.objects.filter(pk=connection.pk, enabled=True), now, run):
        return False
    mine = CalendarConnection.objects.filter(pk=connection.pk, claimed_by=run)
    try:
        return _read(mine, now)
    finally:
        mine.update(claimed_at=None, claimed_by="")


def _read(mine: QuerySet, now: datetime) -> bool:
    connection = mine.select_related("profile__membership__organization__settings_row").first()
    if connection is None:
        return False
    lo, hi = window_of(connection.profile, now)
    try:
        busy = read_busy(connection, lo, hi)
    except Exception as exc:
        logger.warning("Reading the calendar of profile %s failed: %r", connection.profile_id, exc)
        _failed(mine, _explain(exc), now, connection.pk)
        return False
    with transaction.atomic():
        if not mine.update(synced_at=now, last_error="", login_failures=0):
            return False  # connected again or disconnected meanwhile: what was read is stale
        ExternalBusy.objects.filter(profile_id=connection.profile_id).delete()
        ExternalBusy.objects.bulk_create(
            ExternalBusy(profile_id=connection.profile_id, start=start, end=end) for start, end in busy
        )
    return True


def _failed(mine: QuerySet, reason: str, now: datetime, pk: int) -> None:
    """Record why the reading failed; the ``MAX_LOGIN_FAILURES``-th refused login in a row
    disables the calendar (the server may lock the account if asked on and on)."""
    failures = F("login_failures") + 1 if reason == WRONG_LOGIN else 0
    mine.update(last_error=reason, last_error_at=now, login_failures=failures)
    if mine.filter(login_failures__gte=MAX_LOGIN_FAILURES).update(enabled=False, last_error=DISABLED):
        logger.warning("Calendar %s disabled after %s refused logins in a row", pk, MAX_LOGIN_FAILURES)


def sync_all(now: datetime | None = None) -> int:
    """Read every enabled calendar no other run is reading, once; how many were read. With
    ``now`` every step happens at that instant (tests); without, each reads the clock."""
    done = 0
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=(now or clock.now()) - LEASE)
    for pk in CalendarConnection.objects.filter(free, enabled=True).values_list("pk", flat=True):
        try:
            done += sync_busy(CalendarConnection(pk=pk), now)
        except Exception:  # never stop the others
            logger.exception("Calendar sync of connection %s failed", pk)
    return done


# --- writing meetings ---------------------------------------------------------------------


def connection_of(meeting: Meeting) -> CalendarConnection | None:
    return CalendarConnection.objects.filter(
        enabled=True,
        profile__membership__user_id=meeting.expert_id,
        profile__membership__organization_id=meeting.organization_id,
    ).first()


def queue_meeting(meeting: Meeting, now: datetime) -> None:
    """Bring the calendars in line with ``meeting`` after this transaction; costs one query
    when neither the expert has a calendar nor one holds the meeting."""
    if ExternalEvent.objects.filter(meeting=meeting).update(pending=True, due_at=now, attempts=0):
        return
    if connection_of(meeting) is not None:
        ExternalEvent.objects.create(meeting=meeting, pending=True, due_at=now)


def _queue_agreed(profile: ExpertProfile, connection: CalendarConnection) -> None:
    """After connecting: the expert's coming agreed meetings go into the calendar too, and
    those it holds (left alone while it was disabled) are brought in line."""
    now = clock.now()
    ExternalEvent.objects.filter(connection=connection).update(pending=True, due_at=now, attempts=0)
    for meeting in Meeting.objects.filter(
        expert_id=profile.membership.user_id,
        organization_id=profile.membership.organization_id,
        status=Status.AGREED,
        end__gt=now,
    ):
        queue_meeting(meeting, now)


def event_text(meeting: Meeting) -> bytes:
    """The meeting as the expert's feed shows it (UID, SEQUENCE, summary in their language,
    no guest key), as a calendar object of its own: no METHOD, and no organizer or attendees,
    so that a server doing scheduling does not send invitations of its own."""
    source = Calendar.from_ical(feed_ics(meeting.expert, [meeting]))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    for event in source.walk("VEVENT"):
        for name in ("ORGANIZER", "ATTENDEE"):
            event.pop(name, None)
        calendar.add_component(event)
    return calendar.to_ical()


def _delete(calendar: caldav.Calendar, uid: str) -> None:
    with contextlib.suppress(dav_error.NotFoundError):  # already gone
        calendar.event_by_uid(uid).delete()


def bring_in_line(item: ExternalEvent) -> None:
    """One meeting (claimed by ``item.claimed_by``): written where it belongs, taken out
    where it does not; a disabled calendar is left as it is. Raises on failure."""
    meeting = Meeting.objects.select_related("organization", "service", "expert", "client", "guest").get(
        pk=item.meeting_id
    )
    mine = ExternalEvent.objects.filter(pk=item.pk, claimed_by=item.claimed_by)
    wanted = connection_of(meeting) if meeting.status == Status.AGREED else None
    holder = item.connection
    if holder is not None and holder.enabled and (wanted is None or holder.pk != wanted.pk):
        _delete(client_for(holder.url, holder.username, holder.password), uid_of(meeting))
        mine.update(connection=None)
    if wanted is not None:
        calendar = client_for(wanted.url, wanted.username, wanted.password)
        calendar.save_event(ical=event_text(meeting).decode())
        mine.update(connection=wanted)


def write_due(now: datetime | None = None, *, limit: int = 100) -> int:
    """Bring up to ``limit`` pending meetings no other run holds into their calendars; how
    many were done. With ``now`` every step happens at that instant (tests)."""
    moment = now or clock.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=moment - LEASE)
    due = ExternalEvent.objects.filter(free, pending=True, due_at__lte=moment).order_by("due_at", "pk")
    done = 0
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        at, run = now or clock.now(), run_name()
        if not _claim(ExternalEvent.objects.filter(pk=pk, pending=True), at, run):
            continue  # another run took it meanwhile
        mine = ExternalEvent.objects.filter(pk=pk, claimed_by=run)
        item = mine.select_related("connection", "meeting").first()
        try:
            if item is not None:
                done += _write(item, mine, at)
        finally:
            mine.update(claimed_at=None, claimed_by="")
    return done


def _write(item: ExternalEvent, mine: QuerySet, now: datetime) -> bool:
    # Conditional on due_at: a change queued meanwhile leaves the item pending for another run.
    unchanged = mine.filter(due_at=item.due_at)
    try:
        bring_in_line(item)
    except Exception as exc:
        reason = _explain(exc)
        if item.meeting.end <= now:  # nothing useful to write into the past
            logger.warning("Writing meeting %s to a calendar given up: %r", item.meeting_id, exc)
            unchanged.update(pending=False, attempts=F("attempts") + 1, last_error=f"{ENDED} {reason}")
            return False
        logger.warning("Writing meeting %s to a calendar failed: %r", item.meeting_id, exc)
        delay = RETRY[min(item.attempts, len(RETRY) - 1)]
        unchanged.update(attempts=F("attempts") + 1, due_at=now + delay, last_error=reason)
        return False
    unchanged.update(pending=False, last_error="")
    return True
