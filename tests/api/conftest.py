"""Helpers for the API tests: a world (tests/factories.py) and clients signed in as one of
its people, by session (``as_user``) or by personal token (``with_token``)."""

import json
from datetime import datetime, timedelta

import pytest
from django.test import Client

from parlour.accounts.models import ApiToken
from parlour.core import clock
from tests.factories import World, on_grid, world


class Api:
    """A test client speaking JSON to /api/v1, for one person."""

    def __init__(self, client: Client, base: str = "/api/v1", headers: dict | None = None) -> None:
        self.client = client
        self.base = base
        self.headers = headers or {}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.base + path, params or {}, headers=self.headers)

    def post(self, path: str, body=None):
        data = "" if body is None else json.dumps(body)
        return self.client.post(self.base + path, data, content_type="application/json", headers=self.headers)

    def org(self, w: World) -> "Api":
        return Api(self.client, f"{self.base}/orgs/{w.org.slug}", self.headers)


@pytest.fixture
def w(db) -> World:
    return world()


@pytest.fixture
def as_user(db):
    """``as_user(person)`` → an ``Api`` signed in by session (CSRF not enforced)."""

    def make(user) -> Api:
        client = Client()
        client.force_login(user)
        return Api(client)

    return make


@pytest.fixture
def with_token(db):
    """``with_token(person)`` → an ``Api`` sending a fresh personal token, no cookies."""

    def make(user) -> Api:
        _, token = ApiToken.issue(user, "tests")
        return Api(Client(), headers={"Authorization": f"Bearer {token}"})

    return make


def iso(moment: datetime) -> str:
    return moment.isoformat()


def hours_from_now(hours: float) -> datetime:
    return on_grid(clock.now()) + timedelta(hours=hours)


def snapshot(meeting) -> dict:
    """What a refused action must leave as it was."""
    meeting.refresh_from_db()
    return {
        "status": meeting.status,
        "start": meeting.start,
        "length": meeting.length_minutes,
        "expert": meeting.expert_id,
        "credit_status": meeting.credit_status,
        "outcome": meeting.outcome,
        "client_approved": meeting.client_approved,
        "expert_approved": meeting.expert_approved,
        "updated_at": meeting.updated_at,
        "events": meeting.timeline.count(),
        "alternatives": list(meeting.alternatives.values_list("state", flat=True)),
        "transfers": meeting.transfers.count(),
    }


def assert_error(response, status: int, code: str, rule: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert set(body) <= {"code", "message", "rule", "details"} and body["message"]
    if rule is not None:
        assert body["rule"] == rule, body
    return body
