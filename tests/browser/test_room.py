"""The built-in room in real browsers: two Chromium pages, each in a profile
of its own, enter one meeting through Parlour's join links on loopback, pass the media check
with Chromium's fake camera and microphone (V3), and see each other: the connection is
"connected" and each decodes the other's video (V2, V4). Without permission the media check
fails, and says why (V3). No STUN or TURN server: loopback host candidates suffice."""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from parlour.meetings import outcome
from parlour.meetings.models import EventKind, MediaCheck, Meeting, Status
from parlour.rooms import consumers
from tests.browser.liveserver import agreed_now
from tests.browser.pages import watched
from tests.factories import world

PHONE = {"viewport": {"width": 390, "height": 760}, "is_mobile": True, "has_touch": True}

# Frames of the other side's video this page has decoded (0 before any), read from WebRTC's statistics.
FRAMES_DECODED = """async () => {
  const pc = window.parlourRoom.pc;
  if (!pc) return 0;
  let frames = 0;
  for (const report of (await pc.getStats()).values()) {
    if (report.type === "inbound-rtp" && report.kind === "video") frames += report.framesDecoded || 0;
  }
  return frames;
}"""


def frames_decoded(page: Page) -> int:
    """The frames of the other side's video decoded, once there are any (15 s at most)."""
    deadline = time.monotonic() + 15
    while (frames := page.evaluate(FRAMES_DECODED)) == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return frames


@pytest.fixture(autouse=True)
def no_stun(settings):
    settings.PARLOUR_ICE_SERVERS = []
    settings.PARLOUR_TURN_URLS = []
    settings.PARLOUR_TURN_SECRET = ""


def enter_as_member(context, meeting: Meeting) -> Page:
    """V2: the member's join link, then "Enter the room"."""
    page = watched(context.new_page())
    page.goto(f"/meetings/{meeting.pk}/join/")
    page.get_by_role("button", name="Enter the room").click()
    page.wait_for_url("**/rooms/*/")
    return page


def enter_with_guest_key(context, meeting: Meeting) -> Page:
    """B5, V2: the guest types the key from the invitation (in any case), then enters."""
    page = watched(context.new_page())
    page.goto("/join/")
    page.get_by_label("Guest key").fill(meeting.guest_key.lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Enter the room").click()
    page.wait_for_url("**/rooms/*/")
    return page


def media_check_passes(page: Page) -> None:
    status = page.locator("#check-status")
    expect(status).to_have_attribute("data-result", "passed")
    expect(status).to_contain_text("Your camera and microphone work.")
    expect(page.locator("#check-devices li")).to_have_text(["Camera: works", "Microphone: works"])
    expect(status).to_have_attribute("data-saved", "passed")  # stored by Parlour
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()


def test_media_check_shows_the_camera_and_the_sound_level_and_passes_V3(browser, new_context):
    w = world()
    meeting = agreed_now(w)
    page = enter_as_member(new_context(browser, w.client), meeting)
    # The live preview plays the camera.
    page.wait_for_function("document.getElementById('preview').videoWidth > 0")
    # The sound level meter moves with Chromium's fake microphone (a beep each second).
    page.wait_for_function("Number(document.getElementById('level').getAttribute('aria-valuenow')) > 0")
    media_check_passes(page)
    expect(page.get_by_role("button", name="Join the call")).to_be_enabled()

    meeting.refresh_from_db()
    assert meeting.client_media_check == MediaCheck.PASSED
    check = meeting.timeline.get(kind=EventKind.MEDIA_CHECKED)
    assert check.side == "client"
    assert check.data["camera"] == check.data["microphone"] == "ok"
    assert 0 < check.data["level"] <= 1
    assert page.errors == []


def test_media_check_without_permission_fails_and_says_why_V3(browser_without_permission, new_context):
    """Nobody allows the page to use the camera and microphone: the browser refuses
    (NotAllowedError), the page says so in red with a way to try again, and the meeting
    records a failed check (the overview's red cross)."""
    w = world()
    meeting = agreed_now(w)
    context = new_context(browser_without_permission, w.client)
    page = enter_as_member(context, meeting)
    status = page.locator("#check-status")
    expect(status).to_have_attribute("data-result", "failed")
    expect(status).to_contain_text("Your camera or microphone does not work yet.")
    expect(page.locator("#check-devices li").first).to_contain_text("Camera: no permission")
    expect(page.locator("#check-devices li").last).to_contain_text("Microphone: no permission")
    expect(page.locator("#check-devices li").first).to_have_css("color", "rgb(179, 38, 30)")  # red
    expect(status).to_have_attribute("data-saved", "failed")
    meeting.refresh_from_db()
    assert meeting.client_media_check == MediaCheck.FAILED
    check = meeting.timeline.get(kind=EventKind.MEDIA_CHECKED)
    assert check.data["camera"] == check.data["microphone"] == "NotAllowedError"

    # The person allows the camera and microphone, and tries again.
    context.grant_permissions(["camera", "microphone"])
    page.get_by_role("button", name="Try again").click()
    media_check_passes(page)
    meeting.refresh_from_db()
    assert meeting.client_media_check == MediaCheck.PASSED
    assert page.errors == []


def test_expert_and_guest_see_each_other_in_the_builtin_room_V2_V3_V4(browser, new_context, time_machine):
    """An expert and a guest (entering with the guest key, on a
    phone-sized window) meet by video in Parlour's own room; the guest's media check is
    stored; the meeting ends completed with both entries on its timeline."""
    w = world()
    meeting = agreed_now(w, by=w.guest, service=w.free_service)
    expert = enter_as_member(new_context(browser, w.expert), meeting)
    guest = enter_with_guest_key(new_context(browser, **PHONE), meeting)
    for page in (expert, guest):
        media_check_passes(page)

    # The expert joins first and is told the guest has not come yet.
    expert.get_by_role("button", name="Join the call").click()
    expect(expert.get_by_role("status").filter(has_text="Waiting")).to_have_text("Waiting for Gus Guest to join…")
    # The guest joins from the keyboard.
    guest.get_by_role("button", name="Join the call").focus()
    guest.keyboard.press("Enter")

    for page, other in ((expert, "Gus Guest"), (guest, "Eve Expert")):
        expect(page.locator("#room")).to_have_attribute("data-connection", "connected", timeout=20_000)
        expect(page.locator("#call-status")).to_have_text(f"You are connected with {other}.")
        # Each decodes the other's camera, and shows it.
        assert frames_decoded(page) > 0
        page.wait_for_function("document.getElementById('remote').videoWidth > 0")

    # On the phone everything fits the width, and the controls are on the screen.
    assert guest.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for name in ("Mute microphone", "Turn camera off"):
        expect(guest.get_by_role("button", name=name)).to_be_in_viewport()
    expect(guest.get_by_role("link", name="Leave")).to_be_in_viewport()

    # The guest mutes the microphone from the keyboard (focus is on that button after joining).
    expect(guest.get_by_role("button", name="Mute microphone")).to_be_focused()
    guest.keyboard.press("Space")
    expect(guest.get_by_role("button", name="Mute microphone")).to_have_attribute("aria-pressed", "true")
    assert (
        guest.evaluate("window.parlourRoom.pc.getSenders().find(s => s.track.kind === 'audio').track.enabled") is False
    )

    # The expert leaves; the guest is told.
    expert.get_by_role("link", name="Leave").click()
    expect(guest.locator("#call-status")).to_have_text(
        "Eve Expert has left the call. Waiting for Eve Expert to join again…"
    )
    assert expert.errors == [] and guest.errors == []

    meeting.refresh_from_db()
    assert meeting.client_media_check == meeting.expert_media_check == MediaCheck.PASSED
    assert meeting.timeline.filter(kind=EventKind.CONNECTED).exists()
    assert sorted(meeting.timeline.filter(kind=EventKind.ENTERED).values_list("side", flat=True)) == [
        "client",
        "expert",
    ]
    time_machine.move_to(meeting.end + timedelta(minutes=1))
    assert outcome.close_meeting(meeting).status == Status.COMPLETED


def test_the_room_says_when_the_meeting_has_ended_V2(browser, new_context, time_machine, monkeypatch):
    """The expert waits alone in the room; at the meeting's end the room closes and says so."""
    monkeypatch.setattr(consumers, "RECHECK", 0.2)  # look again often, for the clock moved below
    w = world()
    meeting = agreed_now(w)
    page = enter_as_member(new_context(browser, w.expert), meeting)
    media_check_passes(page)
    page.get_by_role("button", name="Join the call").click()
    expect(page.locator("#call-status")).to_have_text("Waiting for Cleo Client to join…")
    expect(page.locator("#room")).to_have_attribute("data-signaling", "open")  # Parlour let the page in
    time_machine.move_to(meeting.end + timedelta(seconds=1), tick=True)
    expect(page.locator("#call-status")).to_have_text("The meeting has ended.")
    expect(page.locator("#room")).to_have_attribute("data-stage", "ended")
    assert page.errors == []


def test_a_participant_before_the_join_window_is_turned_away_V2(browser, new_context):
    """V2: a guest who opens the signed link a day early reads when the room opens; pressing
    nothing gets them in, and the room's address does not either."""
    from parlour.meetings.guest_links import link_token

    w = world()
    early = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    page = watched(new_context(browser).new_page())
    page.goto(f"/join/{link_token(early)}/")
    expect(page.get_by_role("status")).to_contain_text("The room opens at")
    expect(page.get_by_role("button", name="Enter the room")).to_have_count(0)
    assert Meeting.objects.get(pk=early.pk).client_entered_at is None
    # A room of another meeting, opened by address, is not found.
    now = agreed_now(w, by=w.guest, service=w.free_service)
    enter_as_member(new_context(browser, w.expert), now)
    answer = page.goto(f"/rooms/{now.room.name}/")
    assert answer.status == 404
    assert page.errors == [] or all("404" in error for error in page.errors)
