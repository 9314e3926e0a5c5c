"""Moving a meeting (SPEC §4): alternative dates proposed, confirmed, rejected or withdrawn
(L10–L14), reassigning to another expert (L15) and direct changes of time or length for
services without confirmation (L16)."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from parlour.accounts.access import is_admin
from parlour.accounts.models import User
from parlour.availability import search
from parlour.credits import ledger
from parlour.notifications.models import Topic

from ..models import (
    AlternativeState,
    CreditStatus,
    EventKind,
    Meeting,
    Side,
    Status,
)
from ..reasons import RejectReason
from ..transitions import (
    Actor,
    command_room,
    expert_is_busy,
    lock,
    notify,
    record,
    refuse,
    require_before_start,
    require_future,
    require_length,
    require_side,
    require_status,
    save,
    warn_conflict,
)
from .shared import (
    _agree,
    _check_expert,
    _check_note,
    _check_reason,
    _check_window,
    _close_alternative,
    _now,
    _profile,
)

# --- L10–L14: alternative dates ------------------------------------------------------


def propose_alternative(
    actor: Actor, meeting: Meeting, *, start: datetime, length: int | None = None, now: datetime | None = None
) -> Meeting:
    """L10 (agreed: the original date stays valid until the other side confirms) or L11
    (rejected: a client proposing holds the price again now)."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L10")
        rule = "L11" if meeting.status == Status.REJECTED else "L10"
        require_status(meeting, {Status.AGREED, Status.REJECTED}, rule)
        require_before_start(meeting, now, rule)
        if meeting.alternatives.filter(state=AlternativeState.PENDING).exists():
            raise refuse(
                "alternative_pending",
                _("An alternative date is already waiting for an answer; withdraw it or wait for the answer."),
                rule,
                status=409,
            )
        length = length or meeting.length_minutes
        require_length(meeting, length, rule)
        require_future(start, now, rule)
        _check_window(meeting.organization, start, now, rule)
        if start == meeting.start and length == meeting.length_minutes:
            raise refuse("same_date", _("The alternative is the meeting's current date."), rule)
        if rule == "L11" and side == Side.CLIENT and meeting.client_id:
            ledger.block_price(meeting, now, "L11")
            if meeting.price:
                meeting.credit_status = CreditStatus.BLOCKED
                save(meeting, now)
        meeting.alternatives.create(proposed_by=side, start=start, length_minutes=length, created_at=now)
        record(
            meeting,
            EventKind.ALTERNATIVE_PROPOSED,
            now,
            side=side,
            actor=actor,
            start=start.isoformat(),
            length=str(length),
        )
        record(meeting, EventKind.APPROVED, now, side=side, actor=actor)
        if rule == "L11" and side == Side.CLIENT:
            notify(meeting, Topic.N1, Side.EXPERT, now, alternative=start.isoformat())
        else:
            notify(meeting, Topic.N6, side.other, now, by=side, alternative=start.isoformat(), was=meeting.status)
    return meeting


def _pending(meeting: Meeting, rule: str):
    alternative = meeting.alternatives.filter(state=AlternativeState.PENDING).first()
    if alternative is None:
        raise refuse("no_alternative", _("There is no alternative date waiting for an answer."), rule, status=409)
    return alternative


def _date_at_stake(meeting: Meeting, alternative) -> datetime:
    """The start an answer about ``alternative`` must come before. An agreed meeting keeps its
    own date until the alternative is confirmed (L10); a rejected one has no date of its own
    left, only the alternative's (L11), so its own past date does not end the exchange."""
    return alternative.start if meeting.status == Status.REJECTED else meeting.start


def confirm_alternative(
    actor: Actor, meeting: Meeting, *, acknowledge_conflict: bool = False, now: datetime | None = None
) -> Meeting:
    """L12: the other side confirms the alternative; it replaces the date. A rejected meeting
    becomes agreed (the price held if it was not) and gets its room; an agreed one's room
    moves."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L12")
        alternative = _pending(meeting, "L12")
        if alternative.proposed_by == side:
            raise refuse("own_alternative", _("You proposed this date; the other side confirms it."), "L12", status=409)
        require_status(meeting, {Status.AGREED, Status.REJECTED}, "L12")
        require_before_start(meeting, now, "L12", start=_date_at_stake(meeting, alternative))
        require_future(alternative.start, now, "L12")
        warn_conflict(meeting, actor, alternative.start, alternative.end, acknowledge_conflict, "L12")
        was_rejected = meeting.status == Status.REJECTED
        meeting.set_time(alternative.start, alternative.length_minutes)
        _forget_attendance(meeting)
        if was_rejected:
            ledger.block_price(meeting, now, "L12")
        alternative.state = AlternativeState.APPROVED
        alternative.decided_at = now
        alternative.save(update_fields=["state", "decided_at"])
        _agree(meeting, now, client_approved=True)
        record(meeting, EventKind.ALTERNATIVE_APPROVED, now, side=side, actor=actor)
        notify(meeting, Topic.N4_CONFIRMED, side.other, now, by=side, alternative=True)
        command_room(meeting, "create" if was_rejected else "move", now)
    return meeting


def reject_alternative(
    actor: Actor, meeting: Meeting, *, reason: str, note: str = "", now: datetime | None = None
) -> Meeting:
    """L13: the other side rejects the alternative; an agreed meeting keeps its date; on a
    rejected meeting what was held for the alternative returns."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L13")
        alternative = _pending(meeting, "L13")
        if alternative.proposed_by == side:
            raise refuse("own_alternative", _("You proposed this date; withdraw it instead."), "L13", status=409)
        require_before_start(meeting, now, "L13", start=_date_at_stake(meeting, alternative))
        _check_reason(reason, RejectReason, "L13")
        note = _check_note(note, "L13")
        _close_alternative(meeting, alternative, AlternativeState.REJECTED, now)
        record(meeting, EventKind.ALTERNATIVE_REJECTED, now, side=side, actor=actor, reason=note, code=reason)
        notify(meeting, Topic.N4_REJECTED, side.other, now, by=side, alternative=True, reason=reason, note=note)
    return meeting


def withdraw_alternative(actor: Actor, meeting: Meeting, *, now: datetime | None = None) -> Meeting:
    """L14: the proposer takes their alternative back."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L14")
        alternative = _pending(meeting, "L14")
        if alternative.proposed_by != side:
            raise refuse("not_your_alternative", _("Only who proposed the date may withdraw it."), "L14", status=403)
        require_before_start(meeting, now, "L14", start=_date_at_stake(meeting, alternative))
        _close_alternative(meeting, alternative, AlternativeState.WITHDRAWN, now)
        record(meeting, EventKind.ALTERNATIVE_WITHDRAWN, now, side=side, actor=actor)
    return meeting


# --- L15, L16: reassigning and direct changes ----------------------------------------


def reassign_meeting(actor: User, meeting: Meeting, *, expert: User, now: datetime | None = None) -> Meeting:
    """L15: the meeting's expert or an admin hands an agreed or planning meeting to another
    expert of the service. Both experts and the client are told; the room moves."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if not (actor.pk == meeting.expert_id or is_admin(actor, meeting.organization)):
            raise refuse("wrong_side", _("Only the meeting's expert or an admin may reassign it."), "L15", status=403)
        require_status(meeting, {Status.AGREED, Status.PLANNING}, "L15")
        require_before_start(meeting, now, "L15")
        if expert.pk == meeting.expert_id:
            raise refuse("same_expert", _("The meeting is already with this expert."), "L15")
        _check_expert(meeting.service, expert, "L15")
        if expert.pk == meeting.client_id:
            raise refuse("same_person", _("An expert cannot meet themselves."), "L15")
        if meeting.status == Status.AGREED:
            User.objects.select_for_update().filter(pk=expert.pk).first()
            if expert_is_busy(expert, meeting.start, meeting.end):
                raise refuse(
                    "expert_busy",
                    _("%(expert)s already has a meeting at this time.") % {"expert": expert.name},
                    "L15",
                    status=409,
                )
        previous = meeting.expert
        meeting.expert = expert
        meeting.expert_entered_at = None  # V2: the new expert has not entered yet
        meeting.expert_media_check = ""  # V3: nor checked their camera
        save(meeting, now)
        record(
            meeting,
            EventKind.REASSIGNED,
            now,
            side="admin" if actor.pk != previous.pk else Side.EXPERT,
            actor=actor,
            previous=previous.name,
            expert=expert.name,
        )
        for recipient in (previous, expert):
            notify(meeting, Topic.N6, recipient, now, by="reassign", previous=previous.name, expert=expert.name)
        notify(meeting, Topic.N6, Side.CLIENT, now, by="reassign", previous=previous.name, expert=expert.name)
        if meeting.status == Status.AGREED:
            command_room(meeting, "move", now)
    return meeting


def change_meeting_time(
    actor: Actor,
    meeting: Meeting,
    *,
    start: datetime | None = None,
    length: int | None = None,
    now: datetime | None = None,
) -> Meeting:
    """L16: for a service without confirmation, either side moves an agreed meeting to
    another free time or length directly; both sides are told and calendars updated."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "L16")
        require_status(meeting, {Status.AGREED}, "L16")
        if meeting.service.requires_confirmation:
            raise refuse(
                "needs_confirmation",
                _("This service needs the expert's confirmation: propose an alternative date instead."),
                "L16",
                status=409,
            )
        require_before_start(meeting, now, "L16")
        if meeting.alternatives.filter(state=AlternativeState.PENDING).exists():
            raise refuse(
                "alternative_pending", _("Answer or withdraw the pending alternative date first."), "L16", status=409
            )
        start = start or meeting.start
        length = length or meeting.length_minutes
        require_length(meeting, length, "L16")
        require_future(start, now, "L16")
        if start == meeting.start and length == meeting.length_minutes:
            raise refuse("same_date", _("Nothing would change."), "L16")
        User.objects.select_for_update().filter(pk=meeting.expert_id).first()
        profile = _profile(meeting.service, meeting.expert)
        search.check_bookable(meeting.service, profile, start, length, now, rule="L16", exclude=meeting)
        previous = meeting.start
        meeting.set_time(start, length)
        _forget_attendance(meeting)
        save(meeting, now)
        record(
            meeting,
            EventKind.CHANGED,
            now,
            side=side,
            actor=actor,
            previous=previous.isoformat(),
            start=start.isoformat(),
            length=str(length),
        )
        notify(meeting, Topic.N6, Side.EXPERT, now, by=side, previous=previous.isoformat())
        notify(meeting, Topic.N6, Side.CLIENT, now, by=side, previous=previous.isoformat())
        command_room(meeting, "move", now)
    return meeting


def _forget_attendance(meeting) -> None:
    """V2, S3: entries belong to a date. Someone who entered the room before the meeting was
    moved has not attended it at its new date (their entry stays on the timeline)."""
    meeting.expert_entered_at = meeting.client_entered_at = None
    meeting.expert_media_check = meeting.client_media_check = ""
    meeting.connection_failed = False
    meeting.connected_at = None
