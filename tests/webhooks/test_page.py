"""I3 on the organization's settings pages: the "Webhooks" tab, for admins only (O3)."""

from django.urls import reverse

from parlour.webhooks import delivery
from parlour.webhooks.models import Endpoint
from tests.factories import world
from tests.web.clients import signed_in, text


def page(w) -> str:
    return reverse("web:settings_webhooks", args=[w.org.slug])


def test_i3_an_admin_adds_an_endpoint_sees_its_secret_once_and_its_deliveries(w, receiver):
    browser = signed_in(w.admin)
    settings_page = text(browser.get(reverse("web:settings", args=[w.org.slug])))
    assert page(w) in settings_page  # the tab

    made = browser.post(
        reverse("web:settings_webhook_add", args=[w.org.slug]),
        {"new-url": receiver.url + "/crm", "new-description": "Our CRM", "new-kinds": ["booked"]},
    )
    assert made.status_code == 201
    endpoint = Endpoint.objects.get()
    assert endpoint.secret in text(made)
    assert endpoint.kinds == ["booked"]

    w.book()
    delivery.deliver_due()
    shown = text(browser.get(page(w)))
    assert endpoint.secret not in shown  # shown once
    assert receiver.url + "/crm" in shown and "Our CRM" in shown
    assert "booked" in shown and "Delivered" in shown and "HTTP 200" in shown

    browser.post(reverse("web:settings_webhook_test", args=[w.org.slug, endpoint.pk]))
    delivery.deliver_due()
    assert receiver.bodies()[-1]["type"] == "test"

    browser.post(reverse("web:settings_webhook_delete", args=[w.org.slug, endpoint.pk]))
    assert not Endpoint.objects.exists()


def test_i3_a_bad_address_is_shown_again_with_the_error_and_nothing_is_stored(w):
    browser = signed_in(w.admin)
    answer = browser.post(reverse("web:settings_webhook_add", args=[w.org.slug]), {"new-url": "ftp://example.org/x"})
    assert answer.status_code == 400
    assert "https://" in text(answer) and 'value="ftp://example.org/x"' in text(answer)
    assert not Endpoint.objects.exists()


def test_i3_the_page_is_not_found_for_members_and_other_organizations(w, receiver):
    endpoint = Endpoint.objects.create(organization=w.org, url=receiver.url, secret="whsec_x")
    other = world()
    for person in (w.expert, w.client, other.admin):
        browser = signed_in(person)
        assert browser.get(page(w)).status_code == 404
        assert (
            browser.post(reverse("web:settings_webhook_add", args=[w.org.slug]), {"new-url": receiver.url}).status_code
            == 404
        )
    outsider = signed_in(other.admin)
    for name in ("web:settings_webhook_test", "web:settings_webhook_delete"):
        assert outsider.post(reverse(name, args=[other.org.slug, endpoint.pk])).status_code == 404
    assert Endpoint.objects.count() == 1


def test_i3_the_page_is_in_the_viewers_language(w):
    w.admin.language = "de"
    w.admin.save()
    shown = text(signed_in(w.admin).get(page(w)))
    assert "Neuer Endpunkt" in shown and "Endpunkt hinzufügen" in shown
