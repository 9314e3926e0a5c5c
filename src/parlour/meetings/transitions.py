"""The parts every lifecycle function shares: locking the meeting, knowing the actor's
side, refusing with the rule's id, writing the timeline and the outbox."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext_lazy

from parlour.accounts.models import Guest, User
from parlour.core.errors import DomainError
from parlour.notifications.delivery import wake_on_commit
from parlour.notifications.models import OutboxItem
from parlour.webhooks.events import queue_deliveries

from .models import Meeting, Side, Status, TimelineEvent

Actor = User | Guest

# The statuses as a refusal names them (D4): the English words are the labels in lower case.
STATUS_IN_SENTENCE = {
    Status.PLANNING: pgettext_lazy("meeting status in a sentence", "planning"),
    Status.AWAITING_APPROVAL: pgettext_lazy("meeting status in a sentence", "awaiting approval"),
    Status.AGREED: pgettext_lazy("meeting status in a sentence", "agreed"),
    Status.REJECTED: pgettext_lazy("meeting status in a sentence", "rejected"),
    Status.CANCELLED: pgettext_lazy("meeting status in a sentence", "cancelled"),
    Status.COMPLETED: pgettext_lazy("meeting status in a sentence", "completed"),
    Status.MISSED: pgettext_lazy("meeting status in a sentence", "missed"),
    Status.FAILED: pgettext_lazy("meeting status in a sentence", "failed"),
}


def lock(meeting: Meeting) -> Meeting:
    """The meeting, fresh from the database and locked for this transaction. It is always
    the first lock a transition takes (STYLE rule 7)."""
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("organization", "service", "expert", "client", "guest")
        .get(pk=meeting.pk)
    )


def side_of(meeting: Meeting, actor: Actor) -> Side | None:
    if isinstance(actor, Guest):
        return Side.CLIENT if meeting.guest_id == actor.pk else None
    if actor.pk == meeting.expert_id:
        return Side.EXPERT
    if meeting.client_id is not None and actor.pk == meeting.client_id:
        return Side.CLIENT
    return None


def refuse(code: str, message: str, rule: str, **kw) -> DomainError:
    return DomainError(code, message, rule, **kw)


def require_side(meeting: Meeting, actor: Actor, allowed: set[Side], rule: str) -> Side:
    side = side_of(meeting, actor)
    if side is None or side not in allowed:
        names = [str(Side(value).label) for value in sorted(s.value for s in allowed)]
        who = names[0] if len(names) == 1 else _("%(first)s or %(second)s") % {"first": names[0], "second": names[1]}
        raise refuse("wrong_side", _("Only the meeting's %(who)s may do this.") % {"who": who}, rule, status=403)
    return side


def require_status(meeting: Meeting, allowed: set[str], rule: str) -> None:
    if meeting.status not in allowed:
        labels = ", ".join(sorted(str(STATUS_IN_SENTENCE[Status(s)]) for s in allowed))
        raise refuse(
            "wrong_state",
            _("This can be done only while the meeting is %(allowed)s; it is %(status)s.")
            % {"allowed": labels, "status": STATUS_IN_SENTENCE[Status(meeting.status)]},
            rule,
            status=409,
        )


def require_before_start(meeting: Meeting, now: datetime, rule: str, *, start: datetime | None = None) -> None:
    """Refuse once the meeting has started, or once ``start`` has come when another date is
    the one at stake (a rejected meeting's pending alternative)."""
    if now >= (start or meeting.start):
        raise refuse(
            "meeting_started", _("The meeting has already started; this can no longer be done."), rule, status=409
        )


def require_future(start: datetime, now: datetime, rule: str) -> None:
    if start <= now:
        raise refuse("in_past", _("Choose a time in the future."), rule)


def require_length(meeting: Meeting, length: int, rule: str) -> None:
    if length not in meeting.service.lengths:
        allowed = ", ".join(str(x) for x in meeting.service.lengths)
        raise refuse(
            "invalid_length", _("This service can be booked for %(lengths)s minutes.") % {"lengths": allowed}, rule
        )


def overlapping_agreed(person: Actor, start: datetime, end: datetime, *, exclude: Meeting | None = None):
    """The agreed meetings of ``person`` that overlap [start, end): a user's as expert or as
    client; a guest's as that guest (one per address and organization, so in its own)."""
    mine = Q(guest=person) if isinstance(person, Guest) else Q(expert=person) | Q(client=person)
    meetings = Meeting.objects.filter(status=Status.AGREED, start__lt=end, end__gt=start).filter(mine)
    if exclude is not None:
        meetings = meetings.exclude(pk=exclude.pk)
    return meetings.order_by("start")


def expert_is_busy(expert: User, start: datetime, end: datetime, *, exclude: Meeting | None = None) -> bool:
    """Whether an agreed meeting or one awaiting approval of the expert overlaps (B1)."""
    meetings = Meeting.objects.filter(
        expert=expert, status__in=(Status.AGREED, Status.AWAITING_APPROVAL), start__lt=end, end__gt=start
    )
    if exclude is not None:
        meetings = meetings.exclude(pk=exclude.pk)
    return meetings.exists()


def on_clock(actor: Actor | None, moment: datetime) -> str:
    """``moment`` as a refusal names it: on the actor's own clock, with the zone's name
    ("2026-11-24 23:00 Europe/Amsterdam"), so that an API caller need not guess it is UTC."""
    name = getattr(actor, "time_zone", "") or "UTC"
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        name, zone = "UTC", ZoneInfo("UTC")
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {name}"


def warn_conflict(
    meeting: Meeting, actor: Actor, start: datetime, end: datetime, acknowledged: bool, rule: str
) -> None:
    """L17: a confirmation that would overlap one of the confirmer's agreed meetings goes
    through only when they confirm again knowing it. A guest is warned of their agreed
    meetings as the same guest."""
    if acknowledged:
        return
    other = overlapping_agreed(actor, start, end, exclude=meeting).first()
    if other is not None:
        raise refuse(
            "conflict_warning",
            _(
                "You already have an agreed meeting at this time (%(service)s, %(start)s). "
                "Confirm again to accept the overlap."
            )
            % {"service": other.service.name, "start": on_clock(actor, other.start)},
            "L17",
            status=409,
            details={"conflicting_meeting": other.pk, "confirms": rule},
        )


def record(
    meeting: Meeting, kind: str, now: datetime, *, side: str = "", actor: Actor | None = None, reason: str = "", **data
) -> TimelineEvent:
    event = TimelineEvent.objects.create(
        meeting=meeting,
        kind=kind,
        side=side,
        actor=actor if isinstance(actor, User) else None,
        actor_guest=actor if isinstance(actor, Guest) else None,
        at=now,
        reason=reason,
        data=_english(data),
    )
    queue_deliveries(event)  # I3: the organization's webhooks, sent after commit
    return event


def _english(data: dict) -> dict:
    """A label given as event data is kept in English, whatever the request's language: the
    pages translate it when they show it (D4)."""
    with override("en"):
        return {key: str(value) if isinstance(value, Promise) else value for key, value in data.items()}


def notify(meeting: Meeting, topic: str, to: Side | User, now: datetime, **payload) -> None:
    """Queue a message for one side of the meeting (or one person), delivered after commit."""
    recipient = guest = None
    if isinstance(to, User):
        recipient = to
    elif to == Side.EXPERT:
        recipient = meeting.expert
    elif meeting.client_id:
        recipient = meeting.client
    else:
        guest = meeting.guest
    OutboxItem.objects.create(
        organization_id=meeting.organization_id,
        topic=topic,
        meeting=meeting,
        recipient=recipient,
        recipient_guest=guest,
        payload={"start": meeting.start.isoformat(), **payload},
        due_at=now,
        created_at=now,
    )
    wake_on_commit()


def command_room(meeting: Meeting, action: str, now: datetime) -> None:
    """V1: create, move or cancel the meeting's room on its video platform, after commit;
    K4: and bring the expert's external calendar in line with the meeting."""
    from parlour.calendars.external import queue_meeting

    queue_meeting(meeting, now)
    OutboxItem.objects.create(
        organization_id=meeting.organization_id,
        topic=f"room.{action}",
        meeting=meeting,
        payload={"start": meeting.start.isoformat(), "end": meeting.end.isoformat()},
        due_at=now,
        created_at=now,
    )
    wake_on_commit()


def save(meeting: Meeting, now: datetime) -> None:
    meeting.updated_at = now
    meeting.save()
