"""Area F, settings tab "Webhooks" (I3): an organization's admins add and delete the
endpoints its meetings' events are sent to, send a test event, and see the recent
deliveries with their state. Anyone who is not an admin gets "not found" (O3), as on the
other settings pages; so does an endpoint of another organization.

The secret of a new endpoint is shown once, in the page that answers the form that made it
(not after a redirect, so it is never stored for a later page)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from parlour.core.errors import DomainError
from parlour.meetings.models import EventKind
from parlour.webhooks import endpoints, events
from parlour.webhooks.models import Delivery

from .organization import admin_page, show

RECENT = 10


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address (URL)"),
        max_length=500,
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("It must start with https://. Events are sent to it as signed POST requests."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Events to send"),
        choices=[(kind, kind) for kind in EventKind.values],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("None chosen: every event."),
    )


def webhooks_page(request, organization, *, form=None, new_endpoint=None, status=200) -> HttpResponse:
    found = list(endpoints.endpoints_of(request.user, organization))
    for endpoint in found:
        endpoint.recent = list(Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[:RECENT])
    context = {
        "section": "webhooks",
        "endpoints": found,
        "form": form or EndpointForm(prefix="new"),
        "new_endpoint": new_endpoint,
    }
    return show(request, organization, "webhooks.html", context, status)


def _endpoint(request, organization, endpoint_id: int):
    try:
        return endpoints.endpoint_of(request.user, organization, endpoint_id)
    except DomainError as error:
        raise Http404 from error


@login_required
@require_GET
def webhooks(request: HttpRequest, slug: str) -> HttpResponse:
    return webhooks_page(request, admin_page(request, slug))


@login_required
@require_POST
def add_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    organization = admin_page(request, slug)
    form = EndpointForm(request.POST, prefix="new")
    if not form.is_valid():
        return webhooks_page(request, organization, form=form, status=400)
    try:
        endpoint = endpoints.create_endpoint(
            request.user,
            organization,
            form.cleaned_data["url"],
            kinds=form.cleaned_data["kinds"],
            description=form.cleaned_data["description"],
        )
    except DomainError as error:
        form.add_error("url" if error.code == "invalid_url" else "kinds", error.message)
        return webhooks_page(request, organization, form=form, status=400)
    return webhooks_page(request, organization, new_endpoint=endpoint, status=201)


@login_required
@require_POST
def delete_webhook(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    endpoint = _endpoint(request, organization, endpoint_id)
    endpoints.delete_endpoint(request.user, organization, endpoint.pk)
    messages.success(request, _("The endpoint %(url)s is deleted; nothing more is sent to it.") % {"url": endpoint.url})
    return redirect("web:settings_webhooks", slug=organization.slug)


@login_required
@require_POST
def test_webhook(request: HttpRequest, slug: str, endpoint_id: int) -> HttpResponse:
    organization = admin_page(request, slug)
    endpoint = _endpoint(request, organization, endpoint_id)
    events.queue_test_event(endpoint)
    messages.success(
        request, _("A test event is on its way to %(url)s; reload to see how it went.") % {"url": endpoint.url}
    )
    return redirect("web:settings_webhooks", slug=organization.slug)


base = "o/<slug:slug>/settings/webhooks/"
urlpatterns = [
    path(base, webhooks, name="settings_webhooks"),
    path(base + "new/", add_webhook, name="settings_webhook_add"),
    path(base + "<int:endpoint_id>/delete/", delete_webhook, name="settings_webhook_delete"),
    path(base + "<int:endpoint_id>/test/", test_webhook, name="settings_webhook_test"),
]
