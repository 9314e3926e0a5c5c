"""O5: every number of the rules is a setting of the organization. Each test changes one
setting away from its default and shows the rule follows it."""

import pytest
from django.db.models.fields import NOT_PROVIDED

from parlour.accounts.models import OrganizationSettings
from parlour.meetings import lifecycle, outcome
from parlour.meetings.reasons import ExpertCancelReason
from tests.factories import ServiceFactory
from tests.meetings.checks import assert_ledger_balanced, at, fresh, platform, refused, snapshot, wallet


def configure(w, **values):
    settings = w.org.settings
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


def test_o5_defaults_are_the_specs():
    fields = OrganizationSettings._meta.concrete_fields
    defaults = {f.name: f.default for f in fields if f.name not in ("id", "organization")}
    assert defaults == {
        "cancellation_notice_hours": 48,
        "late_cancellation_charge_percent": 50,
        "platform_share_percent": 20,
        "join_window_minutes": 15,
        "evaluation_deadline_hours": 168,
        "review_bonus_credits": 10,
        "booking_window_days": 30,
        "default_length_minutes": 30,
        "slot_step_minutes": 15,  # E4
        "max_upcoming_guest_meetings": 2,
        "reminder_hours_before": 24,
        "link_minutes_before": 60,
        "evaluation_reminder_hours_after": 24,
        "video_platform": "builtin",  # V1: Parlour's own room
        "jitsi_domain": NOT_PROVIDED,
        "jitsi_app_id": NOT_PROVIDED,
        "jitsi_app_secret": NOT_PROVIDED,
    }


# --- cancellation notice (L7, L8, L9) ----------------------------------------------


def test_o5_a_shorter_notice_makes_a_cancellation_in_good_time(w):
    meeting = w.agreed(hours_ahead=30)
    with refused(w.org, "late_cancellation_charge", rule="L8"):
        lifecycle.cancel_meeting(w.client, meeting, note="Plans changed")

    configure(w, cancellation_notice_hours=24)

    assert lifecycle.cancel_meeting(w.client, meeting, note="Plans changed").credit_status == "returned"
    assert wallet(w.org, w.client) == (1000, 0)


def test_o5_a_longer_notice_makes_a_cancellation_late(w):
    configure(w, cancellation_notice_hours=96)
    meeting = w.agreed(hours_ahead=72)
    with refused(w.org, "late_cancellation_charge", rule="L8") as caught:
        lifecycle.cancel_meeting(w.client, meeting, note="Plans changed")
    assert "96 hours" in caught.value.message
    with refused(w.org, "late_cancellation_warning", rule="L9"):
        lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.OTHER)


# --- late charge and platform share (L8, S3, C4) -----------------------------------


def test_o5_the_late_charge_follows_its_setting(w):
    configure(w, late_cancellation_charge_percent=30)
    meeting = w.agreed(hours_ahead=10)

    with refused(w.org, "late_cancellation_charge") as caught:
        lifecycle.cancel_meeting(w.client, meeting, note="ill")
    assert caught.value.details == {"charged": 30, "returned": 70}

    lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True)
    assert wallet(w.org, w.client) == (970, 0)
    assert wallet(w.org, w.expert) == (24, 0)
    assert platform(w.org) == 6


def test_o5_no_late_charge_returns_everything_without_asking(w):
    configure(w, late_cancellation_charge_percent=0)
    meeting = lifecycle.cancel_meeting(w.client, w.agreed(hours_ahead=10), note="ill")
    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)


def test_o5_the_platform_share_follows_its_setting(w):
    configure(w, platform_share_percent=50)
    meeting = w.agreed(hours_ahead=10)
    lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True)
    assert (wallet(w.org, w.expert), platform(w.org)) == ((25, 0), 25)


def test_o5_the_platform_share_applies_to_a_held_meeting(w):
    configure(w, platform_share_percent=35)
    meeting = w.agreed(hours_ahead=10)
    outcome.submit_statement(w.client, meeting, said="held", now=at(11))
    assert (wallet(w.org, w.client), wallet(w.org, w.expert), platform(w.org)) == ((900, 0), (65, 0), 35)
    assert_ledger_balanced(w.org)


def test_o5_a_client_no_show_pays_the_configured_late_charge(w):
    configure(w, late_cancellation_charge_percent=100, platform_share_percent=0)
    meeting = w.agreed(hours_ahead=10)
    outcome.submit_statement(w.client, meeting, said="not_held_client", now=at(11))
    assert (wallet(w.org, w.client), wallet(w.org, w.expert), platform(w.org)) == ((900, 0), (100, 0), 0)


def test_o5_a_client_no_show_with_no_late_charge_is_a_refund(w):
    configure(w, late_cancellation_charge_percent=0)
    meeting = w.agreed(hours_ahead=10)
    meeting = outcome.submit_statement(w.client, meeting, said="not_held_client", now=at(11))
    assert (meeting.outcome, meeting.credit_status) == ("client_no_show", "returned")
    assert wallet(w.org, w.client) == (1000, 0)


# --- evaluation deadline (S3) and review bonus (S4) --------------------------------


def test_o5_the_evaluation_deadline_follows_its_setting(w):
    configure(w, evaluation_deadline_hours=24)
    meeting = w.agreed(hours_ahead=10)  # ends at 10.5 h
    before = snapshot(w.org)
    outcome.settle_unstated(meeting, now=at(34.49))
    assert snapshot(w.org) == before

    assert outcome.settle_unstated(meeting, now=at(34.5)).outcome == "refunded"


@pytest.mark.parametrize(("bonus", "available"), [(25, 925), (0, 900)])
def test_o5_the_review_bonus_follows_its_setting(w, bonus, available):
    w.org.reviews_enabled = True
    w.org.save()
    configure(w, review_bonus_credits=bonus)
    meeting = w.agreed(hours_ahead=10)

    outcome.submit_statement(w.client, meeting, said="held", review="Useful.", now=at(11))

    assert wallet(w.org, w.client) == (available, 0)
    assert_ledger_balanced(w.org)


# --- booking window and guest limit (B1) -------------------------------------------


def test_o5_the_booking_window_follows_its_setting(w):
    with refused(w.org, "outside_booking_window", rule="B1") as caught:
        w.book(hours_ahead=24 * 31)
    assert "30 days" in caught.value.message
    assert w.book(hours_ahead=24 * 30).status == "awaiting_approval"

    configure(w, booking_window_days=60)
    assert w.book(hours_ahead=24 * 59).status == "awaiting_approval"
    configure(w, booking_window_days=7)
    with refused(w.org, "outside_booking_window", rule="B1"):
        w.book(hours_ahead=24 * 8)


def test_o5_a_guest_books_at_most_the_configured_upcoming_meetings_with_one_expert(w):
    for hours in (24, 48):
        w.book(service=w.free_service, by=w.guest, hours_ahead=hours)
    with refused(w.org, "too_many_upcoming", rule="B1"):
        w.book(service=w.free_service, by=w.guest, hours_ahead=72)
    # Another expert is fine; so is the same expert once a meeting has passed.
    w.book(service=w.free_service, by=w.guest, hours_ahead=72, expert=w.colleague)

    configure(w, max_upcoming_guest_meetings=3)
    assert w.book(service=w.free_service, by=w.guest, hours_ahead=72).status == "agreed"


def test_o5_a_guest_meeting_that_has_passed_no_longer_counts(w, frozen_clock):
    for hours in (24, 48):
        w.book(service=w.free_service, by=w.guest, hours_ahead=hours)
    frozen_clock.move_to(at(25), tick=False)
    assert w.book(service=w.free_service, by=w.guest, hours_ahead=72).status == "agreed"


def test_o5_a_cancelled_guest_meeting_no_longer_counts(w):
    first = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    w.book(service=w.free_service, by=w.guest, hours_ahead=48)
    lifecycle.cancel_meeting(w.guest, first, note="Wrong day")
    assert w.book(service=w.free_service, by=w.guest, hours_ahead=72).status == "agreed"


# --- join window (V2) and default length (E2) --------------------------------------


def test_o5_the_join_window_follows_its_setting(w):
    meeting = w.agreed(hours_ahead=10)
    with refused(w.org, "room_not_open", rule="V2"):
        outcome.record_entry(w.client, meeting, now=at(9.5))
    configure(w, join_window_minutes=30)
    assert outcome.record_entry(w.client, meeting, now=at(9.5)).client_entered_at == at(9.5)


def test_o5_a_service_without_lengths_takes_the_default_length(w):
    configure(w, default_length_minutes=45)
    service = ServiceFactory(organization=w.org, lengths=[], price=0, requires_confirmation=False)
    service.experts.add(w.expert)
    meeting = w.book(service=service, hours_ahead=10)
    assert fresh(meeting).length_minutes == 45
