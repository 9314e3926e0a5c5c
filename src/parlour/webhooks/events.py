"""Turning a meeting's timeline event into one delivery per endpoint that wants it (I3).

``queue_deliveries`` is called by ``meetings.transitions.record`` — the one place timeline
events are written — inside the transition's transaction, so a delivery exists if and only
if its event does; a worker sends it after commit (``webhooks.delivery``)."""

import uuid
from datetime import UTC, datetime

from django.db import transaction

from parlour.core import clock

from .models import Delivery, Endpoint

TEST_EVENT = "test"


def meeting_payload(meeting) -> dict:
    """The meeting as the API shows it, without anyone's contact details and without the
    guest key (B5) or any other secret."""
    return {
        "id": meeting.pk,
        "status": meeting.status,
        "credit_status": meeting.credit_status,
        "outcome": meeting.outcome,
        "start": _utc(meeting.start),
        "end": _utc(meeting.end),
        "length": meeting.length_minutes,
        "expert": {"id": meeting.expert_id, "name": meeting.expert.name},
        "service": {"id": meeting.service_id, "name": meeting.service.name},
    }


def event_payload(event_id: str, kind: str, at: datetime, organization, meeting, side: str = "") -> dict:
    return {
        "id": event_id,
        "type": kind,
        "side": side,
        "occurred_at": _utc(at),
        "organization": organization.slug,
        "meeting": meeting_payload(meeting) if meeting is not None else None,
    }


def queue_deliveries(event) -> list[Delivery]:
    """One pending delivery of the timeline ``event`` per active endpoint of the meeting's
    organization that wants its kind; none (and one query) when there are no endpoints."""
    meeting = event.meeting
    endpoints = [
        e
        for e in Endpoint.objects.filter(organization_id=meeting.organization_id, is_active=True)
        if e.wants(event.kind)
    ]
    if not endpoints:
        return []
    payload = event_payload(f"evt_{event.pk}", event.kind, event.at, meeting.organization, meeting, event.side)
    return _queue(endpoints, payload, event.at)


def queue_test_event(endpoint: Endpoint) -> Delivery:
    """A test event for one endpoint, sent like any other: ``type`` is "test" and ``meeting``
    is null."""
    now = clock.now()
    payload = event_payload(f"evt_test_{uuid.uuid4().hex}", TEST_EVENT, now, endpoint.organization, None)
    return _queue([endpoint], payload, now)[0]


def _queue(endpoints: list[Endpoint], payload: dict, now: datetime) -> list[Delivery]:
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                endpoint=endpoint,
                event_id=payload["id"],
                event_type=payload["type"],
                payload=payload,
                next_try_at=now,
                created_at=now,
            )
            for endpoint in endpoints
        ]
    )
    wake_on_commit()
    return deliveries


def wake_on_commit() -> None:
    from .delivery import wake

    if not any(func is wake for _, func, _ in transaction.get_connection().run_on_commit):
        transaction.on_commit(wake, robust=True)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
