"""What every page of an organization shares: finding the organization for the viewer."""

from django.http import Http404, HttpRequest

from parlour.accounts.access import access_organization
from parlour.accounts.models import Organization
from parlour.core.errors import NotFound


def organization_page(request: HttpRequest, slug: str) -> Organization:
    """The organization named in the address, if the viewer belongs to it; "not found"
    otherwise, exactly as if it did not exist (O3). It is kept on the request, where the
    header's navigation finds it (``web.navigation``)."""
    try:
        organization = access_organization(request.user, slug)
    except NotFound:
        raise Http404 from None
    request.organization = organization
    return organization
