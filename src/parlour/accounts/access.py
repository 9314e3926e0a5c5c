"""Who someone is in an organization (O1–O3). Every lookup of organization data by a
person goes through these functions or ``parlour.meetings.access`` (STYLE rule 6)."""

from parlour.core.errors import DomainError, NotFound

from .models import ClientAccount, Membership, Organization, Role, User


def membership_of(user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = user.__dict__.setdefault("_memberships", {})
    if organization.pk not in cache:
        cache[organization.pk] = Membership.objects.filter(user=user, organization=organization).first()
    return cache[organization.pk]


def is_admin(user: User, organization: Organization) -> bool:
    membership = membership_of(user, organization)
    return membership is not None and membership.role == Role.ADMIN


def require_admin(user: User, organization: Organization, rule: str = "O1") -> None:
    if not is_admin(user, organization):
        raise DomainError("admins_only", "Only an admin of the organization may do this.", rule, status=403)


def belongs_to(user: User, organization: Organization) -> bool:
    """A member, or a client of the organization."""
    if membership_of(user, organization) is not None:
        return True
    return ClientAccount.objects.filter(user=user, organization=organization).exists()


def access_organization(user: User, slug: str) -> Organization:
    """The organization named by ``slug`` if ``user`` belongs to it; otherwise not found, as
    if it did not exist (O3)."""
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None or not user.is_authenticated or not belongs_to(user, organization):
        raise NotFound("organization")
    return organization


def organizations_of(user: User) -> list[Organization]:
    member = Organization.objects.filter(memberships__user=user)
    client = Organization.objects.filter(clients__user=user)
    return list((member | client).distinct().order_by("name"))
