"""Entering through Parlour's join link (V2), the guest key (B5), the room page's door and
the media check it reports (V3), seen as a person in a browser sees them (Django's client)."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from parlour.meetings.guest_links import link_token
from parlour.meetings.models import TimelineEvent
from parlour.rooms.models import Room
from tests.factories import OrganizationFactory, member
from tests.meetings.checks import at, fresh, titles

pytestmark = pytest.mark.usefixtures("frozen_clock")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def meeting(w):
    """An agreed meeting of the expert with a guest, from 2 h to 2.5 h."""
    return w.book(service=w.free_service, by=w.guest, hours_ahead=2)


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def join_path(meeting) -> str:
    return f"/meetings/{meeting.pk}/join/"


def guest_join_path(meeting) -> str:
    return f"/join/{link_token(meeting)}/"


def entries(meeting) -> int:
    return TimelineEvent.objects.filter(meeting=meeting, kind="entered").count()


# --- V2: the join window -------------------------------------------------------------


def test_v2_before_the_join_window_the_link_says_when_the_room_opens(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.5))  # the room opens at 1.75 h (15 minutes before)
    browser = signed_in(w.expert)

    page = browser.get(join_path(meeting))
    assert page.status_code == 200
    assert b'data-join-state="early"' in page.content
    assert b"The room opens at 10:45" in page.content  # the expert's zone is UTC

    refused = browser.post(join_path(meeting))
    assert b"The room opens at" in refused.content
    assert fresh(meeting).expert_entered_at is None
    assert entries(meeting) == 0


def test_v2_opening_the_link_enters_nobody_the_button_does(w, meeting, frozen_clock):
    """A mail program that fetches the link to scan it must not record an entry."""
    frozen_clock.move_to(at(1.8))
    browser = signed_in(w.expert)

    assert b'data-join-state="open"' in browser.get(join_path(meeting)).content
    assert entries(meeting) == 0

    entered = browser.post(join_path(meeting))
    room = Room.objects.get(meeting=meeting)
    assert entered.status_code == 302
    assert entered["Location"] == f"/rooms/{room.name}/"
    assert fresh(meeting).expert_entered_at == at(1.8)
    assert titles(meeting)[-1] == "Entered the room (expert)"

    page = browser.get(entered["Location"])
    assert page.status_code == 200
    assert f"/ws/rooms/{room.name}/".encode() in page.content


def test_v2_after_the_end_the_room_is_closed(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    browser = signed_in(w.expert)
    room_page = browser.post(join_path(meeting))["Location"]

    frozen_clock.move_to(at(2.5))
    assert b'data-join-state="ended"' in browser.get(join_path(meeting)).content
    # The room page sends a late visitor back to the join link, which says why.
    assert browser.get(room_page)["Location"] == join_path(meeting)
    browser.post(join_path(meeting))
    assert entries(meeting) == 1


def test_v2_a_cancelled_meeting_has_no_room_to_enter(w, meeting, frozen_clock):
    from parlour.meetings import lifecycle

    lifecycle.cancel_meeting(w.expert, meeting, reason="other", confirm_late=True)
    frozen_clock.move_to(at(1.8))
    page = signed_in(w.expert).get(join_path(meeting))
    assert b'data-join-state="not_agreed"' in page.content
    assert b"cancelled" in page.content


# --- O3: only the two sides ----------------------------------------------------------


def test_o3_nobody_but_the_two_sides_finds_the_join_link_or_the_room(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    room_page = signed_in(w.expert).post(join_path(meeting))["Location"]
    outsider = member(OrganizationFactory(), name="Olga Other")

    for person in (w.colleague, w.admin, outsider):
        browser = signed_in(person)
        assert browser.get(join_path(meeting)).status_code == 404
        assert browser.post(join_path(meeting)).status_code == 404
        assert browser.get(room_page).status_code == 404, person.name
    assert Client().get(room_page).status_code == 404
    assert Client().get("/rooms/nosuchroom/").status_code == 404
    assert fresh(meeting).client_entered_at is None


def test_o3_the_room_page_needs_the_join_link_first(w, frozen_clock):
    """Knowing the room's address is not enough: each side enters through Parlour."""
    meeting = w.book(service=w.free_service, hours_ahead=2)  # with the client, who signs in
    frozen_clock.move_to(at(1.8))
    room_page = signed_in(w.expert).post(join_path(meeting))["Location"]
    client = signed_in(w.client)
    assert client.get(room_page).status_code == 404  # signed in, a side, but not entered
    client.post(join_path(meeting))
    assert client.get(room_page).status_code == 200


def test_v2_after_a_move_each_side_enters_again(w, frozen_clock):
    """Entries belong to a date (V2, S3): the room of the moved meeting does not take the
    browser that entered for the old date; the join link does, and records the new entry."""
    from datetime import timedelta

    from parlour.meetings import lifecycle

    meeting = w.book(service=w.free_service, hours_ahead=2)
    frozen_clock.move_to(at(1.8))
    browser = signed_in(w.expert)
    room_page = browser.post(join_path(meeting))["Location"]
    lifecycle.change_meeting_time(w.expert, meeting, start=meeting.start + timedelta(hours=1))
    frozen_clock.move_to(at(2.8))
    assert browser.get(room_page).status_code == 404
    assert browser.post(join_path(meeting))["Location"] == room_page
    assert fresh(meeting).expert_entered_at == at(2.8)
    assert browser.get(room_page).status_code == 200


def test_v2_the_expert_cannot_enter_as_their_guest(w, meeting, frozen_clock):
    """The expert sees the guest key; entering with it would count as the guest's attendance."""
    frozen_clock.move_to(at(1.8))
    browser = signed_in(w.expert)
    refused = browser.post(guest_join_path(meeting))
    assert refused.status_code == 200
    assert b"signed in as this meeting&#x27;s expert" in refused.content
    assert fresh(meeting).client_entered_at is None


def test_v2_signing_in_comes_before_the_member_join_link(meeting):
    page = Client().get(join_path(meeting))
    assert page.status_code == 302
    assert page["Location"].startswith("/signin/?next=")


# --- B5: guests ------------------------------------------------------------------------


def test_b5_a_guest_enters_with_the_key_typed_in_any_case(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    browser = Client()
    typed = " " + meeting.guest_key[:4].lower() + "-" + meeting.guest_key[4:].lower() + " "

    found = browser.post("/join/", {"key": typed})
    assert found.status_code == 302
    assert found["Location"] == guest_join_path(meeting)

    entered = browser.post(found["Location"])
    assert entered["Location"] == f"/rooms/{meeting.room.name}/"
    assert fresh(meeting).client_entered_at == at(1.8)
    assert browser.get(entered["Location"]).status_code == 200
    assert TimelineEvent.objects.filter(meeting=meeting, kind="entered").last().actor_guest == w.guest


def test_b5_wrong_keys_are_refused_and_limited_per_address(meeting, settings):
    settings.PARLOUR_GUEST_KEY_ATTEMPTS = 3
    browser = Client()
    for _ in range(3):
        wrong = browser.post("/join/", {"key": "AAAAAAAA"})
        assert wrong.status_code == 400
        assert b"No meeting has this guest key" in wrong.content
    # Now even the right key waits: guessing cannot go on.
    limited = browser.post("/join/", {"key": meeting.guest_key})
    assert limited.status_code == 429
    assert b"Too many wrong keys" in limited.content
    # Another address is not held up.
    other = Client(REMOTE_ADDR="10.0.0.9").post("/join/", {"key": meeting.guest_key})
    assert other.status_code == 302


def test_b5_behind_a_proxy_the_limit_is_per_visitor_not_per_proxy(meeting, settings):
    settings.PARLOUR_GUEST_KEY_ATTEMPTS = 2
    settings.PARLOUR_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    guesser = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(2):
        guesser.post("/join/", {"key": "AAAAAAAA"})
    assert guesser.post("/join/", {"key": meeting.guest_key}).status_code == 429
    # Someone else through the same proxy (a forged first entry changes nothing).
    other = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")
    assert other.post("/join/", {"key": meeting.guest_key}).status_code == 302


def test_b5_a_forged_or_outdated_guest_link_is_not_found(w, meeting):
    token = link_token(meeting)
    assert Client().get(f"/join/{token}x/").status_code == 404
    meeting.guest_key = "ACDEFGHJ"
    meeting.save()
    assert Client().get(f"/join/{token}/").status_code == 404


def test_b5_a_guest_grant_ends_when_the_guest_key_changes(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    browser = Client()
    room_page = browser.post(guest_join_path(meeting))["Location"]
    assert browser.get(room_page).status_code == 200
    meeting.guest_key = "ACDEFGHJ"
    meeting.save()
    assert browser.get(room_page).status_code == 404


# --- V3: the media check -----------------------------------------------------------------


def post_check(browser, room_page, **answer):
    return browser.post(room_page + "media-check", json.dumps(answer), content_type="application/json")


def test_v3_the_guests_sign_follows_entry_and_media_check(w, meeting, frozen_clock):
    from parlour.meetings.display import client_media_state

    frozen_clock.move_to(at(1.8))
    assert client_media_state(fresh(meeting)) == "not_entered"
    browser = Client()
    room_page = browser.post(guest_join_path(meeting))["Location"]
    assert client_media_state(fresh(meeting)) == "no_check"

    failed = post_check(browser, room_page, camera="NotAllowedError", microphone="ok", level=0)
    assert failed.json() == {"result": "failed"}
    assert client_media_state(fresh(meeting)) == "failed"

    passed = post_check(browser, room_page, camera="ok", microphone="ok", level=0.4)
    assert passed.json() == {"result": "passed"}
    assert client_media_state(fresh(meeting)) == "passed"
    assert titles(meeting)[-2:] == ["Media check by client: failed", "Media check by client: passed"]


@pytest.mark.parametrize(
    "answer",
    [
        {"camera": "ok"},
        {"camera": "ok", "microphone": 3},
        {"camera": "<script>", "microphone": "ok"},
        {"camera": "ok", "microphone": "ok", "level": 7},
        {"camera": "ok", "microphone": "ok", "level": "loud"},
    ],
)
def test_v3_a_malformed_result_is_refused_and_changes_nothing(w, meeting, frozen_clock, answer):
    frozen_clock.move_to(at(1.8))
    browser = Client()
    room_page = browser.post(guest_join_path(meeting))["Location"]
    refused = post_check(browser, room_page, **answer)
    assert refused.status_code == 400
    assert refused.json()["rule"] == "V3"
    assert fresh(meeting).client_media_check == ""


def test_v3_a_stranger_cannot_report_a_media_check(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    room_page = Client().post(guest_join_path(meeting))["Location"]
    assert post_check(signed_in(w.colleague), room_page, camera="ok", microphone="ok").status_code == 404
    assert fresh(meeting).client_media_check == ""


def test_v3_the_overview_shows_the_guests_sign_in_words_too(w, meeting, frozen_clock):
    frozen_clock.move_to(at(1.8))
    browser = Client()
    room_page = browser.post(guest_join_path(meeting))["Location"]
    overview = signed_in(w.expert)
    assert b'data-media="no_check"' in overview.get("/meetings/", follow=True).content
    post_check(browser, room_page, camera="ok", microphone="ok", level=0.2)
    page = overview.get("/meetings/", follow=True).content
    assert b'data-media="passed"' in page
    assert b"Media check passed" in page
    assert meeting.guest_key.encode() in page
