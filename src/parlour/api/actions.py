"""Every action on a meeting (SPEC §3, §4, §7), each a POST that calls one function of
``parlour.meetings.lifecycle`` or ``parlour.meetings.outcome`` — the only writers of a
meeting's state and of credits — and answers with the meeting as it now is. A refusal is the
domain's own, with its rule id and status; nothing has changed then."""

from django.http import HttpRequest
from ninja import Router, Status

from parlour.meetings import lifecycle, outcome
from parlour.meetings.lifecycle import Party

from .lookups import client_of, guest_of, meeting_for, member_of, organization_for, service_of, skill_of, viewer
from .meetings import meeting_detail
from .schemas import (
    ERRORS,
    AlternativeIn,
    BookIn,
    CancelIn,
    ChangeTimeIn,
    ConfirmIn,
    DecideIn,
    ErrorOut,
    MeetingDetail,
    OfferIn,
    PickIn,
    ProposalIn,
    ProposeIn,
    ReassignIn,
    RejectIn,
    StatementIn,
)

router = Router(tags=["meeting actions"])

ONE = "/orgs/{slug}/meetings/{int:meeting_id}"
ANSWER = {200: MeetingDetail, ERRORS: ErrorOut}
CREATED = {201: MeetingDetail, ERRORS: ErrorOut}


def _party(organization, payload: ProposalIn) -> Party:
    if payload.client_id is not None:
        return Party(client=client_of(organization, payload.client_id))
    return Party(guest=guest_of(organization, payload.guest_id))


# --- making a meeting ----------------------------------------------------------------


@router.post("/orgs/{slug}/meetings/book", response=CREATED)
def book(request: HttpRequest, slug: str, payload: BookIn):
    """B1, B2: the signed-in person books a free time with an expert, as the client. With a
    service that needs confirmation the meeting awaits the expert and its price is blocked;
    otherwise it is agreed at once. A time taken meanwhile answers 409 ``slot_taken``."""
    organization = organization_for(request, slug)
    meeting = lifecycle.book_meeting(
        service=service_of(organization, payload.service_id),
        expert=member_of(organization, payload.expert_id),
        party=Party(client=viewer(request)),
        start=payload.start,
        length=payload.length,
        subject=payload.subject,
        description=payload.description,
        skill=skill_of(organization, payload.skill_id),
    )
    return Status(201, meeting_detail(viewer(request), meeting))


@router.post("/orgs/{slug}/meetings/propose", response=CREATED)
def propose(request: HttpRequest, slug: str, payload: ProposeIn):
    """B3: an expert proposes a meeting to a client or guest of the organization; it awaits
    their approval and no credits move yet."""
    organization = organization_for(request, slug)
    meeting = lifecycle.propose_meeting(
        viewer(request),
        service=service_of(organization, payload.service_id),
        party=_party(organization, payload),
        start=payload.start,
        length=payload.length,
        price=payload.price,
        subject=payload.subject,
        description=payload.description,
        skill=skill_of(organization, payload.skill_id),
    )
    return Status(201, meeting_detail(viewer(request), meeting))


@router.post("/orgs/{slug}/meetings/offer-options", response=CREATED)
def offer_options(request: HttpRequest, slug: str, payload: OfferIn):
    """B4: an expert offers several times at once; the meeting is planning until the other
    side picks one."""
    organization = organization_for(request, slug)
    meeting = lifecycle.offer_time_options(
        viewer(request),
        service=service_of(organization, payload.service_id),
        party=_party(organization, payload),
        options=[(option.start, option.length) for option in payload.options],
        price=payload.price,
        subject=payload.subject,
        description=payload.description,
        skill=skill_of(organization, payload.skill_id),
    )
    return Status(201, meeting_detail(viewer(request), meeting))


@router.post(ONE + "/pick-option", response=ANSWER)
def pick_option(request: HttpRequest, slug: str, meeting_id: int, payload: PickIn):
    """B4: the client picks one of the offered times: agreed, its price blocked."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.pick_time_option(
        viewer(request), meeting, payload.option_id, acknowledge_conflict=payload.acknowledge_conflict
    )
    return meeting_detail(viewer(request), meeting)


# --- answering -----------------------------------------------------------------------


@router.post(ONE + "/confirm", response=ANSWER)
def confirm(request: HttpRequest, slug: str, meeting_id: int, payload: ConfirmIn | None = None):
    """L2 (the expert confirms a client's request) or L5 (the client confirms an expert's
    proposal; its price is blocked, 402 when the wallet is short). An overlap with another
    agreed meeting answers 409 ``conflict_warning`` (L17) until sent again with
    ``acknowledge_conflict``."""
    payload = payload or ConfirmIn()
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.confirm_meeting(viewer(request), meeting, acknowledge_conflict=payload.acknowledge_conflict)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/reject", response=ANSWER)
def reject(request: HttpRequest, slug: str, meeting_id: int, payload: RejectIn):
    """L3 (the expert rejects a request; credits return) or L6 (the client rejects a
    proposal), with a reason from the list (``GET …/reasons``) and a note."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.reject_meeting(viewer(request), meeting, reason=payload.reason.value, note=payload.note)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/cancel", response=ANSWER)
def cancel(request: HttpRequest, slug: str, meeting_id: int, payload: CancelIn):
    """L1, L4, L7, L8, L9. A client cancelling an agreed meeting inside the notice first hears
    409 ``late_cancellation_charge`` with what would be charged, and cancels by sending
    ``confirm_late``; an expert inside the notice likewise (409 ``late_cancellation_warning``)."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.cancel_meeting(
        viewer(request), meeting, reason=payload.reason, note=payload.note, confirm_late=payload.confirm_late
    )
    return meeting_detail(viewer(request), meeting)


# --- alternative dates ---------------------------------------------------------------


@router.post(ONE + "/alternative/propose", response=ANSWER)
def propose_alternative(request: HttpRequest, slug: str, meeting_id: int, payload: AlternativeIn):
    """L10 (agreed: the original date stays valid until the other side confirms) or L11
    (rejected: a client proposing has the price blocked again now)."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.propose_alternative(viewer(request), meeting, start=payload.start, length=payload.length)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/alternative/confirm", response=ANSWER)
def confirm_alternative(request: HttpRequest, slug: str, meeting_id: int, payload: ConfirmIn | None = None):
    """L12: the other side confirms the pending alternative; it replaces the date."""
    payload = payload or ConfirmIn()
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.confirm_alternative(viewer(request), meeting, acknowledge_conflict=payload.acknowledge_conflict)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/alternative/reject", response=ANSWER)
def reject_alternative(request: HttpRequest, slug: str, meeting_id: int, payload: RejectIn):
    """L13: the other side rejects the pending alternative with a reason from the list."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.reject_alternative(viewer(request), meeting, reason=payload.reason.value, note=payload.note)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/alternative/withdraw", response=ANSWER)
def withdraw_alternative(request: HttpRequest, slug: str, meeting_id: int):
    """L14: the proposer takes their alternative back."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.withdraw_alternative(viewer(request), meeting)
    return meeting_detail(viewer(request), meeting)


# --- reassigning, changing -----------------------------------------------------------


@router.post(ONE + "/reassign", response=ANSWER)
def reassign(request: HttpRequest, slug: str, meeting_id: int, payload: ReassignIn):
    """L15: the meeting's expert or an admin hands it to another expert of the service."""
    organization, meeting = meeting_for(request, slug, meeting_id)
    expert = member_of(organization, payload.expert_id)
    meeting = lifecycle.reassign_meeting(viewer(request), meeting, expert=expert)
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/change-time", response=ANSWER)
def change_time(request: HttpRequest, slug: str, meeting_id: int, payload: ChangeTimeIn):
    """L16: with a service that needs no confirmation, either side moves an agreed meeting
    to another free time or length directly."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = lifecycle.change_meeting_time(viewer(request), meeting, start=payload.start, length=payload.length)
    return meeting_detail(viewer(request), meeting)


# --- after the meeting ---------------------------------------------------------------


@router.post(ONE + "/statement", response=ANSWER)
def statement(request: HttpRequest, slug: str, meeting_id: int, payload: StatementIn):
    """S1 (client: whether it took place; with the reviews add-on stars and a written review)
    or S2 (expert: their side; with the summaries add-on a summary). The first decisive
    statement settles the outcome (S3); disagreement makes it disputed."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = outcome.submit_statement(
        viewer(request),
        meeting,
        said=payload.said.value,
        stars=payload.stars,
        review=payload.review,
        summary=payload.summary,
    )
    return meeting_detail(viewer(request), meeting)


@router.post(ONE + "/decide-dispute", response=ANSWER)
def decide_dispute(request: HttpRequest, slug: str, meeting_id: int, payload: DecideIn):
    """S3: an admin decides a disputed meeting: held, client_no_show or refunded."""
    _, meeting = meeting_for(request, slug, meeting_id)
    meeting = outcome.decide_dispute(viewer(request), meeting, outcome=str(payload.outcome), note=payload.note)
    return meeting_detail(viewer(request), meeting)
