"""An expert's profile in Chromium at phone size (E1): from the account page the expert
uploads a photo, and it shows, loaded, on their public page; nothing runs off the screen."""

import pytest
from playwright.sync_api import expect

from parlour.catalog.models import ExpertProfile
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world
from tests.web.test_expert_profile_edit import png_bytes


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db(transaction=True)
def test_e1_an_expert_uploads_a_photo_and_sees_it_on_their_public_page(browser, new_context, media):
    w = world()
    page = watched(new_context(browser, w.expert, **PHONE).new_page())
    page.goto("/account/")
    page.get_by_role("link", name="Edit your profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert fits_the_screen(page)

    page.get_by_label("A new photo").set_input_files({"name": "me.png", "mimeType": "image/png", "buffer": png_bytes()})
    page.get_by_role("button", name="Upload the photo").click()
    expect(page.get_by_role("status")).to_contain_text("The photo is saved.")
    assert ExpertProfile.objects.get(membership__user=w.expert).photo.name.endswith(".png")
    page.get_by_label("Introduction").fill("Twenty years of tax law.")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("status")).to_contain_text("The profile is saved.")

    page.goto(f"/o/{w.org.slug}/experts/{w.expert.pk}/")
    photo = page.get_by_role("img", name="Photo of Eve Expert")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 1  # the served picture, decoded
    box = photo.bounding_box()
    assert box["width"] == 96 and box["height"] == 96
    expect(page.get_by_text("Twenty years of tax law.")).to_be_visible()
    assert fits_the_screen(page)
    assert page.errors == []
