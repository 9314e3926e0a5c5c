"""The public booking page's API (B1, B5, B7): an organization's services and their free
slots for anyone, and booking as a guest or as the signed-in client.

No sign-in is needed. A caller who sends an API token or a signed-in session is that person
(their time zone by default, and a booking is theirs as a client); a session must then carry
its CSRF token on a POST like anywhere else. A guest has no session, so there is nothing for
another site to forge. An unknown organization is "not found". Who is free at a slot is
not shown here (members see it in ``/orgs/{slug}/services/{id}/slots``).

The domain refuses what the rules forbid, with the rule's reason: a paid service for a guest
(B1), past the booking window or inside the minimum notice (E4), beyond a guest's upcoming
meetings with one expert (O5), a full day, and 409 ``slot_taken`` when someone was faster."""

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from parlour.accounts.guests import guest_for_booking
from parlour.accounts.models import Organization, User
from parlour.catalog.models import Service
from parlour.core.errors import DomainError, NotFound
from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party

from .guest import meeting_view
from .schemas import (
    ERRORS,
    ErrorOut,
    ExpertSlotsQuery,
    PublicBookIn,
    PublicBookingOut,
    PublicServiceOut,
    SlotsOut,
    SlotsQuery,
)
from .security import session_auth, token_auth
from .slots import (
    active_service,
    expert_of_service,
    expert_profile_of_service,
    expert_slots_answer,
    service_slots_answer,
    viewer_zone,
)


def anyone(request: HttpRequest) -> AnonymousUser:
    """The last resort of the public endpoints: no token, no signed-in session, a guest."""
    return AnonymousUser()


router = Router(tags=["public booking"], auth=[token_auth, session_auth, anyone])

SLOTS = {200: SlotsOut, ERRORS: ErrorOut}


def _organization(slug: str, *, with_settings: bool = False) -> Organization:
    """The organization of ``slug``; ``with_settings`` reads its settings in the same query."""
    organizations = Organization.objects.filter(slug=slug)
    if with_settings:
        organizations = organizations.select_related("settings_row")
    organization = organizations.first()
    if organization is None:
        raise NotFound("organization")
    return organization


def _person(request: HttpRequest) -> User | None:
    person = request.auth
    return person if person.is_authenticated else None


@router.get("/public/{slug}/services", response={200: list[PublicServiceOut], ERRORS: ErrorOut})
def public_services(request: HttpRequest, slug: str):
    """E2: what can be booked: each active service with its lengths, price, whether the
    expert confirms, and the experts who give it."""
    organization = _organization(slug)
    experts = User.objects.filter(memberships__organization=organization).order_by("name", "id")
    services = (
        Service.objects.filter(organization=organization, is_active=True)
        .prefetch_related(Prefetch("experts", queryset=experts))
        .order_by("name", "id")
    )
    return [
        {
            "id": s.pk,
            "name": s.name,
            "description": s.description,
            "lengths": s.lengths,
            "default_length": s.default_length,
            "price": s.price,
            "requires_confirmation": s.requires_confirmation,
            "experts": [{"id": e.pk, "name": e.name} for e in s.experts.all()],
        }
        for s in services
    ]


@router.get("/public/{slug}/services/{int:service_id}/slots", response=SLOTS, exclude_none=True)
def public_service_slots(request: HttpRequest, slug: str, service_id: int, params: Query[SlotsQuery]):
    """B7: when the service can be booked with any of its experts (times only)."""
    service = active_service(_organization(slug, with_settings=True), service_id)
    zone = viewer_zone(params.tz, _person(request))
    return service_slots_answer(service, params, zone, show_experts=False)


@router.get("/public/{slug}/experts/{int:expert_id}/slots", response=SLOTS, exclude_none=True)
def public_expert_slots(request: HttpRequest, slug: str, expert_id: int, params: Query[ExpertSlotsQuery]):
    """E4, E5: when one expert can be booked for a service (``service_id``)."""
    service = active_service(_organization(slug, with_settings=True), params.service_id)
    expert, profile = expert_profile_of_service(service, expert_id)
    return expert_slots_answer(service, expert, profile, params, viewer_zone(params.tz, _person(request)))


@router.post("/public/{slug}/bookings", response={201: PublicBookingOut, ERRORS: ErrorOut})
def public_book(request: HttpRequest, slug: str, payload: PublicBookIn):
    """B1, B2, B7: book a free slot, with ``expert_id`` or with whichever expert of the
    service is free then (the least busy in the coming week first).

    A guest sends ``guest`` (name, email, optional phone and time zone) and may book free
    services only; booking again with the same email is the same guest. A signed-in client
    sends no ``guest``. The answer is the meeting, dated in the guest's (or client's) zone,
    with its guest key. A guest's own link to it goes to their email only: typing an address
    proves nothing, and the link reaches everything of that guest (O3, X1)."""
    organization = _organization(slug)
    service = active_service(organization, payload.service_id)
    expert = None if payload.expert_id is None else expert_of_service(service, payload.expert_id)
    person = _person(request)
    if person is not None and payload.guest is not None:
        raise DomainError(
            "signed_in", _("You are signed in: book as yourself, without guest details, or sign out first."), "B1"
        )
    if person is None and payload.guest is None:
        raise DomainError(
            "client_required", _("Sign in, or give your name and email address to book as a guest."), "B1"
        )
    with transaction.atomic():  # a refused booking leaves no new or changed guest behind
        if person is not None:
            party = Party(client=person)
        else:
            guest = payload.guest
            party = Party(guest=guest_for_booking(organization, guest.name, guest.email, guest.phone, guest.time_zone))
        meeting = lifecycle.book_meeting(
            service=service,
            expert=expert,
            party=party,
            start=payload.start,
            length=payload.length,
            subject=payload.subject,
            description=payload.description,
        )
    return Status(201, meeting_view(meeting))
