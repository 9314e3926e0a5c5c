"""Area E: the experts' free dates page (E3) with the coming week's slots (E4): an expert sets
weekly hours, dated exceptions, time off and limits and sees the slots follow; bad input is
refused next to the field and nothing changes; only the expert and an admin of the
organization reach the page (O3: anyone else, "not found")."""

import re
from datetime import UTC, date, datetime, time

import pytest
from django.test import Client

from parlour.accounts.models import User
from parlour.availability.models import DateException, ExceptionKind, TimeOff, WeeklyHours
from parlour.catalog.models import ExpertProfile
from tests.factories import OrganizationFactory, member, world
from tests.factories import client as new_client
from tests.meetings.checks import NOW
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)  # NOW is Monday 2 March 2026, 09:00 UTC


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    return world()


def url(w, part: str = "", **query) -> str:
    address = f"/o/{w.org.slug}/free-dates/{part}"
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def profile_of(user: User) -> ExpertProfile:
    return ExpertProfile.objects.get(membership__user=user)


def hours_of(user: User) -> list[tuple[int, time, time]]:
    return list(WeeklyHours.objects.filter(profile=profile_of(user)).values_list("weekday", "start", "end"))


def preview(response) -> dict[str, list[str]]:
    """The preview's slots per day: {"Tuesday 3 Mar": ["09:00", …]}."""
    days = re.findall(
        r'<li><h3><time datetime="[^"]+">([^<]+)</time></h3>(.*?)</li>\s*(?=<li><h3>|</ol>)', text(response), re.S
    )
    return {name: re.findall(r"<li>(\d\d:\d\d)</li>", body) for name, body in days}


def week(**days) -> dict:
    """The weekly form: ``week(tuesday=[("09:00", "12:00")])``; other days empty."""
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    data = {}
    for number, name in enumerate(names):
        spans = days.get(name, [])
        data[f"start-{number}"] = [start for start, _ in spans] + [""]
        data[f"end-{number}"] = [end for _, end in spans] + [""]
    return data


def limits(**changes) -> dict:
    data = {
        "time_zone": "UTC",
        "minimum_notice_minutes": "0",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "max_meetings_per_day": "",
    }
    return data | changes


# --- what the expert sees and sets ------------------------------------------------------


def test_e3_the_page_shows_the_weekly_hours_in_the_experts_zone_and_the_coming_weeks_slots(w):
    response = signed_in(w.expert).get(url(w))
    assert response.status_code == 200
    assert "All hours are on the clock of <strong>UTC</strong>" in text(response)
    for day in ("Monday", "Tuesday", "Sunday"):
        assert f">{day}</legend>" in text(response)
    shown = preview(response)
    assert len(shown) == 8 and shown["Tuesday 3 Mar"][:2] == ["00:00", "00:15"]  # open all week


def test_e3_e4_weekly_hours_are_replaced_and_the_slots_follow(w):
    browser = signed_in(w.expert)
    response = browser.post(url(w, "weekly/"), week(tuesday=[("09:00", "10:00"), ("14:00", "15:00")]))
    assert response.status_code == 302 and "saved=weekly" in response["Location"]
    assert sorted(hours_of(w.expert)) == [(1, time(9), time(10)), (1, time(14), time(15))]
    page = browser.get(response["Location"])
    assert "Your weekly hours are saved." in text(page)
    shown = preview(page)
    # "Expert advice" is 30 minutes first: starts every 15 minutes that fit in each interval.
    assert shown["Tuesday 3 Mar"] == ["09:00", "09:15", "09:30", "14:00", "14:15", "14:30"]
    assert shown["Wednesday 4 Mar"] == [] and shown["Monday 2 Mar"] == []
    assert 'value="14:00"' in text(page)


def test_e3_a_row_removed_with_its_button_or_emptied_goes_away(w):
    browser = signed_in(w.expert)
    browser.post(url(w, "weekly/"), week(tuesday=[("09:00", "10:00"), ("14:00", "15:00")], friday=[("08:00", "09:00")]))
    form = week(tuesday=[("09:00", "10:00"), ("14:00", "15:00")], friday=[("", "")])
    response = browser.post(url(w, "weekly/"), {**form, "remove": "1-0"})
    assert response.status_code == 302
    assert hours_of(w.expert) == [(1, time(14), time(15))]


def test_e3_midnight_as_the_end_of_the_day(w):
    signed_in(w.expert).post(url(w, "weekly/"), week(sunday=[("22:00", "00:00")]))
    assert hours_of(w.expert) == [(6, time(22), time(0))]
    page = signed_in(w.expert).get(url(w))
    assert preview(page)["Sunday 8 Mar"][-1] == "23:30"


def test_e3_a_dated_exception_takes_a_day_off_or_adds_hours(w):
    browser = signed_in(w.expert)
    browser.post(url(w, "weekly/"), week(tuesday=[("09:00", "10:00")]))
    response = browser.post(url(w, "exceptions/"), {"date": "2026-03-03", "kind": "day_off"})
    assert response.status_code == 302
    response = browser.post(
        url(w, "exceptions/"), {"date": "2026-03-04", "kind": "add", "start": "16:00", "end": "17:00"}
    )
    assert response.status_code == 302
    page = browser.get(url(w))
    shown = preview(page)
    assert shown["Tuesday 3 Mar"] == [] and shown["Wednesday 4 Mar"] == ["16:00", "16:15", "16:30"]
    assert "Whole day off" in text(page) and "Extra hours 16:00–17:00" in text(page)

    key = "2026-03-03|day_off||"
    assert browser.post(url(w, "exceptions/"), {"remove": key}).status_code == 302
    assert list(DateException.objects.values_list("date", "kind")) == [(date(2026, 3, 4), ExceptionKind.ADD)]
    assert preview(browser.get(url(w)))["Tuesday 3 Mar"] == ["09:00", "09:15", "09:30"]


def test_e3_time_off_is_typed_on_the_experts_clock_and_removed(w):
    browser = signed_in(w.expert)
    browser.post(url(w, "limits/"), limits(time_zone="Europe/Amsterdam"))  # UTC+1 in March
    browser.post(url(w, "weekly/"), week(tuesday=[("09:00", "12:00")]))
    response = browser.post(
        url(w, "time-off/"), {"start": "2026-03-03T09:30", "end": "2026-03-03T11:30", "note": "Dentist"}
    )
    assert response.status_code == 302
    row = TimeOff.objects.get()
    assert (row.start, row.end, row.note) == (
        datetime(2026, 3, 3, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 3, 10, 30, tzinfo=UTC),
        "Dentist",
    )
    page = browser.get(url(w))
    assert preview(page)["Tuesday 3 Mar"] == ["09:00", "11:30"]
    assert "Tue 3 Mar 2026 09:30 – Tue 3 Mar 2026 11:30 (Dentist)" in text(page)

    assert browser.post(url(w, f"time-off/{row.pk}/remove/")).status_code == 302
    assert not TimeOff.objects.exists()


def test_e3_q1_time_off_is_on_the_experts_clock_whatever_the_viewers_zone(w):
    """The expert's own pages are in New York time, their free dates in Amsterdam's: 02:30 on
    8 March does not exist in New York (clocks jump) but does in Amsterdam."""
    User.objects.filter(pk=w.expert.pk).update(time_zone="America/New_York")
    browser = signed_in(w.expert)
    browser.post(url(w, "limits/"), limits(time_zone="Europe/Amsterdam"))
    response = browser.post(url(w, "time-off/"), {"start": "2026-03-08T02:30", "end": "2026-03-08T04:00"})
    assert response.status_code == 302
    row = TimeOff.objects.get()
    assert (row.start, row.end) == (datetime(2026, 3, 8, 1, 30, tzinfo=UTC), datetime(2026, 3, 8, 3, 0, tzinfo=UTC))
    assert "Sun 8 Mar 2026 02:30 – Sun 8 Mar 2026 04:00" in text(browser.get(url(w)))


def test_e3_the_page_costs_the_same_with_many_entries(w, django_assert_max_num_queries):
    browser = signed_in(w.expert)
    browser.post(url(w, "weekly/"), week(monday=[(f"{h:02}:00", f"{h:02}:30") for h in range(8, 20)]))
    for day in range(10, 30):
        browser.post(url(w, "exceptions/"), {"date": f"2026-04-{day}", "kind": "day_off"})
        browser.post(url(w, "time-off/"), {"start": f"2026-05-{day}T09:00", "end": f"2026-05-{day}T10:00"})
    with django_assert_max_num_queries(21):  # 18, the header's unread counts and other organizations
        assert browser.get(url(w)).status_code == 200


def test_e3_time_zone_and_limits_change_the_slots(w):
    browser = signed_in(w.expert)
    browser.post(url(w, "weekly/"), week(monday=[("10:00", "12:00")], tuesday=[("10:00", "12:00")]))
    response = browser.post(
        url(w, "limits/"),
        limits(
            time_zone="Asia/Tokyo", minimum_notice_minutes="1440", buffer_before_minutes="15", max_meetings_per_day="3"
        ),
    )
    assert response.status_code == 302 and "saved=limits" in response["Location"]
    profile = profile_of(w.expert)
    assert (profile.time_zone, profile.minimum_notice_minutes, profile.buffer_before_minutes) == (
        "Asia/Tokyo",
        1440,
        15,
    )
    assert profile.max_meetings_per_day == 3
    page = browser.get(url(w))
    assert "All hours are on the clock of <strong>Asia/Tokyo</strong>" in text(page)
    shown = preview(page)
    # NOW is 18:00 on Monday in Tokyo: a day's notice leaves Monday and Tuesday before 18:00 out.
    assert shown["Monday 2 Mar"] == [] and shown["Tuesday 3 Mar"] == [] and shown["Monday 9 Mar"][0] == "10:00"
    assert browser.post(url(w, "limits/"), limits()).status_code == 302
    assert preview(browser.get(url(w)))["Tuesday 3 Mar"][0] == "10:00"


# --- refusals: shown, nothing changed ---------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "said"),
    [
        ([("09:00", "12:00"), ("11:00", "13:00")], "Tuesday 11:00–13:00 overlaps 09:00–12:00"),
        ([("12:00", "09:00")], "09:00 is not after 12:00"),
        ([("09:00", "")], "Give both a start and an end"),
        ([("9 o'clock", "10:00")], "Give a time as HH:MM."),
    ],
)
def test_e3_bad_weekly_hours_are_refused_next_to_the_row_and_nothing_changes(w, spans, said):
    before = sorted(hours_of(w.expert))
    response = signed_in(w.expert).post(url(w, "weekly/"), week(tuesday=spans))
    assert response.status_code == 400
    assert said in text(response) and 'role="alert"' in text(response) and 'aria-invalid="true"' in text(response)
    assert sorted(hours_of(w.expert)) == before


def test_e3_bad_limits_and_zone_are_refused_next_to_the_field(w):
    browser = signed_in(w.expert)
    response = browser.post(url(w, "limits/"), limits(time_zone="Mars/Olympus", buffer_after_minutes="5000"))
    assert response.status_code == 400
    assert 'id="id_time_zone_error"' in text(response) and 'id="id_buffer_after_minutes_error"' in text(response)
    profile = profile_of(w.expert)
    assert (profile.time_zone, profile.buffer_after_minutes) == ("UTC", 0)


def test_e3_a_bad_exception_or_time_off_is_refused_and_nothing_changes(w):
    browser = signed_in(w.expert)
    response = browser.post(url(w, "exceptions/"), {"date": "2026-03-04", "kind": "add", "start": "16:00"})
    assert response.status_code == 400 and 'id="id_end_error"' in text(response)
    browser.post(url(w, "exceptions/"), {"date": "2026-03-04", "kind": "day_off"})
    response = browser.post(url(w, "exceptions/"), {"date": "2026-03-04", "kind": "day_off"})
    assert response.status_code == 400 and "2026-03-04 is already a day off" in text(response)
    assert 'role="alert"' in text(response)
    assert DateException.objects.count() == 1
    response = browser.post(url(w, "time-off/"), {"start": "2026-03-03T11:00", "end": "2026-03-03T09:00"})
    assert response.status_code == 400 and "time off must end after it starts" in text(response)
    assert not TimeOff.objects.exists()


# --- who reaches the page ---------------------------------------------------------------


def test_e3_o3_another_expert_does_not_reach_someone_elses_free_dates(w):
    browser = signed_in(w.colleague)
    assert browser.get(url(w)).status_code == 200  # their own
    assert browser.get(url(w, expert=w.expert.pk)).status_code == 404
    before = sorted(hours_of(w.expert))
    assert browser.post(url(w, "weekly/", expert=w.expert.pk), week(monday=[("09:00", "10:00")])).status_code == 404
    assert sorted(hours_of(w.expert)) == before and len(hours_of(w.colleague)) == 7


def test_e3_clients_and_other_organizations_hear_not_found(w):
    assert signed_in(w.client).get(url(w)).status_code == 404
    other = OrganizationFactory()
    stranger, their_admin = member(other, name="Olga Other"), member(other, "admin", name="Otto Admin")
    assert signed_in(stranger).get(url(w)).status_code == 404
    assert signed_in(their_admin).get(url(w, expert=w.expert.pk)).status_code == 404
    assert signed_in(w.admin).get(f"/o/{other.slug}/free-dates/?expert={stranger.pk}").status_code == 404
    outsider = new_client(other)
    assert signed_in(outsider).get(url(w)).status_code == 404
    assert Client().get(url(w)).status_code == 302  # signing in first


def test_e3_an_admin_chooses_an_expert_and_edits_their_free_dates(w):
    browser = signed_in(w.admin)
    response = browser.get(url(w))
    assert response.status_code == 200 and "Whose free dates?" in text(response)
    assert f'href="/o/{w.org.slug}/free-dates/?expert={w.expert.pk}"' in text(response)
    page = browser.get(url(w, expert=w.expert.pk))
    assert page.status_code == 200 and "Free dates of Eve Expert" in text(page)
    assert f'action="/o/{w.org.slug}/free-dates/weekly/?expert={w.expert.pk}"' in text(page)
    response = browser.post(url(w, "weekly/", expert=w.expert.pk), week(thursday=[("08:00", "09:00")]))
    assert response.status_code == 302 and f"expert={w.expert.pk}" in response["Location"]
    assert hours_of(w.expert) == [(3, time(8), time(9))]
    assert len(hours_of(w.colleague)) == 7
    assert browser.get(url(w, expert=w.client.pk)).status_code == 404  # not an expert
    assert browser.get(url(w, expert="x")).status_code == 404


def test_e3_htmx_adds_an_empty_row(w):
    response = signed_in(w.expert).get(url(w, "row/", weekday=1), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'name="start-1"' in text(response) and "autofocus" in text(response)
    assert signed_in(w.expert).get(url(w, "row/", weekday=9)).status_code == 404


def test_e3_plain_add_button_saves_and_offers_another_row(w):
    form = week(tuesday=[("09:00", "10:00")])
    response = signed_in(w.expert).post(url(w, "weekly/"), {**form, "add": "1"})
    assert response.status_code == 302 and "add=1" in response["Location"]
    page = signed_in(w.expert).get(response["Location"])
    assert text(page).count('name="start-1"') == 3  # the saved row and two empty ones


def test_e4_the_preview_follows_the_chosen_service(w):
    browser = signed_in(w.expert)
    browser.post(url(w, "weekly/"), week(tuesday=[("09:00", "10:00")]))
    page = browser.get(url(w, service=w.free_service.pk))  # "Intro call": 15 minutes first
    assert "free slots of 15 minutes" in text(page)
    assert preview(page)["Tuesday 3 Mar"] == ["09:00", "09:15", "09:30", "09:45"]
    assert f'<option value="{w.free_service.pk}" selected>' in text(page)


def test_e3_every_label_of_the_page_names_a_field_of_its_own(w):
    """The exceptions' and the time off's "From" and "To/Until" are distinct fields: no id is
    used twice, so each label (and a screen reader) names the field beside it."""
    page = text(signed_in(w.expert).get(url(w)))
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []
    for name in ("start", "end"):
        assert f'<label for="time_off_{name}">' in page and f'id="time_off_{name}"' in page
