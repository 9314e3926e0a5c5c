"""Every rule of a meeting's life (SPEC §4, L1–L19), and booking a free slot (B1), walked
through the JSON API on the demo organization: what a newcomer can do after ``parlour demo``
and ``parlour run`` (I4).

The demo is loaded by the very function ``parlour demo`` calls, ``parlour.demo.load()``, at two
moments of a day: just after and just before midnight UTC. The demo's meetings are at set
hours of the experts' working days counted from "today" on their own clocks, so how near they
are depends on the moment it is loaded; ``tests/test_demo.py`` loads it on every day of a week
and checks the distances these walks rely on. Its people sign in through the API with the
password the demo prints: by session with CSRF enforced, as a browser does, or with a personal
token made through the API, as a script does. They find meetings as a user would, in the
meetings list by status and subject. What a step asserts is what the user checks through the
API: status, credit status, the timeline's new events and the wallet.

Where a rule needs a distance to the start, time-machine moves "now", always forward. L18
has no action in the API: lapsing is time-driven, so the domain's own function runs once
the start has passed, and the API shows what it did."""

import json
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from parlour import demo
from parlour.accounts.models import User
from parlour.availability import search
from parlour.availability.search import Query
from parlour.catalog.models import ExpertProfile, Service
from parlour.core import clock
from parlour.meetings import lifecycle
from parlour.meetings.models import Meeting

API = "/api/v1"
ORG = f"{API}/orgs/{demo.SLUG}"
NOTICE = timedelta(hours=48)  # the demo keeps the default cancellation notice (O5)

LOADED_AT = {
    "loaded-just-after-midnight": datetime(2030, 3, 27, 0, 5, tzinfo=UTC),
    "loaded-just-before-midnight": datetime(2030, 3, 27, 23, 55, tzinfo=UTC),
}


# --- the newcomer's tools: a clock, a signed-in person, a few ways to compare ----------


class Clock:
    """'Now' for the whole walk. It only ever moves forward, as real time does."""

    def __init__(self, traveller) -> None:
        self.traveller = traveller

    @staticmethod
    def now() -> datetime:
        return clock.now()

    def move_to(self, moment: datetime) -> None:
        assert moment >= clock.now(), "time only moves forward"
        self.traveller.move_to(moment)


@pytest.fixture(params=list(LOADED_AT.values()), ids=list(LOADED_AT))
def now(request, db):
    with time_machine.travel(request.param, tick=False) as traveller:
        loaded = demo.load()  # exactly what `parlour demo` runs
        assert loaded is not None
        assert loaded.organization.settings.cancellation_notice_hours * 3600 == NOTICE.total_seconds()
        traveller.shift(timedelta(minutes=5))  # `parlour run`, then the newcomer signs in
        yield Clock(traveller)


class Person:
    """A demo person using the API: signed in by session as a browser is (CSRF enforced), or,
    with ``token=True``, by a personal token made through the API, as a script is."""

    def __init__(self, key: str, *, token: bool = False) -> None:
        self.email = demo.ADMIN_EMAIL if key == "ada" else demo.email(key)
        # The API answers in the person's language (D4); this walk reads it in English, as
        # its assertions are written (tests/test_domain_translations.py reads the others).
        User.objects.filter(email__iexact=self.email).update(language="en")
        self.browser = Client(enforce_csrf_checks=True)
        self.headers: dict[str, str] = {}
        csrf = self.get(f"{API}/auth/csrf")["csrf_token"]
        self.headers = {"X-CSRFToken": csrf}
        signed_in = self.post(f"{API}/auth/login", {"email": self.email, "password": demo.PASSWORD})
        self.name = signed_in["me"]["name"]
        self.role = {org["slug"]: org["role"] for org in signed_in["me"]["organizations"]}[demo.SLUG]
        self.headers = {"X-CSRFToken": signed_in["csrf_token"]}  # Django rotates it at sign-in
        if token:
            made = self.post(f"{API}/me/tokens", {"name": "walkthrough"}, expect=201)
            self.browser = Client(enforce_csrf_checks=True)  # no cookies at all from here on
            self.headers = {"Authorization": f"Bearer {made['token']}"}

    # HTTP

    def get(self, path: str, expect: int = 200, **params) -> dict | list:
        url = path if path.startswith(API) else ORG + path
        response = self.browser.get(url, params, headers=self.headers)
        assert response.status_code == expect, response.content
        return response.json()

    def post(self, path: str, body: dict | None = None, expect: int = 200) -> dict:
        url = path if path.startswith(API) else ORG + path
        data = json.dumps({} if body is None else body)
        response = self.browser.post(url, data, content_type="application/json", headers=self.headers)
        assert response.status_code == expect, response.content
        return response.json()

    def pages(self, path: str, **params) -> list[dict]:
        """Every row of a paged list, following ``next_cursor``."""
        rows, cursor = [], None
        while True:
            page = self.get(path, limit=100, **params, **({"cursor": cursor} if cursor else {}))
            rows += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return rows

    # meetings

    def subjects(self, status: str, tab: str = "my") -> set[str]:
        return {row["subject"] for row in self.pages("/meetings", tab=tab, status=status)}

    def find(self, subject: str, status: str, tab: str = "my") -> dict:
        """A meeting as a user finds it: in the My (or Everyone) list by status and subject,
        then opened, with its timeline."""
        rows = [row for row in self.pages("/meetings", tab=tab, status=status) if row["subject"] == subject]
        assert len(rows) == 1, f"{self.name} sees {len(rows)} {status} meetings named {subject!r}"
        return self.read(rows[0])

    def read(self, meeting: dict) -> dict:
        return self.get(f"/meetings/{meeting['id']}")

    def act(self, meeting: dict, action: str, body: dict | None = None, expect: int = 200) -> dict:
        return self.post(f"/meetings/{meeting['id']}/{action}", body, expect)

    def refused(self, meeting: dict, action: str, body: dict | None, status: int, code: str, rule: str) -> dict:
        """The action is refused with the rule that decided it, and nothing changed."""
        before = self.read(meeting)
        answer = self.act(meeting, action, body, expect=status)
        assert (answer["code"], answer["rule"]) == (code, rule), answer
        assert self.read(meeting) == before
        return answer

    # credits

    def wallet(self) -> dict:
        return self.get("/wallet")

    def history(self, meeting: dict) -> list[tuple[str, int, int]]:
        """The wallet's movements for one meeting, newest first: (name, amount, moved)."""
        return [
            (row["name"], row["amount"], row["moved"])
            for row in self.pages("/wallet/history")
            if row["meeting_id"] == meeting["id"]
        ]


def added(before: dict, after: dict) -> list[str]:
    """The titles of the events an action added; what was there before stays as it was."""
    assert after["timeline"][: len(before["timeline"])] == before["timeline"]
    return [event["title"] for event in after["timeline"][len(before["timeline"]) :]]


def change(before: dict, after: dict) -> dict:
    return {"available": after["available"] - before["available"], "blocked": after["blocked"] - before["blocked"]}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def expert_id(person: Person, name: str) -> int:
    return next(expert["id"] for expert in person.get("/experts") if expert["name"] == name)


# --- signing in ------------------------------------------------------------------------


def test_i4_every_demo_person_signs_in_through_the_api(now):
    """O1, I2: the emails `parlour demo` prints and its one password, by session with CSRF;
    a personal token made through the API works without cookies."""
    roles = {"ada": "admin", **dict.fromkeys(demo.EXPERTS, "expert"), **dict.fromkeys(demo.CLIENTS, "client")}
    for key, role in roles.items():
        assert Person(key).role == role
    script = Person("ada", token=True)
    assert script.get(f"{API}/me")["email"] == demo.ADMIN_EMAIL
    assert script.subjects("agreed", tab="everyone") >= {"First steps as a team lead", "A four-day week"}


def in_hours(profile: ExpertProfile, local: datetime, minutes: int) -> bool:
    """Whether [local, local + minutes) lies in one of the expert's weekly hours (E3)."""
    end = local + timedelta(minutes=minutes)
    return end.date() == local.date() and any(
        hours.start <= local.time() and (end.time() <= hours.end or hours.end == time(0))
        for hours in profile.weekly_hours.filter(weekday=local.weekday())
    )


def test_b1_a_client_books_a_free_slot_of_every_demo_expert_within_days(now):
    """B1, E3, E4: after `parlour demo` every expert has published free dates, so a client can
    book each of them within the next days. Nina takes each expert's first free slot after her
    previous booking, as the slot engine computes it (``search.expert_slots``), and books it
    through the API: it lies in the expert's weekly hours on their own clock, and the meeting is
    agreed at once. The same time is then taken for anyone else; the night is not bookable."""
    nina, cleo = Person("nina"), Person("cleo")
    intro = Service.objects.get(organization__slug=demo.SLUG, name="Intro call")
    free_from, within = now.now(), now.now() + timedelta(days=4)
    for key, (name, zone, *_) in demo.EXPERTS.items():
        profile = ExpertProfile.objects.get(membership__organization__slug=demo.SLUG, membership__user__name=name)
        slots = search.expert_slots(intro, profile, Query(15, free_from, within, now.now()))
        assert slots, f"{name} has no free slot in the next days"
        start = slots[0]
        local = start.astimezone(ZoneInfo(zone))
        assert in_hours(profile, local, 15) and local.minute % 15 == 0, local
        booking = {"service_id": intro.pk, "expert_id": profile.membership.user_id, "length": 15}

        done = nina.post("/meetings/book", {**booking, "start": iso(start), "subject": f"Hello {key}"}, expect=201)

        assert (done["status"], at(done["start"]), done["expert"]["name"]) == ("agreed", start, name)
        assert [event["title"] for event in done["timeline"]] == ["Meeting booked by client", "Approved by client"]
        taken = cleo.post("/meetings/book", {**booking, "start": iso(start)}, expect=409)
        assert (taken["code"], taken["rule"]) == ("slot_taken", "B1")
        night = datetime.combine(local.date() + timedelta(days=1), time(3), tzinfo=ZoneInfo(zone))
        closed = cleo.post("/meetings/book", {**booking, "start": iso(night)}, expect=409)
        assert (closed["code"], closed["rule"]) == ("not_free", "B1")
        free_from = start + timedelta(minutes=15)  # Nina's next meeting starts after this one


def test_every_l_rule_is_walked_here():
    walked = {int(m.group(1)) for name in globals() if (m := re.match(r"test_l(\d+)_", name))}
    assert walked == set(range(1, 20))


# --- answering a request or a proposal (L1–L6) -------------------------------------------


def test_l1_client_cancels_own_request_awaiting_the_expert(now):
    chris, tom = Person("chris"), Person("tom")
    meeting = chris.find("Review of my Django app", "awaiting_approval")
    assert (meeting["origin"], meeting["credit_status"]) == ("client", "blocked")
    # The expert answers a client's request; he cannot withdraw it.
    tom.refused(meeting, "cancel", {"reason": "other"}, 409, "not_your_request", "L4")
    wallet = chris.wallet()

    done = chris.act(meeting, "cancel", {"note": "Found the bug myself."})

    assert (done["status"], done["credit_status"]) == ("cancelled", "returned")
    assert added(meeting, done) == ["Cancelled by client"]
    assert change(wallet, chris.wallet()) == {"available": meeting["price"], "blocked": -meeting["price"]}
    assert chris.history(meeting)[0] == ("Returned", 0, meeting["price"])


def test_l2_expert_confirms_a_client_request(now):
    tom, chris = Person("tom"), Person("chris")
    meeting = tom.find("Review of my Django app", "awaiting_approval")
    # The client already approved by booking; only the other side confirms.
    chris.refused(meeting, "confirm", {}, 409, "already_approved", "L2")

    done = tom.act(meeting, "confirm")

    assert (done["status"], done["credit_status"]) == ("agreed", "blocked")
    assert done["client_approved"] and done["expert_approved"]
    assert added(meeting, done) == ["Approved by expert"]
    seen = chris.find("Review of my Django app", "agreed")
    assert (seen["displayed_status"], seen["displayed_status_label"]) == ("scheduled", "Scheduled")


def test_l3_expert_rejects_a_request_with_a_reason_from_the_list(now):
    tom, chris = Person("tom"), Person("chris")
    meeting = tom.find("Review of my Django app", "awaiting_approval")
    reasons = [choice["code"] for choice in tom.get("/reasons")["reject"]]
    assert "not_my_field" in reasons
    tom.refused(meeting, "reject", {"reason": "too busy"}, 422, "invalid_input", "Q2")
    wallet = chris.wallet()

    note = "Tina knows Django far better than I do; ask her."
    done = tom.act(meeting, "reject", {"reason": "not_my_field", "note": note})

    assert (done["status"], done["credit_status"]) == ("rejected", "returned")
    assert added(meeting, done) == ["Rejected by expert"]
    event = done["timeline"][-1]
    assert (event["actor"], event["reason"], event["data"]["code"]) == ("Tom Baker", note, "not_my_field")
    assert change(wallet, chris.wallet()) == {"available": meeting["price"], "blocked": -meeting["price"]}
    assert chris.find("Review of my Django app", "rejected")["timeline"] == done["timeline"]


def test_l4_expert_cancels_own_proposal(now):
    eve, nina = Person("eve"), Person("nina")
    meeting = eve.find("Preparing your promotion case", "awaiting_approval")
    assert (meeting["origin"], meeting["credit_status"]) == ("expert", "none")
    # The client answers an expert's proposal; she cannot cancel it.
    nina.refused(meeting, "cancel", {"note": "No thanks."}, 409, "not_your_request", "L1")
    wallet = nina.wallet()

    done = eve.act(meeting, "cancel", {"note": "Let us wait for the new review cycle."})

    assert (done["status"], done["credit_status"]) == ("cancelled", "none")
    assert added(meeting, done) == ["Cancelled by expert"]
    assert nina.wallet() == wallet
    assert nina.find("Preparing your promotion case", "cancelled")["id"] == meeting["id"]


def test_l5_client_confirms_a_proposal_and_its_price_is_blocked(now):
    nina, eve = Person("nina"), Person("eve")
    meeting = nina.find("Preparing your promotion case", "awaiting_approval")
    wallet = nina.wallet()
    assert wallet["available"] >= meeting["price"] > 0

    done = nina.act(meeting, "confirm")

    assert (done["status"], done["credit_status"]) == ("agreed", "blocked")
    assert added(meeting, done) == ["Approved by client"]
    assert change(wallet, nina.wallet()) == {"available": -meeting["price"], "blocked": meeting["price"]}
    assert nina.history(meeting) == [("Blocked for meeting", 0, meeting["price"])]
    assert eve.find("Preparing your promotion case", "agreed")["client_approved"]


def test_l6_client_rejects_a_proposal_with_a_reason(now):
    nina, eve = Person("nina"), Person("eve")
    meeting = nina.find("Preparing your promotion case", "awaiting_approval")
    wallet = nina.wallet()

    done = nina.act(meeting, "reject", {"reason": "price", "note": "Ninety minutes is more than I need."})

    assert (done["status"], done["credit_status"]) == ("rejected", "none")
    assert not done["client_approved"]
    assert added(meeting, done) == ["Rejected by client"]
    assert done["timeline"][-1]["actor"] == "Nina Newcomer"
    assert nina.wallet() == wallet
    assert eve.find("Preparing your promotion case", "rejected")["id"] == meeting["id"]


# --- cancelling an agreed meeting (L7–L9) ------------------------------------------------


def test_l7_client_cancels_an_agreed_meeting_well_ahead(now):
    chris, carl = Person("chris"), Person("carl")
    meeting = chris.find("A four-day week", "agreed")
    assert at(meeting["start"]) - now.now() > NOTICE
    chris.refused(meeting, "cancel", {}, 400, "reason_required", "L7")
    wallet = chris.wallet()

    note = "My manager agreed before I needed the advice."
    done = chris.act(meeting, "cancel", {"note": note})

    assert (done["status"], done["credit_status"]) == ("cancelled", "returned")
    assert added(meeting, done) == ["Cancelled by client"]
    assert done["timeline"][-1]["reason"] == note
    assert change(wallet, chris.wallet()) == {"available": meeting["price"], "blocked": -meeting["price"]}
    assert "A four-day week" in carl.subjects("cancelled")


def test_l8_late_cancellation_charges_half_after_the_client_confirms(now):
    cleo, carl = Person("cleo"), Person("carl")
    meeting = cleo.find("A difficult colleague", "agreed")
    now.move_to(at(meeting["start"]) - timedelta(hours=6))  # the morning of the meeting
    wallet, pay = cleo.wallet(), carl.wallet()
    note = "Sorry, my flight home was moved to today."

    # First the client hears what would be charged, and nothing happens ...
    warned = cleo.refused(meeting, "cancel", {"note": note}, 409, "late_cancellation_charge", "L8")
    assert warned["details"] == {"charged": 30, "returned": 30}  # 50 % of 60
    # ... then she confirms, knowing it.
    done = cleo.act(meeting, "cancel", {"note": note, "confirm_late": True})

    assert (done["status"], done["credit_status"]) == ("cancelled", "reimbursed_cancellation")
    assert added(meeting, done) == ["Cancelled by client", "Reimbursed to expert"]
    assert change(wallet, cleo.wallet()) == {"available": 30, "blocked": -60}
    assert cleo.history(meeting) == [
        ("Returned", 0, 30),
        ("Deduction of credits for services", -30, 30),
        ("Blocked for meeting", 0, 60),
    ]
    # The expert is paid the charge less the platform's 20 %.
    assert carl.history(meeting) == [("Payment of credits for services", 24, 24)]
    assert change(pay, carl.wallet()) == {"available": 24, "blocked": 0}


def test_l9_expert_cancels_inside_the_notice_after_a_warning(now):
    eve, cleo = Person("eve"), Person("cleo")
    meeting = eve.find("First steps as a team lead", "agreed")
    now.move_to(at(meeting["start"]) - timedelta(hours=24))
    reasons = [choice["code"] for choice in eve.get("/reasons")["expert_cancel"]]
    assert "illness" in reasons
    eve.refused(meeting, "cancel", {"reason": "a cold"}, 400, "invalid_reason", "L9")
    eve.refused(meeting, "cancel", {"reason": "illness"}, 409, "late_cancellation_warning", "L9")
    wallet = cleo.wallet()

    done = eve.act(meeting, "cancel", {"reason": "illness", "confirm_late": True})

    assert (done["status"], done["credit_status"]) == ("cancelled", "returned")
    assert added(meeting, done) == ["Cancelled by expert"]
    assert done["timeline"][-1]["data"]["code"] == "illness"
    # All of it returns to the client, late or not.
    assert change(wallet, cleo.wallet()) == {"available": 60, "blocked": -60}


def test_l9_expert_cancels_well_ahead_without_a_warning(now):
    carl, chris = Person("carl"), Person("chris")
    meeting = carl.find("A four-day week", "agreed")
    assert at(meeting["start"]) - now.now() > NOTICE
    wallet = chris.wallet()

    done = carl.act(meeting, "cancel", {"reason": "schedule_conflict", "note": "A board meeting was moved."})

    assert (done["status"], done["credit_status"]) == ("cancelled", "returned")
    assert added(meeting, done) == ["Cancelled by expert"]
    assert change(wallet, chris.wallet()) == {"available": 60, "blocked": -60}


# --- alternative dates (L10–L14) ------------------------------------------------------


def test_l10_reschedule_an_agreed_meeting_keeps_the_date_until_the_other_side_confirms(now):
    carl, chris = Person("carl"), Person("chris")
    meeting = carl.find("A four-day week", "agreed")
    later = at(meeting["start"]) + timedelta(days=1)
    wallet = chris.wallet()

    proposed = carl.act(meeting, "alternative/propose", {"start": iso(later)})

    assert (proposed["status"], proposed["start"], proposed["credit_status"]) == ("agreed", meeting["start"], "blocked")
    alternative = proposed["pending_alternative"]
    assert (alternative["proposed_by"], at(alternative["start"])) == ("expert", later)
    assert added(meeting, proposed) == ["Alternative date proposed by expert", "Approved by expert"]
    # One open question at a time.
    other_date = {"start": iso(later + timedelta(hours=2))}
    chris.refused(meeting, "alternative/propose", other_date, 409, "alternative_pending", "L10")
    # The client sees the original date, still valid, and the proposal beside it.
    seen = chris.find("A four-day week", "agreed")
    assert (seen["start"], seen["pending_alternative"]) == (meeting["start"], alternative)

    confirmed = chris.act(meeting, "alternative/confirm")

    assert at(confirmed["start"]) == later and confirmed["pending_alternative"] is None
    assert added(proposed, confirmed) == ["Alternative date approved by client"]
    assert chris.wallet() == wallet


def test_l11_client_reschedules_a_rejected_meeting_and_the_expert_confirms_l12(now):
    nina, carl = Person("nina"), Person("carl")
    meeting = nina.find("CV", "rejected")
    later = at(meeting["start"]) + timedelta(days=1)
    wallet = nina.wallet()

    proposed = nina.act(meeting, "alternative/propose", {"start": iso(later)})

    # The client approves the new date, so its price is blocked now.
    assert (proposed["status"], proposed["credit_status"]) == ("rejected", "blocked")
    assert proposed["pending_alternative"]["proposed_by"] == "client"
    assert added(meeting, proposed) == ["Alternative date proposed by client", "Approved by client"]
    assert change(wallet, nina.wallet()) == {"available": -60, "blocked": 60}

    confirmed = carl.act(meeting, "alternative/confirm")

    assert (confirmed["status"], confirmed["credit_status"], at(confirmed["start"])) == ("agreed", "blocked", later)
    assert added(proposed, confirmed) == ["Alternative date approved by expert"]
    assert change(wallet, nina.wallet()) == {"available": -60, "blocked": 60}  # blocked once, not twice


def test_l11_expert_reschedules_a_rejected_meeting_and_credits_move_when_the_client_confirms_l12(now):
    carl, nina = Person("carl"), Person("nina")
    meeting = carl.find("CV", "rejected")
    later = at(meeting["start"]) + timedelta(days=2)
    wallet = nina.wallet()

    proposed = carl.act(meeting, "alternative/propose", {"start": iso(later)})

    assert (proposed["status"], proposed["credit_status"]) == ("rejected", "returned")
    assert added(meeting, proposed) == ["Alternative date proposed by expert", "Approved by expert"]
    assert nina.wallet() == wallet

    confirmed = nina.act(meeting, "alternative/confirm")

    assert (confirmed["status"], confirmed["credit_status"], at(confirmed["start"])) == ("agreed", "blocked", later)
    assert added(proposed, confirmed) == ["Alternative date approved by client"]
    assert change(wallet, nina.wallet()) == {"available": -60, "blocked": 60}


def test_l12_expert_confirms_the_clients_pending_alternative(now):
    tom, chris = Person("tom"), Person("chris")
    meeting = tom.find("S3 bucket policies", "agreed")
    alternative = meeting["pending_alternative"]
    assert alternative["proposed_by"] == "client"
    # Only the other side confirms it.
    chris.refused(meeting, "alternative/confirm", {}, 409, "own_alternative", "L12")
    wallet = chris.wallet()

    done = tom.act(meeting, "alternative/confirm")

    assert (done["status"], done["credit_status"]) == ("agreed", "blocked")
    assert (done["start"], done["end"], done["pending_alternative"]) == (alternative["start"], alternative["end"], None)
    assert added(meeting, done) == ["Alternative date approved by expert"]
    assert chris.find("S3 bucket policies", "agreed")["start"] == alternative["start"]
    assert chris.wallet() == wallet


def test_l13_expert_rejects_the_pending_alternative_and_the_date_stays(now):
    tom, chris = Person("tom"), Person("chris")
    meeting = tom.find("S3 bucket policies", "agreed")
    wallet = chris.wallet()

    note = "I teach a class in the afternoons."
    done = tom.act(meeting, "alternative/reject", {"reason": "not_available", "note": note})

    assert (done["status"], done["credit_status"], done["start"]) == ("agreed", "blocked", meeting["start"])
    assert done["pending_alternative"] is None
    assert added(meeting, done) == ["Alternative date rejected by expert"]
    assert done["timeline"][-1]["reason"] == note
    assert chris.wallet() == wallet


def test_l13_on_a_rejected_meeting_what_was_blocked_for_the_alternative_returns(now):
    nina, carl = Person("nina"), Person("carl")
    meeting = nina.find("CV", "rejected")
    wallet = nina.wallet()
    proposed = nina.act(meeting, "alternative/propose", {"start": iso(at(meeting["start"]) + timedelta(days=1))})
    assert change(wallet, nina.wallet()) == {"available": -60, "blocked": 60}

    done = carl.act(meeting, "alternative/reject", {"reason": "not_available"})

    assert (done["status"], done["credit_status"], done["pending_alternative"]) == ("rejected", "returned", None)
    assert added(proposed, done) == ["Alternative date rejected by expert"]
    assert nina.wallet() == wallet


def test_l14_the_proposer_withdraws_the_alternative(now):
    chris, tom = Person("chris"), Person("tom")
    meeting = chris.find("S3 bucket policies", "agreed")
    tom.refused(meeting, "alternative/withdraw", None, 403, "not_your_alternative", "L14")

    done = chris.act(meeting, "alternative/withdraw")

    assert (done["status"], done["start"], done["pending_alternative"]) == ("agreed", meeting["start"], None)
    assert added(meeting, done) == ["Alternative date withdrawn by client"]
    assert tom.find("S3 bucket policies", "agreed")["pending_alternative"] is None


# --- reassigning and changing directly (L15, L16) --------------------------------------


def test_l15_the_expert_hands_a_planning_meeting_to_a_colleague(now):
    carl, eve, cleo = Person("carl"), Person("eve"), Person("cleo")
    meeting = carl.find("Moving from teaching into UX research", "planning")
    assert "Moving from teaching into UX research" not in eve.subjects("planning")

    done = carl.act(meeting, "reassign", {"expert_id": expert_id(carl, "Eve Evans")})

    assert (done["status"], done["expert"]["name"]) == ("planning", "Eve Evans")
    assert added(meeting, done) == ["Reassigned to another expert"]
    event = done["timeline"][-1]
    assert (event["side"], event["actor"], event["data"]) == (
        "expert",
        "Carl Novak",
        {"previous": "Carl Novak", "expert": "Eve Evans"},
    )
    assert eve.find("Moving from teaching into UX research", "planning")["id"] == meeting["id"]
    assert "Moving from teaching into UX research" not in carl.subjects("planning")
    assert cleo.find("Moving from teaching into UX research", "planning")["expert"]["name"] == "Eve Evans"


def test_l15_an_admin_reassigns_an_agreed_meeting(now):
    ada, carl, eve, cleo = Person("ada", token=True), Person("carl"), Person("eve"), Person("cleo")
    meeting = ada.find("First steps as a team lead", "agreed", tab="everyone")
    carl_id = expert_id(ada, "Carl Novak")
    # A colleague who is neither its expert nor an admin may see it, not reassign it.
    carl.refused(meeting, "reassign", {"expert_id": carl_id}, 403, "wrong_side", "L15")

    done = ada.act(meeting, "reassign", {"expert_id": carl_id})

    assert (done["status"], done["expert"]["name"], done["start"]) == ("agreed", "Carl Novak", meeting["start"])
    assert added(meeting, done) == ["Reassigned to another expert"]
    assert (done["timeline"][-1]["side"], done["timeline"][-1]["actor"]) == ("admin", "Ada Admin")
    assert carl.find("First steps as a team lead", "agreed")["id"] == meeting["id"]
    assert "First steps as a team lead" not in eve.subjects("agreed")
    assert cleo.find("First steps as a team lead", "agreed")["expert"]["name"] == "Carl Novak"


def test_l16_either_side_changes_time_and_length_of_a_meeting_needing_no_confirmation(now):
    tina, cleo = Person("tina"), Person("cleo")
    meeting = tina.find("Is mentoring for me?", "agreed")
    assert meeting["client"]["kind"] == "guest"
    service = next(s for s in tina.get("/services") if s["id"] == meeting["service"]["id"])
    assert not service["requires_confirmation"] and 15 in service["lengths"]
    # Only to another free slot (E4): not in the middle of Tina's night.
    night = {"start": iso(at(meeting["start"]) + timedelta(hours=12)), "length": 15}
    tina.refused(meeting, "change-time", night, 409, "not_free", "L16")
    later = at(meeting["start"]) + timedelta(hours=1)  # still inside her hours, and free

    done = tina.act(meeting, "change-time", {"start": iso(later), "length": 15})

    assert (done["status"], at(done["start"]), done["length"]) == ("agreed", later, 15)
    assert at(done["end"]) == later + timedelta(minutes=15)
    assert added(meeting, done) == ["Time or length changed by expert"]
    assert at(done["timeline"][-1]["data"]["previous"]) == at(meeting["start"])
    # A service that needs confirmation moves by an alternative date instead (L10).
    other = cleo.find("First steps as a team lead", "agreed")
    an_hour_later = {"start": iso(at(other["start"]) + timedelta(hours=1))}
    cleo.refused(other, "change-time", an_hour_later, 409, "needs_confirmation", "L16")


# --- conflicts, lapsing, the timeline (L17–L19) ------------------------------------------


def test_l17_confirming_over_an_agreed_meeting_warns_and_names_it(now):
    cleo = Person("cleo")
    proposal = cleo.find("Reviewing your first pull requests", "awaiting_approval")
    agreed = cleo.find("First steps as a team lead", "agreed")
    assert at(proposal["start"]) < at(agreed["end"]) and at(agreed["start"]) < at(proposal["end"])
    wallet = cleo.wallet()

    warned = cleo.refused(proposal, "confirm", {}, 409, "conflict_warning", "L17")
    assert warned["details"] == {"conflicting_meeting": agreed["id"], "confirms": "L5"}
    assert agreed["service"]["name"] in warned["message"]
    assert cleo.wallet() == wallet

    done = cleo.act(proposal, "confirm", {"acknowledge_conflict": True})

    assert (done["status"], done["credit_status"]) == ("agreed", "blocked")
    assert added(proposal, done) == ["Approved by client"]
    assert change(wallet, cleo.wallet()) == {"available": -done["price"], "blocked": done["price"]}
    assert cleo.read(agreed)["status"] == "agreed"  # both stand, as she chose


def lapse(meeting: dict) -> None:
    """What the time-driven lapse does to a meeting (L18); there is no API action for it."""
    lifecycle.lapse_meeting(Meeting.objects.get(pk=meeting["id"]))


def test_l18_an_unanswered_request_lapses_when_its_start_passes(now):
    chris, tom = Person("chris"), Person("tom")
    meeting = chris.find("Review of my Django app", "awaiting_approval")
    wallet = chris.wallet()
    lapse(meeting)  # before its start nothing happens
    assert chris.read(meeting) == meeting

    now.move_to(at(meeting["start"]) + timedelta(minutes=1))
    lapse(meeting)

    done = chris.find("Review of my Django app", "cancelled")
    assert done["credit_status"] == "returned"
    assert added(meeting, done) == ["Lapsed without answer"]
    assert (done["timeline"][-1]["side"], done["timeline"][-1]["actor"]) == ("system", "Parlour")
    assert change(wallet, chris.wallet()) == {"available": meeting["price"], "blocked": -meeting["price"]}
    # Too late to answer now.
    tom.refused(meeting, "confirm", {}, 409, "wrong_state", "L2")


def test_l18_an_unpicked_offer_of_times_lapses_and_so_did_the_demos_old_request(now):
    cleo, chris = Person("cleo"), Person("chris")
    offer = cleo.find("Moving from teaching into UX research", "planning")
    now.move_to(at(offer["start"]) + timedelta(minutes=1))  # its earliest time has passed
    lapse(offer)

    done = cleo.find("Moving from teaching into UX research", "cancelled")
    assert added(offer, done) == ["Lapsed without answer"]
    old = chris.find("Interview prep", "cancelled")
    assert (old["credit_status"], old["timeline"][-1]["title"]) == ("returned", "Lapsed without answer")


def test_l19_the_timeline_says_who_did_what_when_and_why(now):
    nina, carl, tina = Person("nina"), Person("carl"), Person("tina")
    meeting = nina.find("CV", "rejected")

    events = meeting["timeline"]

    assert [(e["title"], e["actor"], e["side"]) for e in events] == [
        ("Meeting booked by client", "Nina Newcomer", "client"),
        ("Approved by client", "Nina Newcomer", "client"),
        ("Rejected by expert", "Carl Novak", "expert"),
    ]
    assert events[-1]["reason"] == "I am travelling that week; Eve can help you sooner."
    assert events[-1]["data"]["code"] == "not_available"
    moments = [at(e["at"]) for e in events]
    assert all(m.utcoffset() is not None for m in moments)
    assert moments == sorted(moments) and moments[-1] <= now.now()
    # Both sides read the same story; someone outside it does not learn it exists (O3).
    assert carl.read(meeting)["timeline"] == events
    answer = tina.get(f"/meetings/{meeting['id']}", expect=404)
    assert answer["code"] == "not_found"
    # A late cancellation says why, and what the expert was paid.
    late = Person("cleo").find("Async views", "cancelled")
    cancelled, reimbursed = late["timeline"][-2:]
    assert (cancelled["title"], cancelled["actor"], cancelled["reason"]) == (
        "Cancelled by client",
        "Cleo Client",
        "Sick, sorry for the short notice.",
    )
    assert (reimbursed["title"], reimbursed["data"]) == ("Reimbursed to expert", {"charged": 50, "paid": 40})
