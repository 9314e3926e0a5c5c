"""D1, D2, D3: the meetings overview and the dashboard of an organization.

The overview lists the My or the Everyone tab (O2, from ``meetings.access`` only), sorted by
any column, filtered by displayed status and dates in the viewer's zone, in pages. Each row
opens (plus) and closes (minus) a detail row through htmx. The dashboard counts and lists
my meetings and shows the organization's experts by skill."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from parlour.accounts.access import is_admin
from parlour.accounts.models import Organization
from parlour.catalog.models import ExpertProfile, Skill
from parlour.core import clock
from parlour.core.errors import NotFound
from parlour.meetings.access import access_meeting, everyone_meetings, my_meetings
from parlour.meetings.display import STARTING_SOON, DisplayedStatus, MediaState, client_media_state, displayed_status
from parlour.meetings.models import MediaCheck, Meeting, Outcome, Review, Side, Statement, Status
from parlour.meetings.outcome import room_is_open

from .meeting_labels import DISPLAYED_STATUS, OUTCOMES
from .pages import organization_page
from .proposals import shows_propose_button

PAGE_SIZE = 25
SHORT_LIST = 5

# D2, translated, in the order of a meeting's life (also the order the status column sorts by).
STATUS_LABELS = DISPLAYED_STATUS
STATUS_ORDER = list(STATUS_LABELS)

# V3's four signs, readable without colour: a symbol and words (sorted in this order).
MEDIA_SIGNS = {
    MediaState.NOT_ENTERED: ("?", _("Has not entered")),
    MediaState.NO_CHECK: ("?", _("Entered, media check not done")),
    MediaState.FAILED: ("✗", _("Media check failed")),
    MediaState.PASSED: ("✓", _("Media check passed")),
}

TABS = {"my": _("My meetings"), "everyone": _("Everyone")}
DEFAULT_SORT, DEFAULT_ORDER = "date", "desc"
# sort key → (column heading, the order a first click on the heading sorts in)
COLUMNS = {
    "client": (_("Client or guest"), "asc"),
    "key": (_("Guest key"), "asc"),
    "media": (_("Media check"), "asc"),
    "service": (_("Meeting type"), "asc"),
    "subject": (_("Details"), "asc"),
    "expert": (_("Expert"), "asc"),
    "status": (_("Status"), "asc"),
    "date": (_("Date and time"), "desc"),
}
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
FILTERS = ("status", "outcome", "from", "to")
FILTERED_OUTCOMES = (Outcome.DISPUTED, Outcome.HELD, Outcome.CLIENT_NO_SHOW, Outcome.REFUNDED)


def optional_url(name: str, *args) -> str | None:
    """The address of a page another area may not have built yet; None until it exists."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- D2: the displayed status in the database, for sorting and filtering --------------


def displayed_status_matches(shown: DisplayedStatus, now: datetime) -> Q:
    """The meetings ``displayed_status`` shows as ``shown`` at ``now``."""
    agreed = Q(status=Status.AGREED)
    if shown == DisplayedStatus.SCHEDULED:
        return agreed & Q(start__gt=now + STARTING_SOON)
    if shown == DisplayedStatus.STARTING_SOON:
        return agreed & Q(start__gt=now, start__lte=now + STARTING_SOON)
    if shown == DisplayedStatus.IN_PROGRESS:
        return agreed & Q(start__lte=now)
    return Q(status=shown.value)


def status_rank(now: datetime) -> Case:
    whens = [When(displayed_status_matches(shown, now), then=Value(i)) for i, shown in enumerate(STATUS_ORDER)]
    return Case(*whens, default=Value(len(STATUS_ORDER)), output_field=IntegerField())


MEDIA_RANK = Case(
    When(client_entered_at__isnull=True, then=Value(0)),
    When(client_media_check=MediaCheck.FAILED, then=Value(2)),
    When(client_media_check=MediaCheck.PASSED, then=Value(3)),
    default=Value(1),
    output_field=IntegerField(),
)


def sort_expression(sort: str, now: datetime):
    return {
        "client": Lower(Coalesce("client__name", "guest__name")),
        "key": Case(When(guest__isnull=True, then=Value("")), default=F("guest_key")),
        "media": MEDIA_RANK,
        "service": Lower("service__name"),
        "subject": Lower("subject"),
        "expert": Lower("expert__name"),
        "status": status_rank(now),
        "date": F("start"),
    }[sort]


def sorted_meetings(meetings: QuerySet[Meeting], sort: str, order: str, now: datetime) -> QuerySet[Meeting]:
    """``meetings`` by one column; meetings equal there newest first (the date column breaks
    its own ties by id in its direction), so that pages never overlap."""
    if sort == "date":
        return meetings.order_by(*(("start", "id") if order == "asc" else ("-start", "-id")))
    meetings = meetings.annotate(sort_value=sort_expression(sort, now))
    first = F("sort_value").asc() if order == "asc" else F("sort_value").desc()
    return meetings.order_by(first, "-start", "-id")


# --- D1: the filters ------------------------------------------------------------------


class OverviewFilters(forms.Form):
    """Displayed status (D2), how a held meeting settled (S3: the disputes an admin has to
    decide), and a range of days in the viewer's time zone."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status"))] + [(s.value, STATUS_LABELS[s]) for s in STATUS_ORDER]
        self.fields["outcome"].choices = [("", _("Any outcome"))] + [(o.value, OUTCOMES[o]) for o in FILTERED_OUTCOMES]
        for name, label in (("from", _("From")), ("to", _("To"))):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": _("Give a date like 2026-03-31.")},
            )

    def clean(self) -> dict:
        data = super().clean()
        for name in ("from", "to"):
            day = data.get(name)
            if day is not None and not EARLIEST <= day <= LATEST:
                self.add_error(name, _("Give a date between 1900 and 9998."))
        first, last = data.get("from"), data.get("to")
        if first and last and first > last:
            self.add_error("to", _("The end date cannot be before the start date."))
        return data

    def filtered(self, meetings: QuerySet[Meeting], now: datetime, zone) -> QuerySet[Meeting]:
        """``meetings`` narrowed by the filters; with a wrong filter, by none (the form shows
        what is wrong next to the field)."""
        if not self.is_bound:
            return meetings
        if not self.is_valid():
            for name in self.errors:
                if name in self.fields:
                    described = {"aria-invalid": "true", "aria-describedby": f"{self[name].auto_id}-error"}
                    self.fields[name].widget.attrs.update(described)
            return meetings
        data = self.cleaned_data
        if data.get("status"):
            meetings = meetings.filter(displayed_status_matches(DisplayedStatus(data["status"]), now))
        if data.get("outcome"):
            meetings = meetings.filter(outcome=data["outcome"])
        if data.get("from"):
            meetings = meetings.filter(start__gte=datetime.combine(data["from"], time.min, tzinfo=zone))
        if data.get("to"):
            meetings = meetings.filter(
                start__lt=datetime.combine(data["to"] + timedelta(days=1), time.min, tzinfo=zone)
            )
        return meetings


# --- the rows ------------------------------------------------------------------------


def row_of(meeting: Meeting, organization: Organization, now: datetime) -> dict:
    media = client_media_state(meeting)
    shown = displayed_status(meeting, now)
    sign, words = MEDIA_SIGNS[media]
    slug = organization.slug
    return {
        "meeting": meeting,
        "media": media.value,
        "media_sign": sign,
        "media_label": words,
        "status": shown.value,
        "status_label": STATUS_LABELS[shown],
        "can_enter": room_is_open(meeting, now),
        "page_url": optional_url("web:meeting", slug, meeting.pk),
        "ics_url": reverse("api-v1:meeting_calendar", kwargs={"slug": slug, "meeting_id": meeting.pk}),
        "more_url": reverse("web:overview_row", args=[slug, meeting.pk]),
    }


def with_row_fields(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return meetings.select_related("service", "expert", "client", "guest")


def query_string(params: dict, **changes) -> str:
    kept = {key: value for key, value in {**params, **changes}.items() if value not in ("", None)}
    return "?" + urlencode(kept)


def column_headings(params: dict, sort: str, order: str) -> list[dict]:
    headings = []
    for key, (label, first_order) in COLUMNS.items():
        current = key == sort
        next_order = ("asc" if order == "desc" else "desc") if current else first_order
        headings.append(
            {
                "key": key,
                "label": label,
                "aria_sort": ("ascending" if order == "asc" else "descending") if current else None,
                "url": query_string(params, sort=key, order=next_order, page=None),
            }
        )
    return headings


# --- the pages -----------------------------------------------------------------------


@login_required
@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    """D1: the My or Everyone tab (O2), sorted, filtered and paged."""
    organization = organization_page(request, slug)
    now = clock.now()
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "my"
    sort, order = DEFAULT_SORT, DEFAULT_ORDER  # an unknown sort key sorts by the default
    if request.GET.get("sort") in COLUMNS:
        sort = request.GET["sort"]
        order = request.GET.get("order") if request.GET.get("order") in ("asc", "desc") else COLUMNS[sort][1]
    filters = OverviewFilters(request.GET or None)
    listing = (my_meetings if tab == "my" else everyone_meetings)(request.user, organization)
    meetings = filters.filtered(listing, now, request.time_zone)
    meetings = sorted_meetings(with_row_fields(meetings), sort, order, now)
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    for meeting in page.object_list:
        meeting.organization = organization  # its settings are loaded already (join window)
    rows = [row_of(meeting, organization, now) for meeting in page.object_list]
    params = {
        "tab": tab,
        "sort": sort,
        "order": order,
        **{name: request.GET.get(name, "") for name in FILTERS},
    }
    pages = [
        {"number": n, "url": query_string(params, page=n) if isinstance(n, int) else None}
        for n in page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    context = {
        "organization": organization,
        "tab": tab,
        "tabs": [
            {"key": k, "label": label, "url": query_string(params, tab=k, page=None)} for k, label in TABS.items()
        ],
        "sort": sort,
        "order": order,
        "sort_label": COLUMNS[sort][0],
        "headings": column_headings(params, sort, order),
        "filters": filters,
        "filtered": any(params[name] for name in FILTERS),
        "clear_url": query_string({"tab": tab, "sort": sort, "order": order}),
        "page": page,
        "pages": pages,
        "previous_url": query_string(params, page=page.previous_page_number()) if page.has_previous() else None,
        "next_url": query_string(params, page=page.next_page_number()) if page.has_next() else None,
        "rows": rows,
        "columns": len(COLUMNS) + 2,
        "labels": {key: label for key, (label, _first) in COLUMNS.items()},  # a phone shows them per cell
        "can_propose": shows_propose_button(request.user, organization),
    }
    return render(request, "web/overview/overview.html", context)


@login_required
@require_GET
def overview_row(request: HttpRequest, slug: str, meeting_id: int) -> HttpResponse:
    """D1's plus and minus: one meeting's rows, opened (``open=1``, the default: with its
    description, review, summary and phone) or closed (``open=0``). For htmx; a plain visit
    goes to the overview."""
    organization = organization_page(request, slug)
    try:
        meeting = access_meeting(request.user, organization, meeting_id)
    except NotFound:
        raise Http404 from None
    if not request.htmx:
        return redirect("web:overview", slug=organization.slug)
    meeting.organization = organization
    opened = request.GET.get("open", "1") != "0"
    context = {
        "organization": organization,
        "row": row_of(meeting, organization, clock.now()),
        "opened": opened,
        "columns": len(COLUMNS) + 2,
        "labels": {key: label for key, (label, _first) in COLUMNS.items()},  # a phone shows them per cell
    }
    if opened:
        person = meeting.client or meeting.guest
        context["phone"] = person.phone
        if organization.reviews_enabled and meeting.client_id:
            context["review"] = Review.objects.filter(meeting=meeting).first()
        if organization.summaries_enabled:
            statement = Statement.objects.filter(meeting=meeting, side=Side.EXPERT).first()
            context["summary"] = statement.summary if statement else ""
    return render(request, "web/overview/row.html", context)


@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """D3: how many of my meetings are coming and how many were held, the short lists of
    both, and the organization's experts by skill. A visitor (not signed in) is sent to the
    organization's page for visitors, where they find what to book (E5); an organization
    that does not exist is "not found" for them too."""
    if not request.user.is_authenticated:
        if not Organization.objects.filter(slug=slug).exists():
            raise Http404
        return redirect("web:public_organization", slug)
    organization = organization_page(request, slug)
    now = clock.now()
    mine = with_row_fields(my_meetings(request.user, organization))
    upcoming = mine.filter(status=Status.AGREED, start__gt=now).order_by("start", "id")
    held = mine.filter(status=Status.COMPLETED).order_by("-start", "-id")
    skills = (
        Skill.objects.filter(organization=organization, experts__isnull=False)
        .distinct()
        .prefetch_related(
            Prefetch(
                "experts",
                queryset=ExpertProfile.objects.filter(membership__organization=organization)
                .select_related("membership__user")
                .order_by("membership__user__name", "membership__user_id"),
            )
        )
        .order_by("name", "id")
    )
    disputed, disputes_count = [], None
    if is_admin(request.user, organization):
        # S3: the disputed meetings wait for an admin; the dashboard says which.
        found = with_row_fields(Meeting.objects.filter(organization=organization, outcome=Outcome.DISPUTED))
        disputed = [_disputed(m, organization) for m in found.order_by("start", "id")[:SHORT_LIST]]
        if len(disputed) == SHORT_LIST:
            disputes_count = found.count()
    context = {
        "organization": organization,
        "disputed": disputed,
        "disputes_count": disputes_count or len(disputed),
        "disputes_url": reverse("web:overview", args=[organization.slug])
        + "?"
        + urlencode({"tab": "everyone", "outcome": Outcome.DISPUTED.value}),
        "upcoming_count": upcoming.count(),
        "held_count": held.count(),
        "upcoming": [_listed(m, organization, request.user) for m in upcoming[:SHORT_LIST]],
        "held": [_listed(m, organization, request.user) for m in held[:SHORT_LIST]],
        "skills": [
            {
                "skill": skill,
                "experts": [
                    {
                        "name": p.membership.user.name,
                        "url": optional_url("web:expert_page", slug, p.membership.user_id),
                        "photo": p.photo.url if p.photo else None,
                    }
                    for p in skill.experts.all()
                ],
            }
            for skill in skills
        ],
        "overview_url": reverse("web:overview", args=[organization.slug]),
    }
    return render(request, "web/overview/dashboard.html", context)


def _disputed(meeting: Meeting, organization: Organization) -> dict:
    """A line of the admin's disputes: when, what, and both sides."""
    url = optional_url("web:meeting", organization.slug, meeting.pk)
    return {"meeting": meeting, "with": f"{meeting.client_name}, {meeting.expert.name}", "url": url}


def _listed(meeting: Meeting, organization: Organization, viewer) -> dict:
    """A line of the dashboard's lists: when, what, and with whom (the other side)."""
    other = meeting.client_name if meeting.expert_id == viewer.pk else meeting.expert.name
    url = optional_url("web:meeting", organization.slug, meeting.pk)
    return {"meeting": meeting, "with": other, "url": url}


urlpatterns = [
    path("o/<slug:slug>/", dashboard, name="dashboard"),
    path("o/<slug:slug>/meetings/", overview, name="overview"),
    path("o/<slug:slug>/meetings/<int:meeting_id>/more/", overview_row, name="overview_row"),
]
