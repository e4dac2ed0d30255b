"""The complaint procedure (seed 000, "Gestion des réclamations"):
réception → analyse → traitement → clôture, each step stamped with who and when. The register
(reads) is selectors.py's."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from permanence.accounts.models import User
from permanence.audit.actions import Action
from permanence.audit.services import audit_record
from permanence.core import clock
from permanence.core.errors import DomainError, invalid
from permanence.core.transitions import Machine, apply
from permanence.inbox.models import Priority, Status
from permanence.inbox.models_complaints import (
    COMPLAINT_TRANSITIONS,
    Complaint,
    ComplaintStep,
    Impact,
    Resolution,
)
from permanence.inbox.reach import reply_channels
from permanence.inbox.services import (
    _check_worker,
    conversation_reply,
    conversation_set_status,
    conversation_update,
)


def _lock(complaint: Complaint) -> Complaint:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the contact join.
    return Complaint.objects.select_for_update(of=("self",)).select_related(
        "conversation__account", "conversation__contact").get(pk=complaint.pk)


COMPLAINT_MACHINE: Machine[Complaint] = Machine(
    model=Complaint, transitions=COMPLAINT_TRANSITIONS, history_model=None, history_fk="",
    status_choices=ComplaintStep, status_field="step", error_code="bad_step",
    error_message=lambda: _("Cette étape n'est pas disponible : la réclamation est à l'étape "
                            "« %(s)s »."))


def _bad_step(complaint: Complaint) -> DomainError:
    return DomainError("bad_step", _("Cette étape n'est pas disponible : la réclamation est "
                                     "à l'étape « %(s)s ».") % {
        "s": ComplaintStep(complaint.step).label}, status=409)


def _require_move(complaint: Complaint, to: str) -> None:
    """Checked before the fields are: a complaint at the wrong step is a 409 whatever the
    input (the move itself is made by the machine once the input is valid)."""
    if not COMPLAINT_MACHINE.can(complaint.step, to):
        raise _bad_step(complaint)


_invalid = invalid


@transaction.atomic
def complaint_analyse(*, actor: User, complaint: Complaint, facts: str, urgency: str,
                      impact: str, order_reference: str = "") -> Complaint:

    _check_worker(actor)
    complaint = _lock(complaint)
    _require_move(complaint, ComplaintStep.TREATMENT)
    if not facts.strip():
        raise _invalid(facts=_("Décrivez les faits vérifiés."))
    if impact not in Impact.values:
        raise _invalid(impact=_("Choisissez l'impact."))

    if urgency not in Priority.values:
        raise _invalid(urgency=_("Choisissez l'urgence."))
    now = clock.now()
    complaint.facts, complaint.urgency, complaint.impact = facts.strip(), urgency, impact
    complaint.order_reference = order_reference.strip()[:60]
    complaint.analysed_at, complaint.analysed_by = now, actor
    apply(COMPLAINT_MACHINE, complaint, to=ComplaintStep.TREATMENT, actor=actor, now=now)
    complaint.save()
    # The urgency assessed during the analysis drives the conversation's priority (and SLA).
    conversation_update(actor=actor, conversation=complaint.conversation,
                        data={"priority": urgency})
    audit_record(actor=actor, action=Action.UPDATE, target=complaint,
                 account=complaint.conversation.account,
                 changes={"step": "analyse", "impact": impact, "urgency": urgency})
    return complaint


@transaction.atomic
def complaint_treat(*, actor: User, complaint: Complaint, resolution: str, details: str,
                    promised_date: date, notify_customer: bool = True) -> Complaint:
    """Choose the resolution and tell the customer the promised date (as a reply)."""

    _check_worker(actor)
    complaint = _lock(complaint)
    _require_move(complaint, ComplaintStep.CLOSURE)
    if resolution not in Resolution.values:
        raise _invalid(resolution=_("Choisissez la solution retenue."))
    today = timezone.localtime(clock.now()).date()  # the date in Paris, not the host's zone
    if promised_date < today:
        raise _invalid(promised_date=_("La date promise ne peut pas être passée."))
    now = clock.now()
    complaint.resolution, complaint.resolution_details = resolution, details.strip()
    complaint.promised_date = promised_date
    complaint.treated_at, complaint.treated_by = now, actor
    apply(COMPLAINT_MACHINE, complaint, to=ComplaintStep.CLOSURE, actor=actor, now=now)
    complaint.save()
    # Told in writing when a channel can reach the customer (else: by the call back logged).
    if notify_customer and reply_channels(complaint.conversation):
        body = _(
            "Bonjour,\n\nNous avons analysé votre réclamation %(ref)s. Solution retenue : "
            "%(res)s.%(details)s\nElle sera mise en œuvre au plus tard le %(date)s.\n\n"
            "Nous restons à votre disposition."
        ) % {"ref": complaint.conversation.reference, "res": Resolution(resolution).label,
             "details": f"\n{details.strip()}" if details.strip() else "",
             "date": formats.date_format(promised_date, "l j F Y")}
        conversation_reply(actor=actor, conversation=complaint.conversation, body=body)
    audit_record(actor=actor, action=Action.UPDATE, target=complaint,
                 account=complaint.conversation.account,
                 changes={"step": "traitement", "resolution": resolution,
                          "promised_date": promised_date.isoformat()})
    return complaint


@transaction.atomic
def complaint_close(*, actor: User, complaint: Complaint, customer_satisfied: bool | None,
                    comment: str = "") -> Complaint:
    """Record the customer's satisfaction when known, close and archive the conversation."""

    _check_worker(actor)
    complaint = _lock(complaint)
    if complaint.step != ComplaintStep.CLOSURE:
        raise _bad_step(complaint)
    if complaint.closed_at is not None:
        raise DomainError("already_closed", _("Cette réclamation est déjà clôturée."),
                          status=409)
    now = clock.now()
    complaint.customer_satisfied = customer_satisfied
    complaint.closing_comment = comment.strip()
    complaint.closed_at, complaint.closed_by = now, actor
    complaint.save()
    if complaint.conversation.status != Status.CLOSED:
        conversation_set_status(actor=actor, conversation=complaint.conversation,
                                status=Status.CLOSED)
    audit_record(actor=actor, action=Action.UPDATE, target=complaint,
                 account=complaint.conversation.account,
                 changes={"step": "cloture", "customer_satisfied": customer_satisfied})
    return complaint
