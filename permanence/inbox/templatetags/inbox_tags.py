from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms, template
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from permanence.core import uploads
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
def refusal_reason(code: str) -> str:
    """Why a received file was not kept (a core.uploads refusal code), for people."""
    return uploads.reason_label(str(code))


@register.filter
def parse_iso(value: str) -> datetime | None:
    """An ISO 8601 instant stored in a timeline event's data, for the |date filter."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


# The HTML of empty forms, by what alone decides it (see form_fields).
_EMPTY_FORM_HTML: dict[tuple[Any, ...], SafeString] = {}


def _empty_form_key(form: forms.BaseForm) -> tuple[Any, ...] | None:
    """What an empty form's HTML depends on, or None when it may depend on anything else
    (bound data, errors, initial values, fields set up by its own __init__ or changed by a
    view: only classes that say `same_html_when_empty` are kept)."""
    if (not getattr(type(form), "same_html_when_empty", False) or form.is_bound
            or form.initial or type(form).__init__ is not forms.Form.__init__
            or any(callable(field.initial) or field.initial is not None
                   for field in form.fields.values())):
        return None
    return (type(form), form.auto_id, form.prefix, form.label_suffix,
            form.use_required_attribute, translation.get_language())


@register.simple_tag
def form_fields(form: forms.BaseForm) -> SafeString:
    """partials/form.html for `form` (what `{% include "partials/form.html" %}` renders).

    An empty form (unbound, no initial value, fields fixed by its class, which says
    `same_html_when_empty`: no view changes its fields) renders the same
    HTML on every page in a given language, and rendering widgets through Django's form
    templates is a large part of a page's time: that HTML is kept, per form class, ids and
    language, for the life of the process (the templates and the classes only change with
    the code). A form with data or errors is always rendered."""
    key = _empty_form_key(form)
    html = _EMPTY_FORM_HTML.get(key) if key is not None else None
    if html is None:
        html = render_to_string("partials/form.html", {"form": form})
        if key is not None:
            _EMPTY_FORM_HTML[key] = html
    return html


_SELECTED = mark_safe(" selected")  # a constant  # nosec B308  # a constant string


@register.simple_tag
def options(choices: Any, selected: Any) -> SafeString:
    """The <option> elements of a select over (value, label) pairs, the one equal to
    `selected` marked: what a {% for %} loop writes, without its cost per option."""
    return format_html_join("", '<option value="{}"{}>{}</option>', (
        (value, _SELECTED if value == selected else "", label) for value, label in choices))


# The HTML of fragments that depend on nothing but the language (see static_fragment).
_STATIC_HTML: dict[tuple[str, str | None], SafeString] = {}


@register.simple_tag
def static_fragment(template_name: str) -> SafeString:
    """A template that uses no variable (only translated text), rendered once per language
    for the life of the process (templates only change with the code)."""
    key = (template_name, translation.get_language())
    html = _STATIC_HTML.get(key)
    if html is None:
        html = _STATIC_HTML[key] = render_to_string(template_name)
    return html
