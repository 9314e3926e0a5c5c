"""O1, I1 in Chromium at phone size: a member who forgot their password asks for a link on
the sign-in page, opens the link from the mail (received by a real SMTP server on loopback)
and chooses a new password; they are signed in with it."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core.cache import cache
from playwright.sync_api import expect

from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world
from tests.notifications.smtp import mail_server


@pytest.mark.django_db(transaction=True)
def test_o1_a_member_resets_the_password_from_the_sign_in_page_at_phone_size(browser, new_context, live, settings):
    cache.clear()  # the rate limits' counters
    settings.PARLOUR_BASE_URL = live.url  # the mail's links lead to this server
    w = world()
    page = watched(new_context(browser, **PHONE).new_page())
    with mail_server() as server:
        page.goto("/signin/")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        assert fits_the_screen(page)
        page.get_by_label("Email").fill(w.expert.email)
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
        assert fits_the_screen(page)
        received = server.wait_for(1, address=w.expert.email)
    assert len(received) == 1
    link = re.search(r"http://\S+/signin/password/\S+/", received[0].message.get_content()).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "/set-password/" in page.url  # the token has left the address bar
    assert fits_the_screen(page)
    page.get_by_label("New password", exact=True).fill("a fresh and long passphrase")
    page.get_by_label("New password confirmation").fill("a fresh and long passphrase")
    page.get_by_role("button", name="Set the password").click()

    expect(page.get_by_role("status").first).to_contain_text("Your password is set; you are signed in.")
    expect(page).to_have_url(re.compile(rf"/o/{w.org.slug}/"))
    assert authenticate(email=w.expert.email, password="a fresh and long passphrase") is not None

    page.goto(link)  # the link worked once
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    assert page.errors == []
