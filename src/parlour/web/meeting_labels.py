"""What the meeting page says of a meeting, in the viewer's language (D2, D4, L19): the
displayed status, the credit status, the outcome, and each timeline event's title, who did
it, when and why, in the words of the pages (the domain's labels are translated too, but
more tersely: these say it as a page does)."""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from parlour.meetings.display import DisplayedStatus
from parlour.meetings.models import (
    CreditStatus,
    EventKind,
    Outcome,
    Side,
    TimelineEvent,
)

from .meeting_forms import DECISIONS, REASON_LABELS, SAID

DISPLAYED_STATUS = {
    DisplayedStatus.PLANNING: _("Planning"),
    DisplayedStatus.AWAITING_APPROVAL: _("Awaiting approval"),
    DisplayedStatus.REJECTED: _("Rejected"),
    DisplayedStatus.SCHEDULED: _("Scheduled"),
    DisplayedStatus.STARTING_SOON: _("Starting soon"),
    DisplayedStatus.IN_PROGRESS: _("In progress"),
    DisplayedStatus.COMPLETED: _("Completed"),
    DisplayedStatus.MISSED: _("Missed"),
    DisplayedStatus.CANCELLED: _("Cancelled"),
    DisplayedStatus.FAILED: _("Failed"),
}
CREDIT_STATUS = {
    CreditStatus.NONE: _("No credits held"),
    CreditStatus.BLOCKED: _("Blocked"),
    CreditStatus.RETURNED: _("Returned"),
    CreditStatus.REIMBURSED_CANCELLATION: _("Reimbursed cancellation"),
    CreditStatus.PAID: _("Paid"),
}
OUTCOMES = {
    Outcome.UNDECIDED: _("Not decided yet"),
    Outcome.HELD: _("Held"),
    Outcome.CLIENT_NO_SHOW: _("The client did not come"),
    Outcome.REFUNDED: _("Refunded"),
    Outcome.DISPUTED: _("Disputed: an admin decides"),
}
SIDES = {
    Side.CLIENT: _("client"),
    Side.EXPERT: _("expert"),
    "admin": _("admin"),
    "system": _("Parlour"),
    "": _("Parlour"),
}
EVENT_TITLES = {
    EventKind.BOOKED: _("Meeting booked by client"),
    EventKind.PROPOSED: _("Meeting proposed by expert"),
    EventKind.OPTIONS_OFFERED: _("Time options offered by expert"),
    EventKind.OPTION_PICKED: _("Time option picked by client"),
    EventKind.APPROVED: _("Approved by %(side)s"),
    EventKind.CANCELLED: _("Cancelled by %(side)s"),
    EventKind.REJECTED: _("Rejected by %(side)s"),
    EventKind.REIMBURSED: _("Reimbursed to expert"),
    EventKind.ALTERNATIVE_PROPOSED: _("Alternative date proposed by %(side)s"),
    EventKind.ALTERNATIVE_APPROVED: _("Alternative date approved by %(side)s"),
    EventKind.ALTERNATIVE_REJECTED: _("Alternative date rejected by %(side)s"),
    EventKind.ALTERNATIVE_WITHDRAWN: _("Alternative date withdrawn by %(side)s"),
    EventKind.REASSIGNED: _("Reassigned to another expert"),
    EventKind.CHANGED: _("Time or length changed by %(side)s"),
    EventKind.LAPSED: _("Lapsed without answer"),
    EventKind.ENTERED: _("Entered the room (%(side)s)"),
    EventKind.MEDIA_CHECKED: _("Media check by %(side)s: %(result)s"),
    EventKind.CONNECTION_FAILED: _("The two sides could not connect"),
    EventKind.CONNECTED: _("The two sides connected"),
    EventKind.CLOSED: _("Meeting ended: %(status)s"),
    EventKind.OUTCOME_RECORDED: _("Meeting outcome recorded by %(side)s"),
    EventKind.DISPUTED: _("Statements disagree: disputed"),
    EventKind.SETTLED: _("Settled: %(outcome)s"),
    EventKind.REVIEW_BONUS: _("Bonus credits for written review"),
}
MEDIA_RESULTS = {"passed": _("passed"), "failed": _("failed")}
# The timeline keeps the status and outcome a meeting ended with as the English labels.
STATUS_WORDS = {
    "Completed": _("Completed"),
    "Missed": _("Missed"),
    "Failed": _("Failed"),
}
OUTCOME_WORDS = {
    "Not decided": OUTCOMES[Outcome.UNDECIDED],
    "Held": OUTCOMES[Outcome.HELD],
    "Client did not come": OUTCOMES[Outcome.CLIENT_NO_SHOW],
    "Refunded": OUTCOMES[Outcome.REFUNDED],
    "Disputed": OUTCOMES[Outcome.DISPUTED],
}


def local(instant: datetime | str | None) -> str:
    """An instant as the viewer reads it: their zone, their language's format."""
    if isinstance(instant, str):
        try:
            instant = datetime.fromisoformat(instant)
        except ValueError:
            return instant
    if instant is None:
        return ""
    return formats.date_format(timezone.localtime(instant), "DATETIME_FORMAT")


def event_title(event: TimelineEvent) -> str:
    data = event.data or {}
    words = {
        "side": SIDES.get(event.side, event.side),
        "result": MEDIA_RESULTS.get(str(data.get("result")), data.get("result", "")),
        "status": STATUS_WORDS.get(str(data.get("status")), data.get("status", "")),
        "outcome": OUTCOME_WORDS.get(str(data.get("outcome")), data.get("outcome", "")),
    }
    title = EVENT_TITLES.get(event.kind)
    return str(title) % words if title is not None else event.title


def _said_label(side: str, said: str) -> str:
    if side == "admin":
        return str(dict(DECISIONS).get(said, said))
    return str(dict(SAID.get(side, [])).get(said, said))


def event_detail(event: TimelineEvent) -> str:
    """What else the event records, in words: a new date, the experts of a reassignment,
    what a side stated, what a late cancellation moved."""
    data = event.data or {}
    kind = event.kind
    if kind == EventKind.ALTERNATIVE_PROPOSED:
        return gettext("New date: %(date)s") % {"date": local(data.get("start"))}
    if kind == EventKind.CHANGED:
        moved = {"previous": local(data.get("previous")), "date": local(data.get("start"))}
        return gettext("From %(previous)s to %(date)s") % moved
    if kind == EventKind.REASSIGNED:
        experts = {"previous": data.get("previous", ""), "expert": data.get("expert", "")}
        return gettext("From %(previous)s to %(expert)s") % experts
    if kind == EventKind.OUTCOME_RECORDED:
        return _said_label(event.side, str(data.get("said", "")))
    if kind == EventKind.REIMBURSED:
        charged = data.get("charged", 0)
        return ngettext(
            "%(charged)s credit charged, %(paid)s paid to the expert",
            "%(charged)s credits charged, %(paid)s paid to the expert",
            charged if isinstance(charged, int) else 0,
        ) % {"charged": charged, "paid": data.get("paid", 0)}
    if kind == EventKind.REVIEW_BONUS:
        amount = data.get("amount", "")
        return ngettext("%(amount)s credit", "%(amount)s credits", amount if isinstance(amount, int) else 0) % {
            "amount": amount
        }
    return ""


def event_reason(event: TimelineEvent) -> str:
    """L19's "why": the reason chosen from a list and the note written with it."""
    code = (event.data or {}).get("code", "")
    parts = [str(REASON_LABELS.get(code, code)) if code else "", event.reason]
    return " — ".join(part for part in parts if part)


def timeline(meeting) -> list[dict]:
    events = meeting.timeline.select_related("actor", "actor_guest").order_by("at", "id")
    return [
        {
            "title": event_title(event),
            "who": event.actor_name if (event.actor_id or event.actor_guest_id) else SIDES["system"],
            "at": event.at,
            "detail": event_detail(event),
            "reason": event_reason(event),
        }
        for event in events
    ]
