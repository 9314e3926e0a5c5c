"""D1, D2, D3, O2, O3, V3: the meetings overview and the dashboard, as a signed-in person's
browser sees them (Django's test client)."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from parlour.accounts.models import Group, Membership, Role, User
from parlour.catalog.models import ExpertProfile
from parlour.meetings import lifecycle, outcome
from parlour.meetings.display import client_media_state, displayed_status
from parlour.meetings.models import Meeting, Review, Statement
from parlour.web.overview import STATUS_ORDER
from tests.factories import GuestFactory, SkillFactory, member, open_all_week, world
from tests.meetings.checks import NOW, at, fresh
from tests.web.clients import signed_in

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db):
    return world()


def overview(w, user, **query):
    return signed_in(user).get(f"/o/{w.org.slug}/meetings/", query)


def shown(page) -> list[int]:
    """The meetings listed on an overview page, top to bottom."""
    return [int(pk) for pk in re.findall(r'<tbody id="meeting-(\d+)"', page.content.decode())]


def held(w, hours_ahead: float = 2, **kw) -> Meeting:
    """V5: an agreed meeting both sides entered, closed as completed once it ended."""
    meeting = w.book(service=w.free_service, hours_ahead=hours_ahead, **kw)
    person = meeting.client or meeting.guest
    for actor in (meeting.expert, person):
        outcome.record_entry(actor, meeting, now=meeting.start)
    return outcome.close_meeting(meeting, now=meeting.end)


# --- O2, O3: the tabs and who sees what --------------------------------------------------


@pytest.fixture
def spread(w):
    """The expert's meeting with the client, the colleague's (same group) with a guest, and
    the meeting of a member outside the group; another organization's meeting of a person
    who belongs to both."""
    outsider = member(w.org, name="Olga Outsider")
    w.service.experts.add(outsider)
    open_all_week(w.org, outsider)
    other = world()
    Membership.objects.create(organization=other.org, user=w.admin, role=Role.ADMIN)
    Membership.objects.create(organization=other.org, user=w.expert, role=Role.EXPERT)
    return {
        "mine": w.book(hours_ahead=30),
        "colleague": w.book(expert=w.colleague, service=w.free_service, by=w.guest, hours_ahead=40),
        "outsider": w.book(expert=outsider, hours_ahead=50),
        "elsewhere": other.book(hours_ahead=30),
        "outsider_user": outsider,
        "other": other,
    }


def test_o2_my_tab_shows_the_meetings_i_take_part_in(w, spread):
    assert shown(overview(w, w.expert)) == [spread["mine"].pk]
    assert shown(overview(w, w.client, tab="my")) == [spread["outsider"].pk, spread["mine"].pk]
    assert shown(overview(w, w.admin)) == []


def test_o2_everyone_tab_shows_my_groups_meetings_and_an_admin_sees_all(w, spread):
    mine, colleague, outsider = spread["mine"].pk, spread["colleague"].pk, spread["outsider"].pk
    assert set(shown(overview(w, w.expert, tab="everyone"))) == {mine, colleague}
    assert set(shown(overview(w, w.colleague, tab="everyone"))) == {mine, colleague}
    assert set(shown(overview(w, spread["outsider_user"], tab="everyone"))) == {outsider}
    assert set(shown(overview(w, w.client, tab="everyone"))) == {mine, outsider}  # the client's own two
    assert set(shown(overview(w, w.admin, tab="everyone"))) == {mine, colleague, outsider}


def test_o3_another_organizations_meetings_are_never_shown(w, spread):
    elsewhere = spread["elsewhere"].pk
    for user in (w.admin, w.expert):
        for tab in ("my", "everyone"):
            assert elsewhere not in shown(overview(w, user, tab=tab))
    # ... nor opened through this organization's address.
    more = signed_in(w.admin).get(f"/o/{w.org.slug}/meetings/{elsewhere}/more/", **HTMX)
    assert more.status_code == 404


def test_o3_a_stranger_finds_nothing(w, spread):
    stranger = spread["other"].client
    assert overview(w, stranger).status_code == 404
    assert signed_in(stranger).get(f"/o/{w.org.slug}/").status_code == 404
    more = f"/o/{w.org.slug}/meetings/{spread['mine'].pk}/more/"
    assert signed_in(stranger).get(more, **HTMX).status_code == 404
    # A member of the organization outside the expert's group: the meeting does not exist.
    assert signed_in(spread["outsider_user"]).get(more, **HTMX).status_code == 404
    # Not signed in: to the sign-in page first.
    assert Client().get(f"/o/{w.org.slug}/meetings/")["Location"].startswith("/signin/")


def test_o2_the_current_tab_is_marked(w, spread):
    page = overview(w, w.expert, tab="everyone").content.decode()
    assert re.search(r'<a href="[^"]*tab=everyone[^"]*" aria-current="page">Everyone</a>', page)
    assert overview(w, w.expert, tab="nonsense").status_code == 200  # unknown tab: My
    assert shown(overview(w, w.expert, tab="nonsense")) == [spread["mine"].pk]


def test_o2_my_meetings_redirects_to_my_first_organizations_overview(w, spread):
    answer = signed_in(w.expert).get("/meetings/")
    assert answer.status_code == 302
    assert answer["Location"] in (f"/o/{w.org.slug}/meetings/", f"/o/{spread['other'].org.slug}/meetings/")
    nobody = User.objects.create_user("lonely@example.org", "pw", name="Lonely")
    page = signed_in(nobody).get("/meetings/")
    assert page.status_code == 200
    assert "No organization yet" in page.content.decode()


# --- D1: sorting ---------------------------------------------------------------------------


@pytest.fixture
def variety(w):
    """Meetings that differ in every column: awaiting approval, starting soon (a guest,
    media check passed), scheduled (another guest, check failed), completed, cancelled and
    rejected."""
    anna = GuestFactory(organization=w.org, name="Anna Guest", email="anna@example.net", phone="+31 20 555 0101")
    meetings = {
        "awaiting": w.book(hours_ahead=30, subject="Budget", description="Please bring the contract."),
        "soon": w.book(service=w.free_service, by=w.guest, hours_ahead=0.5, subject="alpha"),
        "scheduled": w.book(service=w.free_service, by=anna, expert=w.colleague, hours_ahead=5, subject="Zoning"),
        "completed": held(w, hours_ahead=2, subject="Review of the year"),
        "cancelled": w.book(hours_ahead=60, subject="Moved out"),
        "rejected": w.book(hours_ahead=80, subject="Customs"),
    }
    lifecycle.cancel_meeting(w.client, meetings["cancelled"])
    lifecycle.reject_meeting(w.expert, meetings["rejected"], reason="not_available")
    Meeting.objects.filter(pk=meetings["soon"].pk).update(client_entered_at=NOW, client_media_check="passed")
    Meeting.objects.filter(pk=meetings["scheduled"].pk).update(client_entered_at=NOW, client_media_check="failed")
    return {name: fresh(m) for name, m in meetings.items()}


MEDIA_ORDER = ["not_entered", "no_check", "failed", "passed"]
SORT_KEYS = {
    "client": lambda m: m.client_name.lower(),
    "key": lambda m: m.guest_key if m.guest_id else "",
    "media": lambda m: MEDIA_ORDER.index(client_media_state(m)),
    "service": lambda m: m.service.name.lower(),
    "subject": lambda m: m.subject.lower(),
    "expert": lambda m: m.expert.name.lower(),
    "status": lambda m: STATUS_ORDER.index(displayed_status(m, NOW)),
}


def expected_order(meetings, sort: str, order: str) -> list[int]:
    """The column's order; meetings equal there newest first."""
    newest_first = sorted(meetings, key=lambda m: (m.start, m.pk), reverse=True)
    if sort == "date":
        return [m.pk for m in (newest_first[::-1] if order == "asc" else newest_first)]
    return [m.pk for m in sorted(newest_first, key=SORT_KEYS[sort], reverse=order == "desc")]


def test_d1_newest_first_by_default(w, variety):
    page = overview(w, w.admin, tab="everyone")
    assert shown(page) == expected_order(variety.values(), "date", "desc")
    assert re.search(r'<th scope="col" aria-sort="descending" data-sort="date">', page.content.decode())


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", ["client", "key", "media", "service", "subject", "expert", "status", "date"])
def test_d1_every_column_sorts_both_ways(w, variety, sort, order):
    page = overview(w, w.admin, tab="everyone", sort=sort, order=order)
    assert shown(page) == expected_order(variety.values(), sort, order)
    sorted_heading = re.findall(r'<th scope="col" aria-sort="(\w+)" data-sort="(\w+)">', page.content.decode())
    assert sorted_heading == [("ascending" if order == "asc" else "descending", sort)]


def test_d1_a_heading_link_sorts_by_its_column_and_the_sorted_one_turns_around(w, variety):
    page = overview(w, w.admin, tab="everyone", sort="service", order="asc", status="").content.decode()
    links = dict(re.findall(r'data-sort="(\w+)">\s*<a href="\?([^"]*)"', page))
    assert links["service"] == "tab=everyone&amp;sort=service&amp;order=desc"
    assert links["client"] == "tab=everyone&amp;sort=client&amp;order=asc"
    assert links["date"] == "tab=everyone&amp;sort=date&amp;order=desc"  # newest first, the date's first order


@pytest.mark.parametrize("query", [{"sort": "password"}, {"sort": "start;drop"}, {"sort": "date", "order": "up"}])
def test_d1_an_unknown_sort_key_or_order_falls_back_to_the_default(w, variety, query):
    page = overview(w, w.admin, tab="everyone", **query)
    assert page.status_code == 200
    assert shown(page) == expected_order(variety.values(), "date", "desc")


# --- D1, D2: filters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "names"),
    [
        ("awaiting_approval", ["awaiting"]),
        ("starting_soon", ["soon"]),
        ("scheduled", ["scheduled"]),
        ("completed", ["completed"]),
        ("cancelled", ["cancelled"]),
        ("rejected", ["rejected"]),
        ("in_progress", []),
        ("", ["rejected", "cancelled", "awaiting", "scheduled", "completed", "soon"]),
    ],
)
def test_d2_the_status_filter_uses_the_displayed_status(w, variety, status, names):
    page = overview(w, w.admin, tab="everyone", status=status)
    assert shown(page) == [variety[name].pk for name in names]


def test_d2_a_meeting_under_way_is_in_progress(w, variety, frozen_clock):
    frozen_clock.move_to(at(0.6))
    page = overview(w, w.admin, tab="everyone", status="in_progress")
    assert shown(page) == [variety["soon"].pk]
    assert 'data-status="in_progress">In progress<' in page.content.decode()


def test_d1_the_date_filter_takes_days_in_the_viewers_zone(w, variety):
    # NOW is 09:00 UTC on 2 March: 22:00 in Auckland. The meeting at 09:30 UTC is still on
    # the 2nd there; the one at 14:00 UTC is on the 3rd.
    w.admin.time_zone = "Pacific/Auckland"
    w.admin.save()
    day = {"from": "2026-03-02", "to": "2026-03-02"}
    assert shown(overview(w, w.admin, tab="everyone", **day)) == [variety["soon"].pk]
    w.admin.time_zone = "UTC"
    w.admin.save()
    utc_day = shown(overview(w, w.admin, tab="everyone", **day))
    assert utc_day == [variety[name].pk for name in ("scheduled", "completed", "soon")]
    only_from = shown(overview(w, w.admin, tab="everyone", **{"from": "2026-03-04"}))
    assert only_from == [variety[name].pk for name in ("rejected", "cancelled")]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "deleted"}, "status", "Select a valid choice."),
        ({"from": "yesterday"}, "from", "Give a date like 2026-03-31."),
        ({"to": "2026-02-30"}, "to", "Give a date like 2026-03-31."),
        ({"from": "0001-01-01"}, "from", "Give a date between 1900 and 9998."),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "to", "The end date cannot be before the start date."),
    ],
)
def test_d1_bad_filters_are_shown_next_to_the_field_and_narrow_nothing(w, variety, query, field, message):
    page = overview(w, w.admin, tab="everyone", **query)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<p class="error" id="id_{field}-error">{message}' in html
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="id_{field}-error"', html)
    assert len(shown(page)) == len(variety)


# --- D1: paging ----------------------------------------------------------------------------


def book_many(w, count: int, first_hour: float = 2) -> list[Meeting]:
    return [w.book(service=w.free_service, hours_ahead=first_hour + i, subject=f"Topic {i:02}") for i in range(count)]


def test_d1_pages_of_25_whose_links_keep_the_sort_and_the_filters(w):
    meetings = book_many(w, 30)
    newest_first = [m.pk for m in reversed(meetings)]
    query = {"sort": "subject", "order": "desc", "status": "scheduled"}
    first = overview(w, w.expert, **query)
    assert shown(first) == newest_first[:25]
    html = first.content.decode()
    assert "30 meetings · page 1 of 2" in html
    assert '<a href="?tab=my&amp;sort=subject&amp;order=desc&amp;status=scheduled&amp;page=2" rel="next">' in html
    assert shown(overview(w, w.expert, page=2, **query)) == newest_first[25:]
    assert shown(overview(w, w.expert, page=99, **query)) == newest_first[25:]  # past the end: the last page
    assert shown(overview(w, w.expert, page="x", **query)) == newest_first[:25]  # not a number: the first


def test_d1_a_page_of_many_rows_costs_the_queries_of_a_few(w, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book_many(w, 4)
    w.book(service=w.free_service, by=w.guest, hours_ahead=1)
    browser = signed_in(w.admin)
    address = f"/o/{w.org.slug}/meetings/"
    query = {"tab": "everyone", "sort": "status", "from": "2026-03-01"}
    with CaptureQueriesContext(connection) as few:
        assert len(shown(browser.get(address, query))) == 5
    # session, user, organization, count, rows, the header's unread notifications and
    # conversations, and the header's other organizations to switch to
    assert len(few.captured_queries) <= 9  # (+ savepoint on PostgreSQL)
    book_many(w, 45, first_hour=60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(shown(browser.get(address, query))) == 25


# --- D1: the row's plus and minus ----------------------------------------------------------


def more(w, user, meeting, **query):
    return signed_in(user).get(f"/o/{w.org.slug}/meetings/{meeting.pk}/more/", query, **HTMX)


def test_d1_the_plus_opens_the_row_with_description_and_phone(w, variety):
    w.client.phone = "+420 777 123 456"
    w.client.save()
    opened = more(w, w.expert, variety["awaiting"]).content.decode()
    assert opened.startswith(f'<tbody id="meeting-{variety["awaiting"].pk}"')
    assert 'aria-expanded="true"' in opened
    assert f'<tr class="more" id="more-{variety["awaiting"].pk}">' in opened
    assert "Please bring the contract." in opened
    assert '<a href="tel:+420 777 123 456">' in opened
    assert "Review" not in opened and "Summary" not in opened  # O4: add-ons off
    guest_row = more(w, w.colleague, variety["scheduled"]).content.decode()
    assert "+31 20 555 0101" in guest_row


def test_d1_the_minus_closes_the_row(w, variety):
    closed = more(w, w.expert, variety["awaiting"], open="0").content.decode()
    assert 'aria-expanded="false"' in closed
    assert 'class="more"' not in closed
    assert "?open=1" in closed


def test_d1_the_overview_rows_start_closed_with_a_plus(w, variety):
    page = overview(w, w.expert).content.decode()
    pk = variety["awaiting"].pk
    assert f'hx-get="/o/{w.org.slug}/meetings/{pk}/more/?open=1" hx-target="#meeting-{pk}"' in page
    assert 'aria-expanded="true"' not in page


def test_o4_review_and_summary_show_only_with_their_add_ons(w):
    meeting = held(w, hours_ahead=2)
    w.org.reviews_enabled = w.org.summaries_enabled = True
    w.org.save()
    later = meeting.end + timedelta(hours=1)
    outcome.submit_statement(w.client, meeting, said="held", stars=5, review="Clear and kind advice.", now=later)
    outcome.submit_statement(w.expert, meeting, said="held", summary="Next step: file the form.", now=later)
    assert Review.objects.filter(meeting=meeting).exists() and Statement.objects.filter(meeting=meeting).count() == 2
    opened = more(w, w.expert, meeting).content.decode()
    assert "Clear and kind advice." in opened and "Next step: file the form." in opened
    w.org.reviews_enabled = w.org.summaries_enabled = False
    w.org.save()
    opened = more(w, w.expert, meeting).content.decode()
    assert "Clear and kind advice." not in opened and "Next step: file the form." not in opened
    assert "<dt>Review</dt>" not in opened and "<dt>Summary</dt>" not in opened


def test_d1_the_row_partial_outside_htmx_goes_to_the_overview(w, variety):
    answer = signed_in(w.expert).get(f"/o/{w.org.slug}/meetings/{variety['awaiting'].pk}/more/")
    assert answer.status_code == 302 and answer["Location"] == f"/o/{w.org.slug}/meetings/"


# --- D1, V3: what a row shows --------------------------------------------------------------


def row_html(page, meeting) -> str:
    html = page.content.decode()
    return html[html.index(f'<tbody id="meeting-{meeting.pk}"') :].split("</tbody>", 1)[0]


def test_v3_the_media_sign_is_a_symbol_and_words(w, variety):
    page = overview(w, w.admin, tab="everyone")
    signs = {
        "awaiting": ("not_entered", "?", "Has not entered"),
        "completed": ("no_check", "?", "Entered, media check not done"),
        "scheduled": ("failed", "✗", "Media check failed"),
        "soon": ("passed", "✓", "Media check passed"),
    }
    for name, (state, symbol, words) in signs.items():
        sign = f'data-media="{state}"><span aria-hidden="true">{symbol}</span> <span class="media-text">{words}</span>'
        assert sign in row_html(page, variety[name])


def test_d1_the_guest_key_is_shown_for_guest_meetings_only(w, variety):
    page = overview(w, w.admin, tab="everyone")
    assert variety["soon"].guest_key in row_html(page, variety["soon"])
    assert variety["awaiting"].guest_key not in page.content.decode()


def test_d1_times_are_in_the_viewers_zone(w, variety):
    w.admin.time_zone = "Asia/Tokyo"
    w.admin.save()
    page = overview(w, w.admin, tab="everyone")
    assert "(Asia/Tokyo)" in page.content.decode()
    # 09:30 UTC is 18:30 in Tokyo.
    assert '<time datetime="2026-03-02T18:30:00+09:00">' in row_html(page, variety["soon"])


def test_d1_the_room_can_be_entered_from_the_row_only_while_it_is_open(w, variety, frozen_clock):
    join = f'href="/meetings/{variety["soon"].pk}/join/"'
    assert join not in overview(w, w.expert).content.decode()
    frozen_clock.move_to(at(0.3))  # the join window opens 15 minutes before 09:30
    assert join in overview(w, w.expert).content.decode()
    frozen_clock.move_to(at(1))  # ended
    assert join not in overview(w, w.expert).content.decode()


def test_d1_each_row_offers_the_calendar_file_and_the_meeting_page(w, variety):
    from django.urls import NoReverseMatch, reverse

    page = overview(w, w.expert)
    row = row_html(page, variety["awaiting"])
    ics = f"/api/v1/orgs/{w.org.slug}/meetings/{variety['awaiting'].pk}/calendar.ics"
    assert f'href="{ics}" download' in row
    assert signed_in(w.expert).get(ics)["Content-Type"].startswith("text/calendar")
    try:
        meeting_page = reverse("web:meeting", args=[w.org.slug, variety["awaiting"].pk])
    except NoReverseMatch:
        meeting_page = None
    if meeting_page:
        assert f'href="{meeting_page}">Change' in row


# --- D3: the dashboard ---------------------------------------------------------------------


def dashboard(w, user):
    return signed_in(user).get(f"/o/{w.org.slug}/")


def stat(page, name: str) -> int:
    found = re.search(rf'data-stat="{name}"><span class="number">(\d+)</span>', page.content.decode())
    return int(found.group(1))


def listed(page, title_id: str) -> list[int]:
    html = page.content.decode()
    section = html[html.index(f'id="{title_id}"') :].split("</section>", 1)[0]
    return [int(pk) for pk in re.findall(r'<li data-meeting="(\d+)">', section)]


def test_d3_counts_and_lists_my_upcoming_and_held_meetings(w, variety):
    later = w.book(service=w.free_service, hours_ahead=9)  # agreed, the client's and the expert's
    page = dashboard(w, w.expert)
    # Upcoming: agreed and in the future (starting soon, and the later one); awaiting approval,
    # cancelled or rejected meetings are not.
    assert stat(page, "upcoming") == 2
    assert listed(page, "scheduled-title") == [variety["soon"].pk, later.pk]
    assert stat(page, "held") == 1
    assert listed(page, "held-title") == [variety["completed"].pk]
    colleague = dashboard(w, w.colleague)
    assert (stat(colleague, "upcoming"), stat(colleague, "held")) == (1, 0)
    assert listed(colleague, "scheduled-title") == [variety["scheduled"].pk]
    client_page = dashboard(w, w.client)
    assert (stat(client_page, "upcoming"), stat(client_page, "held")) == (1, 1)
    assert "with Eve Expert" in client_page.content.decode()


def test_d3_experts_by_skill(w):
    tax, law = SkillFactory(organization=w.org, name="Tax"), SkillFactory(organization=w.org, name="Law")
    SkillFactory(organization=w.org, name="Nobody knows this")
    ExpertProfile.objects.get(membership__user=w.expert).skills.add(tax, law)
    ExpertProfile.objects.get(membership__user=w.colleague).skills.add(tax)
    other = world()
    SkillFactory(organization=other.org, name="Elsewhere").experts.add(
        ExpertProfile.objects.get(membership__user=other.expert)
    )
    html = dashboard(w, w.client).content.decode()
    skills = html[html.index('id="skills-title"') :].split("</section>", 1)[0]
    entries = re.findall(r"<dt>([^<]+)</dt>\s*<dd>(.*?)</dd>", skills, re.S)
    named = {skill: re.findall(r"(?:>|^)(Eve Expert|Carl Colleague)<", experts) for skill, experts in entries}
    assert named == {"Law": ["Eve Expert"], "Tax": ["Carl Colleague", "Eve Expert"]}


def test_d3_a_group_does_not_change_my_counts(w, variety):
    Group.objects.get(organization=w.org).members.clear()
    assert stat(dashboard(w, w.expert), "held") == 1


def test_d3_the_dashboard_costs_the_same_queries_however_many_meetings_and_experts(w, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tax = SkillFactory(organization=w.org, name="Tax")
    ExpertProfile.objects.get(membership__user=w.expert).skills.add(tax)
    book_many(w, 2)
    with CaptureQueriesContext(connection) as few:
        dashboard(w, w.expert)
    book_many(w, 12, first_hour=30)
    for n in range(5):
        expert = member(w.org, name=f"Expert {n}")
        open_all_week(w.org, expert)
        profile = ExpertProfile.objects.get(membership__user=expert)
        profile.skills.add(tax, SkillFactory(organization=w.org, name=f"Skill {n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = dashboard(w, w.expert)
    assert stat(page, "upcoming") == 14 and len(listed(page, "scheduled-title")) == 5


def test_d4_dates_are_written_the_viewers_way(w, variety):
    w.admin.language = "de"
    w.admin.save()
    page = overview(w, w.admin, tab="everyone")
    assert '<html lang="de">' in page.content.decode()
    assert "2. März 2026" in row_html(page, variety["soon"])


def test_s3_the_admins_dashboard_lists_the_disputes_to_decide(w):
    """S3: when the statements disagree an admin decides; the admin's dashboard names the
    meetings waiting for that, with both sides and a link. Nobody else sees the list."""
    from parlour.meetings.models import Said

    disputed = held(w, subject="Profiling")
    outcome.submit_statement(w.expert, disputed, said=Said.HELD, now=disputed.end + timedelta(hours=1))
    outcome.submit_statement(w.client, disputed, said=Said.NOT_HELD_EXPERT, now=disputed.end + timedelta(hours=2))
    settled = held(w, hours_ahead=5)
    outcome.submit_statement(w.client, settled, said=Said.HELD, now=settled.end + timedelta(hours=1))

    page = dashboard(w, w.admin)
    assert listed(page, "disputes-title") == [disputed.pk]
    html = page.content.decode()
    assert f'href="/o/{w.org.slug}/meetings/{disputed.pk}/"' in html
    assert f"with {w.client.name}, {w.expert.name}" in html
    for someone in (w.expert, w.client):
        assert 'id="disputes-title"' not in dashboard(w, someone).content.decode()

    # Beyond the dashboard's five, the meetings list has every dispute (and only those).
    link = f'href="/o/{w.org.slug}/meetings/?tab=everyone&amp;outcome=disputed"'
    assert link in html and "All 1 dispute in the meetings list" in html
    assert shown(overview(w, w.admin, tab="everyone", outcome="disputed")) == [disputed.pk]
    assert shown(overview(w, w.admin, tab="everyone", outcome="held")) == [settled.pk]
    assert sorted(shown(overview(w, w.admin, tab="everyone"))) == sorted([disputed.pk, settled.pk])
    assert 'id="id_outcome-error"' in overview(w, w.admin, outcome="lost").content.decode()
    outcome.decide_dispute(w.admin, fresh(disputed), outcome="refunded", note="", now=disputed.end + timedelta(hours=3))
    assert 'id="disputes-title"' not in dashboard(w, w.admin).content.decode()
