"""``{% unread_notifications as count %}``: how many of the signed-in person's notifications
are unread (the page header's count, SPEC §9); 0 for a visitor. One query."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    from parlour.web.notifications import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "unread_notifications"):  # a page may have counted already
        request.unread_notifications = unread_count(user)
    return request.unread_notifications
