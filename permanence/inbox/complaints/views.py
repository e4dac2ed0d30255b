"""Complaint steps on the conversation page and the complaints register (with CSV export)."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core.access import AuthedHttpRequest, staff_required
from permanence.core.errors import DomainError, NotFound
from permanence.inbox import selectors
from permanence.inbox.models import Motif, Priority
from permanence.inbox.models_complaints import ComplaintStep, Impact, Resolution

from . import selectors as complaint_selectors
from . import services as complaints


class AnalyseForm(forms.Form):
    facts = forms.CharField(label=gettext_lazy("Faits vérifiés"),
                            widget=forms.Textarea(attrs={"rows": 3}))
    urgency = forms.ChoiceField(label=gettext_lazy("Urgence"), choices=Priority.choices)
    impact = forms.ChoiceField(label=gettext_lazy("Impact"), choices=Impact.choices)
    order_reference = forms.CharField(label=gettext_lazy("Commande concernée"), required=False,
                                      max_length=60)


class TreatForm(forms.Form):
    resolution = forms.ChoiceField(label=gettext_lazy("Solution retenue"),
                                   choices=Resolution.choices)
    details = forms.CharField(label=gettext_lazy("Détail"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    promised_date = forms.DateField(label=gettext_lazy("Date de résolution promise"),
                                    widget=forms.DateInput(attrs={"type": "date"}))
    notify_customer = forms.BooleanField(label=gettext_lazy("Communiquer la date au client"),
                                         required=False, initial=True)


class CloseForm(forms.Form):
    customer_satisfied = forms.ChoiceField(
        label=gettext_lazy("Le client est-il satisfait ?"),
        choices=[("", gettext_lazy("Inconnu")), ("1", gettext_lazy("Oui")),
                 ("0", gettext_lazy("Non"))], required=False)
    comment = forms.CharField(label=gettext_lazy("Commentaire"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


FORMS = {"analyse": AnalyseForm, "traitement": TreatForm, "cloture": CloseForm}


def complaint_forms(complaint: Any) -> dict[str, Any]:
    if complaint is None or complaint.closed_at:
        return {}
    step = complaint.step if complaint.step != ComplaintStep.RECEPTION else "analyse"
    initial = {"order_reference": complaint.order_reference} if step == "analyse" else {}
    return {"step": step, "form": FORMS[step](initial=initial)}


@require_POST
@staff_required
def complaint_step(request: AuthedHttpRequest, pk: int, step: str) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    complaint = getattr(conversation, "complaint", None)
    if complaint is None or step not in FORMS:
        raise NotFound(_("Réclamation introuvable."))
    form = FORMS[step](request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for e in errors:
                label = form.fields[field].label if field in form.fields else ""
                messages.error(request, _("%(field)s : %(error)s") % {"field": label, "error": e})
        return redirect("inbox:detail", pk=pk)
    data = form.cleaned_data
    try:
        if step == "analyse":
            complaints.complaint_analyse(actor=request.user, complaint=complaint, **data)
        elif step == "traitement":
            complaints.complaint_treat(actor=request.user, complaint=complaint, **data)
        else:
            satisfied = {"1": True, "0": False}.get(data["customer_satisfied"] or "")
            complaints.complaint_close(actor=request.user, complaint=complaint,
                                       customer_satisfied=satisfied, comment=data["comment"])
    except DomainError as exc:
        messages.error(request, str(exc.message))
        for msgs in exc.fields.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("Étape de la réclamation enregistrée."))
    return redirect("inbox:detail", pk=pk)


class RegisterFilter(forms.Form):
    step = forms.ChoiceField(label=gettext_lazy("Étape"), required=False, choices=[
        ("", gettext_lazy("Toutes")), ("open", gettext_lazy("En cours")),
        *ComplaintStep.choices, ("archive", gettext_lazy("Archivées"))])
    account = forms.CharField(label=gettext_lazy("Compte"), required=False)
    motif = forms.ChoiceField(label=gettext_lazy("Motif"), required=False,
                              choices=[("", gettext_lazy("Tous")), *Motif.choices])
    resolution = forms.ChoiceField(label=gettext_lazy("Solution"), required=False,
                                   choices=[("", gettext_lazy("Toutes")), *Resolution.choices])
    date_from = forms.DateField(label=gettext_lazy("Reçues du"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=pgettext_lazy("date range end", "au"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))


@staff_required
def register(request: AuthedHttpRequest) -> HttpResponse:
    form = RegisterFilter(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    qs = complaint_selectors.complaints_register(request.user, **filters)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "inbox/complaints.html", {
        "form": form, "page": page,
        "accounts": accounts_visible_to(request.user).only("pk", "name")})


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def register_csv(request: AuthedHttpRequest) -> StreamingHttpResponse:
    form = RegisterFilter(request.GET or None)
    filters = {k: v for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    qs = complaint_selectors.complaints_register(request.user, **filters)
    audit_record(actor=request.user, action=Action.EXPORT,
                 changes={"export": "complaints", "filters": filters})
    writer = csv.writer(_Echo(), delimiter=";")
    # BOM first so that spreadsheet software opens the accents correctly.
    rows = (writer.writerow(r) for r in complaint_selectors.complaint_csv_rows(qs))
    response = StreamingHttpResponse(_with_bom(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="registre-reclamations.csv"'
    return response


def _with_bom(rows: Any) -> Any:
    yield "\ufeff"
    yield from rows
