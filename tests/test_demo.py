"""The demo organization (I4): built only by the domain functions, so it holds what real use
would: experts' free dates (E3), meetings in every status with their timelines, each booked at
a free slot (E4) whatever the day it is loaded, and a ledger that balances (C1)."""

from datetime import UTC, datetime, time, timedelta
from itertools import combinations

import pytest
from django.contrib.auth import authenticate
from django.db.models import Sum

from parlour import demo
from parlour.accounts.models import Group, Membership, Role
from parlour.availability import search
from parlour.availability.models import ExceptionKind
from parlour.catalog.models import ExpertProfile
from parlour.credits import ledger
from parlour.credits.models import Account, AccountKind, Transfer, TransferKind
from parlour.meetings.models import AlternativeState, CreditStatus, EventKind, Outcome, Side, Status

NOW = datetime(2030, 3, 27, 14, 37, tzinfo=UTC)  # the demo is loaded "now"; DST starts on the 31st
# Each day of a week in which Europe leaves daylight-saving time (Sunday the 27th; America a
# week later), at two moments: when New York's date is still the day before Europe's, and when
# both are the same. The experts' working days then fall differently each time.
ANY_DAY = [datetime(2030, 10, 21, hour, tzinfo=UTC) + timedelta(days=day) for day in range(7) for hour in (2, 12)]


@pytest.fixture
def loaded(db):
    return demo.load(now=NOW)


@pytest.fixture
def meetings(loaded):
    return list(loaded.organization.meetings.all())


def test_i4_demo_has_a_meeting_in_every_status(meetings):
    assert {m.status for m in meetings} == set(Status.values)


def test_i4_demo_covers_both_origins_alternatives_late_cancellation_and_outcomes(meetings):
    """B2/B3 awaiting approval of both origins, L10 a pending alternative, L8 a late
    cancellation, S3 settled held, disputed, client no-show and refunded."""
    awaiting = {m.origin for m in meetings if m.status == Status.AWAITING_APPROVAL}
    assert awaiting == {Side.CLIENT, Side.EXPERT}
    assert any(m.status == Status.AGREED and m.pending_alternative for m in meetings)
    assert any(
        m.status == Status.CANCELLED and m.credit_status == CreditStatus.REIMBURSED_CANCELLATION for m in meetings
    )
    outcomes = {m.outcome for m in meetings}
    assert {Outcome.HELD, Outcome.DISPUTED, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED} <= outcomes
    assert any(m.is_guest_meeting for m in meetings)
    assert any(m.timeline.filter(kind=EventKind.LAPSED).exists() for m in meetings)  # L18
    held = next(m for m in meetings if m.outcome == Outcome.HELD)
    assert held.timeline.filter(kind=EventKind.REVIEW_BONUS).exists()  # S4


def test_i4_demo_timelines_tell_each_meeting_from_its_start(meetings):
    """L19: every meeting starts with how it was made, and nothing is dated after "now"."""
    first_kinds = {EventKind.BOOKED, EventKind.PROPOSED, EventKind.OPTIONS_OFFERED}
    for meeting in meetings:
        events = list(meeting.timeline.order_by("id"))  # in the order they were written
        assert events and events[0].kind in first_kinds, meeting
        assert all(e.at <= NOW for e in events), meeting
        assert [e.at for e in events] == sorted(e.at for e in events), meeting


def test_c1_demo_ledger_balances_and_escrow_holds_exactly_the_blocked_prices(loaded, meetings):
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    assert not Account.objects.filter(kind__in=[AccountKind.WALLET, AccountKind.ESCROW], balance__lt=0).exists()
    for meeting in meetings:
        escrow = Account.objects.filter(kind=AccountKind.ESCROW, meeting=meeting).first()
        held = escrow.balance if escrow else 0
        expected = meeting.price if meeting.credit_status == CreditStatus.BLOCKED else 0
        assert held == expected, meeting


def test_c3_demo_credits_were_granted_by_the_admin(loaded):
    purchases = Transfer.objects.filter(organization=loaded.organization, kind=TransferKind.PURCHASE)
    assert purchases.count() == len(demo.CLIENTS)
    assert {t.created_by.email for t in purchases} == {demo.ADMIN_EMAIL}
    for client in loaded.people["clients"]:
        balance = ledger.balance_of(loaded.organization, client)
        assert balance.available + balance.blocked > 0


def test_i4_demo_organization_has_groups_skills_and_services_of_every_kind(loaded):
    org = loaded.organization
    assert Membership.objects.get(user__email=demo.ADMIN_EMAIL, organization=org).role == Role.ADMIN
    groups = Group.objects.filter(organization=org)
    assert groups.count() == 2 and all(g.members.count() >= 2 for g in groups)
    services = list(org.services.all())
    kinds = {(s.requires_confirmation, s.price > 0) for s in services}
    assert kinds == {(True, True), (False, True), (False, False)}
    assert any(len(s.lengths) > 1 for s in services)
    assert org.skills.count() >= 3
    assert org.reviews_enabled and org.summaries_enabled


def test_i4_demo_people_sign_in_with_the_one_password(loaded):
    """O1: email and password; the admin is the installation's operator too (I5)."""
    admin = authenticate(email=demo.ADMIN_EMAIL, password=demo.PASSWORD)
    assert admin is not None and admin.is_superuser and admin.is_staff
    for person in loaded.people["experts"] + loaded.people["clients"]:
        assert authenticate(email=person.email, password=demo.PASSWORD) == person
        assert not person.is_staff


def test_i4_demo_loads_once(loaded):
    assert demo.load(now=NOW) is None
    assert loaded.organization.meetings.count() == loaded.meetings


def test_i4_demo_pending_alternative_is_the_clients_and_keeps_the_date(meetings):
    """L10: the original date stays valid until the other side confirms."""
    meeting = next(m for m in meetings if m.pending_alternative)
    alternative = meeting.alternatives.get()
    assert alternative.state == AlternativeState.PENDING and alternative.proposed_by == Side.CLIENT
    assert alternative.start != meeting.start
    assert meeting.credit_status == CreditStatus.BLOCKED


def test_e3_every_demo_expert_has_published_free_dates_in_their_own_time_zone(loaded):
    """E3: weekly hours on the expert's own clock, and between them every optional part: a
    dated exception, time off, notice, buffer and a daily limit; one expert works evenings."""
    profiles = {
        p.membership.user.email: p
        for p in ExpertProfile.objects.filter(membership__organization=loaded.organization).select_related(
            "membership__user"
        )
    }
    assert set(profiles) == {demo.email(key) for key in demo.EXPERTS}
    for profile in profiles.values():
        assert profile.time_zone == profile.membership.user.time_zone
        weekdays = {hours.weekday for hours in profile.weekly_hours.all()}
        assert set(range(5)) <= weekdays, profile  # every working day of the week
    evening = [h for p in profiles.values() for h in p.weekly_hours.all() if h.end >= time(20)]
    assert evening
    eve = profiles[demo.email("eve")]
    assert eve.date_exceptions.filter(kind=ExceptionKind.REMOVE).exists() and eve.time_off.exists()
    tom = profiles[demo.email("tom")]
    assert tom.buffer_after_minutes == 15 and tom.minimum_notice_minutes > 0
    assert any(p.max_meetings_per_day for p in profiles.values())


def was_free_when_made(meeting) -> None:
    """E4: the meeting's time was one of its expert's slots when it was made, beside every
    other meeting of the demo (raises the refusal otherwise)."""
    profile = ExpertProfile.objects.get(membership__organization=meeting.organization, membership__user=meeting.expert)
    search.check_bookable(
        meeting.service,
        profile,
        meeting.start,
        meeting.length_minutes,
        meeting.created_at,
        rule="E4",
        exclude=meeting,
    )


def people(meeting) -> set[tuple[str, int]]:
    ids = {("user", meeting.expert_id), ("user", meeting.client_id), ("guest", meeting.guest_id)}
    return {(kind, pk) for kind, pk in ids if pk is not None}


@pytest.mark.parametrize("now", ANY_DAY, ids=[f"{m:%a-%H%M}" for m in ANY_DAY])
def test_e4_demo_loads_on_any_day_each_booking_a_free_slot(db, now):
    """I4, B1, E4: whatever the day and hour, every meeting the demo makes (the clients'
    bookings, re-checked by ``book_meeting`` itself, and the experts' proposals and offers)
    is at a free slot of its expert as it was made; nobody has two meetings at once but for
    the one overlap L17 is about; and the distances the walkthrough relies on hold."""
    loaded = demo.load(now=now)
    meetings = {m.subject: m for m in loaded.organization.meetings.select_related("service", "expert")}
    assert len(meetings) == loaded.meetings
    for meeting in meetings.values():
        if meeting.subject != "Video check-in":  # proposed for right now, whatever the hour (V2)
            was_free_when_made(meeting)
    overlap = meetings.pop("Reviewing your first pull requests")
    assert overlap.start < meetings["First steps as a team lead"].end
    for a, b in combinations(meetings.values(), 2):
        assert not people(a) & people(b) or a.end <= b.start or b.end <= a.start, (a, b)
    # L8 inside the notice from the start; L9 a day ahead; L7 beyond the notice.
    notice = timedelta(hours=loaded.organization.settings.cancellation_notice_hours)
    assert timedelta(hours=8) < meetings["A difficult colleague"].start - now < notice
    assert meetings["First steps as a team lead"].start - now > timedelta(hours=25)
    assert meetings["A four-day week"].start - now > notice
    # L16: the guest's intro call can move an hour later, to a free slot.
    intro = meetings["Is mentoring for me?"]
    profile = ExpertProfile.objects.get(membership__user=intro.expert)
    search.check_bookable(intro.service, profile, intro.start + timedelta(hours=1), 15, now, rule="L16", exclude=intro)


@pytest.mark.parametrize("now", ANY_DAY, ids=[f"{m:%a-%H%M}" for m in ANY_DAY])
def test_v2_the_demo_has_a_guest_meeting_whose_room_is_open_as_it_loads(db, now):
    from parlour.meetings.outcome import room_is_open

    loaded = demo.load(now=now)
    meeting = loaded.room_now
    assert meeting.guest is not None and meeting.status == "agreed"
    assert room_is_open(meeting, now)
    assert room_is_open(meeting, now + timedelta(minutes=30))


def test_n1_n10_the_demos_past_was_delivered_then_and_is_not_mailed_again(loaded):
    """§9: what the demo's history queued is in each person's notification list at the moment
    it was due (read when over a day old), and nothing of the past is left for the worker to
    mail when Parlour starts."""
    from parlour.notifications.models import Notification, OutboxItem, OutboxState

    org = loaded.organization
    left = OutboxItem.objects.filter(organization=org, state=OutboxState.PENDING).exclude(topic__startswith="room.")
    assert not left.filter(due_at__lte=NOW).exists()
    eve = Membership.objects.get(organization=org, user__email=demo.email("eve")).user
    listed = list(Notification.objects.filter(recipient=eve).order_by("created_at"))
    assert listed and all(n.created_at <= NOW for n in listed)
    assert listed[0].read_at is not None and listed[0].created_at < NOW - timedelta(days=1)
    assert any(n.read_at is None for n in listed if n.created_at > NOW - timedelta(days=1))
