"""E1: an expert edits their profile — introduction, photo, skills — and clients see it; an
admin may edit any expert's of their own organization (O3: anyone else hears "not found").
A photo is accepted by its bytes (JPEG, PNG, WebP; at most 2 MB), kept under a random name,
and served by Parlour itself from the photo's address only. The average stars are shown to
admins, never to clients."""

import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parlour.catalog import profiles
from parlour.catalog.models import ExpertProfile, Skill
from parlour.meetings import outcome
from tests.factories import client as new_client
from tests.factories import member, world
from tests.meetings.checks import NOW, at
from tests.web.clients import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def w():
    return world()


def png_bytes() -> bytes:
    """A real 1×1 PNG picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def upload(content: bytes, name: str = "me.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def profile_of(user) -> ExpertProfile:
    return ExpertProfile.objects.get(membership__user=user)


def edit_url(w, part: str = "", expert=None) -> str:
    return f"/o/{w.org.slug}/profile/{part}" + (f"?expert={expert.pk}" if expert else "")


def public_url(w) -> str:
    return f"/o/{w.org.slug}/experts/{w.expert.pk}/"


# --- introduction and skills --------------------------------------------------------------


def test_e1_the_account_page_leads_an_expert_to_their_profile(w):
    page = text(signed_in(w.expert).get("/account/"))
    assert "Your profile" in page and f'href="/o/{w.org.slug}/profile/"' in page
    assert "Your profile" not in text(signed_in(w.client).get("/account/"))


def test_e1_the_bio_and_skills_are_saved_and_shown_on_the_public_page(w):
    taxes = Skill.objects.create(organization=w.org, name="Taxes")
    Skill.objects.create(organization=w.org, name="Wills")
    browser = signed_in(w.expert)
    page = text(browser.get(edit_url(w)))
    assert "Your profile" in page and "Taxes" in page and "Wills" in page

    response = browser.post(edit_url(w, "save/"), {"bio": "Twenty years of tax law.", "skills": [taxes.pk]})
    assert response.status_code == 302
    assert "The profile is saved." in text(browser.get(response["Location"]))
    profile = profile_of(w.expert)
    assert profile.bio == "Twenty years of tax law."
    assert list(profile.skills.all()) == [taxes]
    for path in (public_url(w), f"/o/{w.org.slug}/experts/{w.expert.pk}/profile/"):
        page = text(Client().get(path))
        assert "Twenty years of tax law." in page and "Taxes" in page and "Wills" not in page


def test_e1_a_too_long_bio_or_another_organizations_skill_is_refused_and_nothing_changes(w):
    browser = signed_in(w.expert)
    response = browser.post(edit_url(w, "save/"), {"bio": "x" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in text(response)
    foreign = Skill.objects.create(organization=world().org, name="Elsewhere")
    response = browser.post(edit_url(w, "save/"), {"bio": "Fine.", "skills": [foreign.pk]})
    assert response.status_code == 400
    profile = profile_of(w.expert)
    assert profile.bio == "" and not profile.skills.exists()


# --- the photo ----------------------------------------------------------------------------


def test_e1_a_png_photo_is_stored_under_a_random_name_and_served_back_as_png(w, media):
    browser = signed_in(w.expert)
    response = browser.post(edit_url(w, "photo/"), {"photo": upload(png_bytes(), "My Face.PNG")})
    assert response.status_code == 302
    name = profile_of(w.expert).photo.name
    assert name.startswith("experts/") and name.endswith(".png") and "Face" not in name
    assert (media / name).read_bytes() == png_bytes()

    page = text(Client().get(public_url(w)))
    src = f"/media/{name}"
    assert f'src="{src}"' in page and 'alt="Photo of Eve Expert"' in page
    served = Client().get(src)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in served["Cache-Control"]
    assert served.content == png_bytes()
    again = Client().get(src, headers={"if-modified-since": served["Last-Modified"]})
    assert again.status_code == 304


def test_e1_a_new_photo_replaces_the_old_file_and_remove_deletes_it(w, media, django_capture_on_commit_callbacks):
    browser = signed_in(w.expert)
    browser.post(edit_url(w, "photo/"), {"photo": upload(png_bytes())})
    first = profile_of(w.expert).photo.name
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the change is committed
        browser.post(edit_url(w, "photo/"), {"photo": upload(jpeg, "me.jpg", "image/jpeg")})
    second = profile_of(w.expert).photo.name
    assert second.endswith(".jpg") and second != first
    assert not (media / first).exists() and (media / second).exists()
    assert Client().get(f"/media/{first}").status_code == 404
    assert Client().get(f"/media/{second}")["Content-Type"] == "image/jpeg"

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(edit_url(w, "photo/remove/"))
    assert response.status_code == 302
    assert profile_of(w.expert).photo.name == ""
    assert not (media / second).exists()
    assert Client().get(f"/media/{second}").status_code == 404
    assert 'class="photo"' not in text(Client().get(public_url(w)))


def test_e1_a_text_file_named_png_is_refused_with_a_clear_message_and_nothing_changes(w, media):
    browser = signed_in(w.expert)
    browser.post(edit_url(w, "photo/"), {"photo": upload(png_bytes())})
    kept = profile_of(w.expert).photo.name
    response = browser.post(edit_url(w, "photo/"), {"photo": upload(b"just some text\n" * 10, "photo.png")})
    assert response.status_code == 400
    assert "This file is not a JPEG, PNG or WebP picture" in text(response)
    assert profile_of(w.expert).photo.name == kept
    assert sorted(p.name for p in (media / "experts").iterdir()) == [Path(kept).name]


def test_e1_a_photo_over_2_mb_is_refused_and_nothing_changes(w, media):
    browser = signed_in(w.expert)
    big = png_bytes() + b"\x00" * profiles.MAX_BYTES
    response = browser.post(edit_url(w, "photo/"), {"photo": upload(big)})
    assert response.status_code == 400
    assert "The photo is larger than 2 MB" in text(response)
    assert profile_of(w.expert).photo.name == ""
    assert not (media / "experts").exists() or not any((media / "experts").iterdir())


@pytest.mark.parametrize(
    "path",
    [
        "/media/experts/../../settings.py",
        "/media/experts/..%2F..%2Fparlour.sqlite3",
        "/media/experts/%2e%2e/secret.png",
        "/media/experts/",
        "/media/experts/notes.txt",
        "/media/other/x.png",
    ],
)
def test_o3_the_photo_address_serves_no_other_file(w, media, path):
    (media / "experts").mkdir(parents=True)
    (media / "experts" / "notes.txt").write_text("private")
    (media / "secret.png").write_bytes(png_bytes())
    assert Client().get(path).status_code == 404


def test_o3_a_file_in_the_folder_that_no_profile_names_is_not_served(w, media):
    (media / "experts").mkdir(parents=True)
    (media / "experts" / "stray.png").write_bytes(png_bytes())
    assert Client().get("/media/experts/stray.png").status_code == 404


# --- who may edit -------------------------------------------------------------------------


def test_e1_an_admin_edits_any_experts_profile_of_their_organization(w):
    browser = signed_in(w.admin)
    page = text(browser.get(edit_url(w)))
    assert "Whose profile?" in page and "Eve Expert" in page
    assert "Profile of Eve Expert" in text(browser.get(edit_url(w, expert=w.expert)))
    response = browser.post(edit_url(w, "save/", expert=w.expert), {"bio": "Set by the admin."})
    assert response.status_code == 302 and response["Location"] == edit_url(w, expert=w.expert)
    browser.post(edit_url(w, "photo/", expert=w.expert), {"photo": upload(png_bytes())})
    profile = profile_of(w.expert)
    assert profile.bio == "Set by the admin." and profile.photo.name.endswith(".png")


def test_o3_an_admin_of_another_organization_gets_not_found(w):
    other = world()
    browser = signed_in(other.admin)
    assert browser.get(edit_url(other, expert=w.expert)).status_code == 404
    assert browser.post(edit_url(other, "save/", expert=w.expert), {"bio": "Hijacked"}).status_code == 404
    assert browser.post(edit_url(other, "photo/", expert=w.expert), {"photo": upload(png_bytes())}).status_code == 404
    assert browser.get(edit_url(w, expert=w.expert)).status_code == 404
    assert browser.post(edit_url(w, "save/", expert=w.expert), {"bio": "Hijacked"}).status_code == 404
    assert profile_of(w.expert).bio == "" and not profile_of(w.expert).photo


def test_o3_a_client_or_another_expert_cannot_edit(w):
    for person in (w.client, new_client(w.org)):
        browser = signed_in(person)
        assert browser.get(edit_url(w)).status_code == 404
        assert browser.post(edit_url(w, "save/", expert=w.expert), {"bio": "Mine now"}).status_code == 404
    colleague = signed_in(w.colleague)
    assert colleague.post(edit_url(w, "save/", expert=w.expert), {"bio": "Mine now"}).status_code == 404
    assert colleague.post(edit_url(w, "photo/remove/", expert=w.expert)).status_code == 404
    assert profile_of(w.expert).bio == ""
    anonymous = Client().post(edit_url(w, "save/"), {"bio": "Anyone"})
    assert anonymous.status_code == 302 and "signin" in anonymous["Location"]


# --- stars: admins only (E1) --------------------------------------------------------------


def test_e1_admins_see_the_average_stars_and_clients_never(w):
    w.org.reviews_enabled = True
    w.org.save()
    for stars, hours in ((2, 2), (5, 30)):
        meeting = w.agreed(hours_ahead=hours)
        outcome.submit_statement(w.client, meeting, said="held", stars=stars, now=at(hours + 1))
    members = text(signed_in(w.admin).get(f"/o/{w.org.slug}/settings/members/"))
    assert "3.5 of 5 on average, from 2 ratings." in members
    profile_page = f"/o/{w.org.slug}/experts/{w.expert.pk}/profile/"
    assert "3.5 of 5 on average" in text(signed_in(w.admin).get(profile_page))
    assert "3.5 of 5 on average" in text(signed_in(w.admin).get(edit_url(w, expert=w.expert)))
    for viewer in (Client(), signed_in(w.client), signed_in(w.expert), signed_in(member(w.org))):
        for path in (profile_page, public_url(w)):
            page = text(viewer.get(path))
            assert "on average" not in page and "3.5" not in page and "Stars from clients" not in page
    assert "on average" not in text(signed_in(w.expert).get(edit_url(w)))


def test_e5_the_dashboards_experts_by_skill_show_the_photo(w):
    taxes = Skill.objects.create(organization=w.org, name="Taxes")
    signed_in(w.expert).post(edit_url(w, "save/"), {"bio": "", "skills": [taxes.pk]})
    signed_in(w.expert).post(edit_url(w, "photo/"), {"photo": upload(png_bytes())})
    page = text(signed_in(w.client).get(f"/o/{w.org.slug}/"))
    assert f'src="/media/{profile_of(w.expert).photo.name}"' in page
