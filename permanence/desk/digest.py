"""The espace client's optional daily digest: each morning, yesterday's calls and messages.

- A client user turns it on or off for the account they are looking at (espace client,
  « Appels et messages »); staff never subscribe anyone.
- From DIGEST_TIME in the account's time zone (its calendar's), the scheduler's job
  `desk.digests` sends each subscription the previous local day: calls received, answered,
  missed or abandoned, voicemails; each message taken (time, caller, motif, urgency, the
  message) and whether it was read; the link to the espace page. A day without any call
  sends nothing.
- Once per day: `last_sent_for` is set in the transaction that queues the mail (sent after
  commit by the worker), on the subscription locked first; each subscription apart (one
  failure does not stop the others)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Min
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from permanence.accounts.models import ClientAccount, User
from permanence.calendars.services import spec_for_account_cached
from permanence.core import clock
from permanence.core.isolation import each_isolated
from permanence.core.mail import queue_email
from permanence.core.validators import phone_display

from .models import Call, CallOutcome, Urgency
from .models_digest import DigestSubscription

DIGEST_TIME = time(7, 30)  # local time of the account, the day after


# --- The client's choice ------------------------------------------------------------------------


def digest_is_on(user: User, account: ClientAccount) -> bool:
    return DigestSubscription.objects.filter(user=user, account=account).exists()


def digest_set(*, user: User, account: ClientAccount, on: bool) -> bool:
    """Turn the user's digest for `account` on or off (the caller checked the user is one
    of the account's clients). Returns the new state."""
    if on:
        DigestSubscription.objects.get_or_create(user=user, account=account,
                                                 defaults={"created_at": clock.now()})
    else:
        DigestSubscription.objects.filter(user=user, account=account).delete()
    return on


# --- What a day holds ---------------------------------------------------------------------------


@dataclass
class Day:
    day: date
    calls: list[Call] = field(default_factory=list)
    read_at: dict[int, datetime | None] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.calls if c.outcome == CallOutcome.ANSWERED)

    @property
    def missed(self) -> int:
        return sum(1 for c in self.calls
                   if c.outcome in (CallOutcome.MISSED, CallOutcome.ABANDONED))

    @property
    def voicemails(self) -> int:
        return sum(1 for c in self.calls if c.outcome == CallOutcome.VOICEMAIL)

    @property
    def messages(self) -> list[Call]:
        return [c for c in self.calls if c.message.strip()]


def digest_day(account: ClientAccount, day: date) -> Day:
    """The account's calls offered on `day` (its own time zone), oldest first, with the
    first time each message was read: two queries."""
    tz = spec_for_account_cached(account).tz
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    calls = list(Call.objects.filter(account=account, offered_at__gte=start, offered_at__lt=end)
                 .order_by("offered_at", "id"))
    read = dict(Call.objects.filter(pk__in=[c.pk for c in calls if c.message.strip()])
                .annotate(first_read=Min("forwards__read_at"))
                .values_list("pk", "first_read")) if calls else {}
    return Day(day, calls, read)


def digest_text(account: ClientAccount, content: Day) -> tuple[str, str]:
    """(subject, body) of the digest mail, in French (the clients' language)."""
    tz = spec_for_account_cached(account).tz
    when = formats.date_format(content.day, "l j F Y")
    total = len(content.calls)
    subject = _("Vos appels du %(day)s — %(account)s") % {"day": when, "account": account.name}
    lines = [_("Bonjour,"), "",
             ngettext("Le %(day)s, nos secrétaires ont reçu %(n)s appel pour %(account)s :",
                      "Le %(day)s, nos secrétaires ont reçu %(n)s appels pour %(account)s :",
                      total) % {"day": when, "n": total, "account": account.name},
             _("- décrochés : %(n)s") % {"n": content.answered},
             _("- manqués ou abandonnés : %(n)s") % {"n": content.missed},
             _("- messages vocaux : %(n)s") % {"n": content.voicemails}, ""]
    messages = content.messages
    if messages:
        lines.append(ngettext("%(n)s message pris pour vous :", "%(n)s messages pris pour vous :",
                              len(messages)) % {"n": len(messages)})
        for call in messages:
            caller = call.caller_name or (phone_display(call.from_number)
                                          if call.from_number not in ("", "anonymous")
                                          else _("numéro masqué"))
            head = _("%(time)s — %(caller)s") % {
                "time": call.offered_at.astimezone(tz).strftime("%H:%M"), "caller": caller}
            if call.urgency == Urgency.URGENT:
                head = _("%(head)s — URGENT") % {"head": head}
            read = content.read_at.get(call.pk)
            state = (_("lu le %(date)s à %(time)s") % {
                "date": read.astimezone(tz).strftime("%d/%m"),
                "time": read.astimezone(tz).strftime("%H:%M")} if read else _("non lu"))
            lines += ["", head, f"  {call.message.strip()}", f"  ({state})"]
        lines.append("")
    link = settings.SITE_URL.rstrip("/") + reverse("portal:calls")
    lines += [_("Le détail, les enregistrements et l'export : %(url)s") % {"url": link}, "",
              _("Vous recevez ce récapitulatif parce que vous l'avez demandé ; pour ne plus le "
                "recevoir : « Ne plus le recevoir » sur la même page."), "",
              _("L'équipe de permanence téléphonique")]
    return subject, "\n".join(lines)


# --- The morning job ----------------------------------------------------------------------------


def _send_one(pk: int, now: datetime) -> bool:
    """One subscription, locked: yesterday's digest if it is time and not sent yet."""
    sub = (DigestSubscription.objects.select_for_update().select_related("user", "account")
           .filter(pk=pk).first())
    if sub is None or not sub.user.is_active or not sub.user.email:
        return False
    if not sub.user.memberships.filter(account=sub.account).exists():
        return False  # no longer one of the account's clients
    local = now.astimezone(spec_for_account_cached(sub.account).tz)
    if local.time() < DIGEST_TIME:
        return False
    day = local.date() - timedelta(days=1)
    if sub.last_sent_for is not None and sub.last_sent_for >= day:
        return False
    content = digest_day(sub.account, day)
    sent = False
    if content.calls:
        with translation.override(sub.user.language or settings.LANGUAGE_CODE):
            subject, body = digest_text(sub.account, content)
        queue_email(to=[sub.user.email], subject=subject, body=body)
        sent = True
    sub.last_sent_for = day
    sub.save(update_fields=["last_sent_for"])
    return sent


def digests_send(now: datetime | None = None) -> int:
    """Scheduler job: the digests due now. Returns how many mails were queued."""
    at = now or clock.now()
    # No clock on Earth is more than a day ahead of UTC: "yesterday" is at most today's UTC
    # date anywhere, so a subscription sent for that day has nothing due.
    pks = list(DigestSubscription.objects.exclude(last_sent_for__gte=at.date())
               .values_list("pk", flat=True))
    outcome = each_isolated(pks, lambda pk: _send_one(pk, at), job="desk.digests")
    return sum(1 for sent in outcome.results if sent)
