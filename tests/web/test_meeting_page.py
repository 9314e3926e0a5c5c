"""The meeting page and its actions (issue 6 item 4): who sees it (O3), what it shows (D2,
L19, S1, S2, O4), exactly the actions the viewer may take now, each calling the domain and
showing the result, bad input refused next to its field, and the two-step confirmations of
L8, L9 and L17."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import Meeting, Review, Status
from parlour.web.meeting import actions_for
from tests.factories import member, world
from tests.meetings.checks import NOW, at, fresh, snapshot, titles, wallet
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db):
    return world()


def page_of(meeting: Meeting) -> str:
    return reverse("web:meeting", args=[meeting.organization.slug, meeting.pk])


def action_of(meeting: Meeting, name: str) -> str:
    return reverse(f"web:meeting_{name}", args=[meeting.organization.slug, meeting.pk])


def offered(user, meeting: Meeting) -> list[str]:
    """The actions the page offers ``user``: the buttons that open a dialog."""
    response = signed_in(user).get(page_of(meeting))
    assert response.status_code == 200
    return re.findall(r'data-dialog="dialog-([a-z_]+)"', response.content.decode())


def post(user, meeting: Meeting, name: str, data: dict | None = None, **headers):
    fields = {f"{name}-{key}": value for key, value in (data or {}).items()}
    return signed_in(user).post(action_of(meeting, name), fields, **headers)


# --- O3: who sees the page ------------------------------------------------------------


def test_o3_both_sides_their_group_and_the_admin_see_the_meeting(w):
    meeting = w.book()
    for person in (w.client, w.expert, w.colleague, w.admin):
        assert signed_in(person).get(page_of(meeting)).status_code == 200


def test_o3_anyone_else_gets_not_found_for_page_and_actions(w):
    meeting = w.book()
    outsider = member(w.org, name="Olga Outsider")  # a member, but in none of the expert's groups
    other = world()
    wrong_org = reverse("web:meeting", args=[other.org.slug, meeting.pk])
    assert signed_in(outsider).get(page_of(meeting)).status_code == 404
    assert signed_in(other.expert).get(page_of(meeting)).status_code == 404
    assert signed_in(other.expert).get(wrong_org).status_code == 404  # their org, not their meeting
    assert signed_in(w.expert).get(wrong_org).status_code == 404  # not their org
    before = snapshot(w.org)
    assert post(outsider, meeting, "cancel", {"note": "x"}).status_code == 404
    assert snapshot(w.org) == before


def test_o3_signed_out_visitors_are_sent_to_sign_in(w):
    response = Client().get(page_of(w.book()))
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


# --- what the page shows ----------------------------------------------------------------


def test_d2_l19_details_in_the_viewers_zone_and_the_timeline(w):
    w.client.time_zone = "Asia/Tokyo"
    w.client.save()
    meeting = w.book(hours_ahead=72, subject="Career change", description="I want to move into data work.")
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert meeting.start.hour == 9  # UTC: 18:00 in Tokyo
    assert "March 5, 2026, 18:00–18:30" in page and "Asia/Tokyo" in page
    for shown in ("Expert advice", "Eve Expert", "Cleo Client", "Career change", "I want to move into data work.",
                  "100 credits", "Awaiting approval", "Blocked", "30 minutes"):  # fmt: skip
        assert shown in page, shown
    assert "Meeting booked by client" in page and "Approved by client" in page
    assert "calendar.ics" in page
    assert "Enter the room" not in page  # not open yet


def test_l19_the_timeline_says_who_when_and_why(w):
    meeting = lifecycle.reject_meeting(w.expert, w.book(), reason="price", note="Too dear for a first talk")
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert "Rejected by expert" in page
    assert "The price does not suit me — Too dear for a first talk" in page
    assert page.count("Eve Expert") >= 2


def test_d2_starting_soon_offers_the_room(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(meeting.start - timedelta(minutes=10), tick=False)
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert "Starting soon" in page
    assert reverse("rooms:join_meeting", args=[meeting.pk]) in page


def test_l10_the_pending_alternative_and_both_approvals_are_shown(w):
    meeting = lifecycle.propose_alternative(w.client, w.agreed(), start=at(96))
    page = text(signed_in(w.expert).get(page_of(meeting)))
    assert "Alternative date waiting for an answer" in page
    assert "proposed by the client" in page
    assert page.count("✓ approved") == 2


# --- exactly the actions the viewer may take now ----------------------------------------


def states(w):
    """(name, meeting, {viewer: the actions the page offers them}) for each state."""
    request = w.book()
    agreed = w.agreed(hours_ahead=96)
    free = w.agreed(service=w.free_service, hours_ahead=120)
    proposal = w.propose(hours_ahead=144)
    moved = lifecycle.propose_alternative(w.client, w.agreed(hours_ahead=168), start=at(200))
    rejected = lifecycle.reject_meeting(w.expert, w.book(hours_ahead=192), reason="price")
    cancelled = lifecycle.cancel_meeting(w.client, w.book(hours_ahead=216))
    return [
        ("awaiting the expert", request, {w.client: ["cancel"], w.expert: ["confirm", "reject"], w.admin: []}),
        (
            "agreed",
            agreed,
            {
                w.client: ["cancel", "propose_alternative"],
                w.expert: ["cancel", "propose_alternative", "reassign"],
                w.admin: ["reassign"],
                w.colleague: [],
            },
        ),
        (
            "agreed without confirmation",
            free,
            {
                w.client: ["cancel", "propose_alternative", "change"],
                w.expert: ["cancel", "propose_alternative", "reassign", "change"],
            },
        ),
        ("expert's proposal", proposal, {w.client: ["confirm", "reject"], w.expert: ["cancel"]}),
        (
            "alternative pending",
            moved,
            {
                w.client: ["cancel", "withdraw_alternative"],
                w.expert: ["cancel", "confirm_alternative", "reject_alternative", "reassign"],
            },
        ),
        ("rejected", rejected, {w.client: ["propose_alternative"], w.expert: ["propose_alternative"]}),
        ("cancelled", cancelled, {w.client: [], w.expert: [], w.admin: []}),
    ]


def test_l1_to_l16_each_side_sees_exactly_its_actions_in_each_state(w):
    for name, meeting, expected in states(w):
        for person, actions in expected.items():
            assert offered(person, meeting) == actions, (name, person.name)
            assert actions_for(fresh(meeting), person, w.org, NOW) == actions


def test_s1_s2_s3_after_the_meeting_statements_then_the_admins_decision(w, frozen_clock):
    meeting = w.agreed(hours_ahead=2)
    frozen_clock.move_to(meeting.start + timedelta(minutes=10), tick=False)
    assert offered(w.client, meeting) == [] and offered(w.expert, meeting) == []  # in progress
    frozen_clock.move_to(meeting.end + timedelta(minutes=1), tick=False)
    assert offered(w.client, meeting) == ["statement"]
    assert offered(w.expert, meeting) == ["statement"]
    assert offered(w.admin, meeting) == []
    outcome.submit_statement(w.client, meeting, said="not_held_expert")
    outcome.submit_statement(w.expert, meeting, said="held")
    assert offered(w.client, meeting) == [] and offered(w.expert, meeting) == []
    assert offered(w.admin, meeting) == ["decide"]

    response = post(w.admin, meeting, "decide", {"outcome": "refunded", "note": "No sign of the call"}, follow=True)
    assert "The dispute is decided." in text(response)
    assert fresh(meeting).outcome == "refunded"
    assert "Refunded" in text(response)


# --- each action calls the domain and shows the result (PRG) -----------------------------


def test_l2_the_expert_confirms_and_sees_the_result(w):
    meeting = w.book()
    browser = signed_in(w.expert)
    response = browser.post(action_of(meeting, "confirm"))
    assert response.status_code == 302 and response["Location"] == page_of(meeting)  # PRG
    page = text(browser.get(response["Location"]))
    assert "The meeting is confirmed." in page and "Scheduled" in page
    assert fresh(meeting).status == Status.AGREED


def test_l3_rejecting_needs_a_reason_from_the_list_and_changes_nothing_without_one(w):
    meeting = w.book()
    before = snapshot(w.org)
    response = post(w.expert, meeting, "reject", {"reason": "", "note": "no"})
    assert response.status_code == 400
    page = text(response)
    assert 'id="id_reject-reason_error"' in page and 'aria-describedby="id_reject-reason_error"' in page
    assert '<dialog id="dialog-reject" class="action" aria-labelledby="dialog-reject-title" open>' in page
    assert f'action="{page_of(meeting)}#dialog-confirm"' in page  # the other dialogs still open from here
    assert post(w.expert, meeting, "reject", {"reason": "made-up"}).status_code == 400
    assert snapshot(w.org) == before

    response = post(w.expert, meeting, "reject", {"reason": "not_available", "note": "On holiday"}, follow=True)
    assert "The meeting is rejected." in text(response)
    assert fresh(meeting).status == Status.REJECTED and wallet(w.org, w.client) == (1000, 0)


def test_l7_the_client_must_write_why_and_then_cancels_in_good_time(w):
    meeting = w.agreed(hours_ahead=72)
    before = snapshot(w.org)
    response = post(w.client, meeting, "cancel", {"note": "   "})
    assert response.status_code == 400 and 'id="id_cancel-note_error"' in text(response)
    assert snapshot(w.org) == before
    response = post(w.client, meeting, "cancel", {"note": "Something came up"}, follow=True)
    assert "The meeting is cancelled." in text(response)
    assert fresh(meeting).status == Status.CANCELLED and wallet(w.org, w.client) == (1000, 0)


def test_l9_the_expert_chooses_a_reason_from_the_list(w):
    meeting = w.agreed(hours_ahead=72)
    page = text(signed_in(w.expert).get(page_of(meeting)))
    assert 'name="cancel-reason"' in page and "A conflict in my schedule" in page
    assert post(w.expert, meeting, "cancel", {"reason": ""}).status_code == 400
    post(w.expert, meeting, "cancel", {"reason": "illness"})
    assert fresh(meeting).status == Status.CANCELLED


def test_l8_the_client_sees_the_charge_before_the_final_confirmation(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(meeting.start - timedelta(hours=24), tick=False)
    before = snapshot(w.org)
    response = post(w.client, meeting, "cancel", {"note": "I am ill"})
    assert response.status_code == 409
    page = text(response)
    assert "You will be charged 50 credits." in page and "50 credits return to your wallet." in page
    assert 'name="cancel-confirm_late" value="on"' in page and 'value="I am ill"' in page
    assert "Cancel and pay 50 credits" in page and 'role="alert"' in page
    assert snapshot(w.org) == before  # nothing happened yet

    response = post(w.client, meeting, "cancel", {"note": "I am ill", "confirm_late": "on"}, follow=True)
    assert "The meeting is cancelled." in text(response)
    meeting = fresh(meeting)
    assert (meeting.status, meeting.credit_status) == ("cancelled", "reimbursed_cancellation")
    assert wallet(w.org, w.client) == (950, 0)
    assert "Reimbursed to expert" in titles(meeting)


def test_l8_with_htmx_the_second_step_replaces_the_dialogs_content(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(meeting.start - timedelta(hours=24), tick=False)
    response = post(w.client, meeting, "cancel", {"note": "I am ill"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    part = text(response)
    assert "<html" not in part and "You will be charged 50 credits." in part
    assert fresh(meeting).status == Status.AGREED
    response = post(w.client, meeting, "cancel", {"note": "I am ill", "confirm_late": "on"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == page_of(meeting)
    assert fresh(meeting).status == Status.CANCELLED


def test_l9_the_expert_confirms_a_late_cancellation_after_the_warning(w, frozen_clock):
    meeting = w.agreed(hours_ahead=72)
    frozen_clock.move_to(meeting.start - timedelta(hours=10), tick=False)
    response = post(w.expert, meeting, "cancel", {"reason": "emergency"})
    assert response.status_code == 409 and "Cancel anyway" in text(response)
    assert fresh(meeting).status == Status.AGREED
    post(w.expert, meeting, "cancel", {"reason": "emergency", "confirm_late": "on"})
    assert fresh(meeting).status == Status.CANCELLED and wallet(w.org, w.client) == (1000, 0)


def test_l17_the_expert_is_warned_of_an_overlap_and_confirms_again(w):
    request = w.book(hours_ahead=72)
    other = lifecycle.confirm_meeting(w.guest, w.propose(to=w.guest, price=0, hours_ahead=72.25))
    response = post(w.expert, request, "confirm")
    assert response.status_code == 409
    page = text(response)
    assert "You already have an agreed meeting at this time:" in page and page_of(other) in page
    assert 'name="confirm-acknowledge_conflict" value="on"' in page and "Confirm anyway" in page
    assert fresh(request).status == Status.AWAITING_APPROVAL

    post(w.expert, request, "confirm", {"acknowledge_conflict": "on"})
    assert fresh(request).status == Status.AGREED


def test_l5_a_short_wallet_is_the_domains_refusal_shown_as_an_alert(w):
    poor = world(credits=0)
    proposal = poor.propose()
    before = snapshot(poor.org)
    response = post(poor.client, proposal, "confirm")
    assert response.status_code == 402
    assert re.search(r'role="alert"[^>]*>[^<]*credits', text(response))
    assert snapshot(poor.org) == before


def test_q2_an_action_not_offered_now_shows_the_domains_refusal_and_changes_nothing(w):
    meeting = w.book()
    before = snapshot(w.org)
    response = post(w.client, meeting, "confirm")  # the client asked; the expert confirms
    assert response.status_code == 409
    assert '<p class="error" role="alert">You proposed this meeting; the other side confirms it.</p>' in text(response)
    post(w.expert, meeting, "confirm")
    response = post(w.expert, meeting, "confirm")  # a double submission
    assert response.status_code == 409 and "it is agreed" in text(response)
    assert snapshot(w.org) != before and fresh(meeting).status == Status.AGREED


def test_l10_l12_an_alternative_date_is_proposed_and_confirmed(w):
    w.client.time_zone = "Europe/Amsterdam"
    w.client.save()
    meeting = w.agreed(hours_ahead=72)
    new = at(96)
    local = (new + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")  # Amsterdam in March: UTC+1
    assert post(w.client, meeting, "propose_alternative", {"start": "soon", "length": 30}).status_code == 400
    post(w.client, meeting, "propose_alternative", {"start": local, "length": 60})
    pending = fresh(meeting).pending_alternative
    assert (pending.start, pending.length_minutes) == (new, 60)

    response = post(w.expert, meeting, "confirm_alternative", follow=True)
    assert "The new date is confirmed." in text(response)
    assert (fresh(meeting).start, fresh(meeting).length_minutes) == (new, 60)


def test_l13_l14_an_alternative_is_rejected_or_withdrawn(w):
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))
    assert post(w.client, meeting, "reject_alternative", {"reason": ""}).status_code == 400
    post(w.client, meeting, "reject_alternative", {"reason": "not_available"})
    assert fresh(meeting).pending_alternative is None and fresh(meeting).start == at(72)

    lifecycle.propose_alternative(w.expert, meeting, start=at(100))
    assert offered(w.expert, meeting) == ["cancel", "withdraw_alternative", "reassign"]
    post(w.expert, meeting, "withdraw_alternative")
    assert fresh(meeting).pending_alternative is None
    assert "Alternative date withdrawn by expert" in titles(meeting)


def test_l15_an_admin_reassigns_to_another_expert_of_the_service(w):
    meeting = w.agreed(hours_ahead=72)
    page = text(signed_in(w.admin).get(page_of(meeting)))
    assert f'<option value="{w.colleague.pk}">Carl Colleague</option>' in page
    assert post(w.admin, meeting, "reassign", {"expert": w.client.pk}).status_code == 400  # not offered
    response = post(w.admin, meeting, "reassign", {"expert": w.colleague.pk}, follow=True)
    assert "The meeting is reassigned." in text(response)
    assert fresh(meeting).expert == w.colleague


def test_l16_either_side_changes_a_free_services_time_directly(w):
    meeting = w.agreed(service=w.free_service, hours_ahead=72)
    new = at(74)
    assert post(w.client, meeting, "change", {"start": "2026-02-30T10:00", "length": 30}).status_code == 400
    response = post(w.client, meeting, "change", {"start": new.strftime("%Y-%m-%dT%H:%M"), "length": 15}, follow=True)
    assert "The meeting is moved." in text(response)
    assert (fresh(meeting).start, fresh(meeting).length_minutes) == (new, 15)


def test_l16_a_time_that_does_not_exist_in_the_viewers_zone_is_a_form_error(w):
    w.client.time_zone = "Europe/Amsterdam"
    w.client.save()
    meeting = w.agreed(service=w.free_service, hours_ahead=72)
    before = snapshot(w.org)
    response = post(w.client, meeting, "change", {"start": "2026-03-29T02:30", "length": 30})  # clocks go forward
    assert response.status_code == 400 and 'id="id_change-start_error"' in text(response)
    assert snapshot(w.org) == before


# --- S1, S2, O4: statements, reviews and summaries ---------------------------------------


def ended(w, frozen_clock, **kw) -> Meeting:
    meeting = w.agreed(hours_ahead=2, **kw)
    frozen_clock.move_to(meeting.end + timedelta(hours=1), tick=False)
    return meeting


def test_o4_without_the_add_ons_neither_stars_review_nor_summary_are_asked(w, frozen_clock):
    meeting = ended(w, frozen_clock)
    client_page = text(signed_in(w.client).get(page_of(meeting)))
    expert_page = text(signed_in(w.expert).get(page_of(meeting)))
    assert 'name="statement-said"' in client_page and "The meeting went smoothly" in client_page
    assert 'name="statement-stars"' not in client_page and 'name="statement-review"' not in client_page
    assert 'name="statement-summary"' not in expert_page and "It did not take place because of me" in expert_page
    assert post(w.client, meeting, "statement", {"said": "held", "stars": 5}).status_code == 302
    assert meeting.statements.get().stars is None  # a field not asked is not taken


def test_s1_the_client_rates_and_reviews_and_only_admins_see_the_stars(w, frozen_clock):
    w.org.reviews_enabled = True
    w.org.save()
    meeting = ended(w, frozen_clock)
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert 'name="statement-stars"' in page and 'name="statement-review"' in page
    assert "this edits your earlier review" not in page
    assert post(w.client, meeting, "statement", {"said": "held", "stars": 9}).status_code == 400
    response = post(
        w.client, meeting, "statement", {"said": "held", "stars": 4, "review": "Clear and kind."}, follow=True
    )
    assert "Thank you: your statement is recorded." in text(response)
    assert "Clear and kind." in text(response) and "4 of 5" not in text(response)
    admin_page = text(signed_in(w.admin).get(page_of(meeting)))
    assert "4 of 5" in admin_page and "Clear and kind." in admin_page
    assert "4 of 5" not in text(signed_in(w.expert).get(page_of(meeting)))
    assert fresh(meeting).outcome == "held"


def test_s1_a_second_review_of_the_same_expert_says_it_edits_the_earlier_one(w, frozen_clock):
    w.org.reviews_enabled = True
    w.org.save()
    Review.objects.create(organization=w.org, expert=w.expert, client=w.client, text="Good first talk.")
    meeting = ended(w, frozen_clock)
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert "You already reviewed this expert: this edits your earlier review." in page
    assert "Good first talk.</textarea>" in page
    post(w.client, meeting, "statement", {"said": "held", "review": "Good first talk. And a second one."})
    assert Review.objects.get(expert=w.expert, client=w.client).text == "Good first talk. And a second one."


def test_s2_the_expert_leaves_a_summary_the_client_reads(w, frozen_clock):
    w.org.summaries_enabled = True
    w.org.save()
    meeting = ended(w, frozen_clock)
    assert 'name="statement-summary"' in text(signed_in(w.expert).get(page_of(meeting)))
    post(w.expert, meeting, "statement", {"said": "held", "summary": "Next: update the CV."})
    page = text(signed_in(w.client).get(page_of(meeting)))
    assert "Next: update the CV." in page and "The meeting took place" in page
    w.org.summaries_enabled = False
    w.org.save()
    assert "Next: update the CV." not in text(signed_in(w.client).get(page_of(meeting)))


def test_the_page_opens_a_dialog_without_script(w):
    meeting = w.book()
    page = text(signed_in(w.expert).get(page_of(meeting) + "?open=reject"))
    assert '<dialog id="dialog-reject" class="action" aria-labelledby="dialog-reject-title" open>' in page
    assert '<dialog id="dialog-confirm" class="action" aria-labelledby="dialog-confirm-title">' in page
    assert '<label for="id_reject-note">' in page


def test_a_long_timeline_costs_no_more_queries_than_a_short_one(w, django_assert_max_num_queries):
    short = w.agreed(hours_ahead=72)
    long = w.agreed(hours_ahead=96)
    for hours in range(100, 120):
        lifecycle.propose_alternative(w.client, long, start=at(hours))
        lifecycle.withdraw_alternative(w.client, long)
    browser = signed_in(w.expert)
    browser.get(page_of(short))  # the session and the site's first lookups
    with django_assert_max_num_queries(100) as counted:
        browser.get(page_of(short))
    with django_assert_max_num_queries(len(counted.captured_queries)):
        assert browser.get(page_of(long)).status_code == 200


def test_k1_the_add_to_calendar_link_downloads_the_meeting(w):
    meeting = w.agreed()
    browser = signed_in(w.client)
    link = re.search(r'href="([^"]+calendar\.ics)"', text(browser.get(page_of(meeting)))).group(1)
    response = browser.get(link)
    assert response.status_code == 200 and b"BEGIN:VEVENT" in response.content
