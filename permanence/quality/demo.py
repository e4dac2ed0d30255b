"""Demo quality data, so « Qualité » is not empty on a fresh `make demo`: the global grid
with five criteria, and two reviews of agent@ by the supervisor — one she has read and
answered, one of a mystery call (« appel test ») not read yet. Idempotent: nothing is added
once a review exists."""

from __future__ import annotations

from permanence.accounts.models import ClientAccount, User
from permanence.desk.calls import simulate_in_process
from permanence.desk.models import Call

from . import services
from .models import Grid, Review

PRACTICE_NUMBER = "+33145000001"
CRITERIA = [
    ("Accueil conforme aux consignes", "Formule d'accueil du client, nom, sourire dans "
     "la voix.", 2),
    ("Message complet", "Nom, numéro, motif et disponibilités de l'appelant notés.", 3),
    ("Empathie", "Écoute, reformulation, ton adapté à l'appelant.", 2),
    ("Respect des consignes", "Tri des urgences, transmission et refus selon la fiche.", 3),
    ("Clôture", "Récapitulatif, délai de rappel annoncé, formule de fin.", 1),
]


def _global_grid(actor: User) -> Grid:
    grid = Grid.objects.filter(account__isnull=True, is_active=True).first()
    if grid is None:
        grid = services.grid_create(actor=actor, name="Grille standard")
        for n, (label, description, weight) in enumerate(CRITERIA, start=1):
            services.criterion_save(actor=actor, grid=grid, label=label,
                                    description=description, weight=weight, order=n)
    return grid


def seed_quality() -> int:
    supervisor = User.objects.filter(email__startswith="superviseur@").first()
    agent = User.objects.filter(email__startswith="agent@").first()
    practice = ClientAccount.objects.filter(slug="cabinet-martin").first()
    if supervisor is None or agent is None or practice is None or Review.objects.exists():
        return 0
    grid = _global_grid(supervisor)
    criteria = list(grid.criteria.order_by("order", "pk"))
    call = Call.objects.filter(account=practice, agent=agent).order_by("offered_at").first()
    if call is not None:
        values = [4, 3, 4, 3, 2]
        review = services.review_create(
            actor=supervisor, call=call, scores={
                c.pk: services.ScoreInput(value=v, comment="Très bien." if v == 4 else "")
                for c, v in zip(criteria, values, strict=False)},
            coaching="Penser à annoncer le délai de rappel du médecin avant de raccrocher.")
        services.review_acknowledge(actor=agent, review=review,
                                    reply="Merci, je l'annoncerai systématiquement.")
    # A mystery call: the practice's manager calls as a patient to check the service.
    test_call = simulate_in_process(to=PRACTICE_NUMBER, from_number="+33612345699",
                                    abandon=False, agent=agent.email)
    if test_call is not None:
        services.review_create(
            actor=supervisor, call=test_call, mystery=True, scores={
                c.pk: services.ScoreInput(value=v) for c, v in zip(
                    criteria, [3, 2, None, 2, 3], strict=False)},
            coaching="Appel test du cabinet : le numéro de rappel n'a pas été vérifié.")
    return Review.objects.count()
