"""The expert's page to propose a meeting (B3) or offer several times (B4): who reaches it (O3),
the times on the expert's clock with the day the clocks change refused (Q1), the party a
client of the organization or a guest, bad input and the domain's refusals shown with nothing
made, and the client seeing the proposal on their meeting page."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from parlour.accounts.models import Guest
from parlour.meetings import lifecycle
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import Meeting, Status
from tests.factories import client as client_of
from tests.factories import member, world
from tests.meetings.checks import NOW
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db

# NOW is Monday 2 March 2026, 09:00 UTC.
LATER = "2026-03-05T10:00"  # Thursday, on the expert's clock


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db):
    return world()


def address(w) -> str:
    return reverse("web:propose", args=[w.org.slug])


def form(w, times: list[tuple[str, str]] | None = None, **fields) -> dict:
    """A filled form: to the world's client, one time by default."""
    times = [(LATER, "")] if times is None else times
    data = {
        "kind": "one",
        "service": w.service.pk,
        "party": "client",
        "client": w.client.pk,
        "subject": "Tax return",
        "description": "",
        "price": "",
        "time-TOTAL_FORMS": str(max(len(times), 1)),
        "time-INITIAL_FORMS": "0",
        "time-MIN_NUM_FORMS": "0",
        "time-MAX_NUM_FORMS": "5",
    }
    for n, (start, length) in enumerate(times):
        data[f"time-{n}-start"] = start
        data[f"time-{n}-length"] = length
    data.update(fields)
    return data


def alerts(response) -> list[str]:
    return re.findall(r'role="alert">([^<]*)<', text(response))


def errors(response) -> list[str]:
    return re.findall(r'<p class="error" id="[^"]+_error">([^<]*)</p>', text(response))


# --- O3: who reaches the page ---------------------------------------------------------


def test_o3_the_expert_sees_the_form_with_labels_on_every_field(w):
    response = signed_in(w.expert).get(address(w))
    assert response.status_code == 200
    html = text(response)
    assert "Propose a meeting" in html
    for name in ("service", "client", "guest_name", "guest_email", "guest_phone", "subject", "price"):
        assert f'<label for="id_{name}">' in html
    assert '<label for="id_time-0-start">' in html and '<label for="id_time-0-length">' in html
    assert "Cleo Client" in html and "Expert advice" in html
    assert 'id="add-time"' in html and 'id="time-row-template"' in html


def test_o3_a_member_who_is_not_an_expert_and_a_stranger_get_not_found(w):
    other = world()
    assert signed_in(w.admin).get(address(w)).status_code == 404  # an admin who gives no service
    assert signed_in(w.client).get(address(w)).status_code == 404  # a client of the organization
    assert signed_in(other.expert).get(address(w)).status_code == 404  # an expert elsewhere
    assert signed_in(other.expert).post(address(w), form(w)).status_code == 404
    assert not Meeting.objects.exists()


def test_o3_a_visitor_is_asked_to_sign_in(w):
    response = Client().get(address(w))
    assert response.status_code == 302 and "/signin/" in response["Location"]


def test_the_overview_shows_the_button_to_experts_only(w):
    overview = reverse("web:overview", args=[w.org.slug])
    assert address(w) in text(signed_in(w.expert).get(overview))
    assert address(w) not in text(signed_in(w.admin).get(overview))
    assert address(w) not in text(signed_in(w.client).get(overview))


# --- B3: one time ---------------------------------------------------------------------------


def test_b3_expert_proposes_to_a_client_and_the_client_sees_it_on_their_meeting_page(w):
    w.expert.time_zone = "Europe/Amsterdam"
    w.expert.save()
    browser = signed_in(w.expert)
    response = browser.post(address(w), form(w, [(LATER, "60")], price="80"))
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:meeting", args=[w.org.slug, meeting.pk])
    assert meeting.status == Status.AWAITING_APPROVAL and meeting.expert_approved and not meeting.client_approved
    assert meeting.client == w.client and meeting.expert == w.expert and meeting.price == 80
    assert meeting.start.isoformat() == "2026-03-05T09:00:00+00:00"  # 10:00 in Amsterdam (UTC+1)
    assert meeting.length_minutes == 60 and meeting.subject == "Tax return"
    followed = browser.get(response["Location"])
    assert "Your proposal is sent to Cleo Client." in text(followed)

    page = signed_in(w.client).get(response["Location"])
    assert page.status_code == 200
    assert "Tax return" in text(page) and "Eve Expert" in text(page)
    assert 'data-dialog="dialog-confirm"' in text(page)  # L5: the client may confirm it


def test_b3_an_empty_price_and_length_are_the_services(w):
    signed_in(w.expert).post(address(w), form(w))
    meeting = Meeting.objects.get()
    assert meeting.price == w.service.price and meeting.length_minutes == w.service.default_length


def test_b3_expert_proposes_to_a_new_guest(w):
    data = form(
        w,
        service=w.free_service.pk,
        party="guest",
        client="",
        guest_name="Gina Guest",
        guest_email="gina@example.net",
        guest_phone="+31 20 123 4567",
    )
    response = signed_in(w.expert).post(address(w), data)
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.guest.name == "Gina Guest" and meeting.guest.phone == "+31 20 123 4567" and meeting.client is None
    assert meeting.status == Status.AWAITING_APPROVAL and meeting.guest.organization == w.org


def test_b3_a_known_guest_is_the_same_guest(w):
    data = form(w, service=w.free_service.pk, party="guest", guest_name="Gus G.", guest_email=w.guest.email.upper())
    assert signed_in(w.expert).post(address(w), data).status_code == 302
    assert Meeting.objects.get().guest == w.guest
    assert Guest.objects.filter(organization=w.org).count() == 1


def test_b3_a_paid_meeting_for_a_guest_is_refused_and_leaves_no_guest(w):
    data = form(w, party="guest", guest_name="Gina Guest", guest_email="gina@example.net")  # paid service, no price
    response = signed_in(w.expert).post(address(w), data)
    assert response.status_code == 400
    assert alerts(response) == ["Only a client with an account can be offered a paid meeting."]
    assert not Meeting.objects.exists() and not Guest.objects.filter(email="gina@example.net").exists()
    assert 'value="Gina Guest"' in text(response)  # what was entered stays


# --- B4: several times ------------------------------------------------------------------------


def test_b4_expert_offers_three_times(w):
    times = [("2026-03-05T10:00", "60"), ("2026-03-06T14:30", ""), ("2026-03-04T08:00", "30")]
    browser = signed_in(w.expert)
    response = browser.post(address(w), form(w, times, kind="options"))
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.status == Status.PLANNING
    offered = [(o.start.isoformat(), o.length_minutes) for o in meeting.time_options.order_by("start")]
    assert offered == [
        ("2026-03-04T08:00:00+00:00", 30),
        ("2026-03-05T10:00:00+00:00", 60),
        ("2026-03-06T14:30:00+00:00", w.service.default_length),
    ]
    assert "Your times are sent to Cleo Client." in text(browser.get(response["Location"]))
    page = text(signed_in(w.client).get(response["Location"]))
    assert "Times offered" in page and reverse("web:pick_option", args=[w.org.slug, meeting.pk]) in page


def test_b4_without_javascript_add_another_time_gives_one_row_more(w):
    data = form(w, [(LATER, "60")], subject="Kept", add_time="1")
    response = signed_in(w.expert).post(address(w), data)
    assert response.status_code == 200 and not Meeting.objects.exists()
    html = text(response)
    assert 'id="id_time-1-start"' in html and 'id="id_time-2-start"' not in html
    assert 'value="Kept"' in html and f'value="{LATER}"' in html
    assert re.search(r'value="options"[^>]*checked', html)


# --- bad input: an error next to the field, nothing made -------------------------------------


@pytest.mark.parametrize(
    ("kind", "times", "message"),
    [
        ("one", [("", "")], "Give a date and time."),
        ("options", [("", ""), ("", "")], "Give a date and time."),
        ("options", [(LATER, "")], "Offer at least two times, or choose “One time”."),
        (
            "one",
            [(LATER, ""), ("2026-03-06T10:00", "")],
            "A proposal has one time; choose “Several times” to offer more.",
        ),
        ("one", [("2026-03-01T10:00", "")], "This time has passed. Choose a time in the future."),
        ("options", [(LATER, ""), (LATER, "")], "This time is offered twice."),
        ("one", [("next Tuesday", "")], "Enter a valid date/time."),
        ("one", [(LATER, "45")], "Select a valid choice. 45 is not one of the available choices."),
    ],
)
def test_b3_b4_bad_times_are_refused_next_to_their_field(w, kind, times, message):
    response = signed_in(w.expert).post(address(w), form(w, times, kind=kind))
    assert response.status_code == 400
    assert message in errors(response)
    assert alerts(response)  # the summary for screen readers
    assert not Meeting.objects.exists()


def test_b3_a_length_the_service_does_not_have_is_refused(w):
    response = signed_in(w.expert).post(address(w), form(w, [(LATER, "60")], service=w.free_service.pk))
    assert response.status_code == 400
    assert "Intro call lasts 15, 30 minutes." in errors(response)
    assert not Meeting.objects.exists()


def test_q1_a_local_time_that_does_not_exist_or_happens_twice_is_refused(w):
    w.expert.time_zone = "Europe/Amsterdam"
    w.expert.save()
    browser = signed_in(w.expert)
    # 29 March 2026: the clocks go from 02:00 to 03:00 in Amsterdam; 02:30 does not exist.
    response = browser.post(address(w), form(w, [("2026-03-29T02:30", "")]))
    assert response.status_code == 400
    assert any("couldn’t be interpreted in time zone Europe/Amsterdam" in e for e in errors(response))
    # 25 October 2026: 02:30 happens twice.
    response = browser.post(address(w), form(w, [("2026-10-25T02:30", ""), (LATER, "")], kind="options"))
    assert response.status_code == 400
    assert any("Europe/Amsterdam" in e for e in errors(response))
    assert not Meeting.objects.exists()


def test_o3_another_organizations_client_or_service_is_not_a_choice(w):
    other = world()
    stranger = client_of(other.org, name="Sam Stranger")
    browser = signed_in(w.expert)
    for data in (form(w, client=stranger.pk), form(w, client=other.client.pk), form(w, service=other.service.pk)):
        response = browser.post(address(w), data)
        assert response.status_code == 400
        assert any("Select a valid choice" in e for e in errors(response))
    assert "Sam Stranger" not in text(browser.get(address(w)))
    assert not Meeting.objects.exists()


def test_b3_the_party_needs_its_fields(w):
    browser = signed_in(w.expert)
    response = browser.post(address(w), form(w, client=""))
    assert "Choose a client." in errors(response)
    response = browser.post(address(w), form(w, party="guest", guest_email="not an address"))
    assert "Give the guest’s name." in errors(response)
    assert "Enter a valid email address." in errors(response)
    response = browser.post(address(w), form(w, price="-1"))
    assert "Ensure this value is greater than or equal to 0." in errors(response)
    assert not Meeting.objects.exists()


def test_b3_a_service_the_expert_does_not_give_is_not_a_choice(w):
    other_service = w.service.__class__.objects.create(organization=w.org, name="Legal", price=0, lengths=[30])
    other_service.experts.add(w.colleague)
    response = signed_in(w.expert).post(address(w), form(w, service=other_service.pk))
    assert response.status_code == 400 and not Meeting.objects.exists()


def test_b3_an_expert_without_services_is_told_so(w):
    newcomer = member(w.org, name="Nina Newcomer")
    response = signed_in(newcomer).get(address(w))
    assert response.status_code == 200
    assert "You give no service of this organization yet." in text(response)
    assert signed_in(newcomer).post(address(w), form(w)).status_code == 400
    assert not Meeting.objects.exists()


def test_b3_the_meeting_page_offers_its_expert_a_new_proposal_to_the_same_person(w):
    """B3 "from a meeting": the expert's meeting page links to the proposal form filled in
    with the meeting's service and its client (or guest); the client sees no such link."""
    import html

    meeting = w.book(hours_ahead=30)
    page = text(signed_in(w.expert).get(f"/o/{w.org.slug}/meetings/{meeting.pk}/"))
    link = re.search(r'<a class="button" href="([^"]+)">Propose another meeting to ([^<]+)</a>', page)
    assert link is not None and link.group(2) == w.client.name
    proposal = text(signed_in(w.expert).get(html.unescape(link.group(1))))
    assert re.search(rf'<option value="{w.client.pk}" selected>', proposal)
    assert re.search(rf'<option value="{meeting.service_id}" selected>', proposal)
    assert "Propose another meeting" not in text(signed_in(w.client).get(f"/o/{w.org.slug}/meetings/{meeting.pk}/"))

    guest_meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=40)
    page = text(signed_in(w.expert).get(f"/o/{w.org.slug}/meetings/{guest_meeting.pk}/"))
    link = re.search(r'<a class="button" href="([^"]+)">Propose another meeting to ', page)
    proposal = text(signed_in(w.expert).get(html.unescape(link.group(1))))
    assert f'value="{w.guest.email}"' in proposal and f'value="{w.guest.name}"' in proposal
    assert re.search(r'value="guest"[^>]*checked|checked[^>]*value="guest"', proposal)


def test_b3_an_admin_who_gives_a_service_finds_the_proposal_form_by_clicking(w):
    """An admin has no expert role, but one who gives a service proposes like an expert:
    the overview and their own meeting's page offer it; an admin who gives none sees neither."""
    overview = f"/o/{w.org.slug}/meetings/"
    assert "Propose a meeting" not in text(signed_in(w.admin).get(overview))
    w.free_service.experts.add(w.admin)
    assert f'href="{address(w)}"' in text(signed_in(w.admin).get(overview))
    assert signed_in(w.admin).get(address(w)).status_code == 200
    start = NOW + timedelta(hours=30)
    meeting = lifecycle.propose_meeting(
        w.admin, service=w.free_service, party=Party(client=w.client), start=start, length=30, price=0
    )
    page = text(signed_in(w.admin).get(f"/o/{w.org.slug}/meetings/{meeting.pk}/"))
    assert f"Propose another meeting to {w.client.name}" in page
