"""A newcomer's walk through the demo in a phone-sized Chromium (I1, I4): ``parlour.demo.load()``
(what ``parlour demo`` runs) on the live server, then the demo's people sign in with the
password the demo prints and do what the spec describes by clicking only, as someone who has
read no docs would. The only addresses typed are the home page (the one `make demo` prints)
and the link in a mail; everything else is reached by clicking.

Each step asserts what the person sees on the page; the database is read only to find the
link a mail carries, to know a meeting's time where a person types another one beside it,
or to confirm that what the page says is what happened. The demo loads
at the real "now" (a browser's clock cannot travel); where a rule needs the clock to move,
time-machine moves it forward for the live server, which runs in this process, and the
worker's every-minute work runs as ``parlour run``'s worker would."""

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from parlour import demo
from parlour.accounts.models import User
from parlour.core import clock
from parlour.meetings.models import Meeting
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from parlour.tasks import every_minute
from tests.browser.pages import PHONE, fits_the_screen, watched

ZONES = {
    "ada": "Europe/London",
    "cleo": "Europe/London",
    "eve": "Europe/Amsterdam",
    "chris": "Europe/Amsterdam",
    "tina": "Europe/Berlin",
}


@pytest.fixture
def loaded(live, settings):
    """The demo, loaded as ``parlour demo`` does; mails link to this test's Parlour."""
    settings.PARLOUR_BASE_URL = live.url
    made = demo.load()
    assert made is not None
    worker_minute()  # `parlour run` starts its worker: the demo's mails and notifications go out
    return made


def worker_minute() -> None:
    """What ``parlour run``'s worker does every minute: due work (lapses, closing, settling,
    reminders), then delivery of mails and notifications."""
    every_minute.call_local()


def phone(browser, new_context, zone: str = "Europe/London", **options) -> Page:
    """A phone-sized window of its own (a browser profile: no shared cookies)."""
    return watched(new_context(browser, **PHONE, timezone_id=zone, locale="en-GB", **options).new_page())


def sign_in(browser, new_context, key: str) -> Page:
    """O1: the demo person ``key`` signs in on the sign-in page with the printed password."""
    page = phone(browser, new_context, ZONES.get(key, "UTC"))
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(demo.ADMIN_EMAIL if key == "ada" else demo.email(key))
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings")).to_be_visible()
    return page


def open_meeting(page: Page, subject: str, *, tab: str | None = None) -> None:
    """From the header's Meetings, the row of the meeting with that subject, then its page."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    if tab:
        page.get_by_role("link", name=tab, exact=True).click()
    page.get_by_role("link", name=subject, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)
    assert fits_the_screen(page)


def act(page: Page, opener: str, submit: str, done: str, fill=None) -> None:
    """A meeting page's action: its button opens a dialog, filled in by ``fill``, sent."""
    page.get_by_role("button", name=opener, exact=True).click()
    dialog = page.get_by_role("dialog", name=opener)
    expect(dialog).to_be_visible()
    if fill:
        fill(dialog)
    assert fits_the_screen(page)
    dialog.get_by_role("button", name=submit, exact=True).click()
    expect(page.get_by_role("status").filter(has_text=done)).to_be_visible()


def status_of(page: Page):
    return page.locator(".meeting-head .status")


def wallet_numbers(page: Page) -> tuple[int, int]:
    """C2: the wallet page's available and blocked credits, as the page shows them."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Wallet").click()
    balance = page.get_by_role("region", name="Balance")
    numbers = [int(re.sub(r"\D", "", n)) for n in balance.locator("dd").all_inner_texts()]
    assert fits_the_screen(page)
    return numbers[0], numbers[1]


def local(moment, zone: str) -> str:
    """What a person types into a date-and-time field: the moment on their own clock."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_b1_l2_l10_l12_v2_s1_s2_s3_c2_a_client_books_reschedules_meets_and_settles(
    browser, new_context, loaded, time_machine
):
    """Cleo (client) and Eve (expert), each on a phone, from the demo: Cleo finds Eve by skill
    on the dashboard (D3, E5), reads her written reviews (E1), books a paid service that needs
    confirmation (B1, B2: credits blocked, C1); Eve confirms (L2); Cleo proposes another date
    and Eve confirms it (L10, L12); in the join window both enter through the overview's
    "Enter room" (D1, V2) and pass the media check (V3); after the end the worker closes the
    meeting (V5); Eve states it took place with a summary (S2), Cleo says it went smoothly
    with stars and a review, told she is editing her earlier review (S1); it settles as held
    (S3, C4) and both wallets show the movement by its name (C2)."""
    cleo = sign_in(browser, new_context, "cleo")
    available, blocked = wallet_numbers(cleo)

    # D3, E5: the dashboard lists experts by skill; E1: Eve's written reviews are one tap away.
    cleo.get_by_role("link", name="Dashboard").click()
    skills = cleo.get_by_role("region", name="Experts by skill")
    skills.get_by_role("link", name="Eve Evans").first.click()
    expect(cleo.get_by_role("heading", name="Eve Evans", level=1)).to_be_visible()
    cleo.get_by_role("link", name="Reviews").click()
    expect(cleo.get_by_role("region", name="Reviews")).to_contain_text("Eve asked exactly the right questions.")
    assert fits_the_screen(cleo)
    cleo.go_back()

    # B1: a free slot of next week for Career mentoring, 60 minutes, on Cleo's clock.
    cleo.get_by_role("link", name="Career mentoring").click()
    # Q1: the week is shown on Cleo's clock (the page moves it to her browser's zone).
    expect(cleo.locator("#calendar")).to_have_attribute("data-zone", "Europe/London")
    cleo.get_by_role("link", name=re.compile("Next week")).click()
    expect(cleo.get_by_role("link", name=re.compile("Previous week"))).to_be_visible()
    assert fits_the_screen(cleo)
    cleo.locator("a.slot").first.click()
    expect(cleo.get_by_role("heading", name="Book Career mentoring")).to_be_visible()
    expect(cleo.get_by_text("60 credits")).to_be_visible()
    cleo.get_by_label("Subject").fill("Asking for a raise")
    cleo.get_by_role("button", name="Request this time").click()
    expect(cleo.get_by_role("heading", name="Your request is sent")).to_be_visible()
    cleo.get_by_role("link", name="Open the meeting").click()
    expect(status_of(cleo)).to_have_text("Awaiting approval")
    # B2, C1: the price is blocked from Cleo's credits.
    assert wallet_numbers(cleo) == (available - 60, blocked + 60)
    meeting = Meeting.objects.get(subject="Asking for a raise")

    # L2: Eve finds the request in her meetings and confirms it.
    eve = sign_in(browser, new_context, "eve")
    eve.get_by_label("Status").select_option(label="Awaiting approval")
    eve.get_by_role("button", name="Filter").click()
    open_meeting(eve, "Asking for a raise")
    act(eve, "Confirm the meeting", "Confirm", "The meeting is confirmed.")
    expect(status_of(eve)).to_have_text("Scheduled")

    # L10: Cleo proposes the same time a day later; the first date stays valid meanwhile.
    later = meeting.start + timedelta(days=1)
    open_meeting(cleo, "Asking for a raise")
    act(
        cleo,
        "Propose another date",
        "Propose this date",
        "The new date is proposed",
        lambda dialog: dialog.get_by_label("New date and time").fill(local(later, ZONES["cleo"])),
    )
    expect(cleo.get_by_text("Alternative date proposed by client")).to_be_visible()
    expect(cleo.get_by_role("button", name="Withdraw the new date")).to_be_visible()  # L14 is offered

    # L12: Eve confirms the new date; the meeting moves to it.
    eve.reload()
    act(eve, "Confirm the new date", "Confirm the new date", "The new date is confirmed.")
    expect(eve.get_by_text("Alternative date approved by expert")).to_be_visible()
    expect(status_of(eve)).to_have_text("Scheduled")
    meeting.refresh_from_db()
    assert meeting.start == later

    # V2, V3: in the join window both enter from the overview's "Enter room" and pass the check.
    time_machine.move_to(later - timedelta(minutes=10), tick=True)
    for page in (cleo, eve):
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
        row = page.locator("tbody").filter(has_text="Asking for a raise")
        expect(row).to_contain_text("Starting soon")
        row.get_by_role("link", name=re.compile("^Enter room")).click()
        expect(page.get_by_text("The room is open.")).to_be_visible()
        page.get_by_role("button", name="Enter the room").click()
        expect(page.locator("#check-status")).to_have_attribute("data-saved", "passed")
        expect(page.locator("#check-status")).to_contain_text("Your camera and microphone work.")
        assert fits_the_screen(page)
    # D1, V3: Eve's overview shows that her client passed the media check.
    eve.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    expect(eve.locator("tbody").filter(has_text="Asking for a raise")).to_contain_text("Media check passed")

    # V5: after the end the worker closes the meeting by itself: both entered, completed.
    time_machine.move_to(later + timedelta(minutes=61), tick=True)
    worker_minute()

    # S2: Eve says it took place and leaves a summary for Cleo.
    open_meeting(eve, "Asking for a raise")
    expect(status_of(eve)).to_have_text("Completed")

    def expert_says(dialog):
        dialog.get_by_label("The meeting took place").check()
        dialog.get_by_label("Summary for the client (optional)").fill("Lead with your results; ask in May.")

    act(eve, "Say how the meeting went", "Send", "your statement is recorded", expert_says)

    # S1: Cleo reads the summary, says it went smoothly, with stars and a written review; she
    # already reviewed Eve, and the form says this edits that review.
    open_meeting(cleo, "Asking for a raise")
    expect(cleo.get_by_text("Lead with your results; ask in May.")).to_be_visible()
    cleo.get_by_role("button", name="Say how the meeting went").click()
    dialog = cleo.get_by_role("dialog", name="Say how the meeting went")
    expect(dialog.get_by_role("note")).to_contain_text("You already reviewed this expert")
    dialog.get_by_label("The meeting went smoothly").check()
    dialog.get_by_label("Stars (1 to 5)").select_option("5")
    dialog.get_by_label("Written review (optional)").fill("Clear, kind and practical.")
    assert fits_the_screen(cleo)
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(cleo.get_by_role("status").filter(has_text="your statement is recorded")).to_be_visible()

    # S3, C4: settled as held; the price left the escrow and Eve is paid less the share.
    after = cleo.get_by_role("region", name="After the meeting")
    expect(after).to_contain_text("Held")
    expect(after).to_contain_text("Clear, kind and practical.")
    expect(after).not_to_contain_text("★")  # S1: stars are the organization's only
    expect(cleo.get_by_role("region", name="Details")).to_contain_text("Paid")
    # C2: each wallet names the movement of this meeting as its owner sees it (the rest of
    # the demo settled meanwhile too, so the rows of this meeting are what counts).
    for page, name, amount in (
        (cleo, "Deduction of credits for services", "−60"),  # out of the blocked credits
        (eve, "Payment of credits for services", "+48"),  # 60 less the platform's 20 % (O5)
    ):
        wallet_numbers(page)
        this_meeting = page.locator(f'a[href="/o/{demo.SLUG}/meetings/{meeting.pk}/"]')
        expect(page.get_by_role("row").filter(has_text=name).filter(has=this_meeting)).to_contain_text(amount)
    assert cleo.errors == [] and eve.errors == []


def test_o4_c3_s3_d4_an_admin_decides_a_dispute_grants_credits_and_switches_reviews_off(browser, new_context, loaded):
    """Ada (admin) on a phone: sees every meeting in the Everyone tab (O2, D1), finds the
    disputed one among her dashboard's disputes to decide and decides it (S3); grants Chris
    credits bought elsewhere (C3), which his wallet shows, in Dutch (C2, D4); switches the
    reviews add-on off (O4): Chris's statement form no longer asks for stars or a review, and
    the experts' pages no longer link to reviews."""
    ada = sign_in(browser, new_context, "ada")

    # O2: the admin's Everyone tab holds every meeting, the disputed one too.
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    ada.get_by_role("link", name="Everyone", exact=True).click()
    expect(ada.get_by_role("link", name="Profiling", exact=True)).to_be_visible()
    # S3: the dashboard names the disputes waiting for her; she opens it and decides.
    ada.get_by_role("link", name="Dashboard").click()
    disputes = ada.get_by_role("region", name="Disputes to decide")
    expect(disputes).to_contain_text("with Cleo Client, Tom Baker")
    disputes.get_by_role("link", name="Code review").click()
    expect(ada.get_by_role("heading", level=1)).to_contain_text("Profiling")
    expect(ada.get_by_role("region", name="After the meeting")).to_contain_text("Disputed: an admin decides")

    def refund(dialog):
        dialog.get_by_label("Refunded: all credits return to the client").check()
        dialog.get_by_label("Note (optional)").fill("Both sides heard.")

    act(ada, "Decide the dispute", "Decide", "The dispute is decided.", refund)
    expect(ada.get_by_role("region", name="After the meeting")).to_contain_text("Refunded")
    expect(ada.get_by_role("button", name="Decide the dispute")).to_have_count(0)
    ada.get_by_role("link", name="Dashboard").click()
    expect(ada.get_by_role("region", name="Disputes to decide")).to_have_count(0)

    # C3: credits granted from the wallet page.
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Wallet").click()
    grant = ada.get_by_role("region", name="Grant credits")
    grant.get_by_label("Person").select_option(label="Chris Customer <chris@parlour.example>")
    grant.get_by_label("Credits").fill("40")
    grant.get_by_label("Note").fill("Invoice 2026-117")
    grant.get_by_role("button", name="Grant credits").click()
    expect(ada.get_by_role("status")).to_contain_text("40 credits granted to Chris Customer")
    assert fits_the_screen(ada)

    # C2, D4: Chris, whose language is Dutch, sees the purchase in his wallet in Dutch.
    chris = sign_in_as_dutch(browser, new_context)
    chris.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Tegoed").click()
    expect(chris.locator("html")).to_have_attribute("lang", "nl")
    expect(chris.get_by_role("row").filter(has_text="Invoice 2026-117")).to_contain_text("+40")
    assert fits_the_screen(chris)

    # With reviews on, his statement on the missed meeting asks for stars and a review.
    chris.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Afspraken").click()
    chris.get_by_role("link", name="IAM roles", exact=True).click()
    statement = "Laat weten hoe de afspraak is verlopen"
    chris.get_by_role("button", name=statement).click()
    expect(chris.get_by_role("dialog", name=statement).get_by_label("Sterren (1 tot 5)")).to_be_visible()

    # O4: Ada switches reviews off in the settings.
    ada.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    add_ons = ada.get_by_role("region", name="Add-ons")
    add_ons.get_by_label("Reviews").uncheck()
    add_ons.get_by_role("button", name="Save the add-ons").click()
    expect(ada.get_by_role("status")).to_contain_text("Reviews are off; summaries are on.")
    assert fits_the_screen(ada)

    # The field is gone from the form, and the expert's page no longer offers reviews.
    chris.reload()
    chris.get_by_role("button", name=statement).click()
    dialog = chris.get_by_role("dialog", name=statement)
    expect(dialog.get_by_label("De afspraak is goed verlopen")).to_be_visible()
    expect(dialog.get_by_label("Sterren (1 tot 5)")).to_have_count(0)
    expect(dialog.get_by_label("Geschreven recensie (optioneel)")).to_have_count(0)
    ada.get_by_role("link", name="Dashboard").click()
    ada.get_by_role("region", name="Experts by skill").get_by_role("link", name="Eve Evans").first.click()
    expect(ada.get_by_role("heading", name="Eve Evans", level=1)).to_be_visible()
    expect(ada.get_by_role("link", name="Reviews")).to_have_count(0)
    assert ada.errors == [] and chris.errors == []


def nina_id() -> int:
    return User.objects.get(email=demo.email("nina")).pk


def sign_in_as_dutch(browser, new_context) -> Page:
    """Chris's language is Dutch: the sign-in page is in the browser's language, the pages
    after it in his (D4)."""
    page = phone(browser, new_context, ZONES["chris"])
    page.goto("/")
    page.get_by_label("Email").fill(demo.email("chris"))
    page.get_by_label("Password").fill(demo.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Afspraken")
    return page


def test_b7_b5_l7_v2_v3_guests_book_cancel_from_the_mail_and_enter_with_the_key(browser, new_context, loaded):
    """Two guests on phones. Greta finds the organization's booking page from the home page
    (E5), books the Intro call without choosing an expert (B7, a free service: B1), is shown her guest
    key (B5) and cancels from the link in her mail (L7). Gina, whose meeting in the demo
    starts now, enters from the sign-in page's "Enter with the key" with her guest key (B5,
    V2) and passes the media check; her expert sees it in the overview (V3, D1)."""
    greta = phone(browser, new_context, "Europe/Amsterdam")
    greta.goto("/")
    greta.get_by_role("link", name=f"Book a meeting with {demo.NAME}").click()
    greta.get_by_role("link", name="Book Intro call with any expert").click()
    expect(greta.get_by_role("heading", name=re.compile("Intro call"), level=1)).to_be_visible()
    expect(greta.locator("#calendar")).to_have_attribute("data-zone", "Europe/Amsterdam")
    greta.get_by_role("link", name=re.compile("Next week")).click()
    expect(greta.get_by_role("link", name=re.compile("Previous week"))).to_be_visible()
    assert fits_the_screen(greta)
    greta.locator("a.slot").first.click()
    greta.get_by_label("Your name").fill("Greta Guest")
    greta.get_by_label("Email address").fill("greta@example.net")
    greta.get_by_label("Subject").fill("Which service suits me?")
    greta.get_by_role("button", name="Book this time").click()
    expect(greta.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    meeting = Meeting.objects.get(guest__email="greta@example.net")
    expect(greta.locator(".key")).to_have_text(meeting.guest_key)  # B5
    assert meeting.expert.email.endswith(f"@{demo.DOMAIN}")  # B7: one of the service's experts

    # L7: the link in her "Meeting booked" mail opens her page; she cancels with a reason.
    mail = compose(OutboxItem.objects.get(topic=Topic.N2, recipient_guest=meeting.guest))
    greta.goto(mail.link)
    expect(greta.get_by_role("heading", name=re.compile("Intro call"))).to_be_visible()
    greta.get_by_role("button", name="Cancel the meeting").click()
    dialog = greta.get_by_role("dialog")
    dialog.get_by_label(re.compile("Why do you cancel")).fill("I found my answer")
    dialog.get_by_role("button", name="Cancel the meeting").click()
    expect(greta.get_by_role("status").filter(has_text="cancelled")).to_be_visible()
    expect(greta.get_by_role("button", name="Cancel the meeting")).to_have_count(0)
    assert fits_the_screen(greta)

    # B5, V2: Gina enters with the key the demo printed, from the sign-in page's link.
    gina = phone(browser, new_context, "Europe/Berlin")
    gina.goto("/")
    gina.get_by_role("link", name="Enter with the key").click()
    gina.get_by_label("Guest key").fill(loaded.room_now.guest_key.lower())
    gina.get_by_role("button", name="Continue").click()
    gina.get_by_role("button", name="Enter the room").click()
    expect(gina.locator("#check-status")).to_have_attribute("data-saved", "passed")  # V3
    assert fits_the_screen(gina)

    # D1, V3: Tina's overview shows her guest's key and passed media check.
    tina = sign_in(browser, new_context, "tina")
    row = tina.locator("tbody").filter(has_text="Video check-in")
    expect(row).to_contain_text(loaded.room_now.guest_key)
    expect(row).to_contain_text("Media check passed")
    expect(row.get_by_role("link", name=re.compile("^Enter room"))).to_be_visible()
    assert greta.errors == [] and gina.errors == [] and tina.errors == []


def test_b3_l5_d4_b4_l8_k1_k3_proposals_a_late_cancellation_and_calendars(browser, new_context, loaded):
    """Eve proposes another meeting to Nina from their meeting's page (B3); Nina, whose pages are in
    Slovak (D4), confirms it and her credits are blocked (L5, C1), then switches her pages to
    English with the footer's switch. Cleo picks one of Carl's offered times (B4), cancels
    her meeting of tomorrow and is told the late charge before it is taken (L8), downloads a
    meeting's .ics from the overview (K1) and subscribes to her calendar feed (K3)."""
    eve = sign_in(browser, new_context, "eve")
    open_meeting(eve, "Preparing your promotion case")
    eve.get_by_role("link", name="Propose another meeting to Nina Newcomer").click()
    expect(eve.get_by_role("heading", name="Propose a meeting")).to_be_visible()
    expect(eve.get_by_label("Client", exact=True)).to_have_value(str(nina_id()))  # filled in from the meeting
    eve.get_by_label("Subject").fill("Next steps")
    start = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=9)
    eve.get_by_label("Date and time").fill(local(start, ZONES["eve"]))
    assert fits_the_screen(eve)
    eve.get_by_role("button", name="Send the proposal").click()
    expect(eve.get_by_role("status")).to_contain_text("Your proposal is sent to Nina Newcomer.")
    expect(eve.get_by_text("Meeting proposed by expert")).to_be_visible()

    # L5 in Slovak: Nina confirms; the price is blocked from her credits.
    nina = phone(browser, new_context, "Europe/Bratislava")
    nina.goto("/")
    nina.get_by_label("Email").fill(demo.email("nina"))
    nina.get_by_label("Password").fill(demo.PASSWORD)
    nina.get_by_role("button", name="Sign in").click()
    expect(nina.locator("html")).to_have_attribute("lang", "sk")
    nina.get_by_role("link", name="Next steps", exact=True).click()
    expect(status_of(nina)).to_have_text("Čaká na schválenie")
    act(nina, "Potvrdiť stretnutie", "Potvrdiť", "Stretnutie je potvrdené.")
    expect(status_of(nina)).to_have_text("Naplánované")
    expect(nina.get_by_role("region", name="Podrobnosti")).to_contain_text("Blokované")
    # D4: the footer's language switch turns the same page into English.
    nina.get_by_label("Jazyk").select_option("en")
    nina.locator("footer").get_by_role("button").click()
    expect(status_of(nina)).to_have_text("Scheduled")
    expect(nina.get_by_role("region", name="Details")).to_contain_text("Blocked")

    # B4: Cleo picks the last of the times Carl offered.
    cleo = sign_in(browser, new_context, "cleo")
    open_meeting(cleo, "Moving from teaching into UX research")
    expect(status_of(cleo)).to_have_text("Planning")
    cleo.get_by_role("link", name="Pick one of these times").click()
    times = cleo.get_by_role("radio")
    expect(times).to_have_count(3)
    times.last.check()
    assert fits_the_screen(cleo)
    cleo.get_by_role("button", name="Take this time").click()
    expect(status_of(cleo)).to_have_text("Scheduled")
    expect(cleo.get_by_text("Time option picked by client")).to_be_visible()

    # L8: tomorrow's meeting with Carl is inside the 48 h notice: the charge is told first.
    open_meeting(cleo, "A difficult colleague")
    cleo.get_by_role("button", name="Cancel the meeting").click()
    dialog = cleo.get_by_role("dialog", name="Cancel the meeting")
    dialog.get_by_label("Why do you cancel?").fill("A deadline moved")
    dialog.get_by_role("button", name="Cancel the meeting").click()
    expect(dialog.get_by_role("alert")).to_contain_text("You will be charged 30 credits.")
    expect(status_of(cleo)).to_have_text("Scheduled")  # nothing happened yet
    dialog.get_by_role("button", name="Cancel and pay 30 credits").click()
    expect(cleo.get_by_role("status").filter(has_text="The meeting is cancelled.")).to_be_visible()
    expect(status_of(cleo)).to_have_text("Cancelled")
    expect(cleo.get_by_text("Reimbursed to expert")).to_be_visible()

    # K1: the overview's "Add to calendar" downloads the meeting as an .ics event.
    cleo.get_by_role("navigation", name="Main").get_by_role("link", name="Meetings").click()
    row = cleo.locator("tbody").filter(has_text="Moving from teaching into UX research")
    with cleo.expect_download() as download:
        row.get_by_role("link", name=re.compile("^Add to calendar")).click()
    event = Path(download.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VEVENT" in event and "Moving from teaching into UX research" in event

    # K3: the account page makes a private feed address; a calendar program reads it.
    cleo.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    cleo.get_by_role("button", name="Make a feed address").click()
    address = cleo.get_by_label("Address").input_value()
    assert fits_the_screen(cleo)
    feed = cleo.request.get(address)
    assert feed.ok and "Moving from teaching into UX research" in feed.text()
    assert eve.errors == [] and nina.errors == [] and cleo.errors == []


def test_l1_l4_l6_l9_l11_l12_l13_l15_l16_l18_every_answer_a_meeting_page_offers(
    browser, new_context, loaded, time_machine
):
    """The demo's meetings in every state, answered from their pages on phones by the side
    the rule names, each person in their own language: Chris (Dutch) cancels his request
    (L1, credits returned); Cleo rejects Tina's proposal with a reason (L6); Eve withdraws her
    proposal to Nina (L4); Tom rejects Chris's new date and the first date stays (L13); Carl
    cancels an agreed meeting ten days ahead with a reason (L9); Nina (Slovak) proposes a new
    date for her rejected request, her credits are blocked again (L11), and Carl confirms it:
    agreed (L12); Tina moves her guest's call to the free hour after it (L16); Ada hands
    Cleo's meeting to Carl (L15); and the offer Cleo never answered lapses by itself once its
    first time has passed (L18). (L2 and L5 are walked above; L3, the expert rejecting a
    request, in test_meeting_actions; L14's button is seen in the first walk.)"""
    chris = sign_in_as_dutch(browser, new_context)
    chris.get_by_role("link", name="Review of my Django app", exact=True).click()
    act(chris, "Afspraak annuleren", "Afspraak annuleren", "De afspraak is geannuleerd.")
    expect(status_of(chris)).to_have_text("Geannuleerd")
    expect(chris.get_by_role("region", name="Details")).to_contain_text("Teruggegeven")  # L1: credits returned

    cleo = sign_in(browser, new_context, "cleo")
    open_meeting(cleo, "Reviewing your first pull requests")
    act(
        cleo,
        "Reject",
        "Reject the meeting",
        "The meeting is rejected.",
        lambda dialog: dialog.get_by_label("Reason").select_option(label="The price does not suit me"),
    )
    expect(status_of(cleo)).to_have_text("Rejected")
    expect(cleo.get_by_text("Rejected by client")).to_be_visible()

    eve = sign_in(browser, new_context, "eve")
    open_meeting(eve, "Preparing your promotion case")
    act(eve, "Cancel the meeting", "Cancel the meeting", "The meeting is cancelled.")
    expect(eve.get_by_text("Cancelled by expert")).to_be_visible()

    tom = sign_in(browser, new_context, "tom")
    open_meeting(tom, "S3 bucket policies")
    act(
        tom,
        "Reject the new date",
        "Reject the new date",
        "The new date is rejected.",
        lambda dialog: dialog.get_by_label("Reason").select_option(label="I am not available at this time"),
    )
    expect(status_of(tom)).to_have_text("Scheduled")
    expect(tom.get_by_text("Alternative date rejected by expert")).to_be_visible()
    expect(tom.get_by_role("button", name="Confirm the new date")).to_have_count(0)

    carl = sign_in(browser, new_context, "carl")
    open_meeting(carl, "A four-day week")
    act(
        carl,
        "Cancel the meeting",
        "Cancel the meeting",
        "The meeting is cancelled.",
        lambda dialog: dialog.get_by_label("Reason").select_option(label="Illness"),
    )
    expect(carl.get_by_role("region", name="Details")).to_contain_text("Returned")  # L9: all back to Chris

    # L11 in Slovak: Nina asks for her rejected "CV" a day later; her credits are held again.
    nina = phone(browser, new_context, "Europe/Bratislava")
    nina.goto("/")
    nina.get_by_label("Email").fill(demo.email("nina"))
    nina.get_by_label("Password").fill(demo.PASSWORD)
    nina.get_by_role("button", name="Sign in").click()
    nina.get_by_role("link", name="CV", exact=True).click()
    expect(status_of(nina)).to_have_text("Odmietnuté")
    cv = Meeting.objects.get(subject="CV")
    act(
        nina,
        "Navrhnúť iný termín",
        "Navrhnúť tento termín",
        "Nový termín je navrhnutý",
        lambda dialog: dialog.get_by_label("Nový dátum a čas").fill(
            local(cv.start + timedelta(days=1), "Europe/Bratislava")
        ),
    )
    expect(nina.get_by_role("region", name="Podrobnosti")).to_contain_text("Blokované")
    open_meeting(carl, "CV")
    act(carl, "Confirm the new date", "Confirm the new date", "The new date is confirmed.")
    expect(status_of(carl)).to_have_text("Scheduled")  # L12: a rejected meeting becomes agreed

    # L16: Tina moves her guest's intro call to the free hour after it, picked from the
    # dialog's free times of that day (the one marked as the meeting's current time).
    tina = sign_in(browser, new_context, "tina")
    open_meeting(tina, "Is mentoring for me?")
    intro = Meeting.objects.get(subject="Is mentoring for me?")
    later = (intro.start + timedelta(hours=1)).astimezone(ZoneInfo(ZONES["tina"])).strftime("%H:%M")

    def free_hour_after(dialog):
        day = dialog.locator(".free-day").filter(has_text="current time")  # the day's own group
        day.get_by_label(later, exact=True).check()

    act(tina, "Change time or length", "Change", "The meeting is moved.", free_hour_after)
    expect(tina.get_by_text("Time or length changed by expert")).to_be_visible()
    assert Meeting.objects.get(pk=intro.pk).start == intro.start + timedelta(hours=1)

    # L15: Ada hands Cleo's "First steps as a team lead" from Eve to Carl.
    ada = sign_in(browser, new_context, "ada")
    open_meeting(ada, "First steps as a team lead", tab="Everyone")
    act(
        ada,
        "Reassign to another expert",
        "Reassign",
        "The meeting is reassigned.",
        lambda dialog: dialog.get_by_label("New expert").select_option(label="Carl Novak"),
    )
    expect(ada.get_by_role("region", name="Details")).to_contain_text("Carl Novak")

    # L18: Cleo never picks one of Carl's times; once the first has passed, the offer lapses.
    planning = Meeting.objects.get(subject="Moving from teaching into UX research")
    time_machine.move_to(planning.start + timedelta(minutes=1), tick=True)
    worker_minute()
    open_meeting(cleo, "Moving from teaching into UX research")
    expect(status_of(cleo)).to_have_text("Cancelled")
    expect(cleo.get_by_text("Lapsed without answer")).to_be_visible()
    for page in (chris, cleo, eve, tom, carl, nina, tina, ada):
        assert page.errors == []


def test_d4_i1_every_area_of_the_header_fits_a_phone_in_every_language(browser, new_context, loaded):
    """D4, I1: the admin (whose header offers every area) switches her pages through the
    footer to each language and opens every area, and a meeting: every page is in that
    language (its ``lang``) and nothing pushes it sideways on a phone, long German words
    ("Benachrichtigungen") included."""
    page = sign_in(browser, new_context, "ada")
    open_meeting(page, "Profiling", tab="Everyone")
    meeting_page = page.url
    for language in ("de", "nl", "cs", "sk", "en"):
        page.locator("footer select").select_option(language)
        page.locator("footer").get_by_role("button").click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        areas = page.get_by_role("banner").get_by_role("link").evaluate_all("links => links.map(a => a.href)")
        for address in [*areas, meeting_page]:
            page.goto(address)
            expect(page.locator("html")).to_have_attribute("lang", language)
            assert fits_the_screen(page), (language, address)
    assert page.errors == []
