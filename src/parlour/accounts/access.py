"""Who someone is in an organization (O1–O3). Every lookup of organization data by a
person goes through these functions or ``parlour.meetings.access`` (STYLE rule 6)."""

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q
from django.utils.translation import gettext as _

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
        raise DomainError("admins_only", _("Only an admin of the organization may do this."), rule, status=403)


def belongs_to(user: User, organization: Organization) -> bool:
    """A member, or a client of the organization: one query (none for a known member)."""
    if not user.is_authenticated:
        return False
    if user.__dict__.get("_memberships", {}).get(organization.pk) is not None:
        return True
    member = Membership.objects.filter(organization_id=OuterRef("pk"), user=user)
    client = ClientAccount.objects.filter(organization_id=OuterRef("pk"), user=user)
    return Organization.objects.filter(Q(Exists(member)) | Q(Exists(client)), pk=organization.pk).exists()


def access_organization(user: User, slug: str) -> Organization:
    """The organization named by ``slug`` if ``user`` belongs to it; otherwise not found, as
    if it did not exist (O3).

    One query: the organization with its settings, the user's membership there (remembered
    for ``membership_of``) and their client account, joined on (organization, user), which
    are unique."""
    if not user.is_authenticated:
        raise NotFound("organization")
    found = (
        Organization.objects.filter(slug=slug)
        .select_related("settings_row")
        .annotate(
            mine=FilteredRelation("memberships", condition=Q(memberships__user=user)),
            theirs=FilteredRelation("clients", condition=Q(clients__user=user)),
            _membership_id=F("mine__id"),
            _membership_role=F("mine__role"),
            _client_id=F("theirs__id"),
        )
        .order_by()[:1]  # one at most: slugs are unique, and so are memberships and client accounts
    )
    row = next(iter(found), None)
    if row is None:
        raise NotFound("organization")
    membership_id, role, client_id = (row.__dict__.pop(name) for name in _ACCESS_ANNOTATIONS)
    membership = None
    if membership_id is not None:
        membership = Membership(pk=membership_id, organization=row, user=user, role=role)
        membership._state.adding, membership._state.db = False, row._state.db
    user.__dict__.setdefault("_memberships", {})[row.pk] = membership
    if membership is None and client_id is None:
        raise NotFound("organization")
    return row


_ACCESS_ANNOTATIONS = ("_membership_id", "_membership_role", "_client_id")


def organizations_of(user: User) -> list[Organization]:
    member = Organization.objects.filter(memberships__user=user)
    client = Organization.objects.filter(clients__user=user)
    return list((member | client).distinct().order_by("name"))
