"""Which clock the booking pages use (D4, E5, Q1): a signed-in person's pages use their
account's time zone everywhere, whatever zone their browser is in; the zone select still lets
them look in another zone on that page. A visitor's zone is the one their browser reports."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from tests.factories import world
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # a Monday, 07:00 in London


@pytest.fixture
def w(time_machine):
    time_machine.move_to(NOW, tick=False)
    return world()


def calendar_of(response) -> dict[str, str]:
    tag = re.search(r'<section id="calendar"[^>]*>', text(response)).group(0)
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag))


def first_slot(response) -> str:
    return re.search(r'data-start="[^"]+">([^<]+)<', text(response)).group(1).strip()


def test_d4_e5_a_signed_in_client_sees_the_expert_page_on_their_accounts_clock(w):
    w.client.time_zone = "Europe/London"
    w.client.save()
    browser = signed_in(w.client)
    browser.cookies["tz"] = "UTC"  # the browser's own zone differs from the account's
    response = browser.get(f"/o/{w.org.slug}/experts/{w.expert.pk}/?service={w.free_service.pk}")
    calendar = calendar_of(response)
    assert calendar["zone"] == "Europe/London"
    # The page's script leaves it there: it follows the browser only for visitors.
    assert calendar["follows-browser"] == "false"
    assert first_slot(response) == "07:00"  # 06:00 UTC is 07:00 in London in June


def test_d4_a_signed_in_client_may_still_look_in_another_zone_on_the_page(w):
    w.client.time_zone = "Europe/London"
    w.client.save()
    response = signed_in(w.client).get(f"/o/{w.org.slug}/services/{w.free_service.pk}/?tz=Asia/Tokyo")
    calendar = calendar_of(response)
    assert calendar["zone"] == "Asia/Tokyo" and calendar["zone-chosen"] == "true"
    assert first_slot(response) == "15:00"
    # Their other pages keep the account's zone.
    again = signed_in(w.client).get(f"/o/{w.org.slug}/services/{w.free_service.pk}/")
    assert calendar_of(again)["zone"] == "Europe/London"


def test_d4_a_visitors_calendar_is_on_their_browsers_clock(w):
    browser = Client()
    browser.cookies["tz"] = "America/New_York"
    response = browser.get(f"/o/{w.org.slug}/services/{w.free_service.pk}/")
    calendar = calendar_of(response)
    assert calendar["zone"] == "America/New_York"
    assert calendar["follows-browser"] == "true"
    assert first_slot(response) == "02:00"
