"""The booking pages (B1, B2, B4, B5, B7, E5, L16, O3, Q1): an expert's and a service's public
page with a week of free slots in the visitor's time zone, the booking form for guests and
clients, the refusals, and the guest's own page from their signed link."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client

from parlour.accounts.models import Guest, Membership
from parlour.availability.models import WeeklyHours
from parlour.catalog.models import ExpertProfile
from parlour.meetings import lifecycle
from parlour.meetings.guest_links import link_token
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import Meeting
from tests.factories import ServiceFactory, member, on_grid, world
from tests.web.clients import text

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(frozen):
    return world()


def visitor(zone: str | None = None) -> Client:
    """A visitor without an account whose browser reported ``zone`` (the ``tz`` cookie)."""
    client = Client()
    if zone:
        client.cookies["tz"] = zone
    return client


def slots_shown(html: str) -> dict[str, str]:
    """Each slot on the page: its start in UTC → the time it reads."""
    return dict(re.findall(r'data-start="([^"]+)">([^<]+)<', html))


def expert_url(w, expert=None, **params) -> str:
    return f"/o/{w.org.slug}/experts/{(expert or w.expert).pk}/"


def book_url(w) -> str:
    return f"/o/{w.org.slug}/book/"


def guest_details(**more) -> dict:
    return {"name": "Gina Guest", "email": "gina@example.net", "phone": "", "subject": "Hello", **more}


def booking(w, start: datetime, *, service=None, expert=None, **more) -> dict:
    body = {"service": (service or w.free_service).pk, "start": start.isoformat(), "length": 30, "tz": "UTC", **more}
    if expert is not None:
        body["expert"] = expert.pk
    return body


def amsterdam_office_hours(w, person):
    """Mon–Fri 09:00–17:00 in Amsterdam."""
    profile = ExpertProfile.objects.get(membership__organization=w.org, membership__user=person)
    profile.time_zone = "Europe/Amsterdam"
    profile.save()
    WeeklyHours.objects.filter(profile=profile).delete()
    WeeklyHours.objects.bulk_create(
        WeeklyHours(profile=profile, weekday=day, start=time(9), end=time(17)) for day in range(5)
    )


# --- the public pages (E5, B7, Q1) ----------------------------------------------------------


def test_e5_expert_page_shows_profile_services_and_slots_in_the_visitors_zone(w):
    profile = ExpertProfile.objects.get(membership__user=w.expert, membership__organization=w.org)
    profile.bio = "Twenty years of advice."
    profile.save()
    page = visitor("Europe/Amsterdam").get(expert_url(w), {"service": w.free_service.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Eve Expert" in html and "Twenty years of advice." in html
    assert f"Works in the time zone {profile.time_zone}" in html  # E1: the expert's own zone
    assert "Expert advice" in html and "Intro call" in html  # the services they give
    shown = slots_shown(html)
    assert shown["2030-06-03T10:00:00Z"] == "12:00"  # 10:00 UTC is noon in Amsterdam (CEST)
    assert "2030-06-03T05:45:00Z" not in shown  # before now
    assert 'value="Europe/Amsterdam" selected' in html
    assert 'aria-current="true"' in html


def test_e5_zone_is_changeable_and_the_lengths_offered(w):
    html = visitor("Europe/Amsterdam").get(expert_url(w), {"service": w.free_service.pk, "tz": "Asia/Tokyo"})
    html = html.content.decode()
    assert slots_shown(html)["2030-06-03T10:00:00Z"] == "19:00"
    assert 'value="Asia/Tokyo" selected' in html
    assert '<option value="15" selected>' in html and '<option value="30">' in html  # Intro call: 15 or 30 min
    sixty = visitor().get(expert_url(w), {"service": w.service.pk, "length": "60"}).content.decode()
    assert '<option value="60" selected>' in sixty


def test_q1_e4_calendar_in_new_york_across_europes_spring_change(time_machine):
    """An Amsterdam expert's 09:00 is 04:00 in New York before 29 March 2026 and 03:00 after."""
    time_machine.move_to(datetime(2026, 3, 20, 12, 0, tzinfo=UTC), tick=False)
    w = world()
    amsterdam_office_hours(w, w.expert)
    page = visitor("America/New_York").get(expert_url(w), {"service": w.free_service.pk, "week": "2026-03-27"})
    shown = slots_shown(page.content.decode())
    firsts = {}
    for start_utc, label in shown.items():
        day = datetime.fromisoformat(start_utc).astimezone(UTC).date()
        firsts.setdefault(day.isoformat(), (start_utc, label))
    assert firsts["2026-03-27"] == ("2026-03-27T08:00:00Z", "04:00")
    assert firsts["2026-03-30"] == ("2026-03-30T07:00:00Z", "03:00")
    assert "2026-03-28" not in firsts and "2026-03-29" not in firsts  # the weekend


def test_q1_e4_the_autumn_hour_that_happens_twice_is_shown_twice_with_its_zone(time_machine):
    time_machine.move_to(datetime(2030, 10, 20, 12, 0, tzinfo=UTC), tick=False)
    w = world()  # experts free all day in UTC
    html = visitor("Europe/Amsterdam").get(expert_url(w), {"service": w.free_service.pk, "week": "2030-10-27"})
    shown = slots_shown(html.content.decode())
    assert shown["2030-10-27T00:00:00Z"] == "02:00 CEST"
    assert shown["2030-10-27T01:00:00Z"] == "02:00 CET"
    assert shown["2030-10-27T02:00:00Z"] == "03:00"


def test_b7_service_page_shows_the_union_of_its_experts_slots_without_names(w, django_assert_max_num_queries):
    for n in range(3):
        person = member(w.org, name=f"Extra {n}")
        w.free_service.experts.add(person)
    with django_assert_max_num_queries(20):
        page = visitor("UTC").get(f"/o/{w.org.slug}/services/{w.free_service.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert slots_shown(html)["2030-06-03T10:00:00Z"] == "10:00"
    assert f"/experts/{w.expert.pk}/" in html  # the experts are listed with their pages
    booking_links = re.findall(r'href="(/o/[^"]+/book/\?[^"]+)"', html)
    assert booking_links and all("expert=" not in link for link in booking_links)


def test_e5_week_navigation_and_htmx_partial(w):
    client = visitor("UTC")
    first = client.get(expert_url(w), {"service": w.free_service.pk}).content.decode()
    assert 'rel="prev"' not in first and 'rel="next"' in first
    partial = client.get(expert_url(w), {"service": w.free_service.pk, "week": "2030-06-10"}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "<html" not in html and 'id="calendar"' in html
    assert 'rel="prev"' in html and "2030-06-10T00:00:00Z" in slots_shown(html)
    assert "2030-06-09T23:45:00Z" not in slots_shown(html)


def test_e5_expert_page_query_count_does_not_grow_with_services(w, django_assert_max_num_queries):
    for _ in range(10):
        ServiceFactory(organization=w.org, price=0).experts.add(w.expert)
    with django_assert_max_num_queries(20):
        assert visitor().get(expert_url(w)).status_code == 200


def test_o3_other_organizations_and_non_public_things_are_not_found(w):
    other = world()
    client = visitor()
    assert client.get(f"/o/{w.org.slug}/experts/{other.expert.pk}/").status_code == 404
    assert client.get(f"/o/{w.org.slug}/services/{other.free_service.pk}/").status_code == 404
    assert client.get(f"/o/{w.org.slug}/experts/{w.admin.pk}/").status_code == 404  # gives no service
    assert client.get(f"/o/{w.org.slug}/experts/{w.client.pk}/").status_code == 404
    assert client.get(f"/o/no-such-org/experts/{w.expert.pk}/").status_code == 404
    assert client.get(f"/o/{w.org.slug}/experts/99999999999/").status_code == 404
    w.free_service.is_active = False
    w.free_service.save()
    assert client.get(f"/o/{w.org.slug}/services/{w.free_service.pk}/").status_code == 404
    start = on_grid(NOW) + timedelta(hours=30)
    posted = client.post(book_url(w), {**booking(w, start, service=other.free_service), **guest_details()})
    assert posted.status_code == 404
    posted = client.post(book_url(w), {**booking(w, start, expert=other.expert), **guest_details()})
    assert posted.status_code == 404
    assert not Meeting.objects.exists()


# --- booking (B1, B2) -----------------------------------------------------------------------


def test_b1_b5_guest_books_a_free_slot_and_sees_the_key_and_their_page(w):
    client = visitor("Europe/Amsterdam")
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    form = client.get(book_url(w), booking(w, start, expert=w.expert, tz="Europe/Amsterdam"))
    assert form.status_code == 200
    form_html = form.content.decode()
    assert "12:00–12:30" in form_html and 'for="id_email"' in form_html
    posted = client.post(book_url(w), {**booking(w, start, expert=w.expert, tz="Europe/Amsterdam"), **guest_details()})
    assert posted.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.start, meeting.status, meeting.expert) == (start, "agreed", w.expert)
    assert meeting.guest.email == "gina@example.net" and meeting.guest.time_zone == "Europe/Amsterdam"
    assert meeting.subject == "Hello"
    assert posted["Location"] == f"/o/{w.org.slug}/booked/{meeting.pk}/"
    booked = client.get(posted["Location"]).content.decode()
    assert meeting.guest_key in booked and "We have sent a link to gina@example.net" in booked
    assert f"/g/{link_token(meeting)}/" not in booked  # the link goes by mail only (O3)
    assert "The meeting is agreed" in booked and "12:00–12:30" in booked
    assert visitor().get(posted["Location"]).status_code == 404  # another browser


def test_o3_x1_booking_with_someone_elses_address_reaches_nothing_of_theirs(w):
    """Whoever books as a guest has only typed an address: the guest it names keeps their
    name, and the booker gets neither that guest's link nor their conversation (O3, X1)."""
    first = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    visitor().post(book_url(w), {**booking(w, first, expert=w.expert), **guest_details()})
    gina = Meeting.objects.get().guest
    mallory = visitor()
    second = datetime(2030, 6, 4, 12, 0, tzinfo=UTC)
    details = guest_details(name="Mallory", email="GINA@example.net")
    posted = mallory.post(book_url(w), {**booking(w, second, expert=w.expert), **details})
    assert posted.status_code == 302
    taken = Meeting.objects.get(start=second)
    assert taken.guest == gina
    gina.refresh_from_db()
    assert gina.name == "Gina Guest"
    page = mallory.get(posted["Location"]).content.decode()
    assert "/g/" not in page and taken.guest_key in page


def test_b7_guest_books_a_service_with_any_free_expert(w):
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    posted = visitor().post(book_url(w), {**booking(w, start), **guest_details()})
    assert posted.status_code == 302
    assert Meeting.objects.get().expert in (w.expert, w.colleague)


def test_b2_client_books_as_themselves_and_the_price_is_held(w):
    client = Client()
    client.force_login(w.client)
    start = datetime(2030, 6, 5, 9, 0, tzinfo=UTC)
    form = client.get(book_url(w), booking(w, start, service=w.service, expert=w.expert)).content.decode()
    assert "You book as Cleo Client" in form and 'name="email"' not in form
    posted = client.post(book_url(w), {**booking(w, start, service=w.service, expert=w.expert), "subject": "Plan"})
    assert posted.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.client, meeting.status, meeting.credit_status) == (w.client, "awaiting_approval", "blocked")
    assert posted["Location"] == f"/o/{w.org.slug}/booked/{meeting.pk}/"
    page = client.get(posted["Location"]).content.decode()
    assert "Eve Expert will confirm the meeting" in page
    assert f"/o/{w.org.slug}/meetings/{meeting.pk}/" in page
    assert visitor().get(posted["Location"]).status_code == 404  # someone else
    other = Client()
    other.force_login(w.colleague)
    assert other.get(posted["Location"]).status_code == 404


def test_b1_q2_bad_input_shows_form_errors_and_books_nothing(w):
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    client = visitor()
    answer = client.post(book_url(w), {**booking(w, start), **guest_details(name="", email="not-an-email")})
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'id="id_name-error"' in html and 'id="id_email-error"' in html
    phone = client.post(book_url(w), {**booking(w, start), **guest_details(phone="call me")})
    assert phone.status_code == 400 and 'id="id_phone-error"' in phone.content.decode()
    broken = client.post(book_url(w), {**booking(w, start), "start": "tomorrow", **guest_details()})
    assert broken.status_code == 400 and "Choose a time from the calendar" in broken.content.decode()
    assert not Meeting.objects.exists() and not Guest.objects.filter(email="gina@example.net").exists()


def test_b1_a_taken_slot_is_refused_with_the_calendar_again(w):
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    w.book(service=w.free_service, start=start, by=w.client)
    answer = visitor().post(book_url(w), {**booking(w, start, expert=w.expert), **guest_details()})
    assert answer.status_code == 409
    html = answer.content.decode()
    assert 'role="alert">This time was just taken' in html
    assert 'id="calendar"' in html and "2030-06-04T10:00:00Z" not in slots_shown(html)
    assert "2030-06-04T11:00:00Z" in slots_shown(html)
    assert Meeting.objects.count() == 1 and not Guest.objects.filter(email="gina@example.net").exists()


def test_b1_e3_refusals_paid_service_for_a_guest_and_too_short_notice(w):
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    paid = visitor().post(book_url(w), {**booking(w, start, service=w.service, expert=w.expert), **guest_details()})
    assert "A paid service can be booked only by a signed-in client" in paid.content.decode()
    profile = ExpertProfile.objects.get(membership__user=w.expert, membership__organization=w.org)
    profile.minimum_notice_minutes = 24 * 60
    profile.save()
    soon = NOW + timedelta(hours=2)
    late = visitor().post(book_url(w), {**booking(w, soon, expert=w.expert), **guest_details()})
    assert "needs 24 hours&#x27; notice" in late.content.decode()
    assert not Meeting.objects.exists()


# --- the guest's own page (B5, O3, L1, L7, L16, B3, B4) ------------------------------------------


def guest_meeting(w, **kw):
    return w.book(service=w.free_service, by=w.guest, start=kw.pop("start", datetime(2030, 6, 6, 9, 0, tzinfo=UTC)))


def test_b5_o3_guest_page_only_with_a_valid_token(w):
    meeting = guest_meeting(w)
    token = link_token(meeting)
    page = visitor().get(f"/g/{token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert meeting.guest_key in html and "Scheduled" in html and f"/join/{token}/" in html
    assert "09:00–09:15" in html  # the guest's zone (UTC)
    assert visitor().get(f"/g/{token}/", {"tz": "Europe/Amsterdam"}).content.decode().count("11:00–11:15") == 1
    for bad in (token[:-2] + "xx", "nonsense", link_token(meeting).replace(":", "x")):
        assert visitor().get(f"/g/{bad}/").status_code == 404
    meeting.guest_key = "ACDEFGHJ"
    meeting.save()
    assert visitor().get(f"/g/{token}/").status_code == 404  # a new key: old links stop working


def test_l7_guest_cancels_with_a_written_reason(w):
    meeting = guest_meeting(w)
    token = link_token(meeting)
    client = visitor()
    refused = client.post(f"/g/{token}/cancel/", {"cancel-note": ""})
    assert refused.status_code == 400
    assert 'id="dialog-cancel"' in refused.content.decode() and "This field is required" in refused.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == "agreed"
    done = client.post(f"/g/{token}/cancel/", {"cancel-note": "Something came up"})
    assert done.status_code == 302 and done["Location"] == f"/g/{token}/"
    meeting.refresh_from_db()
    assert meeting.status == "cancelled"
    after = client.get(f"/g/{token}/").content.decode()
    assert "Your meeting is cancelled" in after and "dialog-cancel" not in after


def test_l16_guest_changes_the_time_to_another_free_slot(w):
    meeting = guest_meeting(w)
    token = link_token(meeting)
    client = visitor()
    calendar = client.get(f"/g/{token}/change/").content.decode()
    new = "2030-06-07T13:00:00Z"
    assert new in slots_shown(calendar)
    own = meeting.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert own in slots_shown(calendar)  # free for itself: a change of length only
    confirm = client.get(f"/g/{token}/change/", {"start": new, "length": 30, "tz": "UTC"}).content.decode()
    assert "13:00–13:30" in confirm and "Move the meeting" in confirm
    moved = client.post(f"/g/{token}/change/", {"start": new, "length": 30, "tz": "UTC"})
    assert moved.status_code == 302
    meeting.refresh_from_db()
    assert meeting.start == datetime(2030, 6, 7, 13, 0, tzinfo=UTC)
    w.book(service=w.free_service, start=datetime(2030, 6, 8, 9, 0, tzinfo=UTC), by=w.client, expert=w.expert)
    taken = client.post(f"/g/{token}/change/", {"start": "2030-06-08T09:00:00Z", "length": 30})
    assert taken.status_code == 409 and 'role="alert"' in taken.content.decode()
    meeting.refresh_from_db()
    assert meeting.start == datetime(2030, 6, 7, 13, 0, tzinfo=UTC)


def test_l16_no_change_for_a_service_that_needs_confirmation(w):
    meeting = lifecycle.propose_meeting(
        w.expert, service=w.service, party=Party(guest=w.guest), start=NOW + timedelta(days=3), price=0
    )
    meeting = lifecycle.confirm_meeting(w.guest, meeting)
    token = link_token(meeting)
    assert "Change the time" not in visitor().get(f"/g/{token}/").content.decode()
    refused = visitor().post(f"/g/{token}/change/", {"start": "2030-06-08T09:00:00Z"})
    assert refused.status_code == 409


def test_b4_guest_picks_one_of_the_offered_times(w):
    options = [(NOW + timedelta(days=2), 30), (NOW + timedelta(days=3), 15)]
    meeting = lifecycle.offer_time_options(
        w.expert, service=w.free_service, party=Party(guest=w.guest), options=options
    )
    token = link_token(meeting)
    page = visitor().get(f"/g/{token}/").content.decode()
    picked = meeting.time_options.order_by("start")[1]
    assert f'value="{picked.pk}"' in page and "Choose one of the times offered" in page
    done = visitor().post(f"/g/{token}/pick/", {"option": picked.pk})
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.start, meeting.length_minutes) == ("agreed", NOW + timedelta(days=3), 15)
    again = visitor().post(f"/g/{token}/pick/", {"option": picked.pk})
    assert again.status_code == 409 and 'role="alert"' in again.content.decode()


def test_l5_l6_guest_confirms_or_declines_an_experts_proposal(w):
    proposal = w.propose(to=w.guest, service=w.free_service, price=0)
    token = link_token(proposal)
    assert "Confirm the meeting" in visitor().get(f"/g/{token}/").content.decode()
    assert visitor().post(f"/g/{token}/confirm/").status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "agreed"
    other = w.propose(to=w.guest, service=w.free_service, price=0, hours_ahead=100)
    token = link_token(other)
    bad = visitor().post(f"/g/{token}/reject/", {"reject-reason": "whatever"})
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()
    declined = visitor().post(f"/g/{token}/reject/", {"reject-reason": "not_available", "reject-note": "Away"})
    assert declined.status_code == 302
    other.refresh_from_db()
    assert other.status == "rejected"


def test_b4_client_picks_a_time_option_on_their_pick_page(w):
    options = [(NOW + timedelta(days=2), 30), (NOW + timedelta(days=4), 30)]
    meeting = lifecycle.offer_time_options(w.expert, service=w.service, party=Party(client=w.client), options=options)
    url = f"/o/{w.org.slug}/meetings/{meeting.pk}/options/"
    assert visitor().get(url).status_code == 302  # sign in first
    client = Client()
    client.force_login(w.client)
    page = client.get(url)
    assert page.status_code == 200
    assert f"Taking a time blocks {meeting.price} credits from your wallet" in text(page)  # C1, before picking
    first = meeting.time_options.order_by("start").first()
    done = client.post(url, {"option": first.pk})
    assert done.status_code == 302 and done["Location"] == f"/o/{w.org.slug}/meetings/{meeting.pk}/"
    meeting.refresh_from_db()
    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    stranger = Client()
    stranger.force_login(world().client)
    assert stranger.get(url).status_code == 404


def test_l17_client_pick_page_warns_of_an_overlap_first(w):
    start = NOW + timedelta(days=2)
    w.agreed(start=start, service=w.free_service, expert=w.colleague)
    meeting = lifecycle.offer_time_options(
        w.expert, service=w.service, party=Party(client=w.client), options=[(start, 30)]
    )
    client = Client()
    client.force_login(w.client)
    url = f"/o/{w.org.slug}/meetings/{meeting.pk}/options/"
    option = meeting.time_options.get()
    warned = client.post(url, {"option": option.pk})
    assert warned.status_code == 409
    html = warned.content.decode()
    assert "already have an agreed meeting" in html and 'name="acknowledge_conflict" value="1"' in html
    meeting.refresh_from_db()
    assert meeting.status == "planning"
    assert client.post(url, {"option": option.pk, "acknowledge_conflict": "1"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "agreed"


def test_b1_guest_mail_link_opens_the_guest_page(w, settings):
    from parlour.notifications.messages import compose
    from parlour.notifications.models import OutboxItem, Topic

    meeting = guest_meeting(w)
    item = OutboxItem.objects.get(topic=Topic.N2, recipient_guest=w.guest, meeting=meeting)
    link = compose(item).link
    assert link == f"{settings.PARLOUR_BASE_URL}/g/{link_token(meeting)}/"
    assert visitor().get(link.removeprefix(settings.PARLOUR_BASE_URL)).status_code == 200
    assert Membership.objects.filter(user=w.expert).exists()


def test_d4_a_guest_who_books_in_dutch_gets_their_mail_in_dutch(w):
    client = visitor("Europe/Amsterdam")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    start = datetime(2030, 6, 4, 10, 0, tzinfo=UTC)
    client.post(book_url(w), {**booking(w, start, expert=w.expert, tz="Europe/Amsterdam"), **guest_details()})
    assert Meeting.objects.get().guest.language == "nl"
