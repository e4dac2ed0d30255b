"""The e-mails of a payment incident, queued after the commit (core.mail.queue_email): the
failure notice with the retry link, the reminders, the suspension, the payment received."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from permanence.billing.models_invoices import Invoice
from permanence.core.mail import queue_email
from permanence.core.money import format_eur


def pay_link(invoice: Invoice) -> str:
    return settings.SITE_URL + reverse("recovery:pay", kwargs={"number": invoice.number})


def _recipient(invoice: Invoice) -> list[str]:
    email = invoice.account.billing_email or (invoice.buyer or {}).get("email") or ""
    return [email] if email else []


def _send(invoice: Invoice, subject: str, body: str) -> bool:
    to = _recipient(invoice)
    if to:
        queue_email(to=to, subject=subject, body=body)
    return bool(to)


def _facts(invoice: Invoice) -> dict[str, str]:
    return {"number": invoice.number, "amount": format_eur(invoice.balance_cents),
            "due": date_format(invoice.due_on, "d/m/Y"), "link": pay_link(invoice)}


def failure_notice(invoice: Invoice, reason: str) -> bool:
    with override("fr"):
        return _send(invoice, _("Échec du paiement de la facture %(number)s") % {
            "number": invoice.number}, _(
            "Bonjour,\n\nLe paiement de la facture %(number)s (%(amount)s restant dus, "
            "échéance le %(due)s) n'a pas abouti : %(reason)s\n\nVous pouvez la régler dès "
            "maintenant par carte bancaire : %(link)s\n\nSans règlement, nous réessaierons "
            "votre moyen de paiement enregistré et vous enverrons des rappels.\n\n"
            "L'équipe Permanence") % {**_facts(invoice), "reason": reason})


def reminder(invoice: Invoice, day: int, suspend_on: str) -> bool:
    with override("fr"):
        return _send(invoice, _("Rappel : facture %(number)s impayée") % {
            "number": invoice.number}, _(
            "Bonjour,\n\nSauf erreur de notre part, la facture %(number)s reste impayée "
            "(%(amount)s, échéance le %(due)s ; rappel J+%(day)s).\n\nPour la régler : "
            "%(link)s\n\nSans règlement, le service sera suspendu le %(suspend)s.\n\n"
            "L'équipe Permanence") % {**_facts(invoice), "day": day, "suspend": suspend_on})


def suspension(invoice: Invoice) -> bool:
    with override("fr"):
        return _send(invoice, _("Service suspendu : facture %(number)s impayée") % {
            "number": invoice.number}, _(
            "Bonjour,\n\nFaute de règlement de la facture %(number)s (%(amount)s), votre "
            "service est suspendu. Vos données sont conservées ; le service reprend dès le "
            "paiement reçu : %(link)s\n\nL'équipe Permanence") % _facts(invoice))


def paid(invoice: Invoice, resumed: bool) -> bool:
    with override("fr"):
        body = _("Bonjour,\n\nNous avons bien reçu le règlement de la facture %(number)s. "
                 "Merci.") % _facts(invoice)
        if resumed:
            body += "\n\n" + _("Votre service a repris.")
        return _send(invoice, _("Paiement reçu : facture %(number)s") % {
            "number": invoice.number}, body + "\n\n" + _("L'équipe Permanence"))
