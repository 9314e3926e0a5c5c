"""Meetings as iCalendar (K1–K3, RFC 5545 and its scheduling rules, RFC 5546).

A meeting is one VEVENT with one UID for its whole life (``uid_of``) and a SEQUENCE that
rises with every change a calendar shows (``sequence_of``), so that a mail program or a
subscribed calendar updates the event it already has instead of adding another one:

- ``event_ics`` — one meeting, for a download (``PUBLISH``) or attached to a message
  (``REQUEST`` for an invitation or an update, ``CANCEL`` for a cancellation);
- ``feed_ics`` — a person's calendar feed (K3), one VEVENT per meeting.

Times are written in UTC (``…Z``), so no VTIMEZONE is needed and every program shows them
in its own zone. Replies go through Parlour, not by mail: attendees carry ``RSVP=FALSE``.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from icalendar import Calendar, Event, vCalAddress

from parlour.accounts.models import User
from parlour.core import clock
from parlour.meetings.models import EventKind, Meeting, Status, TimelineEvent

PRODID = "-//Parlour//Parlour meetings//EN"
DEFAULT_HOST = "parlour.localhost"
METHODS = ("PUBLISH", "REQUEST", "CANCEL")
FEED_NAME = gettext_noop("Parlour meetings")

# K2: what each timeline event adds to a meeting's SEQUENCE. Every transition that changes
# what a calendar shows counts once:
#
# - APPROVED: the other side's confirmation (L2, L5) turns TENTATIVE into CONFIRMED, and
#   a picked time option (B4, recorded as OPTION_PICKED + APPROVED) fixes date and status;
# - ALTERNATIVE_APPROVED (L12) and CHANGED (L16): a new date or length;
# - REASSIGNED (L15): another organizer;
# - REJECTED (L3, L6), CANCELLED (L1, L4, L7–L9), LAPSED (L18): the event goes away.
#
# BOOKED, PROPOSED and ALTERNATIVE_PROPOSED are always written together with the proposer's
# own APPROVED, which changes nothing shown (a new meeting starts at 0; an agreed meeting
# keeps its date while an alternative waits, L10): they weigh -1 to net that APPROVED off,
# so that the whole rule is one sum over the timeline, in SQL. Every lifecycle transaction
# thus adds 0 or 1, and the SEQUENCE never falls. Everything else (alternatives rejected or
# withdrawn, entries, closing, statements, settlement) changes nothing shown and weighs 0.
SEQUENCE_WEIGHTS: dict[str, int] = {
    EventKind.APPROVED: 1,
    EventKind.BOOKED: -1,
    EventKind.PROPOSED: -1,
    EventKind.ALTERNATIVE_PROPOSED: -1,
    EventKind.ALTERNATIVE_APPROVED: 1,
    EventKind.CHANGED: 1,
    EventKind.REASSIGNED: 1,
    EventKind.REJECTED: 1,
    EventKind.CANCELLED: 1,
    EventKind.LAPSED: 1,
}

# What STATUS a meeting shows. Ended meetings (completed, missed, failed) did take that time.
_TENTATIVE = {Status.PLANNING, Status.AWAITING_APPROVAL}
_CANCELLED = {Status.CANCELLED, Status.REJECTED}

# The name of the annotation ``feed_ics`` puts on a queryset's rows; ``sequence_of`` reads it.
_SEQUENCE_ATTR = "ics_sequence"


def _weighted_events():
    return Sum(
        Case(
            *(When(kind=kind, then=Value(weight)) for kind, weight in SEQUENCE_WEIGHTS.items()),
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def sequence_of(meeting: Meeting) -> int:
    """K2: the meeting's SEQUENCE, derived from its timeline (no counter is stored): 0 when
    it is made, +1 for each event that changes what a calendar shows — the other side's
    confirmation (L2, L5) or a picked time option (B4), an approved alternative date (L12), a
    direct change (L16), a reassignment (L15), a rejection (L3, L6), a cancellation (L1, L4,
    L7–L9) and a lapse (L18). See ``SEQUENCE_WEIGHTS`` for the exact rule.

    It rises strictly across booked → rescheduled → reassigned → cancelled, and a message
    built later never carries a lower number than one built before it. One query, unless the
    meeting came from a queryset annotated by ``feed_ics``."""
    annotated = getattr(meeting, _SEQUENCE_ATTR, None)
    if annotated is not None:
        return max(int(annotated), 0)
    total = TimelineEvent.objects.filter(meeting=meeting).aggregate(n=_weighted_events())["n"]
    return max(int(total or 0), 0)


def _with_sequences(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """The rows with their SEQUENCE computed by the database, in the same query."""
    events = (
        TimelineEvent.objects.filter(meeting=OuterRef("pk"))
        .order_by()
        .values("meeting")
        .annotate(n=_weighted_events())
        .values("n")
    )
    return meetings.annotate(**{_SEQUENCE_ATTR: Coalesce(Subquery(events, output_field=IntegerField()), 0)})


def _base_url() -> str:
    base = getattr(settings, "PARLOUR_BASE_URL", "") or f"http://{DEFAULT_HOST}"
    if "://" not in base:
        base = f"https://{base}"
    return base.rstrip("/")


def _host() -> str:
    return urlsplit(_base_url()).hostname or DEFAULT_HOST


def uid_of(meeting: Meeting) -> str:
    """K2: the one UID of a meeting, ``meeting-<id>@<host of PARLOUR_BASE_URL>``, the same for
    every message, download and feed through the meeting's life."""
    return f"meeting-{meeting.pk}@{_host()}"


def _meeting_url(meeting: Meeting) -> str:
    """The meeting's page, as the mails link to it (a member signs in to open it)."""
    return f"{_base_url()}/o/{meeting.organization.slug}/meetings/{meeting.pk}/"


def _join_url(meeting: Meeting) -> str:
    return f"{_base_url()}/meetings/{meeting.pk}/join/"


def _status(meeting: Meeting, method: str) -> str:
    if method == "CANCEL" or meeting.status in _CANCELLED:
        return "CANCELLED"
    if meeting.status in _TENTATIVE:
        return "TENTATIVE"
    return "CONFIRMED"


def _partstat(approved: bool, meeting: Meeting) -> str:
    if approved:
        return "ACCEPTED"
    return "DECLINED" if meeting.status == Status.REJECTED else "NEEDS-ACTION"


def _parties(meeting: Meeting) -> list[vCalAddress]:
    """The client (or guest) and the expert, with their names and answers."""
    people = [
        (meeting.client_email, meeting.client_name, meeting.client_approved),
        (meeting.expert.email, meeting.expert.name, meeting.expert_approved),
    ]
    return [
        vCalAddress.new(
            email,
            cn=name,
            cutype="INDIVIDUAL",
            role="REQ-PARTICIPANT",
            partstat=_partstat(approved, meeting),
            rsvp=False,
        )
        for email, name, approved in people
        if email
    ]


def _attendees(meeting: Meeting, emails: list[str] | None) -> list[vCalAddress]:
    parties = _parties(meeting)
    if emails is None:
        return parties
    known = {address.email.lower(): address for address in parties}
    chosen: dict[str, vCalAddress] = {}
    for email in (e.strip() for e in emails if e and e.strip()):
        if email.lower() not in chosen:
            chosen[email.lower()] = known.get(email.lower()) or vCalAddress.new(email, cutype="INDIVIDUAL", rsvp=False)
    return list(chosen.values())


def _description(meeting: Meeting, *, with_guest_key: bool) -> str:
    lines = []
    if meeting.subject:
        lines.append(meeting.subject)
    if meeting.description:
        lines.append(meeting.description)
    if lines:
        lines.append("")
    client_word = _("Guest") if meeting.is_guest_meeting else _("Client")
    lines += [
        _("Service") + ": " + meeting.service.name,
        _("Expert") + ": " + meeting.expert.name,
        f"{client_word}: {meeting.client_name}",
        _("Status") + ": " + meeting.get_status_display(),
    ]
    if meeting.status == Status.PLANNING:
        lines.append(_("The time is not fixed yet: pick one of the times offered in Parlour."))
    lines.append(_("Join") + ": " + _join_url(meeting))
    if with_guest_key and meeting.is_guest_meeting:
        lines.append(_("Guest key") + ": " + meeting.guest_key)
    lines.append(_("Meeting") + ": " + _meeting_url(meeting))
    return "\n".join(lines)


def _event(meeting: Meeting, *, summary: str, method: str, attendees, stamp: datetime, with_guest_key: bool) -> Event:
    return Event.new(
        uid=uid_of(meeting),
        sequence=sequence_of(meeting),
        stamp=stamp,
        created=meeting.created_at.astimezone(UTC),
        last_modified=meeting.updated_at.astimezone(UTC),
        start=meeting.start.astimezone(UTC),
        end=meeting.end.astimezone(UTC),
        summary=summary,
        description=_description(meeting, with_guest_key=with_guest_key),
        organizer=vCalAddress.new(meeting.expert.email, cn=meeting.expert.name),
        attendees=attendees,
        status=_status(meeting, method),
        location=_join_url(meeting),
        url=_meeting_url(meeting),
    )


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def event_ics(meeting: Meeting, *, method: str = "PUBLISH", attendee_emails: list[str] | None = None) -> bytes:
    """K1, K2: one meeting as a VCALENDAR with one VEVENT.

    ``method`` is ``PUBLISH`` for a download ("add to calendar"), ``REQUEST`` for an
    invitation or an update (the same UID with a higher SEQUENCE moves the event), or
    ``CANCEL`` for a cancellation (STATUS:CANCELLED: the program removes the event).

    The organizer is the expert; the attendees are the client (or guest) and the expert,
    with their names and answers. ``attendee_emails`` replaces that list with the addresses
    given — e.g. the previous expert alone in the CANCEL they get after a reassignment (L15);
    an address of one of the parties keeps its name and answer.

    One invitation is the same event for everyone who gets it, so the SUMMARY names the
    service, the expert and the client or guest ("Expert advice: Eve Expert with Gus Guest")
    rather than each reader's other party. The DESCRIPTION has the subject, the description,
    the join page and, for a guest's meeting, the guest key (B5: sent in the guest's emails).
    Makes one query (the SEQUENCE) besides what ``meeting`` already holds."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    calendar = _calendar(method)
    summary = _("%(service)s: %(expert)s with %(client)s") % {
        "service": meeting.service.name,
        "expert": meeting.expert.name,
        "client": meeting.client_name,
    }
    calendar.add_component(
        _event(
            meeting,
            summary=summary,
            method=method,
            attendees=_attendees(meeting, attendee_emails),
            stamp=clock.now(),
            with_guest_key=True,
        )
    )
    return calendar.to_ical()


def feed_ics(user: User, meetings: Iterable[Meeting]) -> bytes:
    """K3: ``user``'s calendar feed: one VEVENT per meeting, with the same UID and SEQUENCE
    as the invitations, so a program that has both keeps one event. The SUMMARY names the
    service and the other party as ``user`` sees it. Cancelled and rejected meetings are
    STATUS:CANCELLED, so subscribed calendars take them away. No guest keys: a feed address
    is easily shared, and the person (an expert or a client) does not need one to enter.

    Pass a queryset (with ``service``, ``expert``, ``client`` and ``guest`` selected): its
    rows and their SEQUENCEs are then read in one query, however many there are."""
    if isinstance(meetings, QuerySet):
        meetings = _with_sequences(meetings)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return _feed(user, meetings)


def _feed(user: User, meetings: Iterable[Meeting]) -> bytes:
    calendar = _calendar(None)
    calendar.add("x-wr-calname", _(FEED_NAME))
    calendar.add("x-wr-caldesc", _("Meetings of %(name)s in Parlour") % {"name": user.name})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    stamp = clock.now()
    for meeting in meetings:
        other = meeting.client_name if meeting.expert_id == user.pk else meeting.expert.name
        calendar.add_component(
            _event(
                meeting,
                summary=_("%(service)s with %(other)s") % {"service": meeting.service.name, "other": other},
                method="PUBLISH",
                attendees=_parties(meeting),
                stamp=stamp,
                with_guest_key=False,
            )
        )
    return calendar.to_ical()
