"""The organization's settings in Chromium at phone size: an admin switches the reviews
add-on off (O4) and changes the cancellation notice (O5); a member is removed through the
confirmation dialog, which Escape closes with the focus back on its button."""

import pytest
from playwright.sync_api import expect

from parlour.accounts.models import Membership, Organization, OrganizationSettings
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.mark.django_db(transaction=True)
def test_o4_o5_an_admin_switches_reviews_off_and_changes_the_notice_at_phone_size(browser, new_context):
    w = world()
    Organization.objects.filter(pk=w.org.pk).update(reviews_enabled=True)
    page = watched(new_context(browser, w.admin, **PHONE).new_page())
    page.goto(f"/o/{w.org.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Settings of")
    assert fits_the_screen(page)

    reviews = page.get_by_label("Reviews")
    expect(reviews).to_be_checked()
    reviews.uncheck()
    page.get_by_role("button", name="Save the add-ons").click()
    expect(page.get_by_role("status")).to_contain_text("Reviews are off")
    expect(page.get_by_label("Reviews")).not_to_be_checked()
    assert Organization.objects.get(pk=w.org.pk).reviews_enabled is False

    page.get_by_label("Cancellation notice (hours)").fill("12")
    page.get_by_label("Late cancellation charge (%)").fill("150")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.locator("#id_late_cancellation_charge_percent_error")).to_be_visible()
    assert OrganizationSettings.objects.get(organization=w.org).cancellation_notice_hours == 48
    assert fits_the_screen(page)

    page.get_by_label("Late cancellation charge (%)").fill("50")
    page.get_by_label("Cancellation notice (hours)").fill("24")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.get_by_role("status")).to_contain_text("The settings are saved.")
    expect(page.get_by_label("Cancellation notice (hours)")).to_have_value("24")
    assert OrganizationSettings.objects.get(organization=w.org).cancellation_notice_hours == 24
    assert fits_the_screen(page)
    assert page.errors == []


@pytest.mark.django_db(transaction=True)
def test_o1_a_member_is_removed_through_the_dialog_at_phone_size(browser, new_context):
    w = world()
    page = watched(new_context(browser, w.admin, **PHONE).new_page())
    page.goto(f"/o/{w.org.slug}/settings/members/")
    expect(page.get_by_role("link", name="Members")).to_have_attribute("aria-current", "page")
    assert fits_the_screen(page)

    opener = page.get_by_role("button", name="Remove Carl Colleague")
    opener.click()
    dialog = page.get_by_role("dialog", name="Remove Carl Colleague from the organization?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Keep them")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Carl Colleague is no longer a member.")
    assert not Membership.objects.filter(organization=w.org, user=w.colleague).exists()
    assert page.errors == []
