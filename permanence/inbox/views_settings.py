"""Paramètres de la boîte : réponses types, règles de routage, équipes, délais (SLA)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from permanence.accounts.models import Role, User
from permanence.accounts.selectors import accounts_visible_to, active_staff
from permanence.core.access import AuthedHttpRequest, role_required
from permanence.core.errors import NotFound

from . import permissions, sla
from .models import CannedReply, RoutingRule, SlaPolicy, SlaTarget, SurveyExclusion, Team
from .settings_services import setting_delete, setting_save, sla_policy_for_account_create


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "account", "body"]
        labels = {"account": gettext_lazy("Compte (vide : tous les comptes)")}
        widgets = {"body": forms.Textarea(attrs={"rows": 5})}


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["position", "name", "is_active", "account", "account_kind", "kind", "motif",
                  "channel", "language", "keywords", "set_priority", "add_tags", "set_team",
                  "set_assignee", "assignment_mode"]
        labels = {"position": gettext_lazy("Ordre"),
                  "account": gettext_lazy("Si le compte est"),
                  "account_kind": gettext_lazy("Si le type de client est"),
                  "kind": gettext_lazy("Si la nature est"),
                  "motif": gettext_lazy("Si le motif est"),
                  "channel": gettext_lazy("Si le canal est"),
                  "language": gettext_lazy("Si la langue est"),
                  "set_priority": gettext_lazy("Alors priorité"),
                  "add_tags": gettext_lazy("Alors étiquettes"),
                  "set_team": gettext_lazy("Alors équipe"),
                  "set_assignee": gettext_lazy("Alors attribuer à"),
                  "assignment_mode": gettext_lazy("Sinon, mode d'attribution")}
        widgets = {"account_kind": forms.Select(choices=[
            ("", "—"),
            ("professionnel", gettext_lazy("Professionnel")),
            ("particulier", gettext_lazy("Particulier")),
        ])}

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
        self.fields["members"].queryset = active_staff()  # type: ignore[attr-defined]


class SlaTargetForm(forms.ModelForm):
    class Meta:
        model = SlaTarget
        fields = ["first_response_hours", "first_response_same_day", "next_response_hours",
                  "resolution_hours"]
        labels = {"first_response_hours": gettext_lazy("1re réponse (h ouvrées)"),
                  "first_response_same_day": gettext_lazy("Dans la journée ouvrée"),
                  "next_response_hours": gettext_lazy("Relance (h ouvrées)"),
                  "resolution_hours": gettext_lazy("Résolution (h ouvrées)")}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("first_response_hours", "next_response_hours", "resolution_hours"):
            value = data.get(name)
            if value is not None and not (0 < value <= sla.MAX_HOURS):
                self.add_error(name, _("Entre 0 et %(max)s heures ouvrées (jamais au-delà de "
                                       "72 h ouvrées).") % {"max": sla.MAX_HOURS})
        return data


class SlaClockForm(forms.ModelForm):
    """How the policy's hours count (jours ouvrés or opening hours only)."""

    class Meta:
        model = SlaPolicy
        fields = ["clock"]
        labels = {"clock": gettext_lazy("Comptage des délais")}
        widgets = {"clock": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clock"].required = False  # not posted: unchanged

    def clean_clock(self) -> str:
        return str(self.cleaned_data.get("clock") or self.instance.clock)


class SurveyExclusionForm(forms.ModelForm):
    class Meta:
        model = SurveyExclusion
        fields = ["name", "account", "kind", "motif", "tag"]
        labels = {"account": gettext_lazy("Si le compte est (vide : tous les comptes)"),
                  "kind": gettext_lazy("Si la nature est"),
                  "motif": gettext_lazy("Si le motif est"),
                  "tag": gettext_lazy("Si le dossier porte l'étiquette")}

    def clean_tag(self) -> str:
        return str(self.cleaned_data.get("tag") or "").strip().lower()


KINDS = {
    "reponses": (CannedReply, CannedReplyForm, gettext_lazy("Réponses types")),
    "routage": (RoutingRule, RoutingRuleForm, gettext_lazy("Règles de routage")),
    "equipes": (Team, TeamForm, gettext_lazy("Équipes")),
    "satisfaction": (SurveyExclusion, SurveyExclusionForm,
                     gettext_lazy("Enquêtes de satisfaction : exclusions")),
}

manage = role_required(permissions.can_configure_inbox)


def _kind(kind: str) -> tuple[Any, Any, Any]:
    if kind not in KINDS:
        raise NotFound()
    return KINDS[kind]


@manage
def setting_list(request: AuthedHttpRequest, kind: str) -> HttpResponse:
    model, form_class, title = _kind(kind)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        setting_save(actor=request.user, form=form)
        messages.success(request, _("Enregistré."))
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
        messages.success(request, _("Enregistré."))
        return redirect("inbox:settings", kind=kind)
    return render(request, "inbox/settings_edit.html", {"kind": kind, "title": title,
                                                        "form": form, "obj": obj},
                  status=422 if form.errors else 200)


@require_POST
@manage
def setting_remove(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    model, _form, _title = _kind(kind)
    setting_delete(actor=request.user, obj=get_object_or_404(model, pk=pk))
    messages.success(request, _("Supprimé."))
    return redirect("inbox:settings", kind=kind)


@manage
def sla_policy(request: AuthedHttpRequest) -> HttpResponse:
    """The default policy, or ?account=<id>: that account's own policy (created on demand
    as a copy of the default)."""

    accounts = accounts_visible_to(request.user).only("pk", "name")
    account = None
    raw = request.GET.get("account", "")
    if raw:
        account = accounts.filter(pk=raw if raw.isdigit() else -1).first()
        if account is None:
            raise NotFound()
    if account is not None and request.method == "POST" and "create_policy" in request.POST:
        sla_policy_for_account_create(actor=request.user, account=account)
        messages.success(request, _("Politique propre au compte créée (copie des délais "
                                    "par défaut)."))
        return redirect(f"{request.path}?account={account.pk}")
    policy = (SlaPolicy.objects.filter(account=account).first() if account
              else sla.ensure_default_policy())
    targets = list(policy.targets.order_by("kind", "priority")) if policy else []
    forms_ = [SlaTargetForm(request.POST or None, instance=t, prefix=f"t{t.pk}")
              for t in targets]
    clock_form = SlaClockForm(request.POST or None, instance=policy, prefix="policy") \
        if policy else None
    if policy and clock_form and request.method == "POST" and all(
            f.is_valid() for f in [clock_form, *forms_]):
        for f in [clock_form, *forms_]:
            if f.has_changed():
                setting_save(actor=request.user, form=f)
        messages.success(request, _("Délais enregistrés ; les échéances des dossiers "
                                    "ouverts sont recalculées."))
        return redirect(request.get_full_path())
    return render(request, "inbox/sla.html", {
        "policy": policy, "account": account, "accounts": accounts, "clock_form": clock_form,
        "rows": zip(targets, forms_, strict=True)},
        status=422 if any(f.errors for f in [*forms_, *([clock_form] if clock_form else [])])
        else 200)
