"""O1, I1 in Chromium at phone size: a visitor of an organization's page creates an account
(the time zone is the browser's), opens the link of the mail (received by a real SMTP server
on loopback), chooses a password and is signed in on the organization's page as its client."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from playwright.sync_api import expect

from parlour.accounts.models import ClientAccount, User
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world
from tests.notifications.smtp import mail_server

PASSWORD = "a fresh and long passphrase"


@pytest.mark.django_db(transaction=True)
def test_o1_a_visitor_creates_an_account_and_lands_on_the_organization_at_phone_size(
    browser, new_context, live, settings
):
    cache.clear()  # the rate limits' counters
    settings.PARLOUR_BASE_URL = live.url  # the mail's links lead to this server
    w = world()
    page = watched(new_context(browser, timezone_id="Asia/Tokyo", **PHONE).new_page())
    with mail_server() as server:
        page.goto(f"/o/{w.org.slug}/experts/")
        page.get_by_role("link", name="Create an account").click()
        expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
        expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
        assert fits_the_screen(page)
        page.get_by_label("Your name").fill("Nora Newcomer")
        page.get_by_label("Email address").fill("nora@example.org")
        page.get_by_role("button", name="Create the account").click()
        expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("nora@example.org")
        assert fits_the_screen(page)
        received = server.wait_for(1, address="nora@example.org")
    assert len(received) == 1
    nora = User.objects.get(email="nora@example.org")
    assert nora.time_zone == "Asia/Tokyo" and ClientAccount.objects.filter(organization=w.org, user=nora).exists()
    link = re.search(r"http://\S+/signup/password/\S+/", received[0].message.get_content()).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome to Parlour")).to_be_visible()
    assert "/set-password/" in page.url  # the token has left the address bar
    assert fits_the_screen(page)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Set the password").click()

    expect(page.get_by_role("status").first).to_contain_text("Your password is set; you are signed in.")
    expect(page).to_have_url(re.compile(rf"/o/{w.org.slug}/$"))
    expect(page.get_by_role("link", name="Wallet")).to_be_visible()
    assert fits_the_screen(page)
    assert authenticate(email="nora@example.org", password=PASSWORD) == nora
    assert page.errors == []
