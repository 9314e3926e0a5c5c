"""Signing in (O1), sessions with CSRF, personal API tokens and the error shape (I2)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from parlour.accounts.models import ApiToken
from parlour.core import clock

from .conftest import Api, assert_error

pytestmark = pytest.mark.django_db


def test_o1_sign_in_by_session_then_me_then_sign_out(w):
    api = Api(Client())
    assert_error(api.get("/me"), 401, "not_authenticated", "I2")
    response = api.post("/auth/login", {"email": w.client.email.upper(), "password": "correct horse battery"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["me"]["email"] == w.client.email
    assert body["me"]["organizations"] == [{"slug": w.org.slug, "name": w.org.name, "role": "client"}]
    assert body["csrf_token"]
    assert api.get("/me").json()["id"] == w.client.pk
    assert api.post("/auth/logout").status_code == 204
    assert_error(api.get("/me"), 401, "not_authenticated")


def test_o1_wrong_password_is_refused(w):
    response = Api(Client()).post("/auth/login", {"email": w.client.email, "password": "nope"})
    assert_error(response, 401, "invalid_credentials", "O1")


def test_me_lists_roles_per_organization(w, as_user):
    body = as_user(w.admin).get("/me").json()
    assert body["organizations"] == [{"slug": w.org.slug, "name": w.org.name, "role": "admin"}]


def test_i2_session_post_without_csrf_token_is_refused(w):
    """A signed-in browser session must send the CSRF token with an unsafe request."""
    meeting = w.book()
    browser = Client(enforce_csrf_checks=True)
    api = Api(browser)
    token = api.get("/auth/csrf").json()["csrf_token"]
    login = browser.post(
        "/api/v1/auth/login",
        {"email": w.expert.email, "password": "correct horse battery"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert login.status_code == 200, login.content
    fresh = login.json()["csrf_token"]
    path = f"/orgs/{w.org.slug}/meetings/{meeting.pk}/confirm"
    assert_error(api.post(path, {}), 403, "csrf_failed", "I2")
    meeting.refresh_from_db()
    assert meeting.status == "awaiting_approval"
    # Reads need no token; the same write with the token goes through.
    assert api.get(f"/orgs/{w.org.slug}/meetings/{meeting.pk}").status_code == 200
    ok = Api(browser, headers={"X-CSRFToken": fresh}).post(path, {})
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "agreed"


def test_i2_sign_in_itself_needs_the_csrf_token(w):
    response = Api(Client(enforce_csrf_checks=True)).post(
        "/auth/login", {"email": w.client.email, "password": "correct horse battery"}
    )
    assert_error(response, 403, "csrf_failed")


def test_i2_unauthenticated_post_is_401_not_403(w):
    response = Api(Client(enforce_csrf_checks=True)).post(f"/orgs/{w.org.slug}/meetings/1/confirm", {})
    assert_error(response, 401, "not_authenticated")


def test_i2_token_is_shown_once_listed_and_works_without_csrf(w, as_user):
    browser = as_user(w.client)
    created = browser.post("/me/tokens", {"name": "my script"})
    assert created.status_code == 201, created.content
    token = created.json()["token"]
    assert token.startswith("plr_")
    listed = browser.get("/me/tokens").json()
    assert [t["name"] for t in listed] == ["my script"]
    assert "token" not in listed[0] and listed[0]["hint"] == token[-6:]
    assert ApiToken.objects.get().digest != token  # only a hash is kept

    script = Api(Client(enforce_csrf_checks=True), headers={"Authorization": f"Bearer {token}"})
    assert script.get("/me").json()["id"] == w.client.pk
    row = ApiToken.objects.get()
    assert row.last_used_at is not None
    meeting = w.book()
    response = script.post(f"/orgs/{w.org.slug}/meetings/{meeting.pk}/cancel", {"note": "changed my mind"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_i2_token_last_used_is_kept_current(w, with_token):
    api = with_token(w.client)
    api.get("/me")
    first = ApiToken.objects.get().last_used_at
    with time_machine.travel(clock.now() + timedelta(minutes=5)):
        api.get("/me")
    assert ApiToken.objects.get().last_used_at > first


def test_i2_revoked_token_is_refused(w, as_user):
    browser = as_user(w.client)
    body = browser.post("/me/tokens", {"name": "old"}).json()
    script = Api(Client(), headers={"Authorization": f"Bearer {body['token']}"})
    assert script.get("/me").status_code == 200
    revoked = browser.post(f"/me/tokens/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_error(script.get("/me"), 401, "invalid_token", "I2")
    # Revoking again changes nothing; someone else's token is not found.
    assert browser.post(f"/me/tokens/{body['id']}/revoke").json()["revoked_at"] == revoked.json()["revoked_at"]
    assert_error(as_user(w.expert).post(f"/me/tokens/{body['id']}/revoke"), 404, "not_found")


def test_i2_unknown_token_is_refused_even_with_a_session(w, as_user):
    api = as_user(w.client)
    api.headers = {"Authorization": "Bearer plr_not-a-real-token"}
    assert_error(api.get("/me"), 401, "invalid_token")
    api.headers = {"Authorization": "Bearer something-else"}
    assert_error(api.get("/me"), 401, "invalid_token")


def test_i2_a_token_cannot_manage_tokens(w, with_token):
    api = with_token(w.client)
    assert_error(api.post("/me/tokens", {"name": "another"}), 401, "not_authenticated")
    assert_error(api.get("/me/tokens"), 401, "not_authenticated")
    assert ApiToken.objects.count() == 1


def test_i2_token_name_is_checked(w, as_user):
    body = assert_error(as_user(w.client).post("/me/tokens", {"name": ""}), 422, "invalid_input", "Q2")
    assert body["details"]["errors"][0]["field"] == "name"


def test_i2_openapi_schema_and_docs_load(db):
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/orgs/{slug}/meetings" in paths
    assert "/api/v1/orgs/{slug}/meetings/{meeting_id}/cancel" in paths
    operations = [op["operationId"] for path in paths.values() for op in path.values()]
    assert len(operations) == len(set(operations)) >= 30
    schemes = schema.json()["components"]["securitySchemes"]
    assert {"TokenAuth", "SessionAuth"} <= set(schemes)
    assert client.get("/api/v1/docs").status_code == 200


def test_i2_unknown_endpoint_answers_json_404(w, as_user):
    assert_error(as_user(w.client).get("/no/such/thing"), 404, "not_found", "I2")
    assert_error(Client().get("/api/v1/me/"), 404, "not_found")


def test_q2_unparsable_body_is_a_clear_400(w, as_user):
    api = as_user(w.client)
    response = api.client.post(f"/api/v1/orgs/{w.org.slug}/meetings/book", "{not json", content_type="application/json")
    assert_error(response, 400, "invalid_input")


def test_q2_unknown_fields_are_refused(w, as_user):
    meeting = w.book(hours_ahead=24 * 5)
    api = as_user(w.client).org(w)
    body = assert_error(api.post(f"/meetings/{meeting.pk}/cancel", {"nte": "typo"}), 422, "invalid_input", "Q2")
    assert "nte" in body["message"]
    meeting.refresh_from_db()
    assert meeting.status == "awaiting_approval"
