"""What the page tests share: a browser (Django's test client) signed in as someone, and a
response's page as text."""

from django.test import Client


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def text(response) -> str:
    return response.content.decode()
