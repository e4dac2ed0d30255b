"""Paramètres de la boîte : réponses types, règles de routage, équipes, délais (SLA)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from permanence.accounts import permissions
from permanence.accounts.models import Role, User
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import NotFound

from . import sla
from .models import CannedReply, RoutingRule, SlaTarget, Team
from .settings_services import setting_delete, setting_save


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "account", "body"]
        labels = {"account": "Compte (vide : tous les comptes)"}
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["position", "name", "is_active", "account", "account_kind", "kind", "motif",
                  "channel", "language", "keywords", "set_priority", "add_tags", "set_team",
                  "set_assignee", "assignment_mode"]
        labels = {"position": "Ordre", "account": "Si le compte est", "account_kind":
                  "Si le type de client est", "kind": "Si la nature est", "motif":
                  "Si le motif est", "channel": "Si le canal est", "language":
                  "Si la langue est", "set_priority": "Alors priorité", "add_tags":
                  "Alors étiquettes", "set_team": "Alors équipe", "set_assignee":
                  "Alors attribuer à", "assignment_mode": "Sinon, mode d'attribution"}
        widgets = {"account_kind": forms.Select(choices=[("", "—"), ("professionnel",
                                                                     "Professionnel"),
                                                         ("particulier", "Particulier")])}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["set_assignee"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role__in=[Role.AGENT, Role.SUPERVISOR], is_active=True)


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "members"]
        widgets = {"members": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = User.objects.exclude(  # type: ignore[attr-defined]
            role=Role.CLIENT).filter(is_active=True)


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["first_response_hours", "first_response_same_day", "next_response_hours",
                  "resolution_hours"]
        labels = {"first_response_hours": "1re réponse (h ouvrées)",
                  "first_response_same_day": "Dans la journée ouvrée",
                  "next_response_hours": "Relance (h ouvrées)",
                  "resolution_hours": "Résolution (h ouvrées)"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("first_response_hours", "next_response_hours", "resolution_hours"):
            value = data.get(name)
            if value is not None and not (0 < value <= sla.MAX_HOURS):
                self.add_error(name, f"Entre 0 et {sla.MAX_HOURS} heures ouvrées (jamais au-delà "
                                     "de 72 h ouvrées).")
        return data


KINDS = {
    "reponses": (CannedReply, CannedReplyForm, "Réponses types"),
    "routage": (RoutingRule, RoutingRuleForm, "Règles de routage"),
    "equipes": (Team, TeamForm, "Équipes"),
}

manage = role_required(permissions.can_manage_accounts)


def _kind(kind: str) -> tuple[Any, Any, str]:
    if kind not in KINDS:
        raise NotFound()
    return KINDS[kind]


@manage
def setting_list(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    model, form_class, title = _kind(kind)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        setting_save(actor=request.user, form=form)
        messages.success(request, "Enregistré.")
        return redirect("inbox:settings", kind=kind)
    return render(request, "inbox/settings_list.html", {
        "kind": kind, "title": title, "items": model.objects.all(), "form": form,
        "kinds": KINDS}, status=422 if form.errors else 200)


@manage
def setting_edit(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    model, form_class, title = _kind(kind)
    obj = get_object_or_404(model, pk=pk)
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        setting_save(actor=request.user, form=form)
        messages.success(request, "Enregistré.")
        return redirect("inbox:settings", kind=kind)
    return render(request, "inbox/settings_edit.html", {"kind": kind, "title": title,
                                                        "form": form, "obj": obj},
                  status=422 if form.errors else 200)


@require_POST
@manage
def setting_remove(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    model, _form, _title = _kind(kind)
    setting_delete(actor=request.user, obj=get_object_or_404(model, pk=pk))
    messages.success(request, "Supprimé.")
    return redirect("inbox:settings", kind=kind)


@manage
def sla_policy(request: AuthedHttpRequest) -> HttpResponse:
    policy = sla.ensure_default_policy()
    targets = list(policy.targets.order_by("kind", "priority"))
    forms_ = [SlaTargetForm(request.POST or None, instance=t, prefix=f"t{t.pk}") for t in targets]
    if request.method == "POST" and all(f.is_valid() for f in forms_):
        for f in forms_:
            if f.has_changed():
                setting_save(actor=request.user, form=f)
        messages.success(request, "Délais enregistrés ; les échéances des dossiers ouverts "
                                  "sont recalculées.")
        return redirect("inbox:sla")
    return render(request, "inbox/sla.html", {"policy": policy, "rows": zip(targets, forms_,
                                                                            strict=True)},
                  status=422 if any(f.errors for f in forms_) else 200)
