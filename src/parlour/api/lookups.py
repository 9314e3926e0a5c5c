"""Turning the ids in a request into the things they name, always inside one organization
(STYLE rule 6, O3): an id of another organization answers "not found", exactly like one that
does not exist."""

from django.http import HttpRequest

from parlour.accounts.access import access_organization
from parlour.accounts.models import ClientAccount, Guest, Membership, Organization, User
from parlour.catalog.models import Service, Skill
from parlour.core.errors import NotFound
from parlour.meetings.access import access_meeting
from parlour.meetings.models import Meeting


def viewer(request: HttpRequest) -> User:
    return request.auth


def organization_for(request: HttpRequest, slug: str) -> Organization:
    return access_organization(viewer(request), slug)


def meeting_for(request: HttpRequest, slug: str, meeting_id: int) -> tuple[Organization, Meeting]:
    organization = organization_for(request, slug)
    return organization, access_meeting(viewer(request), organization, meeting_id)


def service_of(organization: Organization, service_id: int) -> Service:
    service = Service.objects.filter(organization=organization, pk=service_id, is_active=True).first()
    if service is None:
        raise NotFound("service")
    return service


def skill_of(organization: Organization, skill_id: int | None) -> Skill | None:
    if skill_id is None:
        return None
    skill = Skill.objects.filter(organization=organization, pk=skill_id).first()
    if skill is None:
        raise NotFound("skill")
    return skill


def member_of(organization: Organization, user_id: int, what: str = "expert") -> User:
    membership = Membership.objects.filter(organization=organization, user_id=user_id).select_related("user").first()
    if membership is None:
        raise NotFound(what)
    return membership.user


def person_of(organization: Organization, user_id: int) -> User:
    """A member or a client of the organization."""
    membership = Membership.objects.filter(organization=organization, user_id=user_id).select_related("user").first()
    if membership is not None:
        return membership.user
    account = ClientAccount.objects.filter(organization=organization, user_id=user_id).select_related("user").first()
    if account is None:
        raise NotFound("person")
    return account.user


def client_of(organization: Organization, user_id: int) -> User:
    account = ClientAccount.objects.filter(organization=organization, user_id=user_id).select_related("user").first()
    if account is None:
        raise NotFound("client")
    return account.user


def guest_of(organization: Organization, guest_id: int) -> Guest:
    guest = Guest.objects.filter(organization=organization, pk=guest_id).first()
    if guest is None:
        raise NotFound("guest")
    return guest
