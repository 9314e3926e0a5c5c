"""After the meeting a guest says on the page their signed link opens whether it took place
(S1) — "went smoothly", "did not take place because of me", "because of the expert" — with
the meeting page's form and domain function; a decisive first statement settles the meeting
(S3) and the page shows what was stated and the outcome. With the reviews add-on a guest may
give stars, never a written review (it needs a client account). Confirming a time that
overlaps one of the guest's own agreed meetings asks them to confirm again (L17)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from parlour.meetings import lifecycle, outcome
from parlour.meetings.guest_links import link_token
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import EventKind, Outcome, Status
from parlour.notifications.models import OutboxItem, Topic
from tests.factories import world

from .clients import text

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam
START = datetime(2030, 6, 4, 9, 0, tzinfo=UTC)  # Tuesday, 11:00 in Amsterdam
AFTER = START + timedelta(hours=25)  # when N9 asks


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w():
    w = world()
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    return w


@pytest.fixture
def held(w, frozen):
    """The guest's agreed meeting of the free service, ended a day ago."""
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    frozen.move_to(AFTER, tick=False)
    return meeting


@pytest.fixture
def browser() -> Client:
    return Client()


def page(browser: Client, meeting, **params) -> str:
    return text(browser.get(f"/g/{link_token(meeting)}/", params))


def state(browser: Client, meeting, **fields):
    return browser.post(f"/g/{link_token(meeting)}/statement/", {f"statement-{k}": v for k, v in fields.items()})


def test_s1_s3_guest_says_the_meeting_went_smoothly_and_the_page_shows_it_held(browser, w, held):
    html = page(browser, held)
    assert "Please say whether the meeting took place." in html
    assert "Say how the meeting went" in html and "After the meeting" in html
    assert "Nobody has said how the meeting went yet." in html

    opened = page(browser, held, open="statement")
    assert 'id="dialog-statement" class="action" aria-labelledby="dialog-statement-title" open' in opened
    for words in (
        "The meeting went smoothly",
        "It did not take place because of me (absence, technical problems)",
        "It did not take place because of the expert",
    ):
        assert words in opened
    # The reviews add-on is off: nothing but the statement is asked for.
    assert "statement-stars" not in opened and "statement-review" not in opened

    done = state(browser, held, said="held")
    assert done.status_code == 302 and done["Location"] == f"/g/{link_token(held)}/"
    held.refresh_from_db()
    assert held.outcome == Outcome.HELD
    assert held.statements.get().said == "held"
    assert held.timeline.filter(kind=EventKind.OUTCOME_RECORDED, actor_guest=w.guest).exists()
    assert OutboxItem.objects.filter(topic=Topic.OUTCOME, recipient=w.expert, meeting=held).exists()

    after = page(browser, held)
    assert "Thank you: your statement is recorded." in after
    assert "Your statement" in after and "The meeting went smoothly" in after
    assert '<dd class="outcome">Held</dd>' in after
    assert "Say how the meeting went" not in after and "Please say whether" not in after

    # Once: a second statement is refused by the domain and changes nothing.
    again = state(browser, held, said="not_held_expert")
    assert again.status_code == 409 and "You have already stated how the meeting went." in text(again)
    assert held.statements.count() == 1


def test_s1_s3_because_of_me_settles_as_not_held_by_the_guest(browser, w, held):
    assert state(browser, held, said="not_held_client").status_code == 302
    held.refresh_from_db()
    assert held.outcome == Outcome.CLIENT_NO_SHOW
    html = page(browser, held)
    assert "It did not take place because of me (absence, technical problems)" in html
    assert "Not held: you did not come" in html


def test_s1_s2_because_of_the_expert_waits_and_the_experts_word_shows(browser, w, held):
    w.org.summaries_enabled = True
    w.org.save()
    assert state(browser, held, said="not_held_expert").status_code == 302
    held.refresh_from_db()
    assert held.outcome == Outcome.UNDECIDED
    html = page(browser, held)
    assert "Not decided yet" in html and "The outcome follows when it is decided." in html
    outcome.submit_statement(w.expert, held, said="held", summary="We went through the plan.")
    html = page(browser, held)
    assert "Statement of Eve Expert" in html and "The meeting took place" in html
    assert "We went through the plan." in html  # S2: the summary the client side sees
    assert "Disputed: an admin decides" in html


def test_s1_with_reviews_a_guest_gives_private_stars_but_is_not_asked_for_a_review(browser, w, held):
    w.org.reviews_enabled = True
    w.org.save()
    opened = page(browser, held, open="statement")
    assert 'name="statement-stars"' in opened and "Only the organization sees your stars." in opened
    assert "statement-review" not in opened and "Written review" not in opened
    assert state(browser, held, said="held", stars="4").status_code == 302
    assert held.statements.get().stars == 4
    assert "★" not in page(browser, held)  # the stars are the organization's


def test_s1_nothing_to_state_before_the_end_and_the_domain_refuses_it(browser, w, frozen):
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    assert "Say how the meeting went" not in page(browser, meeting)
    frozen.move_to(START + timedelta(minutes=10), tick=False)  # in progress
    html = page(browser, meeting)
    assert "Say how the meeting went" not in html and "After the meeting" not in html
    refused = state(browser, meeting, said="held")
    assert refused.status_code == 409 and "This can be stated once an agreed meeting has ended." in text(refused)
    assert not meeting.statements.exists()


def test_s1_a_cancelled_meeting_asks_for_no_statement(browser, w, frozen):
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    lifecycle.cancel_meeting(w.guest, meeting, note="Ill")
    frozen.move_to(AFTER, tick=False)
    html = page(browser, meeting)
    assert "Say how the meeting went" not in html and "After the meeting" not in html


def test_s1_with_htmx_a_missing_answer_shows_in_the_dialog(browser, w, held):
    answer = browser.post(f"/g/{link_token(held)}/statement/", {}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "<html" not in text(answer) and "This field is required" in text(answer)
    done = browser.post(f"/g/{link_token(held)}/statement/", {"statement-said": "held"}, headers={"HX-Request": "true"})
    assert done["HX-Redirect"] == f"/g/{link_token(held)}/"


def test_o3_a_forged_link_states_nothing(browser, w, held):
    token = link_token(held)
    assert Client().post(f"/g/{token[:-2]}xx/statement/", {"statement-said": "held"}).status_code == 404
    assert not held.statements.exists()


def test_s1_the_page_in_dutch(browser, w, held):
    w.guest.language = "nl"
    w.guest.save()
    html = text(browser.get(f"/g/{link_token(held)}/", {"open": "statement"}, headers={"Accept-Language": "nl"}))
    assert "Geef aan of de afspraak heeft plaatsgevonden." in html


# --- L17: the guest's own overlapping meeting ----------------------------------------------


@pytest.fixture
def booked(w):
    """The guest's agreed meeting on Tuesday 09:00 UTC."""
    return w.book(by=w.guest, service=w.free_service, start=START, length=30)


def test_l17_l5_guest_confirming_an_overlapping_proposal_confirms_again_knowing_it(browser, w, booked):
    proposal = lifecycle.propose_meeting(
        w.colleague, service=w.free_service, party=Party(guest=w.guest), start=START, length=30
    )
    warned = browser.post(f"/g/{link_token(proposal)}/confirm/", {})
    assert warned.status_code == 409
    html = text(warned)
    # The guest's own meeting, named on their clock (Amsterdam).
    assert "You already have an agreed meeting at this time: Intro call with Eve Expert, " in html
    assert "Tuesday June 4, 2030, 11:00–11:30 CEST" in html and "Confirm anyway" in html
    assert 'name="confirm-acknowledge_conflict" value="on"' in html
    proposal.refresh_from_db()
    assert proposal.status == Status.AWAITING_APPROVAL

    done = browser.post(f"/g/{link_token(proposal)}/confirm/", {"confirm-acknowledge_conflict": "on"})
    assert done.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Status.AGREED


def test_l17_l12_guest_accepting_an_overlapping_new_time_is_warned_in_the_dialog(browser, w, booked):
    other = w.book(by=w.guest, service=w.free_service, expert=w.colleague, start=START + timedelta(days=1))
    lifecycle.propose_alternative(w.colleague, other, start=START, length=30)
    warned = browser.post(f"/g/{link_token(other)}/alternative/confirm/", {}, headers={"HX-Request": "true"})
    assert warned.status_code == 200 and "Confirm anyway" in text(warned)
    other.refresh_from_db()
    assert other.pending_alternative is not None


def test_l17_b4_guest_picking_an_overlapping_time_picks_again_knowing_it(browser, w, booked):
    options = [(START, 30), (START + timedelta(days=1), 30)]
    offer = lifecycle.offer_time_options(
        w.colleague, service=w.free_service, party=Party(guest=w.guest), options=options
    )
    first = offer.time_options.order_by("start").first()
    warned = browser.post(f"/g/{link_token(offer)}/pick/", {"option": first.pk})
    assert warned.status_code == 409
    html = text(warned)
    assert "You already have an agreed meeting at this time: Intro call with Eve Expert, Tuesday June 4" in html
    assert "Take this time anyway" in html
    assert f'id="option-{first.pk}" value="{first.pk}" required checked' in html
    done = browser.post(f"/g/{link_token(offer)}/pick/", {"option": first.pk, "acknowledge_conflict": "1"})
    assert done.status_code == 302
    offer.refresh_from_db()
    assert (offer.status, offer.start) == (Status.AGREED, START)
