"""Area F: the organization's settings pages, for admins only (O1, O2, O3, O4, O5, E2, V1)."""

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from parlour.accounts.models import Group, Membership, Organization, OrganizationSettings, Role, User
from parlour.catalog.models import ExpertProfile, Service, Skill
from tests.factories import OrganizationFactory, ServiceFactory, SkillFactory, UserFactory, member, world
from tests.meetings.checks import NOW
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

POLICY = {
    "cancellation_notice_hours": 48,
    "late_cancellation_charge_percent": 50,
    "platform_share_percent": 20,
    "join_window_minutes": 15,
    "evaluation_deadline_hours": 168,
    "review_bonus_credits": 10,
    "booking_window_days": 30,
    "default_length_minutes": 30,
    "slot_step_minutes": 15,
    "max_upcoming_guest_meetings": 2,
    "reminder_hours_before": 24,
    "link_minutes_before": 60,
    "evaluation_reminder_hours_after": 24,
    "video_platform": "builtin",
    "jitsi_domain": "",
    "jitsi_app_id": "",
    "jitsi_app_secret": "",
}


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    return world()


def base(w) -> str:
    return f"/o/{w.org.slug}/settings/"


def stored(w) -> OrganizationSettings:
    return OrganizationSettings.objects.get_or_create(organization=w.org)[0]


# --- who may open the pages (O1, O3) --------------------------------------------------------


def every_address(w) -> tuple[list[str], list[str]]:
    """The pages (GET) and the changes (POST) of the settings, with real ids."""
    b = base(w)
    group = Group.objects.get(organization=w.org)
    skill = SkillFactory(organization=w.org)
    uid = w.expert.pk
    pages = [
        b,
        b + "members/",
        b + "groups/",
        b + "services/",
        b + "services/new/",
        b + f"services/{w.service.pk}/",
        b + "skills/",
    ]
    posts = [
        b + "policy/",
        b + "add-ons/",
        b + "members/new/",
        b + f"members/{uid}/role/",
        b + f"members/{uid}/remove/",
        b + "groups/new/",
        b + f"groups/{group.pk}/name/",
        b + f"groups/{group.pk}/members/",
        b + f"groups/{group.pk}/delete/",
        b + "services/new/",
        b + f"services/{w.service.pk}/",
        b + "skills/new/",
        b + f"skills/{skill.pk}/name/",
        b + f"skills/{skill.pk}/experts/",
        b + f"skills/{skill.pk}/delete/",
    ]
    return pages, posts


@pytest.mark.parametrize("who", ["expert", "client", "stranger"])
def test_o3_nobody_but_an_admin_finds_the_settings(w, who):
    person = UserFactory() if who == "stranger" else getattr(w, who)
    browser = signed_in(person)
    pages, posts = every_address(w)
    for address in pages:
        assert browser.get(address).status_code == 404, address
    before = (
        stored(w).cancellation_notice_hours,
        Membership.objects.count(),
        Group.objects.count(),
        Service.objects.count(),
        Skill.objects.count(),
    )
    for address in posts:
        response = browser.post(
            address,
            {
                **POLICY,
                "cancellation_notice_hours": 1,
                "role": "admin",
                "email": person.email,
                "name": "X",
                "new-name": "X",
            },
        )
        assert response.status_code == 404, address
    after = (
        stored(w).cancellation_notice_hours,
        Membership.objects.count(),
        Group.objects.count(),
        Service.objects.count(),
        Skill.objects.count(),
    )
    assert before == after
    assert Membership.objects.get(organization=w.org, user=w.expert).role == Role.EXPERT


def test_o3_signed_out_visitors_are_sent_to_sign_in(w):
    response = Client().get(base(w))
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_o3_another_organizations_ids_are_not_found(w):
    other = world()
    browser = signed_in(w.admin)
    b = base(w)
    skill = SkillFactory(organization=other.org)
    group = Group.objects.get(organization=other.org)
    uid = other.expert.pk
    for address in [b + f"services/{other.service.pk}/"]:
        assert browser.get(address).status_code == 404
    for address in [
        b + f"members/{uid}/role/",
        b + f"members/{uid}/remove/",
        b + f"groups/{group.pk}/name/",
        b + f"groups/{group.pk}/members/",
        b + f"groups/{group.pk}/delete/",
        b + f"services/{other.service.pk}/",
        b + f"skills/{skill.pk}/name/",
        b + f"skills/{skill.pk}/experts/",
        b + f"skills/{skill.pk}/delete/",
    ]:
        assert browser.post(address, {"role": "admin", f"group-{group.pk}-name": "Mine"}).status_code == 404
    assert Group.objects.filter(pk=group.pk, name="Advisors").exists() and Skill.objects.filter(pk=skill.pk).exists()
    assert Membership.objects.get(organization=other.org, user=other.expert).role == Role.EXPERT
    # Nor may an admin put another organization's people in a group or a service.
    mine = Group.objects.get(organization=w.org)
    theirs = Membership.objects.get(organization=other.org, user=other.expert)
    response = browser.post(b + f"groups/{mine.pk}/members/", {f"group-{mine.pk}-members": [theirs.pk]})
    assert response.status_code == 400 and not mine.members.filter(pk=theirs.pk).exists()
    response = browser.post(
        b + f"services/{w.service.pk}/",
        {"name": "X", "lengths": "30", "price": 0, "experts": [other.expert.pk], "is_active": "on"},
    )
    assert response.status_code == 400 and not w.service.experts.filter(pk=other.expert.pk).exists()


def test_o1_the_header_links_to_the_settings_for_admins_only(w):
    assert f'href="{base(w)}"' in text(signed_in(w.admin).get(f"/o/{w.org.slug}/meetings/"))
    assert f'href="{base(w)}"' not in text(signed_in(w.expert).get(f"/o/{w.org.slug}/meetings/"))


# --- the rules' numbers and the video platform (O5, V1) -------------------------------------


def test_o5_an_admin_changes_every_number(w):
    browser = signed_in(w.admin)
    page = text(browser.get(base(w)))
    for name in POLICY:
        assert f'for="id_{name}"' in page, name
    changed = {
        **POLICY,
        "cancellation_notice_hours": 24,
        "late_cancellation_charge_percent": 75,
        "platform_share_percent": 10,
        "join_window_minutes": 5,
        "evaluation_deadline_hours": 72,
        "review_bonus_credits": 3,
        "booking_window_days": 60,
        "default_length_minutes": 45,
        "slot_step_minutes": 30,
        "max_upcoming_guest_meetings": 4,
        "reminder_hours_before": 12,
        "link_minutes_before": 30,
        "evaluation_reminder_hours_after": 6,
    }
    response = browser.post(base(w) + "policy/", changed, follow=True)
    assert "The settings are saved." in text(response)
    row = stored(w)
    for name, value in changed.items():
        if name != "jitsi_app_secret":
            assert getattr(row, name) == value, name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("late_cancellation_charge_percent", 150),
        ("platform_share_percent", -1),
        ("cancellation_notice_hours", "x"),
        ("default_length_minutes", 2),
        ("slot_step_minutes", 7),
        ("booking_window_days", ""),
    ],
)
def test_o5_a_bad_number_is_refused_next_to_its_field_and_nothing_changes(w, field, value):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "policy/", {**POLICY, "cancellation_notice_hours": 12, field: value})
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in text(response)
    row = stored(w)
    assert row.cancellation_notice_hours == 48 and row.late_cancellation_charge_percent == 50
    assert row.platform_share_percent == 20


def test_v1_jitsi_is_chosen_and_its_secret_is_never_shown(w):
    browser = signed_in(w.admin)
    jitsi = {
        **POLICY,
        "video_platform": "jitsi",
        "jitsi_domain": "Meet.Example.org",
        "jitsi_app_id": "parlour",
        "jitsi_app_secret": "s3cret-never-shown",
    }
    response = browser.post(base(w) + "policy/", jitsi, follow=True)
    row = stored(w)
    assert (row.video_platform, row.jitsi_domain, row.jitsi_app_secret) == (
        "jitsi",
        "meet.example.org",
        "s3cret-never-shown",
    )
    assert "s3cret-never-shown" not in text(response)
    assert "A secret is stored" in text(response)
    # Saving again with the field empty keeps the secret; a bad save does not show it either.
    browser.post(base(w) + "policy/", {**jitsi, "jitsi_app_secret": "", "cancellation_notice_hours": 6})
    row = stored(w)
    assert row.jitsi_app_secret == "s3cret-never-shown" and row.cancellation_notice_hours == 6
    bad = browser.post(base(w) + "policy/", {**jitsi, "jitsi_app_secret": "", "platform_share_percent": 150})
    assert bad.status_code == 400 and "s3cret-never-shown" not in text(bad)
    # Clearing the app id drops the secret with it.
    browser.post(base(w) + "policy/", {**jitsi, "jitsi_app_id": "", "jitsi_app_secret": ""})
    row = stored(w)
    assert row.jitsi_app_id == "" and row.jitsi_app_secret == ""


def test_v1_the_models_own_checks_refuse_a_jitsi_without_a_server(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "policy/", {**POLICY, "video_platform": "jitsi"})
    assert response.status_code == 400 and 'id="id_jitsi_domain_error"' in text(response)
    response = browser.post(
        base(w) + "policy/",
        {**POLICY, "video_platform": "jitsi", "jitsi_domain": "meet.x.org", "jitsi_app_id": "only-the-id"},
    )
    assert response.status_code == 400 and "Give both the Jitsi app id and its secret" in text(response)
    assert stored(w).video_platform == "builtin"


# --- add-ons (O4) ---------------------------------------------------------------------------


def test_o4_an_admin_switches_the_add_ons(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "add-ons/", {"summaries_enabled": "on"}, follow=True)
    org = Organization.objects.get(pk=w.org.pk)
    assert (org.reviews_enabled, org.summaries_enabled) == (False, True)
    assert "Reviews are off; summaries are on." in text(response)
    browser.post(base(w) + "add-ons/", {"reviews_enabled": "on"})
    org.refresh_from_db()
    assert (org.reviews_enabled, org.summaries_enabled) == (True, False)


# --- members (O1) ---------------------------------------------------------------------------


def test_o1_members_are_listed_with_their_roles(w, django_assert_max_num_queries):
    for _ in range(20):
        member(w.org)
    browser = signed_in(w.admin)
    with django_assert_max_num_queries(9):  # as many for 23 members as for 3
        page = text(browser.get(base(w) + "members/"))
    assert "Ada Admin" in page and "Eve Expert" in page and "Advisors" in page
    assert f'<select id="role-{w.admin.pk}" name="role">' in page


def test_o1_an_admin_changes_a_role(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + f"members/{w.expert.pk}/role/", {"role": "admin"}, follow=True)
    assert Membership.objects.get(organization=w.org, user=w.expert).role == Role.ADMIN
    assert "Eve Expert is now: Admin." in text(response)
    # With two admins, one may step down (and then no longer sees the settings).
    response = browser.post(base(w) + f"members/{w.admin.pk}/role/", {"role": "expert"})
    assert response.status_code == 302 and response["Location"] == f"/o/{w.org.slug}/"
    assert browser.get(base(w)).status_code == 404


def test_o1_the_last_admin_cannot_be_demoted_or_removed(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + f"members/{w.admin.pk}/role/", {"role": "expert"})
    assert response.status_code == 409 and "the only admin" in text(response)
    assert 'role="alert"' in text(response)
    assert Membership.objects.get(organization=w.org, user=w.admin).role == Role.ADMIN
    response = browser.post(base(w) + f"members/{w.admin.pk}/remove/")
    assert response.status_code == 409
    assert Membership.objects.filter(organization=w.org, user=w.admin).exists()


def test_o1_a_bad_role_is_refused(w):
    response = signed_in(w.admin).post(base(w) + f"members/{w.expert.pk}/role/", {"role": "owner"})
    assert response.status_code == 400
    assert Membership.objects.get(organization=w.org, user=w.expert).role == Role.EXPERT


def test_o1_an_existing_person_is_added_by_email(w):
    person = UserFactory(email="Known@Example.org", name="Kim Known")
    response = signed_in(w.admin).post(
        base(w) + "members/new/", {"email": "KNOWN@example.org", "role": "expert"}, follow=True
    )
    assert Membership.objects.get(organization=w.org, user=person).role == Role.EXPERT
    assert "Kim Known is a member now." in text(response)


def test_o1_someone_new_gets_an_account_and_a_password_shown_once(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "members/new/", {"email": "new@example.org", "name": "Nia New", "role": "admin"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    person = User.objects.get(email="new@example.org")
    assert person.name == "Nia New"
    assert Membership.objects.get(organization=w.org, user=person).role == Role.ADMIN
    page = text(response)
    password = page.split('id="new-password" type="text" readonly value="')[1].split('"')[0]
    assert authenticate(email="new@example.org", password=password) == person
    assert password not in text(browser.get(base(w) + "members/"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "nobody@example.org", "role": "expert"}, "name"),
        ({"email": "not-an-email", "name": "X", "role": "expert"}, "email"),
        ({"email": "x@example.org", "name": "X", "role": "owner"}, "role"),
    ],
)
def test_o1_adding_a_member_with_bad_input_changes_nothing(w, data, field):
    people = User.objects.count()
    response = signed_in(w.admin).post(base(w) + "members/new/", data)
    assert response.status_code == 400 and f'id="id_{field}_error"' in text(response)
    assert User.objects.count() == people


def test_o1_a_member_is_not_added_twice(w):
    response = signed_in(w.admin).post(base(w) + "members/new/", {"email": w.expert.email, "role": "admin"})
    assert response.status_code == 400 and "already a member" in text(response)
    assert Membership.objects.get(organization=w.org, user=w.expert).role == Role.EXPERT


def test_o1_a_member_with_upcoming_meetings_is_not_removed(w):
    w.agreed(service=w.free_service)
    response = signed_in(w.admin).post(base(w) + f"members/{w.expert.pk}/remove/")
    assert response.status_code == 409 and "reassign or cancel them first" in text(response)
    assert Membership.objects.filter(organization=w.org, user=w.expert).exists()


def test_o1_a_member_is_removed_from_the_organization_its_groups_and_services(w):
    response = signed_in(w.admin).post(base(w) + f"members/{w.colleague.pk}/remove/", follow=True)
    assert "Carl Colleague is no longer a member." in text(response)
    assert not Membership.objects.filter(organization=w.org, user=w.colleague).exists()
    assert not w.service.experts.filter(pk=w.colleague.pk).exists()
    assert User.objects.filter(pk=w.colleague.pk).exists()


def test_o1_an_admin_cannot_remove_themselves(w):
    member(w.org, Role.ADMIN)
    response = signed_in(w.admin).post(base(w) + f"members/{w.admin.pk}/remove/")
    assert response.status_code == 409
    assert Membership.objects.filter(organization=w.org, user=w.admin).exists()


# --- groups (O2) ----------------------------------------------------------------------------


def test_o2_an_admin_makes_renames_fills_and_deletes_a_group(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "groups/new/", {"new-name": " Lawyers "})
    group = Group.objects.get(organization=w.org, name="Lawyers")
    assert response["Location"].endswith(f"#group-{group.pk}")
    browser.post(base(w) + f"groups/{group.pk}/name/", {f"group-{group.pk}-name": "Counsel"})
    group.refresh_from_db()
    assert group.name == "Counsel"
    admin_m, expert_m = (Membership.objects.get(organization=w.org, user=u) for u in (w.admin, w.expert))
    browser.post(base(w) + f"groups/{group.pk}/members/", {f"group-{group.pk}-members": [admin_m.pk, expert_m.pk]})
    assert set(group.members.all()) == {admin_m, expert_m}
    browser.post(base(w) + f"groups/{group.pk}/members/", {f"group-{group.pk}-members": [expert_m.pk]})
    assert set(group.members.all()) == {expert_m}
    page = text(browser.get(base(w) + "groups/"))
    assert "Counsel" in page and "Advisors" in page
    browser.post(base(w) + f"groups/{group.pk}/delete/")
    assert not Group.objects.filter(pk=group.pk).exists()
    assert Membership.objects.filter(pk=expert_m.pk).exists()


def test_o2_a_group_name_taken_or_empty_is_refused(w):
    browser = signed_in(w.admin)
    response = browser.post(base(w) + "groups/new/", {"new-name": "advisors"})
    assert response.status_code == 400 and 'id="id_new-name_error"' in text(response)
    response = browser.post(base(w) + "groups/new/", {"new-name": "  "})
    assert response.status_code == 400
    assert Group.objects.filter(organization=w.org).count() == 1


# --- services and skills (E2, E1) -----------------------------------------------------------


def test_e2_an_admin_makes_and_edits_a_service(w):
    browser = signed_in(w.admin)
    assert 'value="30"' in text(browser.get(base(w) + "services/new/"))  # the default length
    response = browser.post(
        base(w) + "services/new/",
        {
            "name": "Tax check",
            "description": "",
            "lengths": "45, 90",
            "price": 250,
            "requires_confirmation": "on",
            "experts": [w.expert.pk],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    service = Service.objects.get(organization=w.org, name="Tax check")
    assert (service.lengths, service.price, service.requires_confirmation, service.is_active) == (
        [45, 90],
        250,
        True,
        True,
    )
    assert list(service.experts.all()) == [w.expert]
    skill = SkillFactory(organization=w.org, name="Taxes")
    browser.post(
        base(w) + f"services/{service.pk}/",
        {"name": "Tax review", "lengths": "60", "price": 0, "experts": [w.colleague.pk], "skills": [skill.pk]},
    )
    service.refresh_from_db()
    assert (service.name, service.lengths, service.price, service.is_active) == ("Tax review", [60], 0, False)
    assert list(service.experts.all()) == [w.colleague] and list(service.skills.all()) == [skill]
    page = text(browser.get(base(w) + "services/"))
    assert "Tax review" in page and "Switched off" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("lengths", "30, abc"), ("lengths", "2"), ("lengths", ""), ("price", -5), ("price", 10**8), ("name", "")],
)
def test_e2_a_bad_service_is_refused_and_nothing_changes(w, field, value):
    data = {"name": "Changed", "lengths": "30", "price": 5, "is_active": "on", field: value}
    response = signed_in(w.admin).post(base(w) + f"services/{w.service.pk}/", data)
    assert response.status_code == 400 and f'id="id_{field}_error"' in text(response)
    w.service.refresh_from_db()
    assert (w.service.name, w.service.price) == ("Expert advice", 100)


def test_e1_an_admin_makes_renames_assigns_and_deletes_a_skill(w):
    browser = signed_in(w.admin)
    browser.post(base(w) + "skills/new/", {"new-name": "Contracts"})
    skill = Skill.objects.get(organization=w.org, name="Contracts")
    assert browser.post(base(w) + "skills/new/", {"new-name": "contracts"}).status_code == 400
    browser.post(base(w) + f"skills/{skill.pk}/name/", {f"skill-{skill.pk}-name": "Contract law"})
    skill.refresh_from_db()
    assert skill.name == "Contract law"
    admin_m = Membership.objects.get(organization=w.org, user=w.admin)  # has no profile yet
    expert_m = Membership.objects.get(organization=w.org, user=w.expert)
    browser.post(base(w) + f"skills/{skill.pk}/experts/", {f"skill-{skill.pk}-members": [admin_m.pk, expert_m.pk]})
    assert set(ExpertProfile.objects.filter(skills=skill).values_list("membership", flat=True)) == {
        admin_m.pk,
        expert_m.pk,
    }
    browser.post(base(w) + f"skills/{skill.pk}/experts/", {f"skill-{skill.pk}-members": [expert_m.pk]})
    assert list(ExpertProfile.objects.filter(skills=skill).values_list("membership", flat=True)) == [expert_m.pk]
    assert "Eve Expert" in text(browser.get(base(w) + "skills/"))
    browser.post(base(w) + f"skills/{skill.pk}/delete/")
    assert not Skill.objects.filter(pk=skill.pk).exists()


def test_e2_a_service_of_another_organization_is_not_offered_a_skill_of_it(w):
    other = OrganizationFactory()
    foreign = SkillFactory(organization=other)
    ServiceFactory(organization=other)
    response = signed_in(w.admin).post(
        base(w) + f"services/{w.service.pk}/", {"name": "X", "lengths": "30", "price": 0, "skills": [foreign.pk]}
    )
    assert response.status_code == 400 and not w.service.skills.exists()


def test_sub_navigation_marks_the_current_page(w):
    page = text(signed_in(w.admin).get(base(w) + "groups/"))
    assert f'<a href="{base(w)}groups/" aria-current="page">' in page
