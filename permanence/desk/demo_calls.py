"""Demo calls, so the desk, the call backs and the espace client « Appels et messages » are
not empty on a fresh `make demo`: the same signed-event path a PBX uses (in process), then the
secretary's record and « Transmettre » (idempotent: nothing is added when the medical
practice already has calls)."""

from __future__ import annotations

from permanence.accounts.models import ClientAccount, User

from . import consignes
from .calls import simulate_in_process
from .forwarding import forward_send
from .models import Call, Urgency
from .record import call_close, call_record_save

PRACTICE_NUMBER = "+33145000001"


def _answers(account: ClientAccount, motif: str, values: list[str]) -> dict[str, object]:
    found = consignes.consigne_motif(consignes.consigne_current(account), motif) or {}
    return {"questions": dict(zip(found.get("questions") or [], values, strict=False)),
            "triage": {}}


def seed_calls() -> int:
    practice = ClientAccount.objects.filter(slug="cabinet-martin").first()
    agent = User.objects.filter(email__startswith="agent@").first()
    if practice is None or agent is None or Call.objects.filter(account=practice).exists():
        return 0
    # A prescription renewal, taken, forwarded to the doctor (e-mail in var/mails, SMS in
    # var/sms once the worker runs) and closed.
    call = simulate_in_process(to=PRACTICE_NUMBER, from_number="+33612345601", abandon=False,
                               agent=agent.email)
    if call is not None:
        call = call_record_save(
            actor=agent, call=call, motif="ordonnance",
            answers=_answers(practice, "ordonnance", ["Mme Odile Leroy", "12/03/1948",
                                                      "Levothyrox 75", "Pharmacie du Marché"]),
            message="Plus que 3 jours de traitement ; souhaite passer chercher l'ordonnance "
                    "demain matin.", urgency=Urgency.NORMAL, caller_name="Odile Leroy")
        forward_send(actor=agent, call=call)
        call_close(actor=agent, call=call)
    # A caller who hung up while waiting: a call back is owed.
    simulate_in_process(to=PRACTICE_NUMBER, from_number="+33612345602", abandon=True)
    return Call.objects.filter(account=practice).count()
