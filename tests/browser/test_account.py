"""The account page in Chromium: a person switches their pages to Dutch (D4), and makes and
revokes a personal API token at phone size (I2), through the confirmation dialog."""

import re

import pytest
from playwright.sync_api import expect

from parlour.accounts.models import ApiToken, User
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.mark.django_db(transaction=True)
def test_d4_a_person_switches_their_pages_to_dutch(browser, new_context):
    person = world().client
    page = watched(new_context(browser, person).new_page())
    page.goto("/account/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#id_language").select_option("nl")
    page.get_by_role("button", name="Save language").click()

    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("status")).to_contain_text("Nederlands")
    expect(page.get_by_label("Oud wachtwoord")).to_be_visible()  # Django ships these in Dutch
    expect(page.get_by_label("Nieuw wachtwoord", exact=True)).to_be_visible()
    # The whole page is Dutch, the header and footer too: its language switch says so.
    expect(page.locator("footer select")).to_have_value("nl")
    assert User.objects.get(pk=person.pk).language == "nl"

    page.goto(f"/o/{person.client_accounts.get().organization.slug}/wallet/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    assert page.errors == []


@pytest.mark.django_db(transaction=True)
def test_i2_a_token_is_made_and_revoked_at_phone_size(browser, new_context):
    person = world().expert
    page = watched(new_context(browser, person, **PHONE).new_page())
    page.goto("/account/")
    assert fits_the_screen(page)

    page.get_by_label("What the token is for").fill("Phone script")
    page.get_by_role("button", name="Make a token").click()
    shown = page.locator("#new-token")
    expect(shown).to_have_value(re.compile(r"^plr_"))
    token = shown.input_value()
    row = ApiToken.objects.get(user=person)
    assert row.digest == ApiToken.hash(token) and row.name == "Phone script"
    assert fits_the_screen(page)

    page.goto("/account/")  # shown once: not again
    expect(page.locator("#new-token")).to_have_count(0)
    assert token not in page.content()

    opener = page.get_by_role("button", name="Revoke Phone script")
    opener.click()
    dialog = page.get_by_role("dialog", name="Revoke the token “Phone script”?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Keep it")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    row.refresh_from_db()
    assert row.revoked_at is None

    opener.click()
    dialog.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    expect(page.get_by_role("button", name="Revoke Phone script")).to_have_count(0)
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert fits_the_screen(page)
    assert page.errors == []
