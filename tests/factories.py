"""Factories for the tests (factory_boy). Build a world with ``world()`` or piece by piece."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import factory

from parlour.accounts.models import ClientAccount, Group, Guest, Membership, Organization, Role, User
from parlour.availability.models import WeeklyHours
from parlour.catalog.models import ExpertProfile, Service, Skill
from parlour.core import clock
from parlour.credits import ledger
from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EXPERT


class GuestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guest

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Guest {n}")
    email = factory.Sequence(lambda n: f"guest{n}@example.net")


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Skill {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    lengths = [30, 60]
    price = 100
    requires_confirmation = True


def member(organization: Organization, role: str = Role.EXPERT, **fields) -> User:
    user = UserFactory(**fields)
    MembershipFactory(organization=organization, user=user, role=role)
    return user


def on_grid(instant: datetime) -> datetime:
    """The next quarter hour: where slots start (E4)."""
    instant = instant.replace(second=0, microsecond=0)
    return instant + timedelta(minutes=-instant.minute % 15)


def open_all_week(organization: Organization, user: User, time_zone: str = "UTC") -> ExpertProfile:
    """Give a member an expert profile whose free dates are every hour of every day, so that
    tests about other rules can book any time (E3 is tested on its own)."""
    membership = Membership.objects.get(organization=organization, user=user)
    profile, _ = ExpertProfile.objects.get_or_create(membership=membership, defaults={"time_zone": time_zone})
    WeeklyHours.objects.bulk_create(
        WeeklyHours(profile=profile, weekday=day, start=time(0), end=time(0)) for day in range(7)
    )
    return profile


def client(organization: Organization, credits: int = 0, **fields) -> User:
    user = UserFactory(**fields)
    ClientAccount.objects.create(organization=organization, user=user)
    if credits:
        ledger.grant_credits(organization, user, credits, by=admin_of(organization))
    return user


def admin_of(organization: Organization) -> User:
    membership = Membership.objects.filter(organization=organization, role=Role.ADMIN).first()
    return membership.user if membership else member(organization, Role.ADMIN)


@dataclass
class World:
    """An organization with an admin, an expert, a colleague in the same group, a client with
    credits, a guest, and a paid service needing confirmation and a free one that does not."""

    org: Organization
    admin: User
    expert: User
    colleague: User
    client: User
    guest: Guest
    service: Service  # 100 credits, requires confirmation
    free_service: Service  # free, agreed at once

    def book(self, *, hours_ahead: float = 72, service: Service | None = None, by=None, **kw):
        service = service or self.service
        party = Party(guest=by) if isinstance(by, Guest) else Party(client=by or self.client)
        start = kw.pop("start", None) or on_grid(clock.now()) + timedelta(hours=hours_ahead)
        return lifecycle.book_meeting(
            service=service, expert=kw.pop("expert", self.expert), party=party, start=start, **kw
        )

    def agreed(self, **kw):
        meeting = self.book(**kw)
        if meeting.status != "agreed":
            meeting = lifecycle.confirm_meeting(meeting.expert, meeting)
        return meeting

    def propose(self, *, hours_ahead: float = 72, price: int | None = None, to=None, **kw):
        to = to or self.client
        party = Party(guest=to) if isinstance(to, Guest) else Party(client=to)
        start = on_grid(clock.now()) + timedelta(hours=hours_ahead)
        return lifecycle.propose_meeting(
            self.expert, service=kw.pop("service", self.service), party=party, start=start, price=price, **kw
        )


def world(credits: int = 1000) -> World:
    org = OrganizationFactory()
    admin = member(org, Role.ADMIN, name="Ada Admin")
    expert = member(org, name="Eve Expert")
    colleague = member(org, name="Carl Colleague")
    group = Group.objects.create(organization=org, name="Advisors")
    group.members.add(*Membership.objects.filter(user__in=[expert, colleague]))
    customer = client(org, credits=credits, name="Cleo Client")
    guest = GuestFactory(organization=org, name="Gus Guest")
    service = ServiceFactory(organization=org, name="Expert advice", price=100, requires_confirmation=True)
    free_service = ServiceFactory(
        organization=org, name="Intro call", price=0, requires_confirmation=False, lengths=[15, 30]
    )
    for s in (service, free_service):
        s.experts.add(expert, colleague)
    for person in (expert, colleague):
        open_all_week(org, person)
    return World(org, admin, expert, colleague, customer, guest, service, free_service)
