"""Work that comes due with time (SPEC L18, V5, S3, N7–N9), without anyone opening a page.

``run_due_work(now)`` is what the worker calls every minute. For each kind it finds what is
due with indexed range queries on the meeting's status and start or end, and does it through
the domain: ``lifecycle.lapse_meeting`` (L18), ``outcome.close_meeting`` (V5) and
``outcome.settle_unstated`` (S3). For N7–N9 it writes reminder rows to the outbox (STYLE rule 3).

- Each meeting is done in a transaction of its own (the domain functions open theirs), so
  one that fails is logged and counted, and the others still go through.
- Doing it again does nothing new. The domain functions check the rule again under the
  meeting's lock. A reminder's ``key`` names its recipient and the start it reminds of, and
  the outbox allows one row per (meeting, topic, key). Two workers running at once therefore
  write each reminder once. A meeting moved after its reminder gets a new one for its new
  start; delivery drops the old one, which is no longer true.
- The time settings (O5) belong to each organization. Every combination of settings in use
  gets its own range query, one per kind, restricted to the organizations that have that
  combination. Organizations without a settings row use the defaults. So the number of
  queries grows with the combinations in use, never with the number of meetings.
- What a query reads is bounded by time, never by the history: L18 and V5 read what is
  overdue, which doing it removes; N7 and N8 read the agreed meetings inside the reminder
  window; N9 reads the meetings that ended between the reminder and the deadline; S3 reads
  a band of ``catch_up`` before the deadline. The exception is the rejected meetings'
  alternatives (L18), found through the pending alternatives: their partial unique index.
"""

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from parlour.accounts.models import OrganizationSettings
from parlour.notifications.models import OutboxItem, Topic

from . import lifecycle, outcome
from .models import Alternative, AlternativeState, Meeting, Outcome, Side, Statement, Status

logger = logging.getLogger(__name__)

# The statuses in which a meeting can still be settled from attendance (S3), as
# ``outcome.settle_unstated`` has them.
SETTLEABLE = (Status.AGREED, Status.COMPLETED, Status.MISSED, Status.FAILED)
UNANSWERED = (Status.AWAITING_APPROVAL, Status.PLANNING)

# S3 looks this far back past each organization's evaluation deadline. A settled meeting
# keeps its status, so without a lower bound the query would read every meeting ever held.
# A worker stopped for longer than this leaves older meetings unsettled until a run with a
# larger ``catch_up`` (see run_due_work).
CATCH_UP = timedelta(days=7)

TIMING = (
    "reminder_hours_before",
    "link_minutes_before",
    "evaluation_reminder_hours_after",
    "evaluation_deadline_hours",
)

KINDS = ("L18", "V5", "S3", "N7", "N8", "N9")


def run_due_work(now: datetime, *, catch_up: timedelta = CATCH_UP) -> dict[str, int]:
    """Do everything that is due at ``now``. Returns counts per kind:

    - ``L18``, ``V5``, ``S3``: the meetings handed to the domain function, which returned
      without an error. If two workers run at once, both may count a meeting, but only one
      of them changes it;
    - ``N7``, ``N8``, ``N9``: the reminder rows this run wrote to the outbox;
    - ``failed``: the meetings (or whole kinds, if a query failed) that raised an error.
      Each one is logged with its traceback.
    """
    if now.tzinfo is None:
        raise ValueError("run_due_work needs an aware datetime (UTC).")
    done = dict.fromkeys((*KINDS, "failed"), 0)
    combinations = set(OrganizationSettings.objects.values_list(*TIMING).distinct())
    steps: list[tuple[str, Callable[[], None]]] = [
        ("L18", lambda: _lapse(now, done)),
        ("V5", lambda: _close(now, done)),
        ("S3", lambda: _settle(now, combinations, catch_up, done)),
        ("N7", lambda: _remind(now, combinations, done)),
        ("N8", lambda: _send_links(now, combinations, done)),
        ("N9", lambda: _ask_for_evaluation(now, combinations, done)),
    ]
    for kind, step in steps:
        try:
            step()
        except Exception:
            logger.exception("%s: finding what is due failed", kind)
            done["failed"] += 1
    return done


# --- L18, V5, S3: transitions through the domain ---------------------------------------


def _lapse(now: datetime, done: dict[str, int]) -> None:
    """L18: requests, proposals and time options unanswered at their start. A rejected
    meeting's pending alternative lapses at the alternative's start: ``lapse_meeting`` drops
    it and returns what was held for it. Those meetings are found through the pending
    alternatives whose start has passed, not through every rejected meeting."""
    unanswered = Meeting.objects.filter(status__in=UNANSWERED, start__lte=now)
    ids = list(unanswered.order_by("start", "pk").values_list("pk", flat=True))
    # Two steps rather than a join: joined, SQLite reads every rejected meeting first.
    passed = Alternative.objects.filter(state=AlternativeState.PENDING, start__lte=now)
    if alternatives := list(passed.order_by().values_list("meeting_id", flat=True)):
        rejected = Meeting.objects.filter(pk__in=alternatives, status=Status.REJECTED)
        ids += rejected.order_by("pk").values_list("pk", flat=True)
    _each("L18", dict.fromkeys(ids), lambda meeting: lifecycle.lapse_meeting(meeting, now=now), done)


def _close(now: datetime, done: dict[str, int]) -> None:
    """V5: agreed meetings whose end has passed."""
    ids = Meeting.objects.filter(status=Status.AGREED, end__lte=now).order_by("end", "pk").values_list("pk", flat=True)
    _each("V5", list(ids), lambda meeting: outcome.close_meeting(meeting, now=now), done)


def _settle(now: datetime, combinations: set[tuple], catch_up: timedelta, done: dict[str, int]) -> None:
    """S3: undecided meetings whose end is at least the evaluation deadline ago, looking
    back ``catch_up`` beyond it."""
    for values, organizations in _groups(combinations, ("evaluation_deadline_hours",)):
        deadline = now - timedelta(hours=values["evaluation_deadline_hours"])
        undecided = Meeting.objects.filter(
            organizations,
            status__in=SETTLEABLE,
            end__gt=deadline - catch_up,
            end__lte=deadline,
            outcome=Outcome.UNDECIDED,
        )
        ids = list(undecided.order_by("end", "pk").values_list("pk", flat=True))
        _each("S3", ids, lambda meeting: outcome.settle_unstated(meeting, now=now), done)


def _each(kind: str, ids: Iterable[int], action: Callable[[Meeting], object], done: dict[str, int]) -> None:
    for pk in ids:
        try:
            # The domain function locks and reads the meeting itself; the key is all it needs.
            action(Meeting(pk=pk))
        except Exception:
            logger.exception("%s: meeting %s failed", kind, pk)
            done["failed"] += 1
        else:
            done[kind] += 1


# --- N7, N8, N9: reminders written to the outbox ---------------------------------------

REMINDER_FIELDS = ("pk", "organization_id", "start", "end", "expert_id", "client_id", "guest_id")
CHUNK = 500  # meetings whose outbox keys are read in one query


def _remind(now: datetime, combinations: set[tuple], done: dict[str, int]) -> None:
    """N7: the reminder, to both sides, once its time before the start has come and while
    the start is still ahead."""
    for values, organizations in _groups(combinations, ("reminder_hours_before",)):
        meetings = Meeting.objects.filter(
            organizations,
            status=Status.AGREED,
            start__gt=now,
            start__lte=now + timedelta(hours=values["reminder_hours_before"]),
        )
        _queue(Topic.N7, meetings, (Side.CLIENT, Side.EXPERT), now, done)


def _send_links(now: datetime, combinations: set[tuple], done: dict[str, int]) -> None:
    """N8: the meeting's link, to both sides, on the same terms."""
    for values, organizations in _groups(combinations, ("link_minutes_before",)):
        meetings = Meeting.objects.filter(
            organizations,
            status=Status.AGREED,
            start__gt=now,
            start__lte=now + timedelta(minutes=values["link_minutes_before"]),
        )
        _queue(Topic.N8, meetings, (Side.CLIENT, Side.EXPERT), now, done)


def _ask_for_evaluation(now: datetime, combinations: set[tuple], done: dict[str, int]) -> None:
    """N9: to the client, once the evaluation reminder's time after the end has come,
    until the evaluation deadline; only while the outcome is undecided and the client has
    not stated how it went."""
    names = ("evaluation_reminder_hours_after", "evaluation_deadline_hours")
    for values, organizations in _groups(combinations, names):
        after = timedelta(hours=values["evaluation_reminder_hours_after"])
        deadline = timedelta(hours=values["evaluation_deadline_hours"])
        client_stated = Statement.objects.filter(meeting=OuterRef("pk"), side=Side.CLIENT)
        meetings = Meeting.objects.filter(
            organizations,
            status__in=SETTLEABLE,
            end__gt=now - deadline,
            end__lte=now - after,
            outcome=Outcome.UNDECIDED,
        ).exclude(Exists(client_stated))
        _queue(Topic.N9, meetings, (Side.CLIENT,), now, done, payload=_deadline(deadline))


def _deadline(after_end: timedelta) -> Callable[[Meeting], dict[str, str]]:
    """N9 says until when the client can still state how it went (S3)."""
    return lambda meeting: {"deadline": _iso(meeting.end + after_end)}


def _queue(
    topic: str,
    meetings: QuerySet[Meeting],
    sides: tuple[Side, ...],
    now: datetime,
    done: dict[str, int],
    *,
    payload: Callable[[Meeting], dict] = lambda meeting: {},
) -> None:
    """Write ``topic`` for each meeting and side unless the row is already there: one query
    for the meetings, one for the keys they already have, and writes only for the missing
    ones. ``get_or_create`` leans on the outbox's unique (meeting, topic, key) when another
    worker writes the same row at the same moment."""
    found = list(meetings.only(*REMINDER_FIELDS).order_by("start", "pk"))
    written: set[tuple[int, str]] = set()
    for first in range(0, len(found), CHUNK):
        ids = [meeting.pk for meeting in found[first : first + CHUNK]]
        existing = OutboxItem.objects.filter(topic=topic, meeting_id__in=ids).exclude(key="")
        written.update(existing.values_list("meeting_id", "key"))
    for meeting in found:
        rows = [
            (key, who) for key, who in (_recipient(meeting, side) for side in sides) if (meeting.pk, key) not in written
        ]
        if not rows:
            continue
        try:
            with transaction.atomic():
                created = 0
                for key, who in rows:
                    _, new = OutboxItem.objects.get_or_create(
                        meeting_id=meeting.pk,
                        topic=topic,
                        key=key,
                        defaults={
                            "organization_id": meeting.organization_id,
                            "payload": {"start": _iso(meeting.start), **payload(meeting)},
                            "due_at": now,
                            "created_at": now,
                            **who,
                        },
                    )
                    created += new
        except Exception:
            logger.exception("%s: meeting %s failed", topic, meeting.pk)
            done["failed"] += 1
        else:
            done[topic] += created


def _recipient(meeting: Meeting, side: Side) -> tuple[str, dict[str, int]]:
    """The reminder's key for one side (who, and the start it reminds of) and the
    recipient fields of its outbox row."""
    if side == Side.EXPERT or meeting.client_id:
        user = meeting.expert_id if side == Side.EXPERT else meeting.client_id
        return f"user:{user}@{_iso(meeting.start)}", {"recipient_id": user}
    return f"guest:{meeting.guest_id}@{_iso(meeting.start)}", {"recipient_guest_id": meeting.guest_id}


def _iso(instant: datetime) -> str:
    """In UTC, so that one start always gives one key, whatever zone it was read in."""
    return instant.astimezone(UTC).isoformat()


# --- O5: the organizations sharing each combination of settings --------------------------


def _groups(combinations: set[tuple], names: tuple[str, ...]) -> list[tuple[dict[str, int], Q]]:
    """For each combination of the settings ``names`` in use: the values, and the filter
    for the meetings of the organizations that have them. ``combinations`` holds the
    distinct rows of ``TIMING`` values. The filter is a subquery on the settings table, so
    its size does not grow with the number of organizations."""
    unsaved = OrganizationSettings()  # holds the defaults
    defaults = {name: getattr(unsaved, name) for name in names}
    used = {tuple(row[TIMING.index(name)] for name in names) for row in combinations}
    default = tuple(defaults.values())
    if used <= {default}:
        return [(defaults, Q())]
    groups = []
    for value in sorted(used | {default}):
        values = dict(zip(names, value, strict=True))
        if value == default:
            others = OrganizationSettings.objects.exclude(**defaults).values("organization_id")
            groups.append((values, ~Q(organization_id__in=others)))
        else:
            having = OrganizationSettings.objects.filter(**values).values("organization_id")
            groups.append((values, Q(organization_id__in=having)))
    return groups
