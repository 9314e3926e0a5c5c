"""Area F: the organization's settings, for its admins only (O1, O2, O4, O5, E2, I5).

General (the numbers of the rules, the video platform and the add-ons), members and their
roles, groups, services and skills: each a page under ``o/<slug>/settings/``. Anyone who is
not an admin of the organization gets "not found", as for an organization that does not
exist (O3); so does an id (member, group, service, skill) of another organization.

Every change is a plain form posted to its own address: a valid one is saved and answered
with a redirect and a message; a bad one is shown again with the error next to the field,
nothing saved."""

import logging
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parlour.accounts.access import is_admin
from parlour.accounts.models import Group, Membership, Organization, OrganizationSettings, Role, User
from parlour.catalog.models import ExpertProfile, Service, Skill
from parlour.core import clock
from parlour.meetings.models import OPEN_STATUSES, Meeting

from .expert_profile import star_averages
from .organization_forms import (
    POLICY_FIELDS,
    AddMemberForm,
    AddOnsForm,
    GroupNameForm,
    MembersForm,
    PolicyForm,
    RoleForm,
    ServiceForm,
    SkillNameForm,
)
from .pages import organization_page
from .password import send_password_mail

TEMPLATES = "web/organization/"
logger = logging.getLogger(__name__)


def admin_page(request: HttpRequest, slug: str) -> Organization:
    """The organization, if the viewer is one of its admins; "not found" otherwise."""
    organization = organization_page(request, slug)
    if not is_admin(request.user, organization):
        raise Http404
    return organization


def show(request, organization, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, TEMPLATES + template, {"organization": organization, **context}, status=status)


# --- general: the rules' numbers, the video platform, the add-ons (O4, O5, V1) ------------


def general_page(request, organization, *, policy_form=None, add_ons_form=None, status=200) -> HttpResponse:
    stored = OrganizationSettings.objects.get_or_create(organization=organization)[0]
    policy_form = policy_form or PolicyForm(instance=stored)
    context = {
        "section": "general",
        "policy_form": policy_form,
        "policy_fields": [policy_form[name] for name in POLICY_FIELDS],
        "add_ons_form": add_ons_form or AddOnsForm(instance=organization),
    }
    return show(request, organization, "general.html", context, status)


@login_required
@require_GET
def general(request: HttpRequest, slug: str) -> HttpResponse:
    return general_page(request, admin_page(request, slug))


@login_required
@require_POST
def save_policy(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    stored = OrganizationSettings.objects.get_or_create(organization=organization)[0]
    form = PolicyForm(request.POST, instance=stored)
    if not form.is_valid():
        return general_page(request, organization, policy_form=form, status=400)
    form.save()
    messages.success(request, _("The settings are saved."))
    return redirect("web:settings", slug=organization.slug)


@login_required
@require_POST
def save_add_ons(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    form = AddOnsForm(request.POST, instance=organization)
    if not form.is_valid():
        return general_page(request, organization, add_ons_form=form, status=400)
    organization.save(update_fields=["reviews_enabled", "summaries_enabled"])
    on, off = _("on"), _("off")
    messages.success(
        request,
        _("Reviews are %(reviews)s; summaries are %(summaries)s.")
        % {
            "reviews": on if organization.reviews_enabled else off,
            "summaries": on if organization.summaries_enabled else off,
        },
    )
    return redirect(reverse("web:settings", args=[organization.slug]) + "#add-ons")


# --- members and their roles (O1) ---------------------------------------------------------


def membership_of_org(organization: Organization, user_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), organization=organization, user_id=user_id)


def send_invitation(request: HttpRequest, organization: Organization, person: User) -> str | None:
    """Mail someone just added (a member or a client) the invitation to choose a password
    (``web.password``). When it cannot be sent, the account gets a random password instead,
    returned for the admin to pass on once (with a message saying so); None when mailed."""
    try:
        send_password_mail(person, invitation=True, invited_by=request.user, organization=organization)
    except Exception:
        logger.exception("The invitation to user %s could not be mailed", person.pk)
        password = secrets.token_urlsafe(12)
        person.set_password(password)
        person.save(update_fields=["password"])
        messages.error(
            request,
            _("The invitation could not be mailed, so %(name)s signs in with the password below.")
            % {"name": person.name},
        )
        return password
    return None


def members_page(request, organization, *, add_form=None, refusal="", new_person=None, status=200) -> HttpResponse:
    rows = list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related("groups")
        .order_by("user__name", "user_id")
    )
    stars = star_averages(organization)  # E1: admins see each expert's average, clients never
    for row in rows:
        row.stars = stars.get(row.user_id)
    context = {
        "section": "members",
        "rows": rows,
        "roles": RoleForm.base_fields["role"].choices,
        "add_form": add_form or AddMemberForm(organization=organization),
        "refusal": refusal,
        "new_person": new_person,
    }
    response = show(request, organization, "members.html", context, status)
    if new_person:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def members(request: HttpRequest, slug: str) -> HttpResponse:
    return members_page(request, admin_page(request, slug))


@login_required
@require_POST
def add_member(request: HttpRequest, slug: str) -> HttpResponse:
    """An existing person joins by their email. Someone new gets an account, in the admin's
    language and time zone, and either a mail inviting them to choose their password
    (``web.password``) or a password made here, shown to the admin this once (they change it
    on their account page). When the invitation cannot be mailed, the admin is shown a
    password instead, so that adding someone never depends on the mail server."""
    organization = admin_page(request, slug)
    form = AddMemberForm(request.POST, organization=organization)
    if not form.is_valid():
        return members_page(request, organization, add_form=form, status=400)
    role = form.cleaned_data["role"]
    invite = form.person is None and form.cleaned_data["invite"]
    password = None
    with transaction.atomic():
        person = form.person
        if person is None:
            password = None if invite else secrets.token_urlsafe(12)
            person = User.objects.create_user(
                form.cleaned_data["email"],
                password,  # None: no password until they choose one through the invitation
                name=form.cleaned_data["name"].strip(),
                language=request.user.language,
                time_zone=request.user.time_zone,
            )
        Membership.objects.create(organization=organization, user=person, role=role)
    if invite:
        if (password := send_invitation(request, organization, person)) is not None:
            return members_page(request, organization, new_person={"person": person, "password": password})
        messages.success(
            request,
            _("%(name)s has an account now and is a member. A link to choose a password is mailed to %(email)s.")
            % {"name": person.name, "email": person.email},
        )
        return redirect("web:settings_members", slug=organization.slug)
    if password:
        messages.success(request, _("%(name)s has an account now and is a member.") % {"name": person.name})
        return members_page(request, organization, new_person={"person": person, "password": password})
    messages.success(request, _("%(name)s is a member now.") % {"name": person.name})
    return redirect("web:settings_members", slug=organization.slug)


def admins_locked(organization: Organization) -> list[Membership]:
    """The organization's admins, locked until the change is saved: two admins demoting each
    other at once must not leave it without one."""
    return list(Membership.objects.select_for_update().filter(organization=organization, role=Role.ADMIN))


@login_required
@require_POST
def change_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    membership = membership_of_org(organization, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return members_page(request, organization, refusal=_("Choose admin or expert."), status=400)
    role = form.cleaned_data["role"]
    with transaction.atomic():
        admins = admins_locked(organization)
        if role == Role.EXPERT and [m.pk for m in admins] == [membership.pk]:
            refusal = _("%(name)s is the only admin: make someone else an admin first.") % {
                "name": membership.user.name
            }
            return members_page(request, organization, refusal=refusal, status=409)
        Membership.objects.filter(pk=membership.pk).update(role=role)
    label = dict(RoleForm.base_fields["role"].choices)[role]
    messages.success(request, _("%(name)s is now: %(role)s.") % {"name": membership.user.name, "role": label})
    if membership.user_id == request.user.pk and role != Role.ADMIN:
        return redirect("web:dashboard", slug=organization.slug)
    return redirect("web:settings_members", slug=organization.slug)


def open_meetings_as_expert(organization: Organization, user: User):
    return Meeting.objects.filter(organization=organization, expert=user, status__in=OPEN_STATUSES, end__gt=clock.now())


@login_required
@require_POST
def remove_member(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    """Refused for oneself, for the only admin, and for an expert with meetings still to come
    (planning, awaiting approval or agreed): those are reassigned or cancelled first. The
    person keeps their account, and their wallet if they are also a client; deleting the
    membership takes them out of the organization's conversations and their assignments
    (``conversations.domain.member_left``, on every membership's deletion)."""
    organization = admin_page(request, slug)
    membership = membership_of_org(organization, user_id)
    person = membership.user
    if person.pk == request.user.pk:
        return members_page(request, organization, refusal=_("You cannot remove yourself."), status=409)
    with transaction.atomic():
        admins = admins_locked(organization)
        if [m.pk for m in admins] == [membership.pk]:
            refusal = _("%(name)s is the only admin and cannot be removed.") % {"name": person.name}
            return members_page(request, organization, refusal=refusal, status=409)
        waiting = open_meetings_as_expert(organization, person).count()
        if waiting:
            refusal = _(
                "%(name)s still has %(count)s upcoming meeting(s) as the expert: reassign or cancel them first."
            ) % {"name": person.name, "count": waiting}
            return members_page(request, organization, refusal=refusal, status=409)
        person.services.remove(*Service.objects.filter(organization=organization, experts=person))
        membership.delete()
    messages.success(request, _("%(name)s is no longer a member.") % {"name": person.name})
    return redirect("web:settings_members", slug=organization.slug)


# --- groups (O2) --------------------------------------------------------------------------


def member_choices(organization: Organization) -> list[tuple[int, str]]:
    found = Membership.objects.filter(organization=organization).select_related("user").order_by("user__name", "id")
    return [(m.pk, m.user.name) for m in found]


def groups_page(request, organization, *, bound=None, add_form=None, status=200) -> HttpResponse:
    """``bound``: (group id, form name, form) of a form shown again with its errors."""
    choices = member_choices(organization)
    rows = []
    for group in Group.objects.filter(organization=organization).prefetch_related("members"):
        prefix = f"group-{group.pk}"
        rows.append(
            {
                "group": group,
                "rename": GroupNameForm(
                    organization=organization, group=group, prefix=prefix, initial={"name": group.name}
                ),
                "members": MembersForm(
                    choices=choices, prefix=prefix, initial={"members": [m.pk for m in group.members.all()]}
                ),
                "names": [name for pk, name in choices if pk in {m.pk for m in group.members.all()}],
            }
        )
        if bound and bound[0] == group.pk:
            rows[-1][bound[1]] = bound[2]
    context = {
        "section": "groups",
        "rows": rows,
        "add_form": add_form or GroupNameForm(organization=organization, prefix="new"),
    }
    return show(request, organization, "groups.html", context, status)


def group_of(organization: Organization, group_id: int) -> Group:
    return get_object_or_404(Group, organization=organization, pk=group_id)


@login_required
@require_GET
def groups(request: HttpRequest, slug: str) -> HttpResponse:
    return groups_page(request, admin_page(request, slug))


@login_required
@require_POST
def add_group(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    form = GroupNameForm(request.POST, organization=organization, prefix="new")
    if not form.is_valid():
        return groups_page(request, organization, add_form=form, status=400)
    group = Group.objects.create(organization=organization, name=form.cleaned_data["name"])
    messages.success(request, _("The group %(name)s is made; now choose its members.") % {"name": group.name})
    return redirect(reverse("web:settings_groups", args=[organization.slug]) + f"#group-{group.pk}")


@login_required
@require_POST
def rename_group(request: HttpRequest, slug: str, group_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    group = group_of(organization, group_id)
    form = GroupNameForm(request.POST, organization=organization, group=group, prefix=f"group-{group.pk}")
    if not form.is_valid():
        return groups_page(request, organization, bound=(group.pk, "rename", form), status=400)
    old, group.name = group.name, form.cleaned_data["name"]
    group.save(update_fields=["name"])
    messages.success(request, _("%(old)s is now called %(new)s.") % {"old": old, "new": group.name})
    return redirect("web:settings_groups", slug=organization.slug)


@login_required
@require_POST
def group_members(request: HttpRequest, slug: str, group_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    group = group_of(organization, group_id)
    form = MembersForm(request.POST, choices=member_choices(organization), prefix=f"group-{group.pk}")
    if not form.is_valid():
        return groups_page(request, organization, bound=(group.pk, "members", form), status=400)
    group.members.set(Membership.objects.filter(organization=organization, pk__in=form.cleaned_data["members"]))
    messages.success(request, _("The members of %(name)s are saved.") % {"name": group.name})
    return redirect("web:settings_groups", slug=organization.slug)


@login_required
@require_POST
def delete_group(request: HttpRequest, slug: str, group_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    group = group_of(organization, group_id)
    group.delete()
    messages.success(request, _("The group %(name)s is deleted; its members stay.") % {"name": group.name})
    return redirect("web:settings_groups", slug=organization.slug)


# --- services (E2) ------------------------------------------------------------------------


@login_required
@require_GET
def services(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    rows = Service.objects.filter(organization=organization).prefetch_related(
        Prefetch("experts", queryset=User.objects.order_by("name", "id"))
    )
    return show(request, organization, "services.html", {"section": "services", "rows": rows})


def service_form_page(request, organization, form, service=None, status=200) -> HttpResponse:
    return show(
        request, organization, "service.html", {"section": "services", "form": form, "service": service}, status
    )


@login_required
@require_http_methods(["GET", "POST"])
def service(request: HttpRequest, slug: str, service_id: int | None = None) -> HttpResponse:
    """A new service (no id) or one of the organization's services."""
    organization = admin_page(request, slug)
    found = None if service_id is None else get_object_or_404(Service, organization=organization, pk=service_id)
    if request.method == "GET":
        initial = None if found else {"lengths": [organization.settings.default_length_minutes]}
        return service_form_page(
            request, organization, ServiceForm(instance=found, initial=initial, organization=organization), found
        )
    form = ServiceForm(request.POST, instance=found, organization=organization)
    if not form.is_valid():
        return service_form_page(request, organization, form, found, status=400)
    saved = form.save()
    messages.success(request, _("The service %(name)s is saved.") % {"name": saved.name})
    return redirect("web:settings_services", slug=organization.slug)


# --- skills (E1) --------------------------------------------------------------------------


def skills_page(request, organization, *, bound=None, add_form=None, status=200) -> HttpResponse:
    choices = member_choices(organization)
    rows = []
    skills_qs = Skill.objects.filter(organization=organization).prefetch_related("experts")
    for skill in skills_qs:
        prefix = f"skill-{skill.pk}"
        having = {profile.membership_id for profile in skill.experts.all()}
        rows.append(
            {
                "skill": skill,
                "rename": SkillNameForm(
                    organization=organization, skill=skill, prefix=prefix, initial={"name": skill.name}
                ),
                "experts": MembersForm(
                    choices=choices,
                    prefix=prefix,
                    label=_("Experts with this skill"),
                    initial={"members": sorted(having)},
                ),
                "names": [name for pk, name in choices if pk in having],
            }
        )
        if bound and bound[0] == skill.pk:
            rows[-1][bound[1]] = bound[2]
    context = {
        "section": "skills",
        "rows": rows,
        "add_form": add_form or SkillNameForm(organization=organization, prefix="new"),
    }
    return show(request, organization, "skills.html", context, status)


def skill_of(organization: Organization, skill_id: int) -> Skill:
    return get_object_or_404(Skill, organization=organization, pk=skill_id)


@login_required
@require_GET
def skills(request: HttpRequest, slug: str) -> HttpResponse:
    return skills_page(request, admin_page(request, slug))


@login_required
@require_POST
def add_skill(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    form = SkillNameForm(request.POST, organization=organization, prefix="new")
    if not form.is_valid():
        return skills_page(request, organization, add_form=form, status=400)
    skill = Skill.objects.create(organization=organization, name=form.cleaned_data["name"])
    messages.success(request, _("The skill %(name)s is made.") % {"name": skill.name})
    return redirect(reverse("web:settings_skills", args=[organization.slug]) + f"#skill-{skill.pk}")


@login_required
@require_POST
def rename_skill(request: HttpRequest, slug: str, skill_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    skill = skill_of(organization, skill_id)
    form = SkillNameForm(request.POST, organization=organization, skill=skill, prefix=f"skill-{skill.pk}")
    if not form.is_valid():
        return skills_page(request, organization, bound=(skill.pk, "rename", form), status=400)
    old, skill.name = skill.name, form.cleaned_data["name"]
    skill.save(update_fields=["name"])
    messages.success(request, _("%(old)s is now called %(new)s.") % {"old": old, "new": skill.name})
    return redirect("web:settings_skills", slug=organization.slug)


@login_required
@require_POST
def skill_experts(request: HttpRequest, slug: str, skill_id: int) -> HttpResponse:
    """Which members have the skill on their expert profile (made for them if missing)."""
    organization = admin_page(request, slug)
    skill = skill_of(organization, skill_id)
    form = MembersForm(request.POST, choices=member_choices(organization), prefix=f"skill-{skill.pk}")
    if not form.is_valid():
        return skills_page(request, organization, bound=(skill.pk, "experts", form), status=400)
    chosen = Membership.objects.filter(organization=organization, pk__in=form.cleaned_data["members"])
    with transaction.atomic():
        profiles = [
            ExpertProfile.objects.get_or_create(membership=m, defaults={"time_zone": m.user.time_zone})[0]
            for m in chosen.select_related("user")
        ]
        skill.experts.set(profiles)
    messages.success(request, _("The experts with %(name)s are saved.") % {"name": skill.name})
    return redirect("web:settings_skills", slug=organization.slug)


@login_required
@require_POST
def delete_skill(request: HttpRequest, slug: str, skill_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    skill = skill_of(organization, skill_id)
    skill.delete()
    messages.success(request, _("The skill %(name)s is deleted.") % {"name": skill.name})
    return redirect("web:settings_skills", slug=organization.slug)


base = "o/<slug:slug>/settings/"
urlpatterns = [
    path(base, general, name="settings"),
    path(base + "policy/", save_policy, name="settings_policy"),
    path(base + "add-ons/", save_add_ons, name="settings_add_ons"),
    path(base + "members/", members, name="settings_members"),
    path(base + "members/new/", add_member, name="settings_member_add"),
    path(base + "members/<int:user_id>/role/", change_role, name="settings_member_role"),
    path(base + "members/<int:user_id>/remove/", remove_member, name="settings_member_remove"),
    path(base + "groups/", groups, name="settings_groups"),
    path(base + "groups/new/", add_group, name="settings_group_add"),
    path(base + "groups/<int:group_id>/name/", rename_group, name="settings_group_rename"),
    path(base + "groups/<int:group_id>/members/", group_members, name="settings_group_members"),
    path(base + "groups/<int:group_id>/delete/", delete_group, name="settings_group_delete"),
    path(base + "services/", services, name="settings_services"),
    path(base + "services/new/", service, name="settings_service_new"),
    path(base + "services/<int:service_id>/", service, name="settings_service"),
    path(base + "skills/", skills, name="settings_skills"),
    path(base + "skills/new/", add_skill, name="settings_skill_add"),
    path(base + "skills/<int:skill_id>/name/", rename_skill, name="settings_skill_rename"),
    path(base + "skills/<int:skill_id>/experts/", skill_experts, name="settings_skill_experts"),
    path(base + "skills/<int:skill_id>/delete/", delete_skill, name="settings_skill_delete"),
]
