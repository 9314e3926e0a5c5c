"""The organization's page for visitors (E5, B1, B7, O3, D4): a newcomer without an account
finds from the site what can be booked and with whom; members and clients keep their
dashboard and find the same page from it."""

import re

import pytest
from django.test import Client

from parlour.accounts.models import Membership
from parlour.catalog.models import ExpertProfile
from tests.factories import OrganizationFactory, ServiceFactory, SkillFactory, member, open_all_week, world
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


def page_of(w, browser: Client | None = None):
    return (browser or Client()).get(f"/o/{w.org.slug}/experts/")


def test_e5_b7_a_visitor_sees_the_services_and_experts_with_links_to_book():
    w = world()
    skill = SkillFactory(organization=w.org, name="Negotiation")
    ExpertProfile.objects.get(membership__user=w.expert).skills.add(skill)
    response = page_of(w)
    assert response.status_code == 200
    html = text(response)
    assert "Expert advice" in html and "Intro call" in html
    assert "100 credits" in html and "free" in html
    assert "15, 30" in html  # the lengths a client may choose from
    # B7: a service is booked with whichever expert is free, from the service's page.
    assert f'href="/o/{w.org.slug}/services/{w.free_service.pk}/"' in html
    # E5: each expert with their skills and a link to their page with their free slots.
    assert f'href="/o/{w.org.slug}/experts/{w.expert.pk}/"' in html
    assert "Eve Expert" in html and "Carl Colleague" in html and "Negotiation" in html
    # Admins and clients who give nothing are not experts to book.
    assert "Ada Admin" not in html and "Cleo Client" not in html


def test_e5_a_visitor_at_the_organizations_address_is_sent_to_its_page():
    w = world()
    response = Client().get(f"/o/{w.org.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{w.org.slug}/experts/"


def test_o3_an_organization_that_does_not_exist_is_not_found():
    assert Client().get("/o/nowhere/").status_code == 404
    assert Client().get("/o/nowhere/experts/").status_code == 404


def test_o3_inactive_services_and_former_members_are_not_listed():
    w = world()
    w.service.is_active = False
    w.service.save()
    Membership.objects.filter(organization=w.org, user=w.colleague).delete()
    html = text(page_of(w))
    assert "Expert advice" not in html
    assert "Intro call" in html
    assert "Carl Colleague" not in html
    assert "Eve Expert" in html


def test_o3_another_organizations_services_and_experts_are_not_listed():
    w = world()
    other = OrganizationFactory()
    stranger = member(other, name="Olga Other")
    service = ServiceFactory(organization=other, name="Elsewhere advice")
    service.experts.add(stranger, w.expert)  # even one given by this organization's expert
    html = text(page_of(w))
    assert "Elsewhere advice" not in html and "Olga Other" not in html


def test_e5_members_keep_their_dashboard_and_find_the_page_from_it():
    w = world()
    for person in (w.admin, w.expert, w.client):
        browser = signed_in(person)
        dashboard = browser.get(f"/o/{w.org.slug}/")
        assert dashboard.status_code == 200
        assert f'href="/o/{w.org.slug}/experts/"' in text(dashboard)
        assert "Book a meeting" in text(dashboard)
        assert page_of(w, browser).status_code == 200


def test_e5_the_sign_in_page_at_home_links_the_only_organization():
    w = world()
    home = Client().get("/", follow=True)
    assert f'href="/o/{w.org.slug}/experts/"' in text(home)
    OrganizationFactory()  # with several, none is named
    assert "/experts/" not in text(Client().get("/", follow=True))


def test_d4_the_page_is_in_the_visitors_language():
    w = world()
    html = text(Client(headers={"accept-language": "nl"}).get(f"/o/{w.org.slug}/experts/"))
    assert 'lang="nl"' in html
    assert "Diensten" in html


def test_e5_queries_do_not_grow_with_experts_and_services(django_assert_max_num_queries):
    w = world()
    page_of(w)
    with django_assert_max_num_queries(6) as few:
        page_of(w)
    for n in range(5):
        expert = member(w.org, name=f"Extra {n}")
        profile = open_all_week(w.org, expert)
        profile.skills.add(SkillFactory(organization=w.org))
        service = ServiceFactory(organization=w.org, price=0)
        service.experts.add(expert)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = page_of(w)
    assert len(re.findall(r'href="/o/[^/]+/services/\d+/"', text(response))) == 7
