"""The meeting's life from its start (SPEC §6–§7): attendance, closing (V5), the two
sides' statements (S1, S2), settlement (S3, C4), disputes and the review bonus (S4).
Same contract as ``lifecycle``: one transaction each, a ``DomainError`` naming the rule
when refused."""

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from parlour.accounts.access import require_admin
from parlour.accounts.models import User
from parlour.core import clock
from parlour.credits import ledger
from parlour.credits.settlement import split
from parlour.notifications.models import Topic

from .models import (
    AlternativeState,
    CreditStatus,
    EventKind,
    MediaCheck,
    Meeting,
    Outcome,
    Review,
    Said,
    Side,
    Statement,
    Status,
)
from .transitions import Actor, lock, notify, on_clock, record, refuse, require_side, save

MAX_REVIEW = 5000
# What a browser says of a device: "ok" or the name of a DOMException.
MEDIA_ANSWER = re.compile(r"ok|[A-Za-z]{1,40}")

# A statement that settles the outcome by itself when it comes first (S3).
DECISIVE = {
    (Side.CLIENT, Said.HELD): Outcome.HELD,
    (Side.CLIENT, Said.NOT_HELD_CLIENT): Outcome.CLIENT_NO_SHOW,
    (Side.EXPERT, Said.NOT_HELD_EXPERT): Outcome.REFUNDED,
}
# When both sides have spoken and agree.
AGREED_OUTCOME = {
    Said.HELD: Outcome.HELD,
    Said.NOT_HELD_CLIENT: Outcome.CLIENT_NO_SHOW,
    Said.NOT_HELD_EXPERT: Outcome.REFUNDED,
}


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


# --- V2, V4, V5: attendance and closing ----------------------------------------------


def join_window(meeting: Meeting) -> tuple[datetime, datetime]:
    """V2: when each side may enter — from the join window (O5) before the start until the end."""
    return meeting.start - timedelta(minutes=meeting.organization.settings.join_window_minutes), meeting.end


def room_is_open(meeting: Meeting, now: datetime) -> bool:
    opens, closes = join_window(meeting)
    return meeting.status == Status.AGREED and opens <= now < closes


def _require_open(meeting: Meeting, actor: Actor, now: datetime, rule: str) -> None:
    if meeting.status != Status.AGREED:
        raise refuse("wrong_state", _("Only an agreed meeting can be entered."), rule, status=409)
    opens, closes = join_window(meeting)
    if now < opens:
        raise refuse(
            "room_not_open",
            _("The room opens at %(start)s.") % {"start": on_clock(actor, opens)},
            rule,
            status=409,
            details={"opens_at": opens.isoformat()},
        )
    if now >= closes:
        raise refuse("meeting_ended", _("The meeting has ended."), rule, status=409)


def record_entry(actor: Actor, meeting: Meeting, *, now: datetime | None = None) -> Meeting:
    """V2: a side enters through Parlour's join link, from the join window until the end.
    The first entry of each side is kept; every entry is on the timeline."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "V2")
        _require_open(meeting, actor, now, "V2")
        field = "client_entered_at" if side == Side.CLIENT else "expert_entered_at"
        if getattr(meeting, field) is None:
            setattr(meeting, field, now)
            save(meeting, now)
        record(meeting, EventKind.ENTERED, now, side=side, actor=actor)
    return meeting


def record_media_check(
    actor: Actor,
    meeting: Meeting,
    *,
    camera: str,
    microphone: str,
    level: float | None = None,
    now: datetime | None = None,
) -> Meeting:
    """V3: the result of the camera and microphone test a side ran in the browser after
    entering. ``camera`` and ``microphone`` are "ok" or the browser's name of what went wrong
    (NotAllowedError: no permission; NotFoundError: no device; NotReadableError: in use).
    The check passes when both worked; the latest check counts."""
    now = _now(now)
    for name, value in (("camera", camera), ("microphone", microphone)):
        if not isinstance(value, str) or not MEDIA_ANSWER.fullmatch(value):
            raise refuse(
                "invalid_media_check", _('%(name)s: say "ok" or the name of the error.') % {"name": name}, "V3"
            )
    if level is not None and not (isinstance(level, int | float) and 0 <= level <= 1):
        raise refuse("invalid_media_check", _("level: a number from 0 to 1."), "V3")
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "V3")
        _require_open(meeting, actor, now, "V3")
        if (meeting.client_entered_at if side == Side.CLIENT else meeting.expert_entered_at) is None:
            raise refuse("not_entered", _("Enter the room through the join link first."), "V3", status=409)
        result = MediaCheck.PASSED if camera == microphone == "ok" else MediaCheck.FAILED
        if getattr(meeting, f"{side}_media_check") == result:
            return meeting  # the same answer again (a reload): the timeline has it
        setattr(meeting, f"{side}_media_check", result)
        save(meeting, now)
        data = {"result": result.value, "camera": camera, "microphone": microphone}
        if level is not None:
            data["level"] = round(float(level), 3)
        record(meeting, EventKind.MEDIA_CHECKED, now, side=side, actor=actor, **data)
    return meeting


def report_connection_failure(meeting: Meeting, *, side: str = "", now: datetime | None = None) -> Meeting:
    """V4: the room (or the platform's callback) says the two sides could not connect.
    Unless they connect later (``report_connected``), the meeting closes as failed (V5). A
    call that did connect was not a room that could not connect: a drop after it is no
    failure of the room."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if meeting.status == Status.AGREED and not meeting.connection_failed and meeting.connected_at is None:
            meeting.connection_failed = True
            save(meeting, now)
            record(meeting, EventKind.CONNECTION_FAILED, now, side=side or "system")
    return meeting


def report_connected(meeting: Meeting, *, side: str = "", now: datetime | None = None) -> Meeting:
    """V4: the two sides' call connected. A failure reported before it (a first attempt
    that did not get through) no longer counts; the first connection is on the timeline."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if meeting.status != Status.AGREED or meeting.connected_at is not None:
            return meeting
        meeting.connected_at = now
        meeting.connection_failed = False
        save(meeting, now)
        record(meeting, EventKind.CONNECTED, now, side=side or "system")
    return meeting


def close_meeting(meeting: Meeting, *, now: datetime | None = None) -> Meeting:
    """V5: once the end has passed an agreed meeting becomes completed (both entered),
    failed (they could not connect) or missed (the record says who never came). Closing a
    meeting twice, or before its end, does nothing."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if meeting.status != Status.AGREED or now < meeting.end:
            return meeting
        absent = [
            side
            for side, entered in ((Side.EXPERT, meeting.expert_entered_at), (Side.CLIENT, meeting.client_entered_at))
            if entered is None
        ]
        if meeting.connection_failed:
            meeting.status = Status.FAILED
        elif absent:
            meeting.status = Status.MISSED
        else:
            meeting.status = Status.COMPLETED
        save(meeting, now)
        record(meeting, EventKind.CLOSED, now, side="system", status=Status(meeting.status).label, absent=absent)
        # An alternative date nobody answered before the meeting took place has no more use.
        if meeting.alternatives.filter(state=AlternativeState.PENDING).update(
            state=AlternativeState.WITHDRAWN, decided_at=now
        ):
            record(meeting, EventKind.ALTERNATIVE_WITHDRAWN, now, side="system")
    return meeting


# --- S1, S2, S3, S4: statements, reviews, settlement ---------------------------------


def _require_ended(meeting: Meeting, now: datetime, rule: str) -> None:
    if meeting.status not in (Status.AGREED, Status.COMPLETED, Status.MISSED, Status.FAILED) or now < meeting.end:
        raise refuse("not_ended", _("This can be stated once an agreed meeting has ended."), rule, status=409)


def submit_statement(
    actor: Actor,
    meeting: Meeting,
    *,
    said: str,
    stars: int | None = None,
    review: str = "",
    summary: str = "",
    now: datetime | None = None,
) -> Meeting:
    """S1 (client: took place or not, with the reviews add-on stars and a written review)
    or S2 (expert: their side, with the summaries add-on a summary for the client). The
    first decisive statement settles the outcome (S3); disagreement makes it disputed."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        side = require_side(meeting, actor, {Side.CLIENT, Side.EXPERT}, "S1")
        rule = "S1" if side == Side.CLIENT else "S2"
        _require_ended(meeting, now, rule)
        if said not in Said.values:
            raise refuse("invalid_statement", _("Say one of: %(values)s.") % {"values": ", ".join(Said.values)}, rule)
        if meeting.statements.filter(side=side).exists():
            raise refuse("already_stated", _("You have already stated how the meeting went."), rule, status=409)
        organization = meeting.organization
        review = (review or "").strip()
        summary = (summary or "").strip()
        if side == Side.CLIENT:
            if (stars is not None or review) and not organization.reviews_enabled:
                raise refuse("add_on_off", _("Reviews are not switched on in this organization."), "O4")
            if stars is not None and (isinstance(stars, bool) or stars not in range(1, 6)):
                raise refuse("invalid_stars", _("Give from 1 to 5 stars."), "S1")
            if len(review) > MAX_REVIEW:
                raise refuse("too_long", _("Keep the review under %(count)s characters.") % {"count": MAX_REVIEW}, "S1")
            if review and meeting.client_id is None:
                raise refuse(
                    "sign_in_required", _("Written reviews are given from a client account."), "S1", status=403
                )
            if summary:
                raise refuse("wrong_side", _("Summaries are written by the expert."), "S2", status=403)
        else:
            if summary and not organization.summaries_enabled:
                raise refuse("add_on_off", _("Summaries are not switched on in this organization."), "O4")
            if len(summary) > MAX_REVIEW:
                raise refuse(
                    "too_long", _("Keep the summary under %(count)s characters.") % {"count": MAX_REVIEW}, "S2"
                )
            if stars is not None or review:
                raise refuse("wrong_side", _("Stars and reviews are given by the client."), "S1", status=403)
        Statement.objects.create(meeting=meeting, side=side, said=said, stars=stars, summary=summary, at=now)
        record(meeting, EventKind.OUTCOME_RECORDED, now, side=side, actor=actor, said=said)
        if review:
            _write_review(meeting, review, now)
        _decide_from_statements(meeting, side, said, now)
    return meeting


def _write_review(meeting: Meeting, text: str, now: datetime) -> None:
    review, created = Review.objects.get_or_create(
        organization=meeting.organization,
        expert=meeting.expert,
        client=meeting.client,
        defaults={"text": text, "meeting": meeting, "created_at": now, "updated_at": now},
    )
    if not created:
        review.text = text
        review.meeting = meeting
        review.updated_at = now
        review.save(update_fields=["text", "meeting", "updated_at"])
        return
    bonus = meeting.organization.settings.review_bonus_credits
    if bonus:
        ledger.pay_bonus(meeting.organization, meeting.client, bonus, meeting, now)
        record(meeting, EventKind.REVIEW_BONUS, now, side=Side.CLIENT, amount=str(bonus))


def _decide_from_statements(meeting: Meeting, side: Side, said: str, now: datetime) -> None:
    if meeting.outcome != Outcome.UNDECIDED:
        return  # already settled (or disputed): a later statement is kept for the record
    other = meeting.statements.exclude(side=side).first()
    if other is None:
        outcome = DECISIVE.get((side, said))
        if outcome is not None:
            _settle(meeting, outcome, now, by=side)
        return
    if other.said == said:
        _settle(meeting, AGREED_OUTCOME[Said(said)], now, by=side)
        return
    meeting.outcome = Outcome.DISPUTED
    save(meeting, now)
    record(meeting, EventKind.DISPUTED, now, side="system")


def _settle(meeting: Meeting, outcome: str, now: datetime, *, by: str) -> None:
    """C4: held pays the expert the price less the platform share; a client no-show pays as
    a late cancellation; refunded returns everything."""
    policy = meeting.organization.settings
    if outcome == Outcome.HELD:
        ledger.settle_escrow(meeting, split(meeting.price, 100, policy.platform_share_percent), now)
        credit = CreditStatus.PAID
    elif outcome == Outcome.CLIENT_NO_SHOW:
        parts = split(meeting.price, policy.late_cancellation_charge_percent, policy.platform_share_percent)
        ledger.settle_escrow(meeting, parts, now)
        credit = CreditStatus.REIMBURSED_CANCELLATION if parts.charged else CreditStatus.RETURNED
    else:
        ledger.return_escrow(meeting, now)
        credit = CreditStatus.RETURNED
    meeting.outcome = outcome
    if meeting.price:
        meeting.credit_status = credit
    save(meeting, now)
    record(meeting, EventKind.SETTLED, now, side=by, outcome=Outcome(outcome).label)
    notify(meeting, Topic.OUTCOME, Side.EXPERT, now, outcome=outcome)
    notify(meeting, Topic.OUTCOME, Side.CLIENT, now, outcome=outcome)


def decide_dispute(
    admin: User, meeting: Meeting, *, outcome: str, note: str = "", now: datetime | None = None
) -> Meeting:
    """S3: an admin decides a meeting whose statements disagree."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        require_admin(admin, meeting.organization, rule="S3")
        if meeting.outcome != Outcome.DISPUTED:
            raise refuse("not_disputed", _("Only a disputed meeting is decided by an admin."), "S3", status=409)
        if outcome not in (Outcome.HELD, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED):
            raise refuse("invalid_outcome", _("Decide: held, client_no_show or refunded."), "S3")
        record(meeting, EventKind.OUTCOME_RECORDED, now, side="admin", actor=admin, reason=note, said=outcome)
        _settle(meeting, outcome, now, by="admin")
    return meeting


def settle_unstated(meeting: Meeting, *, now: datetime | None = None) -> Meeting:
    """S3: a meeting undecided when the evaluation deadline (168 h after the end) passes
    settles from the recorded attendance: both entered → held; only the expert → client
    no-show; otherwise (or when they could not connect) refunded. Disputed meetings wait for
    the admin. Calling it early, or twice, does nothing."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        deadline = meeting.end + timedelta(hours=meeting.organization.settings.evaluation_deadline_hours)
        if (
            meeting.outcome != Outcome.UNDECIDED
            or meeting.status not in (Status.AGREED, Status.COMPLETED, Status.MISSED, Status.FAILED)
            or now < deadline
        ):
            return meeting
        if meeting.connection_failed:
            outcome = Outcome.REFUNDED
        elif meeting.expert_entered_at and meeting.client_entered_at:
            outcome = Outcome.HELD
        elif meeting.expert_entered_at:
            outcome = Outcome.CLIENT_NO_SHOW
        else:
            outcome = Outcome.REFUNDED
        _settle(meeting, outcome, now, by="system")
    return meeting
