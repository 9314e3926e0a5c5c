"""Making a meeting (SPEC §3): a client or guest books a free slot (B1, B2, B7), an expert
proposes one time (B3) or several (B4) and the client picks one."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from parlour.accounts.models import Guest, User
from parlour.availability import search
from parlour.catalog.models import MAX_PRICE, Service, Skill
from parlour.conversations.domain import open_for_meeting
from parlour.core.errors import DomainError
from parlour.credits import ledger
from parlour.notifications.models import Topic

from ..models import (
    CreditStatus,
    EventKind,
    Meeting,
    Side,
    Status,
    TimeOption,
)
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
    require_side,
    require_status,
    warn_conflict,
)
from .shared import (
    MAX_TIME_OPTIONS,
    Party,
    _agree,
    _check_expert,
    _check_note,
    _check_party,
    _new_meeting,
    _now,
    _profile,
)

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
            raise refuse(
                "invalid_length", _("This service can be booked for %(lengths)s minutes.") % {"lengths": allowed}, "B1"
            )
        require_future(start, now, "B1")
        if service.price and party.client is None:
            raise refuse("sign_in_required", _("A paid service can be booked only by a signed-in client."), "B1")
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
        open_for_meeting(meeting, now)  # B6, X1: the party's conversation holds the meeting
    return meeting


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
            _(
                "You already have %(count)s upcoming meetings with %(expert)s; "
                "book another after one of them has passed."
            )
            % {"count": upcoming, "expert": expert.name},
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
            _("You already have a meeting at this time (%(service)s with %(expert)s).")
            % {"service": mine.service.name, "expert": mine.expert.name},
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
        raise refuse("slot_taken", _("This time was just taken. Please choose another."), "B7", status=409)
    if len(codes) == 1:
        raise refusals[0]
    raise refuse("not_free", _("Nobody gives this service at this time. Please choose a free slot."), "B7", status=409)


# --- B3, B4: an expert proposes -------------------------------------------------------


def _check_price(price: int, rule: str) -> int:
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= MAX_PRICE:
        raise refuse(
            "invalid_price", _("A price is a whole number of credits from 0 to %(most)s.") % {"most": MAX_PRICE}, rule
        )
    return price


def _new_proposal(expert, service, party, start, length, price, subject, description, skill, status, now, rule):
    """B3, B4: a meeting the expert proposes, approved by them, waiting for the client."""
    _check_expert(service, expert, rule)
    _check_party(service.organization, party, expert, rule)
    if price and party.client is None:
        raise refuse("sign_in_required", _("Only a client with an account can be offered a paid meeting."), rule)
    return _new_meeting(
        service,
        expert,
        party,
        start,
        length,
        origin=Side.EXPERT,
        subject=_check_note(subject, rule)[:200],
        description=_check_note(description, rule),
        skill=skill,
        price=price,
        status=status,
        expert_approved=True,
        created_at=now,
        updated_at=now,
    )


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
        if length not in service.lengths:
            raise refuse("invalid_length", _("Choose one of the service's lengths."), "B3")
        require_future(start, now, "B3")
        meeting = _new_proposal(
            expert,
            service,
            party,
            start,
            length,
            price,
            subject,
            description,
            skill,
            Status.AWAITING_APPROVAL,
            now,
            "B3",
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
        raise refuse("invalid_options", _("Offer between 1 and %(most)s times.") % {"most": MAX_TIME_OPTIONS}, "B4")
    options = sorted(options)
    if len({start for start, _ in options}) != len(options):
        raise refuse("invalid_options", _("Each time may be offered once."), "B4")
    with transaction.atomic():
        for start, length in options:
            require_future(start, now, "B4")
            if length not in service.lengths:
                raise refuse("invalid_length", _("Choose one of the service's lengths."), "B4")
        first_start, first_length = options[0]
        meeting = _new_proposal(
            expert,
            service,
            party,
            first_start,
            first_length,
            price,
            subject,
            description,
            skill,
            Status.PLANNING,
            now,
            "B4",
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
            raise refuse("no_such_option", _("That time is not one of the options offered."), "B4", status=404)
        require_future(option.start, now, "B4")
        # An offered time does not hold the expert's slot (E4): it may have been booked since.
        User.objects.select_for_update().filter(pk=meeting.expert_id).first()
        if expert_is_busy(meeting.expert, option.start, option.end, exclude=meeting):
            raise refuse("slot_taken", _("This time was just taken. Please choose another."), "B4", status=409)
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
