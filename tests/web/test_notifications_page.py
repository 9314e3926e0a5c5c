"""SPEC §9 (N1–N10 as listed in the app): the notification list — newest first, unread ones
marked in words, paged; opening one marks it read and opens the meeting; "mark all as read";
the unread count in the page header. A person sees only their own (O3)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import ClientAccount
from parlour.notifications.models import Notification, Topic
from tests.factories import OrganizationFactory, UserFactory, world
from tests.meetings.checks import NOW
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    return world()


def notify(person, organization, n: int = 1, *, read: bool = False, meeting=None, **fields):
    rows = []
    for i in range(n):
        rows.append(
            Notification.objects.create(
                recipient=person,
                organization=organization,
                meeting=meeting,
                topic=Topic.N2,
                title=fields.get("title", f"Meeting booked {i}"),
                body=fields.get("body", "Eve Expert has booked a meeting with you."),
                link=fields.get("link", f"http://parlour.example/o/{organization.slug}/meetings/{i}/"),
                created_at=NOW - timedelta(minutes=n - i),
                read_at=NOW if read else None,
            )
        )
    return rows


def unread_in_header(page: str) -> str:
    header = page.split("</header>")[0]
    if 'class="count"' not in header:
        return "0"
    return header.split('<span class="count">')[1].split("<")[0]


def test_n1_n10_the_list_shows_newest_first_and_marks_unread_in_words(w):
    old = notify(w.client, w.org, title="Meeting confirmed", read=True)[0]
    old.created_at = NOW - timedelta(days=2)
    old.save()
    notify(w.client, w.org, title="Meeting rescheduled")
    page = text(signed_in(w.client).get("/notifications/"))
    assert page.index("Meeting rescheduled") < page.index("Meeting confirmed")
    unread_row = page.split('data-notification="')[1]
    read_row = page.split('data-notification="')[2]
    assert '<span class="tag">Unread</span>' in unread_row and "Unread" not in read_row
    assert "1 unread notification." in page
    assert w.org.name in page


def test_n1_n10_the_header_counts_the_unread_ones_across_organizations(w):
    other = OrganizationFactory(name="Second shop")
    notify(w.client, w.org, 2)
    notify(w.client, other, 1)
    notify(w.client, w.org, 4, read=True)
    page = text(signed_in(w.client).get("/account/"))
    assert unread_in_header(page) == "3"
    assert 'href="/notifications/"' in page
    assert unread_in_header(text(signed_in(w.expert).get("/account/"))) == "0"


def test_n1_n10_opening_one_marks_it_read_and_opens_the_meeting(w):
    meeting = w.book()
    link = f"http://127.0.0.1:8000/o/{w.org.slug}/meetings/{meeting.pk}/"
    row = notify(w.client, w.org, meeting=meeting, link=link)[0]
    browser = signed_in(w.client)
    response = browser.get(f"/notifications/{row.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/o/{w.org.slug}/meetings/{meeting.pk}/"
    row.refresh_from_db()
    assert row.read_at == NOW
    assert browser.get(response["Location"]).status_code == 200
    assert unread_in_header(text(browser.get("/notifications/"))) == "0"


def test_n1_n10_opening_it_again_keeps_the_first_reading(w, time_machine):
    row = notify(w.client, w.org)[0]
    browser = signed_in(w.client)
    browser.get(f"/notifications/{row.pk}/")
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    browser.get(f"/notifications/{row.pk}/")
    row.refresh_from_db()
    assert row.read_at == NOW


def test_n1_n10_a_link_elsewhere_is_never_followed(w):
    row = notify(w.client, w.org, link="https://evil.example//elsewhere.example/x")[0]
    response = signed_in(w.client).get(f"/notifications/{row.pk}/")
    assert response["Location"] == "/notifications/"


@pytest.mark.parametrize(
    "link",
    [
        "/\\evil.example/x",  # browsers read /\ as //: another site
        "https://parlour.example/\\evil.example/x",
        "/\\/evil.example",
        "\\\\evil.example/x",
        "/\t/evil.example/x",
        "//evil.example/x",
    ],
)
def test_n1_n10_a_path_a_browser_reads_as_another_site_is_never_followed(w, link):
    """N1, N10, O3: a notification's link that a browser would take to another site (a
    backslash read as a slash) leads to the list instead."""
    row = notify(w.client, w.org, link=link)[0]
    response = signed_in(w.client).get(f"/notifications/{row.pk}/")
    assert response.status_code == 302 and "evil.example" not in response["Location"]
    assert response["Location"].startswith("/") and not response["Location"].replace("\\", "/").startswith("//")


def test_n1_n10_mark_all_as_read(w):
    notify(w.client, w.org, 3)
    mine_elsewhere = notify(w.expert, w.org, 2)
    browser = signed_in(w.client)
    page = text(browser.get("/notifications/"))
    assert "Mark all as read" in page
    response = browser.post("/notifications/read-all/", follow=True)
    assert "3 notifications marked as read." in text(response)
    assert not Notification.objects.filter(recipient=w.client, read_at__isnull=True).exists()
    assert Notification.objects.filter(pk__in=[n.pk for n in mine_elsewhere], read_at__isnull=True).count() == 2
    assert "Mark all as read" not in text(browser.get("/notifications/"))
    assert browser.get("/notifications/read-all/").status_code == 405


def test_o3_another_persons_notification_is_not_found(w):
    theirs = notify(w.expert, w.org)[0]
    browser = signed_in(w.client)
    assert browser.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert browser.get(f"/notifications/{2**63}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs.title not in text(browser.get("/notifications/"))


def test_o1_the_list_is_for_signed_in_people():
    response = signed_in(UserFactory()).get("/notifications/")
    assert response.status_code == 200 and "No notifications yet." in text(response)
    visitor = Client()
    assert visitor.get("/notifications/")["Location"].startswith("/signin/")
    assert 'href="/notifications/"' not in text(visitor.get("/signin/"))


def test_n1_n10_the_list_is_paged(w):
    notify(w.client, w.org, 45)
    browser = signed_in(w.client)
    first = text(browser.get("/notifications/"))
    assert first.count('data-notification="') == 20
    assert "Meeting booked 44<" in first and "Page 1 of 3" in first and 'rel="next"' in first
    last = text(browser.get("/notifications/?page=3"))
    assert last.count('data-notification="') == 5 and "Meeting booked 0<" in last
    assert text(browser.get("/notifications/?page=99")).count('data-notification="') == 5


def test_n1_n10_a_page_of_many_costs_the_queries_of_a_few(w, django_assert_max_num_queries):
    browser = signed_in(w.client)
    notify(w.client, w.org, 2)
    with CaptureQueriesContext(connection) as few:
        assert browser.get("/notifications/").status_code == 200
    notify(w.client, w.org, 40)
    notify(w.client, OrganizationFactory(), 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert browser.get("/notifications/").status_code == 200


def test_the_list_keeps_the_organizations_areas_in_the_header(w):
    """The list is outside the organization's addresses; its header still leads back to the
    dashboard, the meetings and the wallet of the person's organization."""
    header = text(signed_in(w.client).get("/notifications/")).split("</header>")[0]
    for area in ("", "meetings/", "wallet/"):
        assert f'href="/o/{w.org.slug}/{area}"' in header


def test_o1_a_client_of_two_organizations_switches_between_them_and_stays_in_the_one_opened_last(w):
    """O1: a client account may belong to several organizations. The header offers the
    others; the pages of one's own (the notifications, /meetings/) follow the one opened last."""
    other = world()
    ClientAccount.objects.create(organization=other.org, user=w.client)
    first, second = sorted([w.org, other.org], key=lambda o: o.name)
    browser = signed_in(w.client)
    header = text(browser.get(f"/o/{first.slug}/")).split("</header>")[0]
    assert f'<li><a href="/o/{second.slug}/">{second.name}</a></li>' in header
    assert f'href="/o/{first.slug}/wallet/"' in header

    browser.get(f"/o/{second.slug}/")
    header = text(browser.get("/notifications/")).split("</header>")[0]
    assert f'href="/o/{second.slug}/wallet/"' in header and f'href="/o/{first.slug}/"' in header
    assert browser.get("/meetings/")["Location"] == f"/o/{second.slug}/meetings/"

    lonely = text(signed_in(other.expert).get(f"/o/{other.org.slug}/")).split("</header>")[0]
    assert 'class="switch"' not in lonely  # one organization: nothing to switch to
