"""Demo data for outbound campaigns and the new-client set-up (idempotent: re-running
`seed_demo` refreshes nothing that exists)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from permanence.accounts.models import ClientAccount, User
from permanence.core import clock

from .models import Setup, SetupItem, SetupItemCode
from .models_campaigns import (
    Campaign,
    CampaignAttempt,
    CampaignKind,
    CampaignStatus,
    CampaignTarget,
    Disposition,
    TargetStatus,
)
from .setup import setup_open

PEOPLE = [
    ("Mme Claire Bernard", "+33612000101", "Devis salle de bain du 12/11"),
    ("M. Julien Roux", "+33612000102", "Devis cuisine du 18/11"),
    ("Mme Sophie Girard", "+33612000103", "Devis isolation combles"),
    ("M. Thomas Moreau", "+33612000104", "Devis toiture"),
    ("Mme Nathalie Fournier", "+33612000105", "Devis terrasse bois"),
    ("M. Antoine Mercier", "+33612000106", "Devis fenêtres PVC"),
    ("Mme Émilie Blanc", "+33612000107", "Devis peinture extérieure"),
    ("M. Lucas Garnier", "+33612000108", "Devis carrelage"),
]
SCRIPT = ("Bonjour, {nom} ? Ici le secrétariat de Bâti-Rénov Lefèvre. Je vous appelle au sujet "
          "du devis que M. Lefèvre vous a envoyé.\n"
          "1. Avez-vous bien reçu le devis ? Avez-vous des questions ?\n"
          "2. Souhaitez-vous fixer un rendez-vous de visite technique ?\n"
          "3. Sinon : puis-je vous rappeler à un autre moment ?")


@transaction.atomic
def seed_outbound() -> int:
    """A campaign of the builder (follow-up of sent quotes) with a few calls made, and the
    medical practice's set-up in progress. Returns the number of objects created."""
    created = 0
    builder = ClientAccount.objects.filter(slug="bati-renov").first()
    agent = User.objects.filter(email__startswith="agent2@").first()
    supervisor = User.objects.filter(email__startswith="superviseur@").first()
    now = clock.now()
    if builder is not None and not Campaign.objects.filter(account=builder).exists():
        campaign = Campaign.objects.create(
            account=builder, name="Relance des devis de novembre", kind=CampaignKind.FOLLOW_UP,
            script=SCRIPT, status=CampaignStatus.ACTIVE, max_attempts=3, retry_minutes=120,
            created_by=supervisor, created_at=now - timedelta(days=2))
        targets = CampaignTarget.objects.bulk_create([
            CampaignTarget(campaign=campaign, name=name, phone=phone, notes=notes, line=i + 2)
            for i, (name, phone, notes) in enumerate(PEOPLE)])
        outcomes = [(Disposition.APPOINTMENT, TargetStatus.DONE),
                    (Disposition.ABSENT, TargetStatus.CALL_BACK),
                    (Disposition.NOT_INTERESTED, TargetStatus.DONE)]
        for target, (disposition, status) in zip(targets, outcomes, strict=False):
            at = now - timedelta(days=1, hours=2)
            CampaignAttempt.objects.create(target=target, campaign=campaign, agent=agent,
                                           disposition=disposition, at=at)
            target.status, target.attempts, target.last_disposition = status, 1, disposition
            target.next_attempt_at = (at + timedelta(minutes=120)
                                      if status == TargetStatus.CALL_BACK else None)
            target.save()
        created += 1
    practice = ClientAccount.objects.filter(slug="cabinet-martin").first()
    if practice is not None and not Setup.objects.filter(account=practice).exists():
        setup = setup_open(account=practice, order_reference="", at=now - timedelta(days=3),
                           owner=supervisor)
        SetupItem.objects.filter(setup=setup, code=SetupItemCode.KICKOFF).update(
            done_at=now - timedelta(days=2), done_by=supervisor,
            evidence="Appel de lancement avec le Dr Martin, lundi 10 h")
        created += 1
    return created
