"""L16 on the meeting page: "Change time or length" lists the expert's free times for the
meeting's service and the chosen length, a week at a time on the viewer's clock, with the
meeting's own time among them (it is free for itself); a person picks one instead of
guessing. A date and time typed in stays possible (E4, D4, Q1)."""

import re
from datetime import time

import pytest
from django.urls import reverse

from parlour.availability.models import WeeklyHours
from parlour.catalog.models import ExpertProfile
from tests.factories import world
from tests.meetings.checks import NOW, at, fresh, snapshot
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)  # Monday 2 March 2026, 09:00 UTC
    return time_machine


@pytest.fixture
def w(db):
    w = world()
    profile = ExpertProfile.objects.get(membership__user=w.expert, membership__organization=w.org)
    WeeklyHours.objects.filter(profile=profile).delete()
    WeeklyHours.objects.bulk_create(
        WeeklyHours(profile=profile, weekday=day, start=time(9), end=time(11)) for day in range(7)
    )
    return w


@pytest.fixture
def meeting(w):
    """Thursday 09:00–09:30 UTC; the expert has another meeting that day at 10:00."""
    w.agreed(service=w.free_service, start=at(73), length=30, by=w.guest)
    return w.agreed(service=w.free_service, start=at(72), length=30)


def page(user, meeting, **query) -> str:
    url = reverse("web:meeting", args=[meeting.organization.slug, meeting.pk])
    response = signed_in(user).get(url, {"open": "change", **query})
    assert response.status_code == 200
    return text(response)


def free_times(html: str) -> list[str]:
    return re.findall(r'name="change-slot" id="[^"]+" value="([^"]+)"', html)


def change(user, meeting, **fields):
    url = reverse("web:meeting_change", args=[meeting.organization.slug, meeting.pk])
    return signed_in(user).post(url, {f"change-{key}": value for key, value in fields.items()}, follow=True)


def test_l16_the_dialog_lists_the_experts_free_times_with_the_meetings_own(w, meeting):
    html = page(w.client, meeting)
    shown = free_times(html)
    assert "2026-03-05T09:00:00Z" in shown  # the meeting's own time is free for itself
    assert re.search(r'value="2026-03-05T09:00:00Z"> 09:00 <span class="muted">\(current time\)', html)
    assert "2026-03-05T09:30:00Z" in shown
    for taken in ("2026-03-05T09:45:00Z", "2026-03-05T10:00:00Z", "2026-03-05T10:15:00Z"):
        assert taken not in shown  # the other meeting's time, with 30 minutes
    assert "2026-03-05T10:45:00Z" not in shown  # 30 minutes do not fit before 11:00
    assert 'name="change-length" value="30"' in html
    # The dialog is open without JavaScript, labelled, and a date-time can still be typed.
    assert re.search(r'<dialog id="dialog-change"[^>]* open>', html)
    assert 'for="id_change-start"' in html


def test_l16_the_expert_sees_the_same_free_times_on_their_own_clock(w, meeting):
    w.expert.time_zone = "Europe/Amsterdam"
    w.expert.save()
    html = page(w.expert, meeting)
    assert re.search(r'value="2026-03-05T09:00:00Z"> 10:00 ', html)  # CET
    assert "(Europe/Amsterdam)" in html


def test_l16_another_length_shows_its_own_free_times(w, meeting):
    html = page(w.client, meeting, **{"change-length": "15"})
    assert 'name="change-length" value="15"' in html
    assert "2026-03-05T10:45:00Z" in free_times(html)
    assert "current time" not in html  # the same start with another length is a change


def test_l16_the_weeks_page_without_javascript(w, meeting):
    first = page(w.client, meeting)
    assert "change-week=2026-03-09" in first
    html = page(w.client, meeting, **{"change-week": "2026-03-09"})
    shown = free_times(html)
    assert shown[0] == "2026-03-09T09:00:00Z"
    assert "change-week=2026-03-02" in html  # and back


def test_l16_picking_a_free_time_moves_the_meeting(w, meeting):
    response = change(w.client, meeting, slot="2026-03-05T09:30:00Z", length=30)
    assert "The meeting is moved." in text(response)
    moved = fresh(meeting)
    assert (moved.start, moved.length_minutes) == (at(72.5), 30)


def test_l16_a_time_taken_meanwhile_is_refused_with_the_free_times_again(w, meeting):
    before = snapshot(w.org)
    response = change(w.client, meeting, slot="2026-03-05T10:00:00Z", length=30)
    assert response.status_code == 409
    html = text(response)
    assert "cannot be booked at this time" in html or "just taken" in html
    assert "2026-03-05T09:30:00Z" in free_times(html)
    assert snapshot(w.org) == before


def test_l16_nothing_chosen_is_a_form_error_and_changes_nothing(w, meeting):
    before = snapshot(w.org)
    response = change(w.client, meeting, slot="", start="", length=30)
    assert response.status_code == 400
    assert 'id="id_change-start_error"' in text(response)
    response = change(w.client, meeting, slot="tomorrow", length=30)
    assert response.status_code == 400 and 'id="id_change-slot_error"' in text(response)
    assert snapshot(w.org) == before


def test_l16_the_dialog_pages_in_place_with_htmx(w, meeting):
    html = page(w.client, meeting)
    assert 'hx-select="#dialog-change-body"' in html
    assert re.search(r'<select id="id_change-length" name="change-length">', html)
    url = reverse("web:meeting_change", args=[meeting.organization.slug, meeting.pk])
    refused = signed_in(w.client).post(
        url, {"change-slot": "2026-03-05T10:00:00Z", "change-length": "30"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 200  # htmx swaps the dialog's body: the refusal and the list again
    assert 'role="alert"' in text(refused) and "2026-03-05T09:30:00Z" in free_times(text(refused))
