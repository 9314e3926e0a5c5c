"""L17: a side confirming a meeting or an alternative (L2, L5, L12, B4) that overlaps one of
their agreed meetings — as expert or as client — is warned, with the other meeting named,
and nothing changes; confirming again, knowing it, goes through."""

from zoneinfo import ZoneInfo

from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party
from tests.factories import GuestFactory
from tests.meetings.checks import at, refused, room_commands, titles, wallet


def expert_meeting(w, hours: float):
    """An agreed meeting of the expert, as expert, with the guest."""
    return w.book(service=w.free_service, by=w.guest, hours_ahead=hours)


def client_meeting(w, person, hours: float):
    """An agreed meeting of ``person``, as client, with the colleague."""
    return w.book(service=w.free_service, expert=w.colleague, by=person, hours_ahead=hours)


def assert_warned(caught, other, rule: str) -> None:
    """The warning names the other meeting: its id, service and time."""
    assert caught.value.details == {"conflicting_meeting": other.pk, "confirms": rule}
    assert f"({other.service.name}, {other.start:%Y-%m-%d %H:%M} UTC)" in caught.value.message


def test_l17_l2_expert_is_warned_of_their_own_agreed_meeting_as_expert(w):
    request = w.book(hours_ahead=72)
    # An expert's proposal is not held to the free slots, so the expert can end up double booked.
    other = lifecycle.confirm_meeting(w.guest, w.propose(to=w.guest, price=0, hours_ahead=72.25))

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.expert, request)
    assert_warned(caught, other, "L2")

    meeting = lifecycle.confirm_meeting(w.expert, request, acknowledge_conflict=True)
    assert meeting.status == "agreed"
    assert room_commands(meeting) == ["room.create"]


def test_l17_l2_expert_is_warned_of_their_own_agreed_meeting_as_client(w):
    request = w.book(hours_ahead=72)  # booked while the expert was free (B1 never overlaps)
    other = client_meeting(w, w.expert, 72)

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.expert, request)
    assert_warned(caught, other, "L2")

    assert lifecycle.confirm_meeting(w.expert, request, acknowledge_conflict=True).status == "agreed"


def test_l17_l5_client_is_warned_and_nothing_is_blocked_until_they_confirm_again(w):
    other = client_meeting(w, w.client, 72)
    proposal = w.propose(hours_ahead=72)

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.client, proposal)
    assert_warned(caught, other, "L5")
    assert wallet(w.org, w.client) == (1000, 0)

    meeting = lifecycle.confirm_meeting(w.client, proposal, acknowledge_conflict=True)
    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert wallet(w.org, w.client) == (900, 100)


def test_l17_l5_client_is_warned_of_a_meeting_where_they_are_the_expert(w):
    """An expert who is a client too: the colleague proposes to the expert."""
    other = expert_meeting(w, 72)
    proposal = lifecycle.propose_meeting(
        w.colleague, service=w.free_service, party=Party(client=w.expert), start=at(72)
    )
    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.expert, proposal)
    assert_warned(caught, other, "L5")


def test_l17_l12_client_confirming_an_alternative_is_warned(w):
    other = client_meeting(w, w.client, 96)
    meeting = lifecycle.propose_alternative(w.expert, w.agreed(hours_ahead=72), start=at(96))

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_alternative(w.client, meeting)
    assert_warned(caught, other, "L12")

    meeting = lifecycle.confirm_alternative(w.client, meeting, acknowledge_conflict=True)
    assert (meeting.start, titles(meeting)[-1]) == (at(96), "Alternative date approved by client")


def test_l17_l12_expert_confirming_an_alternative_is_warned(w):
    other = expert_meeting(w, 96)
    meeting = lifecycle.propose_alternative(w.client, w.agreed(hours_ahead=72), start=at(96))

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_alternative(w.expert, meeting)
    assert_warned(caught, other, "L12")

    assert lifecycle.confirm_alternative(w.expert, meeting, acknowledge_conflict=True).start == at(96)


def test_l17_b4_client_picking_an_overlapping_option_is_warned_and_a_free_one_is_not(w):
    other = client_meeting(w, w.client, 72)
    options = [(at(72), 30), (at(74), 30)]
    meeting = lifecycle.offer_time_options(w.expert, service=w.service, party=Party(client=w.client), options=options)
    first, second = meeting.time_options.all()

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.pick_time_option(w.client, meeting, first.pk)
    assert_warned(caught, other, "B4")

    assert lifecycle.pick_time_option(w.client, meeting, second.pk).start == at(74)


def test_l17_a_meeting_that_only_touches_is_no_conflict(w):
    client_meeting(w, w.client, 71.75)  # 15 minutes, ends when the proposal starts
    assert lifecycle.confirm_meeting(w.client, w.propose(hours_ahead=72)).status == "agreed"


def test_l17_a_cancelled_or_awaiting_meeting_is_no_conflict(w):
    lifecycle.cancel_meeting(w.client, client_meeting(w, w.client, 72), note="no")
    w.book(expert=w.colleague, hours_ahead=72)  # awaiting the colleague
    assert lifecycle.confirm_meeting(w.client, w.propose(hours_ahead=72)).status == "agreed"


def test_l17_l5_l12_b4_a_guest_is_warned_of_their_agreed_meetings_as_the_same_guest(w):
    """A guest confirming is warned too, of their agreed meetings as that guest (one guest per
    address and organization); the expert's other meetings are not the guest's concern."""
    other = w.book(service=w.free_service, expert=w.colleague, by=w.guest, hours_ahead=72)
    proposal = w.propose(to=w.guest, price=0, hours_ahead=72)
    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.guest, proposal)
    assert_warned(caught, other, "L5")
    assert lifecycle.confirm_meeting(w.guest, proposal, acknowledge_conflict=True).status == "agreed"

    meeting = lifecycle.propose_alternative(
        w.expert, w.book(service=w.free_service, by=w.guest, hours_ahead=120), start=at(96)
    )
    later = w.book(service=w.free_service, expert=w.colleague, by=w.guest, hours_ahead=96)
    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_alternative(w.guest, meeting)
    assert_warned(caught, later, "L12")

    options = [(at(96), 30), (at(100), 30)]
    offer = lifecycle.offer_time_options(w.expert, service=w.free_service, party=Party(guest=w.guest), options=options)
    first, second = offer.time_options.order_by("start")
    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.pick_time_option(w.guest, offer, first.pk)
    assert_warned(caught, later, "B4")
    assert lifecycle.pick_time_option(w.guest, offer, second.pk).start == at(100)


def test_l17_a_guest_is_not_warned_of_the_experts_meetings_with_others(w):
    client_meeting(w, w.client, 96)  # the client's, with the colleague
    proposal = lifecycle.propose_meeting(
        w.colleague, service=w.free_service, party=Party(guest=GuestFactory(organization=w.org)), start=at(96)
    )
    assert lifecycle.confirm_meeting(proposal.guest, proposal).status == "agreed"


def test_l17_the_warning_names_the_other_meeting_on_the_confirmers_own_clock(w):
    w.client.time_zone = "Europe/Amsterdam"
    w.client.save()
    other = client_meeting(w, w.client, 72)
    proposal = w.propose(hours_ahead=72)

    with refused(w.org, "conflict_warning", status=409, rule="L17") as caught:
        lifecycle.confirm_meeting(w.client, proposal)
    local = other.start.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"({other.service.name}, {local:%Y-%m-%d %H:%M} Europe/Amsterdam)" in caught.value.message
    assert f"{other.start:%H:%M}" != f"{local:%H:%M}"
