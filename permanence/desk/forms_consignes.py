"""The consignes edit form (staff and espace client alike): one form for the single fields and
one formset per repeated section (motifs, recipients, notify rules, VIP callers, triage,
absences). Rows are added by a submit button (no JavaScript needed: the page comes back with
one more blank row) or, with JavaScript, by cloning the formset's empty row; rows are removed
with their « Supprimer » box.

The forms only parse; `desk.consignes_doc.consigne_clean` validates (one place for the rules,
the API and the demo use it too) and its field errors ("motifs.2.label") are put back next to
the inputs by `ConsigneEditor.apply_errors`. A deleted row is sent as an empty row so that the
cleaner's row numbers stay the form's row numbers.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from permanence.core.validators import phone_display

from .consignes_doc import (
    ABOUT_KEYS,
    ABOUT_LABELS,
    ALL_MOTIFS,
    CHANNEL_LABELS,
    CHANNELS,
    URGENCIES,
    URGENCY_LABELS,
    WHEN_LABELS,
    WHENS,
    YES,
    consigne_content,
    triage_answer_label,
)
from .models import Handling

TEXTAREA_SMALL = {"rows": 2}
SECTIONS = ("motifs", "recipients", "notify", "vip", "triage", "absences")
# A blank row at the end of each section, to fill without adding one first.
EXTRA_ROWS = 1
MAX_ROWS = 60


def _channel_choices() -> list[tuple[str, Any]]:
    return [(c, CHANNEL_LABELS[c]) for c in CHANNELS]


class MainForm(forms.Form):
    greeting = forms.CharField(
        label=_("Script d'accueil"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Variables : {compte} (nom du compte), {horaires} (horaires d'ouverture "
                    "du calendrier), {secretaire} (prénom de la télésecrétaire)."))
    about_address = forms.CharField(label=ABOUT_LABELS["address"], required=False,
                                    max_length=2000,
                                    widget=forms.Textarea(attrs=TEXTAREA_SMALL))
    about_hours = forms.CharField(label=ABOUT_LABELS["hours"], required=False, max_length=2000,
                                  widget=forms.Textarea(attrs=TEXTAREA_SMALL),
                                  help_text=_("Vide : les horaires du calendrier ouvré."))
    about_services = forms.CharField(label=ABOUT_LABELS["services"], required=False,
                                     max_length=2000,
                                     widget=forms.Textarea(attrs=TEXTAREA_SMALL))
    about_prices = forms.CharField(label=ABOUT_LABELS["prices"], required=False,
                                   max_length=2000, widget=forms.Textarea(attrs=TEXTAREA_SMALL),
                                   help_text=_("Seulement ce que le client autorise à dire."))
    about_access = forms.CharField(label=ABOUT_LABELS["access"], required=False,
                                   max_length=2000, widget=forms.Textarea(attrs=TEXTAREA_SMALL))
    about_other = forms.CharField(label=ABOUT_LABELS["other"], required=False, max_length=2000,
                                  widget=forms.Textarea(attrs=TEXTAREA_SMALL))
    escalation_delay_minutes = forms.CharField(
        label=_("Délai avant escalade (minutes)"), required=False, max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Un message urgent non lu dans ce délai est envoyé aux personnes "
                    "ci-dessous."))
    escalation_recipients = forms.MultipleChoiceField(
        label=_("Escalade vers"), required=False, widget=forms.CheckboxSelectMultiple)
    escalation_channels = forms.MultipleChoiceField(
        label=_("Canaux de l'escalade"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=_channel_choices)
    blocked = forms.CharField(label=_("Numéros bloqués"), required=False, max_length=20000,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Un numéro par ligne."))
    notes = forms.CharField(label=_("Notes libres"), required=False, max_length=8000,
                            widget=forms.Textarea(attrs={"rows": 4}))
    confidential = forms.BooleanField(
        label=_("Consignes confidentielles"), required=False,
        help_text=_("Chiffrées dans la base et les sauvegardes. Celles d'un compte médical "
                    "le sont toujours."))
    summary = forms.CharField(label=_("Résumé de la modification"), required=False,
                              max_length=500,
                              help_text=_("Facultatif : sinon, il est écrit d'après les "
                                          "changements."))

    def __init__(self, *args: Any, recipient_choices: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["escalation_recipients"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 (declared above)  # nosec B101
        field.choices = recipient_choices


class MotifForm(forms.Form):
    code = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    label = forms.CharField(label=_("Motif"), required=False, max_length=120)
    handling = forms.ChoiceField(label=_("Traitement"), choices=Handling.choices,
                                 initial=Handling.MESSAGE, required=False)
    transfer_to = forms.CharField(label=_("Numéro de transfert"), required=False, max_length=40,
                                  widget=forms.TextInput(attrs={"inputmode": "tel"}))
    callback_minutes = forms.CharField(label=_("Rappel sous (minutes)"), required=False,
                                       max_length=6,
                                       widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    questions = forms.CharField(label=_("Questions obligatoires"), required=False,
                                max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("Une question par ligne."))
    info = forms.CharField(label=_("Consigne"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs=TEXTAREA_SMALL))


class RecipientForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    name = forms.CharField(label=_("Nom"), required=False, max_length=120)
    role = forms.CharField(label=_("Fonction"), required=False, max_length=120)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254,
                            widget=forms.EmailInput)
    phone = forms.CharField(label=_("Mobile (SMS)"), required=False, max_length=40,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))


class RuleForm(forms.Form):
    motif = forms.ChoiceField(label=_("Motif"), required=False)
    urgency = forms.ChoiceField(label=_("Urgence"), required=False,
                                choices=[(u, URGENCY_LABELS[u]) for u in URGENCIES])
    when = forms.ChoiceField(label=_("Quand"), required=False,
                             choices=[(w, WHEN_LABELS[w]) for w in WHENS])
    recipients = forms.MultipleChoiceField(label=_("Prévenir"), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    channels = forms.MultipleChoiceField(label=_("Par"), required=False,
                                         widget=forms.CheckboxSelectMultiple,
                                         choices=_channel_choices)

    def __init__(self, *args: Any, recipient_choices: list[tuple[str, str]],
                 motif_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].choices = recipient_choices  # type: ignore[attr-defined]
        self.fields["motif"].choices = [  # type: ignore[attr-defined]
            (ALL_MOTIFS, _("Tous les motifs")), *motif_choices]


class VipForm(forms.Form):
    number = forms.CharField(label=_("Numéro"), required=False, max_length=40,
                             widget=forms.TextInput(attrs={"inputmode": "tel"}))
    name = forms.CharField(label=_("Nom"), required=False, max_length=120)
    note = forms.CharField(label=_("Consigne"), required=False, max_length=200)


class TriageForm(forms.Form):
    question = forms.CharField(label=_("Question"), required=False, max_length=200)
    emergency = forms.CharField(label=_("Réponse qui signale l'urgence"), required=False,
                                max_length=200, help_text=_("Vide : « oui »."))
    guidance = forms.CharField(label=_("Que dire et faire"), required=False, max_length=200,
                               widget=forms.Textarea(attrs=TEXTAREA_SMALL))


class AbsenceForm(forms.Form):
    who = forms.ChoiceField(label=_("Qui est absent"), required=False)
    start = forms.DateField(label=_("Du"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("Au (inclus)"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    replacement = forms.ChoiceField(label=_("Remplacé(e) par"), required=False)
    note = forms.CharField(label=_("Précision"), required=False, max_length=200)

    def __init__(self, *args: Any, recipient_choices: list[tuple[str, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["who"].choices = blank + recipient_choices  # type: ignore[attr-defined]
        self.fields["replacement"].choices = (  # type: ignore[attr-defined]
            blank + recipient_choices)


FORM_CLASSES: dict[str, type[forms.Form]] = {
    "motifs": MotifForm, "recipients": RecipientForm, "notify": RuleForm, "vip": VipForm,
    "triage": TriageForm, "absences": AbsenceForm,
}
SECTION_TITLES = {
    "motifs": _("Motifs d'appel"), "recipients": _("Destinataires des messages"),
    "notify": _("Qui prévenir, et comment"), "vip": _("Appelants VIP"),
    "triage": _("Tri des urgences"), "absences": _("Absences et remplacements"),
}
ADD_LABELS = {
    "motifs": _("Ajouter un motif"), "recipients": _("Ajouter un destinataire"),
    "notify": _("Ajouter une règle"), "vip": _("Ajouter un appelant VIP"),
    "triage": _("Ajouter une question"), "absences": _("Ajouter une absence"),
}


def _formset_class(section: str, extra: int) -> type[forms.BaseFormSet]:
    return forms.formset_factory(FORM_CLASSES[section], extra=extra, can_delete=True,
                                 max_num=MAX_ROWS, absolute_max=MAX_ROWS)


def _posted_rows(data: QueryDict, prefix: str) -> list[dict[str, Any]]:
    """The rows of a posted formset, read before validation (to offer the names typed in the
    recipients rows as choices in the rules on the same page)."""
    try:
        total = min(int(data.get(f"{prefix}-TOTAL_FORMS", "0")), MAX_ROWS)
    except ValueError:
        total = 0
    rows = []
    for i in range(total):
        if data.get(f"{prefix}-{i}-DELETE"):
            continue
        rows.append({k.split("-", 2)[2]: v for k, v in data.items()
                     if k.startswith(f"{prefix}-{i}-")})
    return rows


def _recipient_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for r in rows:
        name = (r.get("name") or "").strip()
        key = (r.get("key") or "").strip() or slugify(name)[:40]
        if name and key and key not in {k for k, _n in out}:
            out.append((key, name))
    return out


def _motif_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for m in rows:
        label = (m.get("label") or "").strip()
        code = (m.get("code") or "").strip() or slugify(label)[:40]
        if label and code and code not in {k for k, _n in out}:
            out.append((code, label))
    return out


def initial_from_content(content: dict[str, Any]) -> tuple[dict[str, Any],
                                                           dict[str, list[dict[str, Any]]]]:
    """The forms' initial data from a version's document."""
    doc = consigne_content(content)
    main: dict[str, Any] = {"greeting": doc["greeting"], "notes": doc["notes"],
                            "confidential": doc["confidential"],
                            "blocked": "\n".join(doc["blocked"]),
                            "escalation_delay_minutes": doc["escalation"]["delay_minutes"] or "",
                            "escalation_recipients": doc["escalation"]["recipients"],
                            "escalation_channels": doc["escalation"]["channels"]}
    main.update({f"about_{k}": doc["about"].get(k, "") for k in ABOUT_KEYS})
    rows: dict[str, list[dict[str, Any]]] = {s: [dict(r) for r in doc[s]] for s in SECTIONS}
    for m in rows["motifs"]:
        m["questions"] = "\n".join(m.get("questions") or [])
        m["callback_minutes"] = m.get("callback_minutes") or ""
        m["transfer_to"] = phone_display(m.get("transfer_to", ""))
    # Numbers as people write them (01 45 00 00 04); saving stores them in E.164 again.
    for r in rows["recipients"]:
        r["phone"] = phone_display(r.get("phone", ""))
    for v in rows["vip"]:
        v["number"] = phone_display(v.get("number", ""))
    main["blocked"] = "\n".join(phone_display(n) for n in doc["blocked"])
    # The stored key in words; the usual « oui » as the empty field the help text explains.
    for t in rows["triage"]:
        t["emergency"] = "" if t.get("emergency") == YES else triage_answer_label(
            t.get("emergency"))
    return main, rows


class ConsigneEditor:
    """The whole edit form: `main` and one formset per section in `sets`."""

    def __init__(self, *, content: dict[str, Any] | None = None,
                 data: QueryDict | None = None) -> None:
        self.data = data
        grow = data.get("add", "") if data is not None else ""
        if data is not None:
            recipient_rows = _posted_rows(data, "recipients")
            motif_rows = _posted_rows(data, "motifs")
            main_initial: dict[str, Any] = {}
            initial_rows: dict[str, list[dict[str, Any]]] = {}
        else:
            main_initial, initial_rows = initial_from_content(content or {})
            recipient_rows = initial_rows["recipients"]
            motif_rows = initial_rows["motifs"]
        recipients = _recipient_choices(recipient_rows)
        motifs = _motif_choices(motif_rows)
        self.main = MainForm(data, initial=main_initial, recipient_choices=recipients)
        kwargs = {"notify": {"recipient_choices": recipients, "motif_choices": motifs},
                  "absences": {"recipient_choices": recipients}}
        self.sets: dict[str, forms.BaseFormSet] = {}
        for section in SECTIONS:
            data_for_set = data
            if data is not None and grow == section:
                # « Ajouter » without JavaScript: the same data with one more (blank) row.
                data_for_set = data.copy()
                key = f"{section}-TOTAL_FORMS"
                try:
                    data_for_set[key] = str(min(int(data.get(key, "0")) + 1, MAX_ROWS))
                except ValueError:
                    data_for_set[key] = "1"
            extra = 0 if data is not None else EXTRA_ROWS
            self.sets[section] = _formset_class(section, extra)(
                data_for_set, prefix=section, initial=initial_rows.get(section),
                form_kwargs=kwargs.get(section, {}))

    @property
    def adding(self) -> str:
        """The section whose « Ajouter » button was pressed (no JS): re-render, do not save."""
        grow = self.data.get("add", "") if self.data is not None else ""
        return grow if grow in SECTIONS else ""

    def sections(self) -> list[dict[str, Any]]:
        return [{"name": s, "title": SECTION_TITLES[s], "add_label": ADD_LABELS[s],
                 "formset": self.sets[s]} for s in SECTIONS]

    def is_valid(self) -> bool:
        return self.main.is_valid() and all(fs.is_valid() for fs in self.sets.values())

    def content(self) -> dict[str, Any]:
        """The document to save, from valid forms (deleted rows as empty rows)."""
        m = self.main.cleaned_data
        doc: dict[str, Any] = {
            "greeting": m["greeting"], "notes": m["notes"], "confidential": m["confidential"],
            "about": {k: m[f"about_{k}"] for k in ABOUT_KEYS},
            "blocked": m["blocked"],
            "escalation": {"delay_minutes": m["escalation_delay_minutes"],
                           "recipients": m["escalation_recipients"],
                           "channels": m["escalation_channels"]},
        }
        for section, formset in self.sets.items():
            rows: list[dict[str, Any]] = []
            for form in formset.forms:
                data = dict(form.cleaned_data) if form.cleaned_data else {}
                if not data or data.pop("DELETE", False):
                    rows.append({})
                    continue
                for key in ("start", "end"):
                    if data.get(key) is not None and section == "absences":
                        data[key] = data[key].isoformat()
                rows.append(data)
            doc[section] = rows
        return doc

    def apply_errors(self, fields: dict[str, list[str]], message: str) -> None:
        """Put the cleaner's errors ("motifs.2.label", "about.address", "blocked.3") next to
        their inputs; what has no input goes to the top of the form."""
        for path, messages in fields.items():
            parts = path.split(".")
            form: forms.Form = self.main
            field: str | None = None
            if parts[0] in self.sets and len(parts) >= 2 and parts[1].isdigit():
                forms_ = self.sets[parts[0]].forms
                index = int(parts[1])
                if index < len(forms_):
                    form = forms_[index]
                    field = parts[2] if len(parts) > 2 else None
            else:
                name = "_".join(p for p in parts if not p.isdigit())
                field = name if name in self.main.fields else None
            if field is not None and field not in form.fields:
                field = None
            for msg in messages:
                form.add_error(field, msg)
        if not fields:
            self.main.add_error(None, message)

    @property
    def error_count(self) -> int:
        count = len(self.main.errors)
        for formset in self.sets.values():
            count += sum(len(f.errors) for f in formset.forms) + len(formset.non_form_errors())
        return count
