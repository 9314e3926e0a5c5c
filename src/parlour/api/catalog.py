"""What can be booked and from whom (E1, E2), and the lists reasons are chosen from."""

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import File, Router
from ninja.files import UploadedFile

from parlour.accounts.access import require_admin
from parlour.accounts.models import Membership, Role, User
from parlour.catalog import profiles
from parlour.catalog.models import Service, Skill
from parlour.catalog.profiles import profile_for
from parlour.core.errors import DomainError, NotFound
from parlour.meetings.models import SAID_LABELS, Outcome, Side
from parlour.meetings.reasons import ExpertCancelReason, RejectReason

from .lookups import organization_for, skill_of, viewer
from .schemas import ERRORS, ErrorOut, ExpertOut, ProfileIn, ReasonsOut, ServiceOut
from .slots import checked_id

router = Router(tags=["catalog"])


def _refs(rows) -> list[dict]:
    return [{"id": row.pk, "name": row.name} for row in rows]


def _choices(choices) -> list[dict]:
    return [{"code": str(value), "label": str(label)} for value, label in choices]


@router.get("/orgs/{slug}/services", response={200: list[ServiceOut], ERRORS: ErrorOut})
def list_services(request: HttpRequest, slug: str):
    """E2: the organization's bookable services with their lengths, price and experts."""
    organization = organization_for(request, slug)
    services = (
        Service.objects.filter(organization=organization, is_active=True)
        .prefetch_related(
            Prefetch("experts", queryset=User.objects.order_by("name", "id")),
            Prefetch("skills", queryset=Skill.objects.order_by("name")),
        )
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
            "experts": _refs(s.experts.all()),
            "skills": _refs(s.skills.all()),
        }
        for s in services
    ]


@router.get("/orgs/{slug}/experts", response={200: list[ExpertOut], ERRORS: ErrorOut})
def list_experts(request: HttpRequest, slug: str):
    """E1, E5: the organization's experts (members with the expert role, and any member who
    gives a service) with their skills and the services they give."""
    organization = organization_for(request, slug)
    active = Service.objects.filter(organization=organization, is_active=True)
    memberships = (
        Membership.objects.filter(organization=organization)
        .filter(Q(role=Role.EXPERT) | Q(user__services__in=active))
        .distinct()
        .select_related("user", "profile")
        .prefetch_related(
            Prefetch("profile__skills", queryset=Skill.objects.order_by("name")),
            Prefetch("user__services", queryset=active.order_by("name", "id"), to_attr="given"),
        )
        .order_by("user__name", "user__id")
    )
    return [_expert(request, membership, [s.pk for s in membership.user.given]) for membership in memberships]


def _expert(request: HttpRequest, membership: Membership, service_ids: list[int]) -> dict:
    user = membership.user
    profile = getattr(membership, "profile", None)
    return {
        "id": user.pk,
        "name": user.name,
        "time_zone": profile.time_zone if profile else user.time_zone,
        "bio": profile.bio if profile else "",
        "photo_url": request.build_absolute_uri(profile.photo.url) if profile and profile.photo else None,
        "skills": _refs(profile.skills.all()) if profile else [],
        "service_ids": service_ids,
    }


def _editable(request: HttpRequest, slug: str, expert_id: int) -> tuple[Membership, QuerySet]:
    """The expert's membership when the caller may change their profile (E1): the expert
    themself or an admin of the organization; another member or a client hears 403, anyone
    else "not found" (O3). With the organization's active services."""
    organization = organization_for(request, slug)
    active = Service.objects.filter(organization=organization, is_active=True)
    membership = (
        Membership.objects.filter(organization=organization, user_id=checked_id(expert_id, "expert"))
        .filter(Q(role=Role.EXPERT) | Q(user__services__in=active))
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound("expert")
    if viewer(request).pk != membership.user_id:
        require_admin(viewer(request), organization, rule="E1")
    membership.profile = profile_for(membership)
    return membership, active


def _edited(request: HttpRequest, membership: Membership, active: QuerySet) -> dict:
    given = active.filter(experts=membership.user).order_by("name", "id").values_list("pk", flat=True)
    return _expert(request, membership, list(given))


@router.patch("/orgs/{slug}/experts/{int:expert_id}/profile", response={200: ExpertOut, ERRORS: ErrorOut})
def edit_profile(request: HttpRequest, slug: str, expert_id: int, payload: ProfileIn):
    """E1: change an expert's introduction (``bio``, at most 2000 characters) and/or skills
    (``skill_ids``: all of them, of the organization's skills); a field left out stays. The
    expert themself or an admin of the organization may; another member or a client hears
    403, anyone else "not found" (O3)."""
    membership, active = _editable(request, slug, expert_id)
    skills = None
    if payload.skill_ids is not None:
        skills = [skill_of(membership.organization, skill_id) for skill_id in dict.fromkeys(payload.skill_ids)]
    profiles.save_about(membership.profile, bio=payload.bio, skills=skills)
    return _edited(request, membership, active)


@router.post("/orgs/{slug}/experts/{int:expert_id}/photo", response={200: ExpertOut, ERRORS: ErrorOut})
def upload_photo(request: HttpRequest, slug: str, expert_id: int, photo: File[UploadedFile]):
    """E1: a new photo for the expert (multipart form, field ``photo``): a JPEG, PNG or WebP
    picture of at most 2 MB, told by its first bytes; anything else is refused (400) and the
    old photo stays. Who may: as for the profile."""
    membership, active = _editable(request, slug, expert_id)
    try:
        profiles.replace_photo(membership.profile, photo)
    except profiles.PhotoRefused as refusal:
        raise DomainError(refusal.code, refusal.message, "E1") from None
    return _edited(request, membership, active)


@router.delete("/orgs/{slug}/experts/{int:expert_id}/photo", response={200: ExpertOut, ERRORS: ErrorOut})
def delete_photo(request: HttpRequest, slug: str, expert_id: int):
    """E1: the expert shows no photo any more; the file is deleted."""
    membership, active = _editable(request, slug, expert_id)
    profiles.remove_photo(membership.profile)
    return _edited(request, membership, active)


@router.get("/orgs/{slug}/reasons", response={200: ReasonsOut, ERRORS: ErrorOut})
def reasons(request: HttpRequest, slug: str):
    """The lists to choose from: rejecting a meeting or an alternative (L3, L6, L13),
    an expert's cancellation (L9), each side's statement (S1, S2) and a dispute's outcome (S3)."""
    organization_for(request, slug)
    outcomes = [(o, o.label) for o in (Outcome.HELD, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED)]
    return {
        "reject": _choices(RejectReason.choices),
        "expert_cancel": _choices(ExpertCancelReason.choices),
        "statement_client": _choices(SAID_LABELS[Side.CLIENT].items()),
        "statement_expert": _choices(SAID_LABELS[Side.EXPERT].items()),
        "dispute_outcomes": _choices(outcomes),
    }
