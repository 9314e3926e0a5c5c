"""The notification list (SPEC §9): the messages delivered to the signed-in person, from every
organization they belong to, newest first and paged. Unread ones say so in words; opening
one marks it read and goes where it points (the meeting); "mark all as read" clears the
count the page header shows.

Every query starts from the viewer's own rows (STYLE rule 6, O3): another person's
notification answers "not found", like one that does not exist."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from parlour.core import clock
from parlour.notifications.models import Notification

PAGE_SIZE = 20
# Ids past this are no row's; asked for, they answer "not found" rather than overflow.
MAX_ID = 2**63 - 1


def notifications_of(user) -> QuerySet[Notification]:
    """The person's own notifications, newest first: the only way into them."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    return notifications_of(user).filter(read_at__isnull=True).count()


def local_path(link: str) -> str:
    """Where a notification's link leads, on this site: its path (with query and fragment),
    whatever address the mail's links were made with; the list itself for a link that is
    not a path of Parlour's — including one a browser would read as another site's, such as
    ``/\\evil.example`` (a backslash is read as a slash)."""
    parts = urlsplit(link or "")
    target = parts.path or ""
    if not target.startswith("/"):
        return ""
    if parts.query:
        target += "?" + parts.query
    if parts.fragment:
        target += "#" + parts.fragment
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=set()):
        return ""
    return target


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = notifications_of(request.user).select_related("organization")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    request.unread_notifications = unread_count(request.user)  # the header's count too
    context = {"page": page, "unread": request.unread_notifications}
    return render(request, "web/notifications/list.html", context)


@login_required
@require_GET
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Opening a notification: it is read from now on (the first time counts), and the
    browser goes to what it is about."""
    if notification_id > MAX_ID:
        raise Http404
    notification = notifications_of(request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    if notification.read_at is None:
        notifications_of(request.user).filter(pk=notification.pk, read_at__isnull=True).update(read_at=clock.now())
    return redirect(local_path(notification.link) or "web:notifications")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    marked = notifications_of(request.user).filter(read_at__isnull=True).update(read_at=clock.now())
    if marked:
        text = ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", marked)
        messages.success(request, text % {"count": marked})
    else:
        messages.info(request, _("Nothing was unread."))
    return redirect("web:notifications")


urlpatterns = [
    path("notifications/", notification_list, name="notifications"),
    path("notifications/read-all/", read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>/", open_notification, name="notification"),
]
