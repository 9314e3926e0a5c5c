"""What the lifecycle's transitions share: the client side of a new meeting, input checks,
and making a meeting agreed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from parlour.accounts.access import membership_of
from parlour.accounts.models import ClientAccount, Guest, Organization, User
from parlour.availability import search
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.credits import ledger

from ..models import (
    CreditStatus,
    Meeting,
    Status,
)
from ..transitions import (
    refuse,
    save,
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
        raise refuse("invalid_reason", _("Choose a reason from the list: %(reasons)s.") % {"reasons": listed}, rule)
    return reason


def _check_note(note: str, rule: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise refuse("too_long", _("Keep it under %(count)s characters.") % {"count": MAX_TEXT}, rule)
    return note


def _check_expert(service: Service, expert: User, rule: str) -> None:
    membership = membership_of(expert, service.organization)
    if membership is None or not service.experts.filter(pk=expert.pk).exists():
        raise refuse(
            "not_an_expert_of_service",
            _("%(expert)s does not give %(service)s.") % {"expert": expert.name, "service": service.name},
            rule,
        )


def _check_party(organization: Organization, party: Party, expert: User, rule: str) -> None:
    if (party.client is None) == (party.guest is None):
        raise refuse("client_required", _("A meeting has one client: a signed-in client or a guest."), rule)
    if party.client is not None and party.client.pk == expert.pk:
        raise refuse("same_person", _("An expert cannot meet themselves."), rule)
    if party.guest is not None and party.guest.organization_id != organization.pk:
        raise refuse("client_required", _("The guest belongs to another organization."), rule)


def _check_window(organization: Organization, start: datetime, now: datetime, rule: str) -> None:
    days = organization.settings.booking_window_days
    if start > now + timedelta(days=days):
        raise refuse(
            "outside_booking_window", _("Meetings can be booked at most %(days)s days ahead.") % {"days": days}, rule
        )


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


def _agree(meeting: Meeting, now: datetime, *, client_approved: bool | None = None) -> None:
    meeting.status = Status.AGREED
    meeting.expert_approved = True
    if client_approved is not None:
        meeting.client_approved = client_approved
    if meeting.price:
        meeting.credit_status = CreditStatus.BLOCKED
    save(meeting, now)


def _profile(service: Service, expert: User) -> ExpertProfile:
    profile = search.profiles_of(service, [expert])
    if not profile:
        raise refuse(
            "not_free", _("%(expert)s has not published free dates yet.") % {"expert": expert.name}, "E3", status=409
        )
    return profile[0]


def _close_alternative(meeting: Meeting, alternative, state: str, now: datetime) -> None:
    alternative.state = state
    alternative.decided_at = now
    alternative.save(update_fields=["state", "decided_at"])
    if meeting.status == Status.REJECTED and ledger.return_escrow(meeting, now):
        meeting.credit_status = CreditStatus.RETURNED
        save(meeting, now)
