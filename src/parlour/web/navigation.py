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


LAST = "parlour_organization"  # the session key of the organization whose pages were opened last


def current_organization(request, organizations: list):
    """The organization one's own pages (account, notifications, ``/meetings/``) belong to:
    the one whose pages were opened last in this session, else the first."""
    last = request.session.get(LAST) if hasattr(request, "session") else None
    return next((o for o in organizations if o.slug == last), organizations[0] if organizations else None)


def navigation(request) -> dict:
    """Template context: ``navigation``, the header's links for ``request.organization``
    (set by the organization's pages), or on the pages of one's own (account, notifications)
    for the organization opened last, so the way back is always in the header; areas not
    served (yet) are left out. ``organizations``: the others one belongs to (O1: a client
    account may belong to several), to switch to."""
    organization = getattr(request, "organization", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "organizations": []}
    mine = organizations_of(user)
    if organization is None:
        organization = current_organization(request, mine)
    elif len(mine) > 1 and request.session.get(LAST) != organization.slug:
        request.session[LAST] = organization.slug  # only where there is a choice to remember
    if organization is None:
        return {"navigation": [], "organizations": []}
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
    others = [
        {"name": other.name, "url": reverse("web:dashboard", args=[other.slug])}
        for other in mine
        if other.pk != organization.pk
    ]
    return {"navigation": links, "organizations": others, "organization_name": organization.name}
