from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from permanence.inbox.models import Status

register = template.Library()


def _human(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(days)s j %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s") % {"hours": hours, "minutes": f"{mins:02d}"}
    return _("%(minutes)s min") % {"minutes": mins}


@register.simple_tag
def countdown(due: datetime | None, now: datetime) -> SafeString | str:
    """'dans 3 h 20' / 'en retard de 1 h 05', with the instant in a tooltip; live-updated by
    inbox.js through data-due."""
    if due is None:
        return ""
    left = (due - now).total_seconds()
    css = "late" if left <= 0 else ("soon" if left <= 4 * 3600 else "ok")
    if left <= 0:
        text = _("en retard de %(duration)s") % {"duration": _human(left)}
    else:
        text = _("dans %(duration)s") % {"duration": _human(left)}
    return format_html('<time class="countdown {}" datetime="{}" data-due="{}" title="{}">{}'
                       "</time>", css, due.isoformat(), due.isoformat(),
                       timezone.localtime(due).strftime("%d/%m/%Y %H:%M"), text)


@register.filter
def status_label(value: str) -> str:

    try:
        return str(Status(value).label)
    except ValueError:
        return value or "—"


@register.filter
def parse_iso(value: str) -> datetime | None:
    """An ISO 8601 instant stored in a timeline event's data, for the |date filter."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
