"""E1 through the API: an expert (or an admin of the organization) changes the expert's
introduction and skills with one PATCH; a field left out stays; another member or a client
hears 403, anyone else "not found" (O3); bad input changes nothing (Q2). The photo is
uploaded (multipart) and removed through the API too; its address is in the experts list."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from parlour.catalog.models import ExpertProfile, Skill
from tests.factories import world
from tests.web.test_expert_profile_edit import png_bytes

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def patch(api, w, expert, body):
    return api.client.patch(
        f"{api.base}/orgs/{w.org.slug}/experts/{expert.pk}/profile",
        json.dumps(body),
        content_type="application/json",
        headers=api.headers,
    )


def profile_of(user) -> ExpertProfile:
    return ExpertProfile.objects.get(membership__user=user)


def test_e1_an_expert_changes_their_bio_and_skills_and_the_list_shows_them(w, with_token):
    taxes = Skill.objects.create(organization=w.org, name="Taxes")
    api = with_token(w.expert)
    response = patch(api, w, w.expert, {"bio": "  Twenty years of tax law. ", "skill_ids": [taxes.pk, taxes.pk]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["bio"] == "Twenty years of tax law."
    assert body["skills"] == [{"id": taxes.pk, "name": "Taxes"}]
    assert body["photo_url"] is None
    assert sorted(body["service_ids"]) == sorted([w.service.pk, w.free_service.pk])

    response = patch(api, w, w.expert, {"bio": "Shorter."})  # skills left out stay
    assert [s["name"] for s in response.json()["skills"]] == ["Taxes"]
    listed = {e["name"]: e for e in api.org(w).get("/experts").json()}
    assert listed["Eve Expert"]["bio"] == "Shorter."


def test_e1_an_admin_changes_any_experts_profile(w, with_token):
    response = patch(with_token(w.admin), w, w.expert, {"bio": "Set by the admin.", "skill_ids": []})
    assert response.status_code == 200
    assert profile_of(w.expert).bio == "Set by the admin."


def test_o3_another_member_or_a_client_hears_403_and_anyone_else_not_found(w, with_token):
    for person in (w.colleague, w.client):  # they see the expert in the list, but may not edit
        assert_error(patch(with_token(person), w, w.expert, {"bio": "Mine"}), 403, "admins_only", "E1")
    other = world()
    assert_error(patch(with_token(other.admin), w, w.expert, {"bio": "Mine"}), 404, "not_found")
    assert_error(patch(with_token(w.admin), w, other.expert, {"bio": "Mine"}), 404, "not_found")
    assert_error(patch(with_token(w.admin), w, w.admin, {"bio": "Not an expert"}), 404, "not_found")
    assert profile_of(w.expert).bio == "" and profile_of(other.expert).bio == ""


@pytest.mark.parametrize(
    "body",
    [{"bio": "x" * 2001}, {"bio": 12}, {"skill_ids": [0]}, {"photo": "x.png"}, {"skill_ids": "1"}],
)
def test_q2_bad_input_is_refused_and_changes_nothing(w, with_token, body):
    response = patch(with_token(w.expert), w, w.expert, body)
    assert response.status_code in (400, 422)
    assert profile_of(w.expert).bio == ""


def test_o3_a_skill_of_another_organization_is_not_found_and_changes_nothing(w, with_token):
    foreign = Skill.objects.create(organization=world().org, name="Elsewhere")
    response = patch(with_token(w.expert), w, w.expert, {"bio": "New", "skill_ids": [foreign.pk]})
    assert_error(response, 404, "not_found")
    assert profile_of(w.expert).bio == "" and not profile_of(w.expert).skills.exists()


# --- the photo ----------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def send_photo(api, w, expert, content: bytes, name: str = "me.png"):
    return api.client.post(
        f"{api.base}/orgs/{w.org.slug}/experts/{expert.pk}/photo",
        {"photo": SimpleUploadedFile(name, content, content_type="image/png")},
        headers=api.headers,
    )


def test_e1_an_expert_uploads_a_photo_replaces_and_removes_it_through_the_api(
    w, with_token, media, django_capture_on_commit_callbacks
):
    api = with_token(w.expert)
    response = send_photo(api, w, w.expert, png_bytes())
    assert response.status_code == 200, response.content
    first = profile_of(w.expert).photo.name
    assert response.json()["photo_url"].endswith(f"/media/{first}")
    assert (media / first).read_bytes() == png_bytes()

    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the change is committed
        response = send_photo(with_token(w.admin), w, w.expert, png_bytes(), "again.png")  # an admin may too
    second = profile_of(w.expert).photo.name
    assert response.status_code == 200 and second != first
    assert not (media / first).exists() and (media / second).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.client.delete(f"{api.base}/orgs/{w.org.slug}/experts/{w.expert.pk}/photo", headers=api.headers)
    assert response.status_code == 200 and response.json()["photo_url"] is None
    assert profile_of(w.expert).photo.name == "" and not (media / second).exists()


def test_e1_q2_a_file_that_is_not_a_picture_or_too_big_is_refused_and_the_photo_stays(w, with_token, media):
    api = with_token(w.expert)
    assert send_photo(api, w, w.expert, png_bytes()).status_code == 200
    kept = profile_of(w.expert).photo.name
    assert_error(send_photo(api, w, w.expert, b"<svg onload=alert(1)>", "me.png"), 400, "not_a_photo", "E1")
    big = png_bytes() + b"\0" * (2 * 1024 * 1024)
    assert_error(send_photo(api, w, w.expert, big), 400, "too_big", "E1")
    assert profile_of(w.expert).photo.name == kept
    assert sorted(p.name for p in (media / "experts").iterdir()) == [kept.split("/")[-1]]


def test_o3_e1_only_the_expert_or_an_admin_changes_the_photo(w, with_token, media):
    for person in (w.colleague, w.client):
        assert_error(send_photo(with_token(person), w, w.expert, png_bytes()), 403, "admins_only", "E1")
    assert_error(send_photo(with_token(world().admin), w, w.expert, png_bytes()), 404, "not_found")
    assert profile_of(w.expert).photo.name == ""
