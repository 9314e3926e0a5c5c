"""D4, Q1: every page in the viewer's language and time zone."""

import pytest
from django.test import Client

from tests.factories import OrganizationFactory, member


@pytest.mark.django_db
def test_d4_a_visitor_gets_their_browsers_language():
    page = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").get("/join/")
    assert '<html lang="de">' in page.content.decode()


@pytest.mark.django_db
def test_d4_a_signed_in_persons_own_language_wins_over_the_browsers():
    person = member(OrganizationFactory(), language="cs")
    browser = Client(HTTP_ACCEPT_LANGUAGE="de")
    browser.force_login(person)
    page = browser.get("/join/")
    assert '<html lang="cs">' in page.content.decode()
    assert page["Content-Language"] == "cs"


@pytest.mark.django_db
def test_d4_the_language_switch_changes_a_visitors_pages():
    browser = Client()
    browser.post("/language/", {"language": "sk", "next": "/join/"})
    assert '<html lang="sk">' in browser.get("/join/").content.decode()


@pytest.mark.django_db
def test_d4_a_signed_in_persons_switch_is_their_setting():
    person = member(OrganizationFactory(), language="en")
    browser = Client()
    browser.force_login(person)
    browser.post("/language/", {"language": "nl", "next": "/join/"})
    person.refresh_from_db()
    assert person.language == "nl"
    assert '<html lang="nl">' in browser.get("/join/").content.decode()
    browser.post("/language/", {"language": "xx", "next": "/join/"})
    person.refresh_from_db()
    assert person.language == "nl"


@pytest.mark.django_db
def test_q1_a_visitors_zone_comes_from_their_browser_and_a_bad_one_is_utc(rf):
    from django.utils import timezone

    from parlour.web.middleware import PersonalSettingsMiddleware

    seen = []

    def view(request):
        seen.append(timezone.get_current_timezone_name())
        return None

    middleware = PersonalSettingsMiddleware(view)
    for cookie in ("America/Sao_Paulo", "Mars/Olympus", ""):
        request = rf.get("/")
        request.COOKIES["tz"] = cookie
        middleware(request)
    assert seen == ["America/Sao_Paulo", "UTC", "UTC"]
