"""The organization's page for visitors (E5, B1, B7): where anyone finds what can be booked.

Its active services (lengths, price or "free", a link to book with whichever expert is free,
B7) and the experts who give them (name, photo, skills, a link to their page with their free
slots, E5). It shows what the booking pages show and nothing more (``booking``): an unknown
organization is "not found", an inactive service or someone who is no longer a member is not
listed (O3). Its queries do not grow with the number of experts or services.

A visitor who opens the organization's own address (``/o/<slug>/``, the dashboard of those
who belong to it) is sent here; a client or member finds it from the dashboard. A visitor
finds "Create an account" here (``signup``), and a signed-in person who does not belong to
the organization "Become a client"."""

from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from parlour.accounts.models import Membership, Organization
from parlour.catalog.models import ExpertProfile, Service

from .booking import public_organization


def bookable_services(organization: Organization):
    """The active services of the organization given by at least one of its members."""
    given = Membership.objects.filter(organization=organization, user__services=OuterRef("pk"))
    return Service.objects.filter(organization=organization, is_active=True).filter(Exists(given))


def bookable_experts(organization: Organization) -> list[Membership]:
    """The members who give one of the organization's active services (``booking``'s
    ``expert_membership``), with their profiles and skills: three queries for any number."""
    gives = Service.objects.filter(organization=organization, is_active=True, experts=OuterRef("user_id"))
    profiles = ExpertProfile.objects.prefetch_related("skills")
    return list(
        Membership.objects.filter(organization=organization)
        .filter(Exists(gives))
        .select_related("user")
        .prefetch_related(Prefetch("profile", queryset=profiles))
        .order_by("user__name", "user_id")
    )


def _profile(membership: Membership) -> ExpertProfile | None:
    try:
        return membership.profile
    except ExpertProfile.DoesNotExist:
        return None


@require_GET
def organization_public(request: HttpRequest, slug: str) -> HttpResponse:
    """E5, B7: the organization's services and experts, each with the way to book."""
    organization = public_organization(request, slug)
    services = list(bookable_services(organization).order_by("name", "pk"))
    experts = [
        {"user": membership.user, "profile": _profile(membership)} for membership in bookable_experts(organization)
    ]
    # ``public_organization`` keeps the organization on the request for those who belong to it.
    joins = request.user.is_authenticated and getattr(request, "organization", None) is None
    context = {"organization": organization, "services": services, "experts": experts, "may_join": joins}
    return render(request, "web/booking/organization.html", context)


urlpatterns = [
    path("o/<slug:slug>/experts/", organization_public, name="public_organization"),
]
