"""An organization's webhook endpoints and their deliveries (I3), for its admins only.

Another organization's endpoint answers "not found" (O3); a member who is not an admin is
refused (403), like every admin-only action. The secret is in the answer that makes the
endpoint and never again."""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from parlour.webhooks import endpoints, events
from parlour.webhooks.models import Delivery, DeliveryState

from .lookups import organization_for, viewer
from .schemas import ERRORS, ErrorOut

router = Router(tags=["webhooks"])
RECENT = 50


class EndpointIn(Schema):
    url: str = Field(description="https://…; plain http only to loopback in development.", max_length=500)
    kinds: list[str] = Field(
        default_factory=list,
        description="The timeline event kinds to send (e.g. `approved`, `cancelled`); empty: all of them.",
    )
    description: str = Field("", max_length=200)


class EndpointOut(Schema):
    id: int
    url: str
    kinds: list[str]
    description: str
    is_active: bool
    created_at: datetime


class NewEndpointOut(EndpointOut):
    secret: str = Field(description="Signs every request (`Parlour-Signature`). Shown only in this answer.")


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    next_try_at: datetime | None = Field(description="When it is tried next, while it is pending.")
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


def _endpoint(endpoint) -> dict:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "kinds": endpoint.kinds,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
        "created_at": endpoint.created_at,
    }


def _delivery(delivery: Delivery) -> dict:
    return {
        "id": delivery.pk,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "next_try_at": delivery.next_try_at if delivery.state == DeliveryState.PENDING else None,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "payload": delivery.payload,
    }


@router.get("/orgs/{slug}/webhooks", response={200: list[EndpointOut], ERRORS: ErrorOut})
def list_webhooks(request: HttpRequest, slug: str):
    """I3: the organization's webhook endpoints (without their secrets)."""
    organization = organization_for(request, slug)
    return [_endpoint(e) for e in endpoints.endpoints_of(viewer(request), organization)]


@router.post("/orgs/{slug}/webhooks", response={201: NewEndpointOut, ERRORS: ErrorOut})
def create_webhook(request: HttpRequest, slug: str, payload: EndpointIn):
    """I3: a new endpoint; every timeline event of the organization's meetings (or those of
    the given kinds) is sent to it, signed with the secret of this answer, shown only here."""
    organization = organization_for(request, slug)
    endpoint = endpoints.create_endpoint(
        viewer(request), organization, payload.url, kinds=payload.kinds, description=payload.description
    )
    return Status(201, {**_endpoint(endpoint), "secret": endpoint.secret})


@router.delete("/orgs/{slug}/webhooks/{endpoint_id}", response={204: None, ERRORS: ErrorOut})
def delete_webhook(request: HttpRequest, slug: str, endpoint_id: int):
    """I3: the endpoint and its deliveries are deleted; nothing more is sent to it."""
    organization = organization_for(request, slug)
    endpoints.delete_endpoint(viewer(request), organization, endpoint_id)
    return Status(204, None)


@router.get("/orgs/{slug}/webhooks/{endpoint_id}/deliveries", response={200: list[DeliveryOut], ERRORS: ErrorOut})
def list_webhook_deliveries(request: HttpRequest, slug: str, endpoint_id: int):
    """I3: the endpoint's 50 most recent deliveries, newest first, with their state."""
    organization = organization_for(request, slug)
    endpoint = endpoints.endpoint_of(viewer(request), organization, endpoint_id)
    return [_delivery(d) for d in endpoint.deliveries.order_by("-created_at", "-id")[:RECENT]]


@router.post("/orgs/{slug}/webhooks/{endpoint_id}/test", response={202: DeliveryOut, ERRORS: ErrorOut})
def send_test_webhook(request: HttpRequest, slug: str, endpoint_id: int):
    """I3: queue a test event (``type`` "test", ``meeting`` null) to the endpoint; it is sent
    at once by a worker, like any event."""
    organization = organization_for(request, slug)
    endpoint = endpoints.endpoint_of(viewer(request), organization, endpoint_id)
    return Status(202, _delivery(events.queue_test_event(endpoint)))
