"""What can be booked and from whom (E1, E2) and the reason lists, through the API."""

import pytest
from django.test import Client

from parlour.accounts.models import Membership
from parlour.catalog.models import ExpertProfile
from tests.factories import ServiceFactory, SkillFactory, world

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db


def test_e2_services_with_lengths_price_and_experts(w, as_user):
    ServiceFactory(organization=w.org, name="Retired", is_active=False)
    world()  # another organization's services never show
    services = as_user(w.client).org(w).get("/services").json()
    assert [s["name"] for s in services] == ["Expert advice", "Intro call"]
    advice = services[0]
    assert (advice["lengths"], advice["default_length"], advice["price"]) == ([30, 60], 30, 100)
    assert advice["requires_confirmation"] is True
    assert [e["name"] for e in advice["experts"]] == ["Carl Colleague", "Eve Expert"]


def test_e1_experts_with_skills_and_services(w, as_user):
    skill = SkillFactory(organization=w.org, name="Negotiation")
    profile = ExpertProfile.objects.get(membership=Membership.objects.get(user=w.expert))
    profile.bio, profile.time_zone = "Twenty years in HR.", "Europe/Amsterdam"
    profile.save()
    profile.skills.add(skill)
    experts = as_user(w.client).org(w).get("/experts").json()
    by_name = {e["name"]: e for e in experts}
    assert set(by_name) == {"Carl Colleague", "Eve Expert"}  # the admin gives no service
    eve = by_name["Eve Expert"]
    assert (eve["bio"], eve["time_zone"]) == ("Twenty years in HR.", "Europe/Amsterdam")
    assert eve["skills"] == [{"id": skill.pk, "name": "Negotiation"}]
    assert sorted(eve["service_ids"]) == sorted([w.service.pk, w.free_service.pk])
    assert by_name["Carl Colleague"]["skills"] == []


def test_reasons_lists_for_rejecting_cancelling_stating_and_deciding(w, as_user):
    body = as_user(w.expert).org(w).get("/reasons").json()
    assert {"code": "not_available", "label": "I am not available at this time"} in body["reject"]
    assert "illness" in [r["code"] for r in body["expert_cancel"]]
    assert [r["code"] for r in body["statement_client"]] == ["held", "not_held_client", "not_held_expert"]
    assert [r["code"] for r in body["dispute_outcomes"]] == ["held", "client_no_show", "refunded"]


def test_o3_catalog_of_another_organization_is_not_found_and_needs_sign_in(w, as_user):
    elsewhere = world()
    for path in ("/services", "/experts", "/reasons"):
        assert_error(as_user(w.client).org(elsewhere).get(path), 404, "not_found", "O3")
        assert_error(Api(Client()).org(w).get(path), 401, "not_authenticated")
