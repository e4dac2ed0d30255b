"""Forms of the secretaries' and clients' agenda pages. A chosen slot travels as
"<resource id>|<ISO start with offset>" (the slot pickers' radio buttons)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from permanence.calendars.forms import DateTimeLocalInput

from .models import ExceptionKind

MAX_ID = 2**63 - 1


def parse_slot(value: str) -> tuple[int, datetime] | None:
    """"12|2027-03-01T09:00:00+01:00" → (12, aware datetime), or None."""
    resource, _sep, start = (value or "").partition("|")
    try:
        pk = int(resource)
        at = datetime.fromisoformat(start)
    except (ValueError, TypeError):
        return None
    if not 0 < pk <= MAX_ID or at.tzinfo is None:
        return None
    return pk, at


class SlotField(forms.CharField):
    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if not value:
            return None
        parsed = parse_slot(value)
        if parsed is None:
            raise forms.ValidationError(_("Choisissez un créneau dans la liste."))
        return parsed


class ContactFields(forms.Form):
    contact_name = forms.CharField(label=_("Nom"), max_length=200)
    contact_phone = forms.CharField(label=_("Téléphone"), max_length=32, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)


class BookForm(ContactFields):
    slot = SlotField(label=_("Créneau"), max_length=120,
                     error_messages={"required": _("Choisissez un créneau.")})
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 2}))


class MoveForm(forms.Form):
    slot = SlotField(label=_("Nouveau créneau"), max_length=120,
                     error_messages={"required": _("Choisissez un créneau.")})


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Motif de l'annulation"), required=False,
                             max_length=300)


class ExceptionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=[
        (ExceptionKind.CLOSED, _("Bloquer (absence, indisponible)")),
        (ExceptionKind.OPEN, _("Ouvrir une plage supplémentaire"))],
        initial=ExceptionKind.CLOSED)
    start = forms.DateTimeField(label=_("Début"), widget=DateTimeLocalInput())
    end = forms.DateTimeField(label=_("Fin"), widget=DateTimeLocalInput())
    note = forms.CharField(label=_("Motif"), required=False, max_length=200)

    def in_zone(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The typed wall times read in the resource's zone (not the server's)."""
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        return (start.replace(tzinfo=None).replace(tzinfo=tz),
                end.replace(tzinfo=None).replace(tzinfo=tz))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("La fin doit suivre le début."))
        return data
