"""K4: an expert's external calendar over CalDAV (``CalendarConnection``).

- ``connect`` checks the address, user name and password against the server and keeps them
  only when the server accepts them; ``disconnect`` forgets them and the busy times read.
- ``sync_busy`` (the worker, every few minutes, and right after connecting) reads the busy
  events of the organization's booking window and replaces the expert's ``ExternalBusy``
  rows in one transaction: all-day events block whole days in the expert's time zone,
  recurring events count each occurrence, transparent ("free") and cancelled events and
  the events Parlour wrote itself (its meeting UIDs) are left out. A server that fails keeps
  the rows of the last good reading and leaves a message for the expert (``last_error``).
- ``queue_meeting`` (called by the lifecycle wherever a meeting's room is commanded: agreed,
  moved, reassigned, cancelled) marks the meeting's ``ExternalEvent`` pending; ``write_due``
  (the worker) brings the calendars in line with the meeting as it is when it runs: an
  agreed meeting is put into its expert's calendar under the meeting's one UID, anything
  else is taken out, and a calendar that holds it but is no longer the expert's (after a
  reassignment) loses it. PUT and DELETE by UID are idempotent, so running twice is harmless.

No function here raises to the worker: a failure is recorded and tried again later.

**Only public addresses (K4, O3).** The server fetches an address an expert typed, so
``connect`` refuses one that is, or resolves to, this server or a private network's address
(``core.destinations``; ``PARLOUR_ALLOW_PRIVATE_DESTINATIONS`` allows them on premises),
and the client checks again right before every request it makes (the name may resolve
elsewhere since), and follows no redirects: a server that answers with one has failed.
"""

import contextlib
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import caldav
from caldav.lib import error as dav_error
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_noop
from icalendar import Calendar

from parlour.availability.models import ExternalBusy
from parlour.catalog.models import ExpertProfile
from parlour.core import clock, destinations
from parlour.core.errors import DomainError
from parlour.meetings.models import Meeting, Status

from .ics import PRODID, _host, feed_ics, uid_of
from .models import CalendarConnection, ExternalEvent

logger = logging.getLogger(__name__)

TIMEOUT = 20  # seconds for one request to the calendar server
RETRY = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))

# What the expert reads when the server cannot be used; the pages translate these words.
WRONG_LOGIN = "The calendar server did not accept the user name or password."
NOT_FOUND = "No calendar was found at this address."
UNREACHABLE = "The calendar server could not be reached. Check the address."
FAILED = "The calendar server answered with an error."
REFUSED = gettext_noop("Parlour does not call this address: it is this server itself or inside a private network.")
RULE = "K4"


class CalendarUnusable(Exception):
    """The server could not be used; ``str()`` is one of the messages above."""


class GuardedClient(caldav.DAVClient):
    """A CalDAV client that checks each request's address just before sending it and
    follows no redirect (niquests then raises ``TooManyRedirects``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.session.max_redirects = 0

    def request(self, url, *args, **kwargs):
        destinations.check_destination(str(url), RULE)
        return super().request(url, *args, **kwargs)


def client_for(url: str, username: str, password: str) -> caldav.Calendar:
    client = GuardedClient(url=url, username=username or None, password=password or None, timeout=TIMEOUT)
    return client.calendar(url=url)


def _explain(exc: Exception) -> str:
    if isinstance(exc, DomainError):
        return REFUSED if exc.code == "private_destination" else UNREACHABLE
    if isinstance(exc, dav_error.AuthorizationError):
        return WRONG_LOGIN
    if isinstance(exc, dav_error.NotFoundError):
        return NOT_FOUND
    if isinstance(exc, dav_error.DAVError):
        return FAILED
    if isinstance(exc, OSError | ValueError):  # refused, unreachable, timed out, bad address
        return UNREACHABLE
    return FAILED


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
    """Check and keep the expert's calendar (replacing the one they had); an empty password
    for the same address and user keeps the password already kept. An address inside a
    private network is refused (``DomainError``) before anything is asked or kept."""
    destinations.check_destination(url, RULE, unresolved_ok=True)
    current = CalendarConnection.objects.filter(profile=profile).first()
    if not password and current and current.url == url and current.username == username:
        password = current.password
    check(url, username, password)
    with transaction.atomic():
        connection, _ = CalendarConnection.objects.update_or_create(
            profile=profile,
            defaults={"url": url, "username": username, "password": password, "enabled": True, "last_error": ""},
        )
    sync_busy(connection)  # the first reading at once; then the worker's, every few minutes
    _queue_agreed(profile)
    return connection


def disconnect(profile: ExpertProfile) -> bool:
    """Forget the expert's calendar and the busy times read from it. Events already written
    stay in that calendar (Parlour may no longer reach it). Whether there was one."""
    with transaction.atomic():
        deleted, _ = CalendarConnection.objects.filter(profile=profile).delete()
        ExternalBusy.objects.filter(profile=profile).delete()
    return bool(deleted)


# --- busy times ---------------------------------------------------------------------------


def window_of(profile: ExpertProfile, now: datetime) -> tuple[datetime, datetime]:
    days = profile.membership.organization.settings.booking_window_days
    return now, now + timedelta(days=days + 1)


def _moment(value, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    return datetime.combine(value, time(0), zone)


def busy_intervals(calendars: list[Calendar], zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple]:
    """The busy (start, end) in UTC of expanded VEVENTs, cut to [lo, hi), sorted."""
    own = f"@{_host()}"
    found = []
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            uid = str(event.get("UID", ""))
            if uid.startswith("meeting-") and uid.endswith(own):
                continue  # a meeting Parlour wrote: it must not block itself
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if "DTSTART" not in event:
                continue
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
            start, end = max(start.astimezone(UTC), lo), min(end.astimezone(UTC), hi)
            if start < end:
                found.append((start, end))
    return sorted(set(found))


def read_busy(connection: CalendarConnection, lo: datetime, hi: datetime) -> list[tuple]:
    calendar = client_for(connection.url, connection.username, connection.password)
    found = calendar.search(start=lo, end=hi, event=True, expand=True)
    zone = ZoneInfo(connection.profile.time_zone or "UTC")
    return busy_intervals([item.icalendar_instance for item in found], zone, lo, hi)


def sync_busy(connection: CalendarConnection, now: datetime | None = None) -> bool:
    """Replace the expert's busy times by those of the calendar now; whether it worked."""
    now = now or clock.now()
    lo, hi = window_of(connection.profile, now)
    try:
        busy = read_busy(connection, lo, hi)
    except Exception as exc:
        logger.warning("Reading the calendar of profile %s failed: %r", connection.profile_id, exc)
        CalendarConnection.objects.filter(pk=connection.pk).update(last_error=_explain(exc), last_error_at=now)
        return False
    with transaction.atomic():
        ExternalBusy.objects.filter(profile_id=connection.profile_id).delete()
        ExternalBusy.objects.bulk_create(
            ExternalBusy(profile_id=connection.profile_id, start=start, end=end) for start, end in busy
        )
        CalendarConnection.objects.filter(pk=connection.pk).update(synced_at=now, last_error="")
    return True


def sync_all(now: datetime | None = None) -> int:
    """Read every enabled calendar once; how many were read."""
    now = now or clock.now()
    done = 0
    connections = CalendarConnection.objects.filter(enabled=True).select_related(
        "profile__membership__organization__settings_row"
    )
    for connection in connections:
        try:
            done += sync_busy(connection, now)
        except Exception:  # never stop the others
            logger.exception("Calendar sync of profile %s failed", connection.profile_id)
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


def _queue_agreed(profile: ExpertProfile) -> None:
    """After connecting: the expert's coming agreed meetings go into the calendar too."""
    now = clock.now()
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


def _remove(connection: CalendarConnection, uid: str) -> None:
    calendar = client_for(connection.url, connection.username, connection.password)
    with contextlib.suppress(dav_error.NotFoundError):  # already gone
        calendar.event_by_uid(uid).delete()


def bring_in_line(item: ExternalEvent) -> None:
    """One meeting: written where it belongs, taken out where it does not. Raises on failure."""
    meeting = Meeting.objects.select_related("organization", "service", "expert", "client", "guest").get(
        pk=item.meeting_id
    )
    wanted = connection_of(meeting) if meeting.status == Status.AGREED else None
    holder = item.connection
    if holder is not None and (wanted is None or holder.pk != wanted.pk):
        _remove(holder, uid_of(meeting))
        ExternalEvent.objects.filter(pk=item.pk).update(connection=None)
    if wanted is not None:
        calendar = client_for(wanted.url, wanted.username, wanted.password)
        calendar.save_event(ical=event_text(meeting).decode())
        ExternalEvent.objects.filter(pk=item.pk).update(connection=wanted)


def write_due(now: datetime | None = None, *, limit: int = 100) -> int:
    """Bring up to ``limit`` pending meetings into their calendars; how many were done."""
    now = now or clock.now()
    done = 0
    for item in ExternalEvent.objects.filter(pending=True, due_at__lte=now).select_related("connection")[:limit]:
        try:
            bring_in_line(item)
        except Exception as exc:
            logger.warning("Writing meeting %s to a calendar failed: %r", item.meeting_id, exc)
            delay = RETRY[min(item.attempts, len(RETRY) - 1)]
            ExternalEvent.objects.filter(pk=item.pk, due_at=item.due_at).update(
                attempts=F("attempts") + 1, due_at=now + delay, last_error=_explain(exc)
            )
            continue
        # A change queued meanwhile moved due_at: then the item stays pending for another run.
        ExternalEvent.objects.filter(pk=item.pk, due_at=item.due_at).update(pending=False, last_error="")
        done += 1
    return done
