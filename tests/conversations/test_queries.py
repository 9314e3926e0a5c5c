"""The conversation lists cost the same number of queries for many conversations as for a
few (STYLE: a guard on list pages and APIs)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlour.conversations import access, domain
from tests.factories import GuestFactory
from tests.web.clients import signed_in


def grow(w, start: int, count: int) -> None:
    for n in range(start, start + count):
        guest = GuestFactory(organization=w.org)
        meeting = w.book(service=w.free_service, by=guest, hours_ahead=24 + n)
        domain.write_message(guest, access.of_meeting(meeting), f"Question {n}")


def queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url).status_code == 200
    return len(captured)


def test_the_list_page_and_api_cost_the_same_for_two_or_six(w):
    browser = signed_in(w.expert)
    page, api = f"/o/{w.org.slug}/conversations/", f"/api/v1/orgs/{w.org.slug}/conversations"
    grow(w, 0, 2)
    few = (queries(browser, page), queries(browser, api))
    grow(w, 2, 4)
    many = (queries(browser, page), queries(browser, api))
    assert many == few
