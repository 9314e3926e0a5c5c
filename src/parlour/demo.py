"""The demo organization that ``parlour demo`` loads (I4).

A marketplace with an admin, experts in two groups with their free dates (E3) in their own
time zones, skills, services with and without confirmation, clients with credits, guests, and
meetings in every status with their timelines. Every meeting is made and moved only by the
domain functions of ``parlour.meetings.lifecycle`` and ``parlour.meetings.outcome`` (STYLE
rule 1), with ``now`` set in the past for what has already happened, so timelines and the
ledger are exactly what real use would have produced, and every client's booking is one of
the expert's free slots (E4) when it is made."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from parlour.accounts.models import ClientAccount, Group, Guest, Membership, Organization, Role, User
from parlour.availability.models import DateException, ExceptionKind, TimeOff, WeeklyHours
from parlour.catalog.models import ExpertProfile, Service, Skill
from parlour.conversations import domain as conversations
from parlour.conversations.access import of_party
from parlour.core import clock
from parlour.credits import ledger
from parlour.meetings import lifecycle, outcome
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import Meeting, Said, Status
from parlour.meetings.reasons import RejectReason
from parlour.notifications.delivery import ROOM_TOPICS, still_true
from parlour.notifications.messages import compose
from parlour.notifications.models import Notification, OutboxItem, OutboxState

SLUG = "demo"
NAME = "Parlour Demo"
PASSWORD = "parlour-demo"
DOMAIN = "parlour.example"
ADMIN_EMAIL = f"ada@{DOMAIN}"

EXPERTS = {
    # sign-in email before the @: (name, time zone, group, skills, bio)
    "eve": ("Eve Evans", "Europe/Amsterdam", "Careers", ["Career change", "Leadership"], "Career coach, ex-HR."),
    "carl": ("Carl Novak", "Europe/Prague", "Careers", ["Interview practice", "Career change"], "Former recruiter."),
    "tom": ("Tom Baker", "America/New_York", "Technology", ["Python", "Cloud architecture"], "Backend engineer."),
    "tina": ("Tina Schmidt", "Europe/Berlin", "Technology", ["Python", "Leadership"], "Engineering manager."),
}
WEEKDAYS = range(5)  # Monday (0) to Friday
OFFICE = [("09:00", "12:00"), ("13:00", "17:00")]
HOURS = {
    # E3: each expert's weekly hours on their own clock, weekday (0 = Monday): intervals.
    "eve": dict.fromkeys(WEEKDAYS, OFFICE),
    # Carl coaches people who have a job: mornings, two evenings and weekend mornings. He works
    # every day, so his meeting "tomorrow" is always inside the 48-hour notice (L8).
    "carl": {
        **dict.fromkeys(WEEKDAYS, [("09:00", "12:00")]),
        1: [("09:00", "12:00"), ("18:00", "21:00")],
        3: [("09:00", "12:00"), ("18:00", "21:00")],
        5: [("10:00", "13:00")],
        6: [("10:00", "13:00")],
    },
    "tom": dict.fromkeys(WEEKDAYS, OFFICE),
    "tina": dict.fromkeys(WEEKDAYS, OFFICE),
}
LIMITS = {
    # E3: optional per-expert limits, fields of the expert's profile.
    "tom": {"buffer_after_minutes": 15, "minimum_notice_minutes": 12 * 60},
    "tina": {"max_meetings_per_day": 4},
}
CLIENTS = {
    # sign-in email before the @: (name, time zone, language, credits granted)
    "cleo": ("Cleo Client", "Europe/London", "en", 500),
    "chris": ("Chris Customer", "Europe/Amsterdam", "nl", 300),
    "nina": ("Nina Newcomer", "Europe/Bratislava", "sk", 150),
}
GUESTS = {"gus": ("Gus Guest", "Europe/London"), "gina": ("Gina Guest", "Europe/Amsterdam")}


@dataclass
class LoadedDemo:
    organization: Organization
    people: dict[str, list[User]] = field(default_factory=dict)
    meetings: int = 0
    room_now: Meeting | None = None  # V2: a meeting whose room is open as the demo loads


class DemoConflict(Exception):
    """The demo cannot be loaded beside what the database already holds."""


def email(key: str) -> str:
    return f"{key}@{DOMAIN}"


def load(now: datetime | None = None) -> LoadedDemo | None:
    """Load the demo organization, or return ``None`` when it is already loaded."""
    if Organization.objects.filter(slug=SLUG).exists():
        return None
    emails = [ADMIN_EMAIL, *(email(k) for k in EXPERTS), *(email(k) for k in CLIENTS)]
    taken = list(User.objects.filter(email__in=emails).values_list("email", flat=True))
    if taken:
        raise DemoConflict(f"people with the demo's emails already exist: {', '.join(taken)}")
    with transaction.atomic():
        return DemoBuilder(now or clock.now()).build()


class DemoBuilder:
    def __init__(self, now: datetime) -> None:
        self.now = now.replace(second=0, microsecond=0)
        self.today = self.now.replace(hour=0, minute=0)
        self.made: list[Meeting] = []

    def at(self, days: int, hour: int, minute: int = 0) -> datetime:
        """A time ``days`` from today (UTC); negative days are in the past."""
        return self.today + timedelta(days=days, hours=hour, minutes=minute)

    def ago(self, hours: float) -> datetime:
        return self.now - timedelta(hours=hours)

    def workday(self, expert: str, n: int) -> date:
        """The expert's ``n``-th working day after today (``n`` > 0) or before it (``n`` < 0):
        a date of their own calendar on which they have weekly hours."""
        day = self.now.astimezone(ZoneInfo(EXPERTS[expert][1])).date()
        step = timedelta(days=1 if n > 0 else -1)
        for _ in range(abs(n)):
            day += step
            while day.weekday() not in HOURS[expert]:
                day += step
        return day

    def on(self, expert: str, n: int, clock_time: str) -> datetime:
        """``clock_time`` on the expert's own clock on their ``n``-th working day (see
        ``workday``), in UTC: inside their hours, on the slot grid."""
        local = datetime.combine(self.workday(expert, n), time.fromisoformat(clock_time))
        return local.replace(tzinfo=ZoneInfo(EXPERTS[expert][1])).astimezone(UTC)

    def build(self) -> LoadedDemo:
        self.organization = Organization.objects.create(
            name=NAME, slug=SLUG, reviews_enabled=True, summaries_enabled=True, created_at=self.at(-30, 8)
        )
        self.organization.settings  # noqa: B018 - the settings row with the defaults (O5)
        self.add_people()
        self.add_free_dates()
        self.add_catalog()
        self.grant_credits()
        self.add_upcoming_meetings()
        self.add_past_meetings()
        room_now = self.add_meeting_starting_now()
        self.add_conversations()
        self.deliver_the_past()
        return LoadedDemo(
            organization=self.organization,
            people={
                "admin": [self.admin],
                "experts": list(self.experts.values()),
                "clients": list(self.clients.values()),
            },
            meetings=len(self.made),
            room_now=room_now,
        )

    # --- people, groups, skills, services -------------------------------------------

    def person(self, key_or_email: str, name: str, **fields) -> User:
        address = key_or_email if "@" in key_or_email else email(key_or_email)
        return User.objects.create_user(address, PASSWORD, name=name, **fields)

    def add_people(self) -> None:
        org = self.organization
        # The demo's admin is also the installation's operator, so they can open /admin/.
        self.admin = self.person(ADMIN_EMAIL, "Ada Admin", is_staff=True, is_superuser=True)
        Membership.objects.create(organization=org, user=self.admin, role=Role.ADMIN)
        self.experts: dict[str, User] = {}
        self.profiles: dict[str, ExpertProfile] = {}
        self.skills = {
            name: Skill.objects.create(organization=org, name=name)
            for name in sorted({s for expert in EXPERTS.values() for s in expert[3]})
        }
        for key, (name, zone, group_name, skills, bio) in EXPERTS.items():
            user = self.person(key, name, time_zone=zone)
            membership = Membership.objects.create(organization=org, user=user, role=Role.EXPERT)
            group, _ = Group.objects.get_or_create(organization=org, name=group_name)
            group.members.add(membership)
            profile = ExpertProfile.objects.create(
                membership=membership, bio=bio, time_zone=zone, **LIMITS.get(key, {})
            )
            profile.skills.set(self.skills[s] for s in skills)
            self.experts[key] = user
            self.profiles[key] = profile
        self.clients: dict[str, User] = {}
        for key, (name, zone, language, _credits) in CLIENTS.items():
            user = self.person(key, name, time_zone=zone, language=language)
            ClientAccount.objects.create(organization=org, user=user, created_at=self.at(-20, 9))
            self.clients[key] = user
        self.guests = {
            key: Guest.objects.create(organization=org, name=name, email=f"{key}@guest.{DOMAIN}", time_zone=zone)
            for key, (name, zone) in GUESTS.items()
        }

    def add_free_dates(self) -> None:
        """E3: every expert's weekly hours; Eve also takes an afternoon off and goes to a
        three-day conference, on days the demo's meetings leave free."""
        WeeklyHours.objects.bulk_create(
            WeeklyHours(profile=self.profiles[key], weekday=day, start=time.fromisoformat(a), end=time.fromisoformat(b))
            for key, week in HOURS.items()
            for day, intervals in week.items()
            for a, b in intervals
        )
        eve = self.profiles["eve"]
        DateException.objects.create(
            profile=eve, date=self.workday("eve", 3), kind=ExceptionKind.REMOVE, start=time(13), end=time(17)
        )
        TimeOff.objects.create(
            profile=eve, start=self.on("eve", 11, "00:00"), end=self.on("eve", 14, "00:00"), note="Conference"
        )

    def service(self, name: str, *, price: int, lengths: list[int], confirm: bool, experts, skills) -> Service:
        service = Service.objects.create(
            organization=self.organization,
            name=name,
            description=f"{name} with one of our experts.",
            price=price,
            lengths=lengths,
            requires_confirmation=confirm,
        )
        service.experts.set(self.experts[key] for key in experts)
        service.skills.set(self.skills[s] for s in skills)
        return service

    def add_catalog(self) -> None:
        careers, tech, everyone = ["eve", "carl"], ["tom", "tina"], list(EXPERTS)
        self.mentoring = self.service(
            "Career mentoring",
            price=60,
            lengths=[60, 30, 90],
            confirm=True,
            experts=careers,
            skills=["Career change", "Leadership"],
        )
        self.code_review = self.service(
            "Code review", price=100, lengths=[60], confirm=True, experts=tech, skills=["Python"]
        )
        self.intro = self.service("Intro call", price=0, lengths=[15, 30], confirm=False, experts=everyone, skills=[])
        self.question = self.service(
            "Quick question", price=20, lengths=[15], confirm=False, experts=tech, skills=["Cloud architecture"]
        )

    def grant_credits(self) -> None:
        """C3: each client's credits were bought elsewhere and recorded by the admin."""
        for key, (_name, _zone, _language, amount) in CLIENTS.items():
            ledger.grant_credits(self.organization, self.clients[key], amount, by=self.admin, note="Demo purchase")

    # --- meetings ----------------------------------------------------------------------

    def book(self, service, expert: str, who: str, start: datetime, booked: datetime, **kw) -> Meeting:
        """B1: a client or guest books; with confirmation it awaits the expert (B2)."""
        person = self.clients.get(who)
        party = Party(client=person) if person else Party(guest=self.guests[who])
        meeting = lifecycle.book_meeting(
            service=service, expert=self.experts[expert], party=party, start=start, now=booked, **kw
        )
        self.made.append(meeting)
        return meeting

    def agreed(self, service, expert: str, who: str, start: datetime, booked: datetime, **kw) -> Meeting:
        """Booked, and confirmed by the expert an hour later where the service asks for it (L2)."""
        meeting = self.book(service, expert, who, start, booked, **kw)
        if meeting.status == Status.AWAITING_APPROVAL:
            meeting = lifecycle.confirm_meeting(meeting.expert, meeting, now=booked + timedelta(hours=1))
        return meeting

    def hold(self, meeting: Meeting, *, client_comes: bool = True, connection_fails: bool = False) -> Meeting:
        """V2, V4, V5: the sides enter through the join link, then the meeting closes at its end."""
        outcome.record_entry(meeting.expert, meeting, now=meeting.start - timedelta(minutes=4))
        if client_comes:
            client = meeting.client or meeting.guest
            outcome.record_entry(client, meeting, now=meeting.start - timedelta(minutes=1))
        if connection_fails:
            outcome.report_connection_failure(meeting, now=meeting.start + timedelta(minutes=6))
        return outcome.close_meeting(meeting, now=meeting.end + timedelta(minutes=1))

    def add_upcoming_meetings(self) -> None:
        # Every time a client books is one of the expert's free slots (E4) when it is booked;
        # ``on`` names it on the expert's own clock, counted in their working days, so the
        # demo loads on any day. Experts' proposals (B3, B4) fall inside their hours too.

        # B4 planning: Carl offers Cleo three times; she has not picked one yet.
        options = [(self.on("carl", days, "11:00"), 60) for days in (3, 4, 5)]
        planning = lifecycle.offer_time_options(
            self.experts["carl"],
            service=self.mentoring,
            party=Party(client=self.clients["cleo"]),
            options=options,
            subject="Moving from teaching into UX research",
            now=self.ago(2),
        )
        self.made.append(planning)

        # B1/B2 awaiting approval, the client's request: the price is blocked.
        review = self.on("tom", 2, "14:00")
        self.book(self.code_review, "tom", "chris", review, self.ago(5), subject="Review of my Django app")

        # B3 awaiting approval, the expert's proposal: no credits move until Nina confirms.
        proposal = lifecycle.propose_meeting(
            self.experts["eve"],
            service=self.mentoring,
            party=Party(client=self.clients["nina"]),
            start=self.on("eve", 5, "14:00"),
            length=90,
            subject="Preparing your promotion case",
            now=self.ago(1),
        )
        self.made.append(proposal)

        # L2 agreed, and B2 agreed at once (a guest, a free service without confirmation).
        # Tina's hour after the intro call stays free, to move it there (L16).
        team_lead = self.agreed(
            self.mentoring,
            "eve",
            "cleo",
            self.on("eve", 2, "10:00"),
            self.ago(30),
            subject="First steps as a team lead",
        )
        intro = self.on("tina", 1, "15:00")
        self.book(self.intro, "tina", "gus", intro, self.ago(3), length=30, subject="Is mentoring for me?")

        # L8 agreed for tomorrow (Carl works every day), so always inside the 48-hour notice:
        # cancelling costs half the price; L7/L9 agreed in ten days, well ahead of the notice.
        tomorrow = self.on("carl", 1, "11:00")
        self.agreed(self.mentoring, "carl", "cleo", tomorrow, self.ago(40), subject="A difficult colleague")
        self.agreed(
            self.mentoring, "carl", "chris", self.on("carl", 10, "10:00"), self.ago(50), subject="A four-day week"
        )

        # L17 awaiting: Tina proposes a time that overlaps Cleo's agreed "First steps as a team
        # lead", so Cleo hears a conflict warning when she confirms it.
        overlapping = lifecycle.propose_meeting(
            self.experts["tina"],
            service=self.code_review,
            party=Party(client=self.clients["cleo"]),
            start=team_lead.start + timedelta(minutes=30),
            subject="Reviewing your first pull requests",
            now=self.ago(0.5),
        )
        self.made.append(overlapping)

        # L10 agreed with a pending alternative date proposed by the client: later that day.
        question = self.on("tom", 3, "09:00")
        moving = self.book(self.question, "tom", "chris", question, self.ago(26), subject="S3 bucket policies")
        lifecycle.propose_alternative(self.clients["chris"], moving, start=self.on("tom", 3, "16:00"), now=self.ago(4))

        # L3 rejected by the expert: the credits came back.
        cv = self.on("carl", 4, "10:00")
        rejected = self.book(self.mentoring, "carl", "nina", cv, self.ago(20), length=30, subject="CV")
        lifecycle.reject_meeting(
            self.experts["carl"],
            rejected,
            reason=RejectReason.NOT_AVAILABLE,
            note="I am travelling that week; Eve can help you sooner.",
            now=self.ago(18),
        )

        # L7 cancelled by the client in good time: everything returned.
        salary = self.on("eve", 7, "13:00")
        cancelled = self.agreed(self.mentoring, "eve", "chris", salary, self.ago(48), subject="Salary talk")
        lifecycle.cancel_meeting(
            self.clients["chris"], cancelled, note="My new employer offers coaching after all.", now=self.ago(6)
        )

    def add_meeting_starting_now(self) -> Meeting:
        """V2: Tina's call with the guest Gina starts within minutes of loading the demo, so
        its room is open at once: Tina signs in, Gina enters with her guest key. Tina proposed
        it (B3, at any time of the day) and Gina accepted."""
        start = (self.now + timedelta(minutes=14)).replace(second=0)
        start -= timedelta(minutes=start.minute % 5)
        meeting = lifecycle.propose_meeting(
            self.experts["tina"],
            service=self.intro,
            party=Party(guest=self.guests["gina"]),
            start=start,
            length=30,
            subject="Video check-in",
            now=self.ago(1),
        )
        meeting = lifecycle.confirm_meeting(self.guests["gina"], meeting, now=self.ago(0.5))
        self.made.append(meeting)
        return meeting

    def add_past_meetings(self) -> None:
        cleo, eve, tom = self.clients["cleo"], self.experts["eve"], self.experts["tom"]
        days = timedelta(days=1)

        # L8 cancelled late by the client: half the price charged, the expert paid less the share.
        start = self.on("tom", -3, "10:00")
        late = self.agreed(self.code_review, "tom", "cleo", start, start - 5 * days, subject="Async views")
        lifecycle.cancel_meeting(
            cleo,
            late,
            note="Sick, sorry for the short notice.",
            confirm_late=True,
            now=late.start - timedelta(hours=20),
        )

        # L18 lapsed: the expert never answered the request before its start.
        start = self.on("carl", -2, "10:00")
        lapsed = self.book(self.mentoring, "carl", "chris", start, start - 3 * days, subject="Interview prep")
        lifecycle.lapse_meeting(lapsed, now=lapsed.start + timedelta(minutes=1))

        # V5 completed, S1/S2 both say it took place: settled as held and paid (C4), with
        # stars, a written review earning the bonus (S4) and the expert's summary.
        start = self.on("eve", -4, "10:00")
        held = self.agreed(self.mentoring, "eve", "cleo", start, start - 5 * days, subject="Negotiation")
        self.hold(held)
        outcome.submit_statement(
            eve,
            held,
            said=Said.HELD,
            summary="We prepared three arguments and a fallback; practise them aloud before Friday.",
            now=held.end + timedelta(hours=1),
        )
        outcome.submit_statement(
            cleo,
            held,
            said=Said.HELD,
            stars=5,
            review="Eve asked exactly the right questions. I walked in prepared.",
            now=held.end + timedelta(hours=3),
        )

        # V5 completed on Tina's last working day; nobody has stated anything yet (undecided,
        # S3 still open).
        start = self.on("tina", -1, "11:00")
        done = self.book(self.intro, "tina", "gina", start, start - 2 * days, length=15, subject="Hello")
        self.hold(done)

        # V5 missed: the client never came; with no statement by the deadline it settled
        # from the attendance as a client no-show (S3).
        start = self.on("tom", -10, "09:00")
        missed = self.book(self.question, "tom", "chris", start, start - 2 * days, subject="IAM roles")
        self.hold(missed, client_comes=False)
        deadline = timedelta(hours=self.organization.settings.evaluation_deadline_hours, minutes=5)
        outcome.settle_unstated(missed, now=missed.end + deadline)

        # V4/V5 failed: the room could not connect them; the expert takes it on themselves
        # (S2 "because of me") and the client is refunded.
        start = self.on("tina", -2, "15:00")
        failed = self.agreed(self.code_review, "tina", "nina", start, start - 4 * days, subject="Tests")
        self.hold(failed, connection_fails=True)
        outcome.submit_statement(
            self.experts["tina"], failed, said=Said.NOT_HELD_EXPERT, now=failed.end + timedelta(minutes=30)
        )

        # S3 disputed: the expert says it took place, the client says the expert did not come.
        start = self.on("tom", -5, "14:00")
        disputed = self.agreed(self.code_review, "tom", "cleo", start, start - 4 * days, subject="Profiling")
        self.hold(disputed)
        outcome.submit_statement(tom, disputed, said=Said.HELD, now=disputed.end + timedelta(hours=2))
        outcome.submit_statement(cleo, disputed, said=Said.NOT_HELD_EXPERT, now=disputed.end + timedelta(hours=5))

    def add_conversations(self) -> None:
        """X1–X3: every self-booking opened its party's conversation. Cleo and Eve talk in
        hers, assigned to Eve; Tom answered Chris and took his; Gus's question waits for
        someone to "assign to me" (nobody is assigned yet)."""
        org, experts = self.organization, self.experts
        cleo = of_party(org.pk, client=self.clients["cleo"])
        conversations.assign_conversation(experts["eve"], cleo, service=self.mentoring, now=self.ago(29))
        for who, text, hours in (
            (self.clients["cleo"], "Before our session: shall I bring my team's last review?", 28),
            (experts["eve"], "Yes, please, and the three situations you found hardest this month.", 27.5),
            (self.clients["cleo"], "Will do. Thank you!", 27),
        ):
            conversations.write_message(who, cleo, text, now=self.ago(hours))
        chris = of_party(org.pk, client=self.clients["chris"])
        conversations.write_message(
            self.clients["chris"], chris, "Could we look at my bucket policies a bit later that day?", now=self.ago(4.5)
        )
        conversations.assign_conversation(experts["tom"], chris, service=self.question, now=self.ago(4.2))
        conversations.write_message(
            experts["tom"], chris, "Sure: I will confirm the new time once I know my afternoon.", now=self.ago(4)
        )
        gus = of_party(org.pk, guest=self.guests["gus"])
        conversations.write_message(
            self.guests["gus"],
            gus,
            "Hi! Before the call: do I need to prepare anything?",
            now=self.ago(2.5),
        )

    # --- what the past already sent ---------------------------------------------------

    def deliver_the_past(self) -> None:
        """§9: the messages the demo's history queued were delivered when they were due. Each
        person's notification list shows them at that moment, read when over a day old, and
        the worker does not mail them again when ``parlour run`` starts: they would be news
        of meetings long over. Reminders and links are queued by the worker when they are due."""
        past = OutboxItem.objects.filter(
            organization=self.organization, state=OutboxState.PENDING, due_at__lte=self.now
        ).exclude(topic__startswith=ROOM_TOPICS)
        read_before = self.now - timedelta(days=1)
        for item in past.select_related("meeting", "recipient", "recipient_guest").order_by("due_at", "pk"):
            message = compose(item) if still_true(item, item.due_at) else None
            item.state = OutboxState.SENT if message else OutboxState.DROPPED
            item.delivered_at = item.due_at if message else None
            item.save(update_fields=["state", "delivered_at"])
            if message and item.recipient_id is not None:
                Notification.objects.create(
                    recipient_id=item.recipient_id,
                    organization=self.organization,
                    meeting_id=item.meeting_id,
                    outbox_item=item,
                    topic=item.topic,
                    title=message.title[:200],
                    body=message.body,
                    link=message.link[:500],
                    created_at=item.due_at,
                    read_at=item.due_at if item.due_at < read_before else None,
                )
