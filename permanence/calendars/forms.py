from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WEEKDAYS, Announcement, HolidayRegion

DAY_LABELS = dict(zip(WEEKDAYS, (_("Lundi"), _("Mardi"), _("Mercredi"), _("Jeudi"),
                                 _("Vendredi"), _("Samedi"), _("Dimanche")), strict=True))


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["kind", "title", "message", "starts_at", "ends_at", "show_public",
                  "show_portal"]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "message": forms.Textarea(attrs={"rows": 3}),
        }


def _format_slots(slots: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in slots)


class CalendarForm(forms.Form):
    """Weekly hours typed as "08:30-12:30, 14:00-18:00" per day; holidays; time zone."""

    timezone = forms.CharField(label=_("Fuseau horaire"), initial="Europe/Paris")
    holidays = forms.ChoiceField(label=_("Jours fériés"), choices=HolidayRegion.choices,
                                 required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(
                label=DAY_LABELS[day], required=False,
                help_text=_("Ex. 08:30-12:30, 14:00-18:00 — vide : fermé"),
            )

    @classmethod
    def initial_from_json(cls, data: dict[str, Any]) -> dict[str, Any]:
        initial = {"timezone": data["timezone"], "holidays": data["holidays"] or ""}
        for day in WEEKDAYS:
            initial[day] = _format_slots(data["weekly"].get(day, []))
        return initial

    def weekly(self) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            raw = self.cleaned_data.get(day) or ""
            slots = []
            for raw_part in raw.replace(";", ",").split(","):
                part = raw_part.strip()
                if not part:
                    continue
                start, _sep, end = part.replace("–", "-").partition("-")
                slots.append([start.strip(), end.strip()])
            out[day] = slots
        return out


class ClosureForm(forms.Form):
    start = forms.DateTimeField(label=_("Début"), widget=DateTimeLocalInput())
    end = forms.DateTimeField(label=_("Fin"), widget=DateTimeLocalInput())
    message = forms.CharField(label=_("Message public"), max_length=300, required=False)
