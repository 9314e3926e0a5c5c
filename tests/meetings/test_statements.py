"""After the meeting: the client's (S1) and the expert's (S2) statements, the outcome they
settle (S3, C4), the add-ons that ask for stars, reviews and summaries (O4), and the bonus
for a first written review (S4)."""

import pytest

from parlour.meetings import outcome
from parlour.meetings.models import Review, Statement
from tests.meetings.checks import (
    assert_ledger_balanced,
    assert_settled,
    at,
    history,
    messages,
    platform,
    refused,
    timeline,
    titles,
    wallet,
)


@pytest.fixture
def meeting(w):
    """An agreed 100-credit meeting that took place from 72 h to 72.5 h; both entered."""
    meeting = w.agreed(hours_ahead=72)
    for side in (w.client, w.expert):
        outcome.record_entry(side, meeting, now=at(72))
    return outcome.close_meeting(meeting, now=at(72.5))


def state(side, meeting, **kw):
    return outcome.submit_statement(side, meeting, now=at(73), **kw)


# --- S3: the first decisive statement settles --------------------------------------


@pytest.mark.parametrize(
    ("side", "said", "result"),
    [
        ("client", "held", "held"),
        ("client", "not_held_client", "client_no_show"),
        ("client", "not_held_expert", ""),
        ("expert", "not_held_expert", "refunded"),
        ("expert", "held", ""),
        ("expert", "not_held_client", ""),
    ],
)
def test_s3_a_first_statement_settles_only_when_it_decides(w, meeting, side, said, result):
    state(getattr(w, side), meeting, said=said)
    assert_settled(w, meeting, result)


def test_s3_client_says_it_went_smoothly_and_the_expert_is_paid(w, meeting):
    state(w.client, meeting, said="held")

    assert timeline(meeting)[-2:] == [
        ("Meeting outcome recorded by client", "Cleo Client", ""),
        ("Settled: Held", "Parlour", ""),
    ]
    assert messages(meeting)[-2:] == [("outcome", "Eve Expert"), ("outcome", "Cleo Client")]
    assert history(w.org, w.client)[-1] == ("Deduction of credits for services", -100)
    assert history(w.org, w.expert) == [("Payment of credits for services", 80)]


def test_s3_client_no_show_pays_the_expert_as_for_a_late_cancellation(w, meeting):
    state(w.client, meeting, said="not_held_client")
    assert titles(meeting)[-1] == "Settled: Client did not come"
    assert history(w.org, w.expert) == [("Payment of credits for services", 40)]


# --- S3: the second statement ------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "result"),
    [
        # the first waited: agreement settles, disagreement is disputed
        (("client", "not_held_expert"), ("expert", "not_held_expert"), "refunded"),
        (("client", "not_held_expert"), ("expert", "held"), "disputed"),
        (("client", "not_held_expert"), ("expert", "not_held_client"), "disputed"),
        (("expert", "held"), ("client", "held"), "held"),
        (("expert", "held"), ("client", "not_held_client"), "disputed"),
        (("expert", "held"), ("client", "not_held_expert"), "disputed"),
        (("expert", "not_held_client"), ("client", "not_held_client"), "client_no_show"),
        (("expert", "not_held_client"), ("client", "held"), "disputed"),
        (("expert", "not_held_client"), ("client", "not_held_expert"), "disputed"),
        # the first settled: the second is kept for the record and changes nothing
        (("client", "held"), ("expert", "not_held_client"), "held"),
        (("client", "not_held_client"), ("expert", "held"), "client_no_show"),
        (("expert", "not_held_expert"), ("client", "held"), "refunded"),
    ],
)
def test_s3_the_second_statement_settles_agrees_or_disputes(w, meeting, first, second, result):
    for side, said in (first, second):
        state(getattr(w, side), meeting, said=said)

    assert_settled(w, meeting, result)
    assert Statement.objects.filter(meeting=meeting).count() == 2
    if result == "disputed":
        assert titles(meeting)[-1] == "Statements disagree: disputed"


# --- S1, S2: refusals --------------------------------------------------------------


def test_s1_a_statement_waits_for_the_end(w):
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "not_ended", status=409, rule="S1"):
        outcome.submit_statement(w.client, meeting, said="held", now=at(72.49))


def test_s2_a_statement_on_a_cancelled_meeting_is_refused(w):
    meeting = w.book(hours_ahead=5)
    outcome.close_meeting(meeting, now=at(6))
    with refused(w.org, "not_ended", status=409, rule="S2"):
        outcome.submit_statement(w.expert, meeting, said="held", now=at(6))


def test_s1_each_side_states_once(w, meeting):
    state(w.expert, meeting, said="held")
    with refused(w.org, "already_stated", status=409, rule="S2"):
        state(w.expert, meeting, said="not_held_expert")


def test_s1_only_the_two_sides_state(w, meeting):
    with refused(w.org, "wrong_side", status=403, rule="S1"):
        state(w.admin, meeting, said="held")


def test_s1_a_statement_outside_the_list_is_refused(w, meeting):
    with refused(w.org, "invalid_statement", rule="S1"):
        state(w.client, meeting, said="great")


# --- O4: add-ons -------------------------------------------------------------------


@pytest.mark.parametrize("extra", [{"stars": 5}, {"review": "Very helpful."}])
def test_o4_without_the_reviews_add_on_stars_and_reviews_are_refused(w, meeting, extra):
    with refused(w.org, "add_on_off", rule="O4"):
        state(w.client, meeting, said="held", **extra)


def test_o4_without_the_summaries_add_on_a_summary_is_refused(w, meeting):
    with refused(w.org, "add_on_off", rule="O4"):
        state(w.expert, meeting, said="held", summary="We covered the plan.")


def test_s2_with_the_summaries_add_on_the_expert_leaves_a_summary(w, meeting):
    w.org.summaries_enabled = True
    w.org.save()
    state(w.expert, meeting, said="held", summary="  We covered the plan.  ")
    assert Statement.objects.get(meeting=meeting).summary == "We covered the plan."


@pytest.fixture
def reviews_on(w):
    w.org.reviews_enabled = True
    w.org.save()


@pytest.mark.parametrize("stars", [1, 3, 5])
def test_s1_stars_from_one_to_five_are_kept(w, meeting, reviews_on, stars):
    state(w.client, meeting, said="held", stars=stars)
    assert Statement.objects.get(meeting=meeting).stars == stars


@pytest.mark.parametrize("stars", [0, 6, -1, True, "5"])
def test_s1_stars_outside_one_to_five_are_refused(w, meeting, reviews_on, stars):
    with refused(w.org, "invalid_stars", rule="S1"):
        state(w.client, meeting, said="held", stars=stars)


def test_s1_stars_and_reviews_come_from_the_client_and_summaries_from_the_expert(w, meeting, reviews_on):
    w.org.summaries_enabled = True
    w.org.save()
    with refused(w.org, "wrong_side", status=403):
        state(w.expert, meeting, said="held", stars=4)
    with refused(w.org, "wrong_side", status=403):
        state(w.client, meeting, said="held", summary="hi")


def test_s1_a_guest_gives_stars_but_no_written_review(w, reviews_on):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=5)
    with refused(w.org, "sign_in_required", status=403, rule="S1"):
        outcome.submit_statement(w.guest, meeting, said="held", review="Nice", now=at(6))
    assert outcome.submit_statement(w.guest, meeting, said="held", stars=4, now=at(6)).outcome == "held"


# --- S4: the bonus for a first written review --------------------------------------


def test_s4_a_first_written_review_earns_the_bonus(w, meeting, reviews_on):
    state(w.client, meeting, said="held", stars=5, review="Clear and kind advice.")

    review = Review.objects.get()
    assert (review.expert, review.client, review.text) == (w.expert, w.client, "Clear and kind advice.")
    assert wallet(w.org, w.client) == (910, 0)
    assert platform(w.org) == 10  # 20 kept, 10 paid out as the bonus
    assert ("Bonus credits for written review", 10) in history(w.org, w.client)
    assert "Bonus credits for written review" in titles(meeting)
    assert_ledger_balanced(w.org)


def test_s4_a_second_review_of_the_same_expert_edits_the_first_and_pays_no_bonus(w, meeting, reviews_on):
    state(w.client, meeting, said="held", review="Good.")
    second = w.agreed(hours_ahead=100)
    outcome.submit_statement(w.client, second, said="held", review="Even better the second time.", now=at(101))

    review = Review.objects.get()
    assert (review.text, review.meeting_id) == ("Even better the second time.", second.pk)
    assert wallet(w.org, w.client) == (810, 0)  # two meetings paid, one bonus
    assert "Bonus credits for written review" not in titles(second)


def test_s4_a_first_review_of_another_expert_earns_the_bonus_again(w, meeting, reviews_on):
    state(w.client, meeting, said="held", review="Good.")
    other = w.agreed(hours_ahead=100, expert=w.colleague)
    outcome.submit_statement(w.client, other, said="held", review="Also good.", now=at(101))

    assert Review.objects.count() == 2
    assert [label for label, _ in history(w.org, w.client)].count("Bonus credits for written review") == 2


def test_s4_stars_alone_earn_no_bonus(w, meeting, reviews_on):
    state(w.client, meeting, said="held", stars=2)
    assert wallet(w.org, w.client) == (900, 0)
    assert not Review.objects.exists()
