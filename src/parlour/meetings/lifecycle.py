"""The meeting's life before it starts (SPEC §3–§4): making, approving, rejecting,
cancelling, rescheduling, reassigning. Each function is one transaction: it locks the
meeting, checks the rule (side, state, time), changes the meeting, moves credits through
``parlour.credits.ledger``, writes the timeline and the outbox — all or nothing — and returns
the meeting as it now is. A refused action raises ``DomainError`` naming the rule.

What happens after the start (attendance, closing, statements, settlement) is in
``parlour.meetings.outcome``."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from parlour.accounts.access import is_admin, membership_of
from parlour.accounts.models import ClientAccount, Guest, Organization, User
from parlour.availability import search
from parlour.catalog.models import MAX_PRICE, ExpertProfile, Service, Skill
from parlour.core import clock
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.credits.settlement import split
from parlour.notifications.models import Topic

from .models import (
    AlternativeState,
    CreditStatus,
    EventKind,
    Meeting,
    Side,
    Status,
    TimeOption,
)
from .reasons import ExpertCancelReason, RejectReason
from .transitions import (
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

MAX_TIME_OPTIONS = 10
MAX_TEXT = 2000


@dataclass(frozen=True)
class Party:
    """The client side of a new meeting: a signed-in client or a guest."""

    client: User | None = None
    guest: Guest | None = None


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _check_reason(reason: str, choices, rule: str) -> str:
    if reason not in choices.values:
        listed = ", ".join(choices.values)
        raise refuse("invalid_reason", f"Choose a reason from the list: {listed}.", rule)
    return reason


def _check_note(note: str, rule: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise refuse("too_long", f"Keep it under {MAX_TEXT} characters.", rule)
    return note


def _check_expert(service: Service, expert: User, rule: str) -> None:
    membership = membership_of(expert, service.organization)
    if membership is None or not service.experts.filter(pk=expert.pk).exists():
        raise refuse("not_an_expert_of_service", f"{expert.name} does not give {service.name}.", rule)


def _check_party(organization: Organization, party: Party, expert: User, rule: str) -> None:
    if (party.client is None) == (party.guest is None):
        raise refuse("client_required", "A meeting has one client: a signed-in client or a guest.", rule)
    if party.client is not None and party.client.pk == expert.pk:
        raise refuse("same_person", "An expert cannot meet themselves.", rule)
    if party.guest is not None and party.guest.organization_id != organization.pk:
        raise refuse("client_required", "The guest belongs to another organization.", rule)


def _check_window(organization: Organization, start: datetime, now: datetime, rule: str) -> None:
    days = organization.settings.booking_window_days
    if start > now + timedelta(days=days):
        raise refuse("outside_booking_window", f"Meetings can be booked at most {days} days ahead.", rule)


def _new_meeting(service: Service, expert: User, party: Party, start: datetime, length: int, **fields) -> Meeting:
    meeting = Meeting(
        organization=service.organization,
        service=service,
        expert=expert,
        client=party.client,
        guest=party.guest,
        **fields,
    )
    meeting.set_time(start, length)
    meeting.save()
    if party.client is not None:
        ClientAccount.objects.get_or_create(organization=service.organization, user=party.client)
    return meeting


# --- B1, B2: a client or guest books a slot --------------------------------------------


def book_meeting(
    *,
    service: Service,
    expert: User | None,
    party: Party,
    start: datetime,
    length: int | None = None,
    subject: str = "",
    description: str = "",
    skill: Skill | None = None,
    now: datetime | None = None,
) -> Meeting:
    """B1/B2: book a free slot (re-checked here, inside the transaction). With confirmation
    the meeting awaits the expert and the price is held; without, it is agreed at once and
    its room created. Without an expert (B7) it goes to the least busy expert free then."""
    now = _now(now)
    organization = service.organization
    length = length or service.default_length
    with transaction.atomic():
        if expert is None:
            expert = _pick_free_expert(service, party, start, length, now)
        _check_expert(service, expert, "B1")
        _check_party(organization, party, expert, "B1")
        if length not in service.lengths:
            allowed = ", ".join(str(x) for x in service.lengths)
            raise refuse("invalid_length", f"This service can be booked for {allowed} minutes.", "B1")
        require_future(start, now, "B1")
        if service.price and party.client is None:
            raise refuse("sign_in_required", "A paid service can be booked only by a signed-in client.", "B1")
        # The expert's row is the lock that serializes bookings with one expert: their time
        # and each guest's count of upcoming meetings with them.
        User.objects.select_for_update().filter(pk=expert.pk).first()
        if party.guest is not None:
            _check_guest_limit(party.guest, expert, now, "B1")
        search.check_bookable(service, _profile(service, expert), start, length, now, rule="B1")
        if party.client is not None:
            _check_client_free(party.client, start, start + timedelta(minutes=length))
        confirm = service.requires_confirmation
        meeting = _new_meeting(
            service,
            expert,
            party,
            start,
            length,
            origin=Side.CLIENT,
            subject=_check_note(subject, "B1")[:200],
            description=_check_note(description, "B1"),
            skill=skill,
            price=service.price,
            status=Status.AWAITING_APPROVAL if confirm else Status.AGREED,
            client_approved=True,
            expert_approved=not confirm,
            created_at=now,
            updated_at=now,
        )
        ledger.block_price(meeting, now, "B1")
        if meeting.price:
            meeting.credit_status = CreditStatus.BLOCKED
            meeting.save(update_fields=["credit_status"])
        actor = party.client or party.guest
        record(meeting, EventKind.BOOKED, now, side=Side.CLIENT, actor=actor)
        record(meeting, EventKind.APPROVED, now, side=Side.CLIENT, actor=actor)
        if confirm:
            notify(meeting, Topic.N1, Side.EXPERT, now)
        else:
            notify(meeting, Topic.N2, Side.EXPERT, now)
            notify(meeting, Topic.N2, Side.CLIENT, now)
            command_room(meeting, "create", now)
    return meeting


def _profile(service: Service, expert: User) -> ExpertProfile:
    profile = search.profiles_of(service, [expert])
    if not profile:
        raise refuse("not_free", f"{expert.name} has not published free dates yet.", "E3", status=409)
    return profile[0]


def _check_guest_limit(guest: Guest, expert: User, now: datetime, rule: str) -> None:
    """B1, O5: a guest has at most so many upcoming self-booked meetings with one expert."""
    limit = guest.organization.settings.max_upcoming_guest_meetings
    upcoming = Meeting.objects.filter(
        guest__email__iexact=guest.email,
        organization_id=guest.organization_id,
        expert=expert,
        origin=Side.CLIENT,
        status__in=(Status.AWAITING_APPROVAL, Status.AGREED),
        start__gt=now,
    ).count()
    if upcoming >= limit:
        raise refuse(
            "too_many_upcoming",
            f"You already have {upcoming} upcoming meetings with {expert.name}; "
            "book another after one of them has passed.",
            rule,
        )


def _check_client_free(client: User, start: datetime, end: datetime) -> None:
    """L17: booking a free slot never creates an overlap, for the client either."""
    mine = Meeting.objects.filter(
        client=client, status__in=(Status.AGREED, Status.AWAITING_APPROVAL), start__lt=end, end__gt=start
    ).first()
    if mine is not None:
        raise refuse(
            "client_busy",
            f"You already have a meeting at this time ({mine.service.name} with {mine.expert.name}).",
            "L17",
            status=409,
            details={"conflicting_meeting": mine.pk},
        )


def _pick_free_expert(service: Service, party: Party, start: datetime, length: int, now: datetime) -> User:
    """B7: the service's experts, least busy in the coming week first, locked in id order;
    the first one free at ``start`` (and within the guest's limit with them) takes the
    meeting. When nobody can, the refusal says why: just taken, or the reason they share."""
    profiles = search.profiles_of(service)
    list(User.objects.select_for_update().filter(pk__in=[p.membership.user_id for p in profiles]).order_by("pk"))
    refusals: list[DomainError] = []
    for profile in search.rank_experts(profiles, now):
        expert = profile.membership.user
        if party.client is not None and expert.pk == party.client.pk:
            continue
        try:
            search.check_bookable(service, profile, start, length, now, rule="B7")
            if party.guest is not None:
                _check_guest_limit(party.guest, expert, now, "B7")
        except DomainError as error:
            refusals.append(error)
            continue
        return expert
    codes = {error.code for error in refusals}
    if "slot_taken" in codes:
        raise refuse("slot_taken", "This time was just taken. Please choose another.", "B7", status=409)
    if len(codes) == 1:
        raise refusals[0]
    raise refuse("not_free", "Nobody gives this service at this time. Please choose a free slot.", "B7", status=409)


# --- B3, B4: an expert proposes -------------------------------------------------------


def _check_price(price: int, rule: str) -> int:
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= MAX_PRICE:
        raise refuse("invalid_price", f"A price is a whole number of credits from 0 to {MAX_PRICE}.", rule)
    return price


def propose_meeting(
    expert: User,
    *,
    service: Service,
    party: Party,
    start: datetime,
    length: int | None = None,
    price: int | None = None,
    subject: str = "",
    description: str = "",
    skill: Skill | None = None,
    now: datetime | None = None,
) -> Meeting:
    """B3: the expert proposes a meeting; it awaits the client's approval, no credits move."""
    now = _now(now)
    length = length or service.default_length
    price = service.price if price is None else _check_price(price, "B3")
    with transaction.atomic():
        _check_expert(service, expert, "B3")
        _check_party(service.organization, party, expert, "B3")
        if price and party.client is None:
            raise refuse("sign_in_required", "Only a client with an account can be offered a paid meeting.", "B3")
        if length not in service.lengths:
            raise refuse("invalid_length", "Choose one of the service's lengths.", "B3")
        require_future(start, now, "B3")
        meeting = _new_meeting(
            service,
            expert,
            party,
            start,
            length,
            origin=Side.EXPERT,
            subject=_check_note(subject, "B3")[:200],
            description=_check_note(description, "B3"),
            skill=skill,
            price=price,
            status=Status.AWAITING_APPROVAL,
            expert_approved=True,
            created_at=now,
            updated_at=now,
        )
        record(meeting, EventKind.PROPOSED, now, side=Side.EXPERT, actor=expert)
        record(meeting, EventKind.APPROVED, now, side=Side.EXPERT, actor=expert)
        notify(meeting, Topic.N3, Side.CLIENT, now)
    return meeting


def offer_time_options(
    expert: User,
    *,
    service: Service,
    party: Party,
    options: list[tuple[datetime, int]],
    price: int | None = None,
    subject: str = "",
    description: str = "",
    skill: Skill | None = None,
    now: datetime | None = None,
) -> Meeting:
    """B4: the expert offers several times; the meeting is planning until one is picked."""
    now = _now(now)
    price = service.price if price is None else _check_price(price, "B4")
    if not 1 <= len(options) <= MAX_TIME_OPTIONS:
        raise refuse("invalid_options", f"Offer between 1 and {MAX_TIME_OPTIONS} times.", "B4")
    options = sorted(options)
    if len({start for start, _ in options}) != len(options):
        raise refuse("invalid_options", "Each time may be offered once.", "B4")
    with transaction.atomic():
        _check_expert(service, expert, "B4")
        _check_party(service.organization, party, expert, "B4")
        if price and party.client is None:
            raise refuse("sign_in_required", "Only a client with an account can be offered a paid meeting.", "B4")
        for start, length in options:
            require_future(start, now, "B4")
            if length not in service.lengths:
                raise refuse("invalid_length", "Choose one of the service's lengths.", "B4")
        first_start, first_length = options[0]
        meeting = _new_meeting(
            service,
            expert,
            party,
            first_start,
            first_length,
            origin=Side.EXPERT,
            subject=_check_note(subject, "B4")[:200],
            description=_check_note(description, "B4"),
            skill=skill,
            price=price,
            status=Status.PLANNING,
            expert_approved=True,
            created_at=now,
            updated_at=now,
        )
        TimeOption.objects.bulk_create(
            TimeOption(meeting=meeting, start=start, length_minutes=length) for start, length in options
        )
        record(meeting, EventKind.OPTIONS_OFFERED, now, side=Side.EXPERT, actor=expert, count=str(len(options)))
        notify(meeting, Topic.N3, Side.CLIENT, now)
    return meeting


def pick_time_option(
    actor: Actor, meeting: Meeting, option_id: int, *, acknowledge_conflict: bool = False, now: datetime | None = None
) -> Meeting:
    """B4: the client picks one of the offered times: it is confirmed (credits blocked if it
    has a price) and agreed; the other options are released."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        require_side(meeting, actor, {Side.CLIENT}, "B4")
        require_status(meeting, {Status.PLANNING}, "B4")
        require_before_start(meeting, now, "B4")
        option = meeting.time_options.filter(pk=option_id).first()
        if option is None:
            raise refuse("no_such_option", "That time is not one of the options offered.", "B4", status=404)
        require_future(option.start, now, "B4")
        # An offered time does not hold the expert's slot (E4): it may have been booked since.
        User.objects.select_for_update().filter(pk=meeting.expert_id).first()
        if expert_is_busy(meeting.expert, option.start, option.end, exclude=meeting):
            raise refuse("slot_taken", "This time was just taken. Please choose another.", "B4", status=409)
        warn_conflict(meeting, actor, option.start, option.end, acknowledge_conflict, "B4")
        meeting.set_time(option.start, option.length_minutes)
        meeting.time_options.filter(pk=option.pk).update(picked=True)
        ledger.block_price(meeting, now, "B4")
        _agree(meeting, now, client_approved=True)
        record(meeting, EventKind.OPTION_PICKED, now, side=Side.CLIENT, actor=actor)
        record(meeting, EventKind.APPROVED, now, side=Side.CLIENT, actor=actor)
        notify(meeting, Topic.N4_CONFIRMED, Side.EXPERT, now, by=Side.CLIENT)
        command_room(meeting, "create", now)
    return meeting


def _agree(meeting: Meeting, now: datetime, *, client_approved: bool | None = None) -> None:
    meeting.status = Status.AGREED
    meeting.expert_approved = True
    if client_approved is not None:
        meeting.client_approved = client_approved
    if meeting.price:
        meeting.credit_status = CreditStatus.BLOCKED
    save(meeting, now)


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
            raise refuse("already_approved", "You proposed this meeting; the other side confirms it.", rule, status=409)
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
            raise refuse("own_proposal", "You cannot reject your own proposal; cancel it instead.", rule, status=409)
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
                other = "reject it" if side == Side.EXPERT or meeting.status == Status.PLANNING else "answer it"
                raise refuse(
                    "not_your_request", f"This was proposed by the other side: {other} instead.", rule, status=409
                )
            _cancel(meeting, side, actor, now, rule, note=_check_note(note, rule))
            return meeting
        require_status(meeting, {Status.AGREED}, "L7" if side == Side.CLIENT else "L9")
        require_before_start(meeting, now, "L7" if side == Side.CLIENT else "L9")
        notice = timedelta(hours=meeting.organization.settings.cancellation_notice_hours)
        late = now > meeting.start - notice
        if side == Side.CLIENT:
            written = _check_note(note or reason, "L7")
            if not written:
                raise refuse("reason_required", "Please write why you cancel the meeting.", "L7")
            if not late:
                _cancel(meeting, side, actor, now, "L7", note=written, room=True)
                return meeting
            _cancel_late_by_client(meeting, actor, now, written, confirm_late)
            return meeting
        _check_reason(reason, ExpertCancelReason, "L9")
        if late and not confirm_late:
            raise refuse(
                "late_cancellation_warning",
                "The meeting starts within the cancellation notice. Cancelling this late lets the "
                "client down; confirm to cancel anyway. All credits return to the client.",
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
            f"The meeting starts within {policy.cancellation_notice_hours} hours: "
            f"{policy.late_cancellation_charge_percent} % of the price ({parts.charged} credits) will be "
            f"charged and {parts.returned} returned. Confirm to cancel.",
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
                "An alternative date is already waiting for an answer; withdraw it or wait for the answer.",
                rule,
                status=409,
            )
        length = length or meeting.length_minutes
        require_length(meeting, length, rule)
        require_future(start, now, rule)
        _check_window(meeting.organization, start, now, rule)
        if start == meeting.start and length == meeting.length_minutes:
            raise refuse("same_date", "The alternative is the meeting's current date.", rule)
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
        raise refuse("no_alternative", "There is no alternative date waiting for an answer.", rule, status=409)
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
            raise refuse("own_alternative", "You proposed this date; the other side confirms it.", "L12", status=409)
        require_status(meeting, {Status.AGREED, Status.REJECTED}, "L12")
        require_before_start(meeting, now, "L12", start=_date_at_stake(meeting, alternative))
        require_future(alternative.start, now, "L12")
        warn_conflict(meeting, actor, alternative.start, alternative.end, acknowledge_conflict, "L12")
        was_rejected = meeting.status == Status.REJECTED
        meeting.set_time(alternative.start, alternative.length_minutes)
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
            raise refuse("own_alternative", "You proposed this date; withdraw it instead.", "L13", status=409)
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
            raise refuse("not_your_alternative", "Only who proposed the date may withdraw it.", "L14", status=403)
        require_before_start(meeting, now, "L14", start=_date_at_stake(meeting, alternative))
        _close_alternative(meeting, alternative, AlternativeState.WITHDRAWN, now)
        record(meeting, EventKind.ALTERNATIVE_WITHDRAWN, now, side=side, actor=actor)
    return meeting


def _close_alternative(meeting: Meeting, alternative, state: str, now: datetime) -> None:
    alternative.state = state
    alternative.decided_at = now
    alternative.save(update_fields=["state", "decided_at"])
    if meeting.status == Status.REJECTED and ledger.return_escrow(meeting, now):
        meeting.credit_status = CreditStatus.RETURNED
        save(meeting, now)


# --- L15, L16: reassigning and direct changes ----------------------------------------


def reassign_meeting(actor: User, meeting: Meeting, *, expert: User, now: datetime | None = None) -> Meeting:
    """L15: the meeting's expert or an admin hands an agreed or planning meeting to another
    expert of the service. Both experts and the client are told; the room moves."""
    now = _now(now)
    with transaction.atomic():
        meeting = lock(meeting)
        if not (actor.pk == meeting.expert_id or is_admin(actor, meeting.organization)):
            raise refuse("wrong_side", "Only the meeting's expert or an admin may reassign it.", "L15", status=403)
        require_status(meeting, {Status.AGREED, Status.PLANNING}, "L15")
        require_before_start(meeting, now, "L15")
        if expert.pk == meeting.expert_id:
            raise refuse("same_expert", "The meeting is already with this expert.", "L15")
        _check_expert(meeting.service, expert, "L15")
        if expert.pk == meeting.client_id:
            raise refuse("same_person", "An expert cannot meet themselves.", "L15")
        if meeting.status == Status.AGREED:
            User.objects.select_for_update().filter(pk=expert.pk).first()
            if expert_is_busy(expert, meeting.start, meeting.end):
                raise refuse("expert_busy", f"{expert.name} already has a meeting at this time.", "L15", status=409)
        previous = meeting.expert
        meeting.expert = expert
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
                "This service needs the expert's confirmation: propose an alternative date instead.",
                "L16",
                status=409,
            )
        require_before_start(meeting, now, "L16")
        if meeting.alternatives.filter(state=AlternativeState.PENDING).exists():
            raise refuse(
                "alternative_pending", "Answer or withdraw the pending alternative date first.", "L16", status=409
            )
        start = start or meeting.start
        length = length or meeting.length_minutes
        require_length(meeting, length, "L16")
        require_future(start, now, "L16")
        if start == meeting.start and length == meeting.length_minutes:
            raise refuse("same_date", "Nothing would change.", "L16")
        User.objects.select_for_update().filter(pk=meeting.expert_id).first()
        profile = _profile(meeting.service, meeting.expert)
        search.check_bookable(meeting.service, profile, start, length, now, rule="L16", exclude=meeting)
        previous = meeting.start
        meeting.set_time(start, length)
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
