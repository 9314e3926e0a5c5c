"""Answering and ending a meeting before it starts (SPEC §4): confirm or reject a request or a
proposal (L2, L3, L5, L6, L17), cancel under the notice policy (L1, L4, L7, L8, L9), and
lapse when nobody answered in time (L18)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from parlour.credits import ledger
from parlour.credits.settlement import split
from parlour.notifications.models import Topic

from ..models import (
    AlternativeState,
    CreditStatus,
    EventKind,
    Meeting,
    Side,
    Status,
)
from ..reasons import ExpertCancelReason, RejectReason
from ..transitions import (
    Actor,
    command_room,
    lock,
    notify,
    record,
    refuse,
    require_before_start,
    require_side,
    require_status,
    save,
    warn_conflict,
)
from .shared import (
    _agree,
    _check_note,
    _check_reason,
    _close_alternative,
    _now,
)

# --- L2, L3, L5, L6: answering a request or a proposal --------------------------------


def confirm_meeting(
    actor: Actor, meeting: Meeting, *, acknowledge_conflict: bool = False, now: datetime | None = None
) -> Meeting:
    """L2 (expert confirms the client's request) or L5 (client confirms the expert's
    proposal, credits blocked). L17 asks for a second, knowing confirmation on overlap."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L2")
        rule = "L2" if meeting.origin == Side.CLIENT else "L5"
        require_status(meeting, {Status.AWAITING_APPROVAL}, rule)
        if meeting.origin == side:
            raise refuse(
                "already_approved", _("You proposed this meeting; the other side confirms it."), rule, status=409
            )
        require_before_start(meeting, now, rule)
        warn_conflict(meeting, actor, meeting.start, meeting.end, acknowledge_conflict, rule)
        if side == Side.CLIENT:
            ledger.block_price(meeting, now, "L5")
        _agree(meeting, now, client_approved=True)
        record(meeting, EventKind.APPROVED, now, side=side, actor=actor)
        notify(meeting, Topic.N4_CONFIRMED, side.other, now, by=side)
        command_room(meeting, "create", now)
    return meeting


def reject_meeting(
    actor: Actor, meeting: Meeting, *, reason: str, note: str = "", now: datetime | None = None
) -> Meeting:
    """L3 (expert rejects the client's request, credits returned) or L6 (client rejects the
    expert's proposal, or all its time options)."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L3")
        rule = "L3" if meeting.origin == Side.CLIENT else "L6"
        allowed = {Status.AWAITING_APPROVAL} if side == Side.EXPERT else {Status.AWAITING_APPROVAL, Status.PLANNING}
        require_status(meeting, allowed, rule)
        if meeting.origin == side:
            raise refuse("own_proposal", _("You cannot reject your own proposal; cancel it instead."), rule, status=409)
        require_before_start(meeting, now, rule)
        _check_reason(reason, RejectReason, rule)
        note = _check_note(note, rule)
        if ledger.return_escrow(meeting, now):
            meeting.credit_status = CreditStatus.RETURNED
        meeting.status = Status.REJECTED
        if side == Side.EXPERT:
            meeting.expert_approved = False
        else:
            meeting.client_approved = False
        save(meeting, now)
        record(meeting, EventKind.REJECTED, now, side=side, actor=actor, reason=note, code=reason)
        notify(meeting, Topic.N4_REJECTED, side.other, now, by=side, reason=reason, note=note)
    return meeting


# --- L1, L4, L7, L8, L9: cancelling --------------------------------------------------


def cancel_meeting(
    actor: Actor,
    meeting: Meeting,
    *,
    reason: str = "",
    note: str = "",
    confirm_late: bool = False,
    now: datetime | None = None,
) -> Meeting:
    """Cancel by either side under the rule that fits the state:

    - L1 client withdraws their own request that awaits the expert: credits returned;
    - L4 expert withdraws their proposal (or time options) that awaits the client;
    - L7 client cancels an agreed meeting in good time, with a written reason: all returned;
    - L8 client cancels an agreed meeting inside the notice: after confirming the late charge,
      the charge goes to the expert less the platform share, the rest returns;
    - L9 expert cancels an agreed meeting with a reason from the list (inside the notice only
      after confirming the warning): everything returns to the client.
    """
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L7")
        if meeting.status in (Status.AWAITING_APPROVAL, Status.PLANNING):
            rule = "L1" if side == Side.CLIENT else "L4"
            require_before_start(meeting, now, rule)
            if meeting.origin != side:
                other = (
                    _("This was proposed by the other side: reject it instead.")
                    if side == Side.EXPERT or meeting.status == Status.PLANNING
                    else _("This was proposed by the other side: answer it instead.")
                )
                raise refuse("not_your_request", other, rule, status=409)
            _cancel(meeting, side, actor, now, rule, note=_check_note(note, rule))
            return meeting
        require_status(meeting, {Status.AGREED}, "L7" if side == Side.CLIENT else "L9")
        require_before_start(meeting, now, "L7" if side == Side.CLIENT else "L9")
        notice = timedelta(hours=meeting.organization.settings.cancellation_notice_hours)
        late = now > meeting.start - notice
        if side == Side.CLIENT:
            written = _check_note(note or reason, "L7")
            if not written:
                raise refuse("reason_required", _("Please write why you cancel the meeting."), "L7")
            if not late:
                _cancel(meeting, side, actor, now, "L7", note=written, room=True)
                return meeting
            _cancel_late_by_client(meeting, actor, now, written, confirm_late)
            return meeting
        _check_reason(reason, ExpertCancelReason, "L9")
        if late and not confirm_late:
            raise refuse(
                "late_cancellation_warning",
                _(
                    "The meeting starts within the cancellation notice. Cancelling this late lets the "
                    "client down; confirm to cancel anyway. All credits return to the client."
                ),
                "L9",
                status=409,
            )
        _cancel(meeting, side, actor, now, "L9", note=_check_note(note, "L9"), code=reason, room=True)
    return meeting


def _cancel(meeting, side, actor, now, rule, *, note="", code="", room=False) -> None:
    if ledger.return_escrow(meeting, now):
        meeting.credit_status = CreditStatus.RETURNED
    meeting.status = Status.CANCELLED
    _drop_pending_alternative(meeting, now)
    save(meeting, now)
    record(meeting, EventKind.CANCELLED, now, side=side, actor=actor, reason=note, code=code, rule=rule)
    notify(meeting, Topic.N5, side.other, now, by=side, reason=code, note=note)
    if room:
        command_room(meeting, "cancel", now)


def _cancel_late_by_client(meeting: Meeting, actor: Actor, now: datetime, note: str, confirm_late: bool) -> None:
    policy = meeting.organization.settings
    parts = split(meeting.price, policy.late_cancellation_charge_percent, policy.platform_share_percent)
    if parts.charged and not confirm_late:
        raise refuse(
            "late_cancellation_charge",
            _(
                "The meeting starts within %(hours)s hours: %(percent)s %% of the price (%(charged)s credits) "
                "will be charged and %(returned)s returned. Confirm to cancel."
            )
            % {
                "hours": policy.cancellation_notice_hours,
                "percent": policy.late_cancellation_charge_percent,
                "charged": parts.charged,
                "returned": parts.returned,
            },
            "L8",
            status=409,
            details={"charged": parts.charged, "returned": parts.returned},
        )
    ledger.settle_escrow(meeting, parts, now)
    meeting.status = Status.CANCELLED
    if parts.charged:
        meeting.credit_status = CreditStatus.REIMBURSED_CANCELLATION
    elif parts.returned:
        meeting.credit_status = CreditStatus.RETURNED
    _drop_pending_alternative(meeting, now)
    save(meeting, now)
    record(meeting, EventKind.CANCELLED, now, side=Side.CLIENT, actor=actor, reason=note, rule="L8")
    if parts.charged:
        record(meeting, EventKind.REIMBURSED, now, side=Side.EXPERT, charged=parts.charged, paid=parts.to_expert)
    notify(meeting, Topic.N5, Side.EXPERT, now, by=Side.CLIENT, note=note, charged=parts.charged)
    command_room(meeting, "cancel", now)


def _drop_pending_alternative(meeting: Meeting, now: datetime) -> None:
    meeting.alternatives.filter(state=AlternativeState.PENDING).update(state=AlternativeState.WITHDRAWN, decided_at=now)


# --- L18: lapsing --------------------------------------------------------------------


def lapse_meeting(meeting: Meeting, *, now: datetime | None = None) -> Meeting:
    """L18: a request or proposal still unanswered at its start cancels itself; credits
    return; both sides are told. A rejected meeting's alternative date still unanswered at
    its start lapses the same way: it is dropped and what was held for it returns (C1); the
    meeting stays rejected. Doing it twice does nothing the second time."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if meeting.status == Status.REJECTED:
            alternative = meeting.pending_alternative
            if alternative is None or now < alternative.start:
                return meeting
            _close_alternative(meeting, alternative, AlternativeState.WITHDRAWN, now)
        elif meeting.status in (Status.AWAITING_APPROVAL, Status.PLANNING) and now >= meeting.start:
            if ledger.return_escrow(meeting, now):
                meeting.credit_status = CreditStatus.RETURNED
            meeting.status = Status.CANCELLED
            save(meeting, now)
        else:
            return meeting
        record(meeting, EventKind.LAPSED, now, side="system")
        notify(meeting, Topic.LAPSED, Side.EXPERT, now)
        notify(meeting, Topic.LAPSED, Side.CLIENT, now)
    return meeting
