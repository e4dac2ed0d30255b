"""Writes of the quality app: grids and their criteria, a review of a call or conversation,
and the agent's acknowledgement. Each in one transaction, audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, User
from permanence.accounts.selectors import accounts_visible_to
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, Forbidden, NotFound, invalid, invalid_fields
from permanence.desk.models import Call
from permanence.inbox.models import Conversation

from . import selectors
from .models import SCORE_MAX, Criterion, Grid, Review, Score
from .permissions import can_manage_grids, can_review_quality

COMMENT_MAX = 1000
COACHING_MAX = 4000
REPLY_MAX = 2000


def weighted_score(items: Iterable[tuple[int, int | None]]) -> Decimal | None:
    """The weighted total in % of (weight, value) pairs, values 0–SCORE_MAX or None (N/A,
    left out of both sums): Σ weight × value ÷ (SCORE_MAX × Σ weight), to the hundredth,
    half up. None when every criterion is N/A."""
    scored = [(w, v) for w, v in items if v is not None]
    total_weight = sum(w for w, _v in scored)
    if not total_weight:
        return None
    points = sum(w * v for w, v in scored)
    pct = Decimal(100 * points) / Decimal(SCORE_MAX * total_weight)
    return pct.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- Grids -------------------------------------------------------------------------------------


def _require_manager(actor: User) -> None:
    if not can_manage_grids(actor):
        raise Forbidden(_("Seuls les superviseurs gèrent les grilles d'évaluation."))


def _deactivate_others(grid: Grid) -> None:
    """Only one active grid per scope (an account, or global): activating one retires the
    other (locked first, so two activations never both win)."""
    others = Grid.objects.select_for_update().filter(
        account=grid.account, is_active=True).exclude(pk=grid.pk)
    for other in others:
        other.is_active = False
        other.updated_at = clock.now()
        other.save(update_fields=["is_active", "updated_at"])


@transaction.atomic
def grid_create(*, actor: User, name: str, account: ClientAccount | None = None) -> Grid:
    _require_manager(actor)
    name = (name or "").strip()
    if not name:
        raise invalid(name=_("Donnez un nom à la grille."))
    now = clock.now()
    grid = Grid(name=name[:120], account=account, is_active=True, created_at=now,
                updated_at=now)
    _deactivate_others(grid)
    grid.save()
    audit_record(actor=actor, action=Action.CREATE, target=grid, account=account,
                 changes={"name": grid.name})
    return grid


@transaction.atomic
def grid_update(*, actor: User, grid: Grid, name: str, is_active: bool) -> Grid:
    _require_manager(actor)
    locked = Grid.objects.select_for_update().get(pk=grid.pk)
    name = (name or "").strip()
    if not name:
        raise invalid(name=_("Donnez un nom à la grille."))
    before = {"name": locked.name, "is_active": locked.is_active}
    locked.name, locked.is_active, locked.updated_at = name[:120], is_active, clock.now()
    if is_active:
        _deactivate_others(locked)
    locked.save()
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=locked.account,
                 changes={"before": before, "name": locked.name,
                          "is_active": locked.is_active})
    return locked


@transaction.atomic
def criterion_save(*, actor: User, grid: Grid, label: str, description: str = "",
                   weight: int, order: int, criterion: Criterion | None = None) -> Criterion:
    """Add a criterion to the grid or change one. Past reviews keep the label and weight
    they were scored with (Score's snapshot): changing the grid never rewrites them."""
    _require_manager(actor)
    Grid.objects.select_for_update().get(pk=grid.pk)
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not label:
        errors["label"] = [_("Nommez le critère.")]
    if not isinstance(weight, int) or not 1 <= weight <= 100:
        errors["weight"] = [_("Un poids de 1 à 100.")]
    if not isinstance(order, int) or not 0 <= order <= 1000:
        errors["order"] = [_("Un ordre de 0 à 1000.")]
    if errors:
        raise invalid_fields(errors)
    action = Action.CREATE
    if criterion is None:
        criterion = Criterion(grid=grid)
    else:
        if criterion.grid_id != grid.pk:
            raise NotFound(_("Critère introuvable."))
        action = Action.UPDATE
    criterion.label, criterion.weight, criterion.order = label[:200], weight, order
    criterion.description = (description or "").strip()[:1000]
    criterion.save()
    Grid.objects.filter(pk=grid.pk).update(updated_at=clock.now())
    audit_record(actor=actor, action=action, target=criterion, account=grid.account,
                 changes={"grid": grid.pk, "label": criterion.label,
                          "weight": criterion.weight, "order": criterion.order})
    return criterion


@transaction.atomic
def criterion_delete(*, actor: User, criterion: Criterion) -> None:
    """Remove a criterion from the grid; the reviews scored with it keep their score (the
    snapshot; its link to the criterion becomes empty)."""
    _require_manager(actor)
    grid = Grid.objects.select_for_update().get(pk=criterion.grid_id)
    audit_record(actor=actor, action=Action.DELETE, target=criterion, account=grid.account,
                 changes={"grid": grid.pk, "label": criterion.label})
    criterion.delete()
    Grid.objects.filter(pk=grid.pk).update(updated_at=clock.now())


# --- Reviews -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreInput:
    value: int | None  # 0–SCORE_MAX, None: N/A
    comment: str = ""


def _agent_for(call: Call | None, conversation: Conversation | None,
               agent: User | None) -> User:
    if call is not None:
        found = selectors.call_agent(call)
        if found is None:
            raise invalid(agent=_("Cet appel n'a été pris par aucune télésecrétaire."))
        return found
    candidates = selectors.conversation_agents(conversation) if conversation else []
    if agent is None or agent.pk not in {u.pk for u in candidates}:
        raise invalid(agent=_("Choisissez qui a traité ce dossier."))
    return agent


def _checked_scores(criteria: list[Criterion], scores: Mapping[int, ScoreInput],
                    ) -> list[tuple[Criterion, ScoreInput]]:
    if not criteria:
        raise invalid(grid=_("La grille applicable n'a aucun critère."))
    errors: dict[str, list[str]] = {}
    out = []
    for criterion in criteria:
        given = scores.get(criterion.pk)
        key = f"score_{criterion.pk}"
        if given is None:
            errors[key] = [_("Notez ce critère (ou « Sans objet »).")]
            continue
        if given.value is not None and (not isinstance(given.value, int)
                                        or not 0 <= given.value <= SCORE_MAX):
            errors[key] = [_("Une note de 0 à 4, ou « Sans objet ».")]
        if len(given.comment or "") > COMMENT_MAX:
            errors[f"comment_{criterion.pk}"] = [_("1 000 caractères au plus.")]
        out.append((criterion, given))
    if set(scores) - {c.pk for c in criteria}:
        errors["grid"] = [_("La grille a changé depuis l'ouverture de la page : "
                            "rechargez-la.")]
    if errors:
        raise invalid_fields(errors)
    return out


@transaction.atomic
def review_create(*, actor: User, scores: Mapping[int, ScoreInput], coaching: str = "",
                  mystery: bool = False, call: Call | None = None,
                  conversation: Conversation | None = None,
                  agent: User | None = None) -> Review:
    """Score one call or one conversation of an agent on the applicable grid (the
    account's, else the global one). `scores`: criterion id → ScoreInput, for every
    criterion of that grid."""
    if not can_review_quality(actor):
        raise Forbidden(_("Seuls les superviseurs évaluent les appels et les dossiers."))
    if (call is None) == (conversation is None):
        raise DomainError("invalid", _("Évaluez un appel ou un dossier."), status=422)
    subject = call if call is not None else conversation
    account_id = subject.account_id if subject is not None else None
    if account_id is None:
        raise invalid(grid=_("Cet appel n'est rattaché à aucun compte client."))
    if not accounts_visible_to(actor).filter(pk=account_id).exists():
        raise NotFound()
    account = ClientAccount.objects.get(pk=account_id)
    reviewed = _agent_for(call, conversation, agent)
    if reviewed.pk == actor.pk:
        raise invalid(agent=_("On n'évalue pas son propre travail."))
    coaching = (coaching or "").strip()
    if len(coaching) > COACHING_MAX:
        raise invalid(coaching=_("4 000 caractères au plus."))
    grid = selectors.grid_for_account(account)
    if grid is None:
        raise invalid(grid=_("Aucune grille d'évaluation active : créez-en une."))
    Grid.objects.select_for_update().get(pk=grid.pk)  # no criterion changes mid-review
    checked = _checked_scores(selectors.grid_criteria(grid), scores)
    review = Review.objects.create(
        grid=grid, account=account, agent=reviewed, reviewer=actor, call=call,
        conversation=conversation, mystery=bool(mystery), coaching=coaching,
        score_pct=weighted_score((c.weight, s.value) for c, s in checked),
        created_at=clock.now())
    Score.objects.bulk_create([Score(
        review=review, criterion=c, label=c.label, weight=c.weight, position=n,
        value=s.value, comment=(s.comment or "").strip()) for n, (c, s) in enumerate(checked)])
    audit_record(actor=actor, action=Action.CREATE, target=review, account=account,
                 changes={"agent": reviewed.pk, "score_pct": review.score_pct,
                          "mystery": review.mystery, "call": call and call.pk,
                          "conversation": conversation and conversation.pk})
    return review


@transaction.atomic
def review_acknowledge(*, actor: User, review: Review, reply: str = "") -> Review:
    """« J'ai pris connaissance »: by the reviewed agent only, once; the time is kept."""
    locked = Review.objects.select_for_update().get(pk=review.pk)
    if locked.agent_id != actor.pk:
        raise Forbidden(_("Seule la personne évaluée peut en prendre connaissance."))
    if locked.acknowledged_at is not None:
        raise DomainError("already_acknowledged", _("Vous en avez déjà pris connaissance."),
                          status=409)
    reply = (reply or "").strip()
    if len(reply) > REPLY_MAX:
        raise invalid(reply=_("2 000 caractères au plus."))
    locked.acknowledged_at = clock.now()
    locked.agent_reply = reply
    locked.save(update_fields=["acknowledged_at", "agent_reply"])
    audit_record(actor=actor, action=Action.UPDATE, target=locked, account=review.account,
                 changes={"acknowledged_at": locked.acknowledged_at,
                          "agent_reply": bool(reply)})
    return locked
