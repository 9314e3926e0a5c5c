"""The links of the page header: the organization's areas the viewer may open (O2, O4)."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from parlour.accounts.access import is_admin, membership_of, organizations_of

# (address name, label, who sees it: "all", "member" or "admin"), in the header's order.
AREAS = [
    ("web:dashboard", _("Dashboard"), "all"),
    ("web:overview", _("Meetings"), "all"),
    ("web:conversations", "conversations", "all"),  # its label counts the unread ones
    ("web:wallet", _("Wallet"), "all"),
    ("web:free_dates", _("Free dates"), "member"),
    ("web:settings", _("Settings"), "admin"),
]


def navigation(request) -> dict:
    """Template context: ``navigation``, the header's links for ``request.organization``
    (set by the organization's pages), or on the pages of one's own (account, notifications)
    for the first organization one belongs to, so the way back is always in the header;
    areas not served (yet) are left out."""
    organization = getattr(request, "organization", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    if organization is None:
        organization = next(iter(organizations_of(user)), None)
    if organization is None:
        return {"navigation": []}
    member = membership_of(user, organization) is not None
    admin = member and is_admin(user, organization)
    links = []
    for name, label, who in AREAS:
        if (who == "member" and not member) or (who == "admin" and not admin):
            continue
        try:
            url = reverse(name, args=[organization.slug])
        except NoReverseMatch:
            continue
        if label == "conversations":
            from .conversations import navigation_label

            label = navigation_label(user, organization)
        links.append({"url": url, "label": label, "current": request.path == url})
    return {"navigation": links}
