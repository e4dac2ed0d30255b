"""The espace client's « Appels et messages »: every call and message our secretaries took
for the client (filters, search, CSV export), marked as handled by the client, each with the
proof of its forwarding (sent, delivered, read). Opening a message marks it read."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.db.models import Count, Min
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.core.access import AuthedHttpRequest, client_required
from permanence.core.counting import CappedPaginator
from permanence.desk import digest, forwarding, record
from permanence.desk import selectors as desk_selectors
from permanence.desk.models import Forward

from .forms_calls import CallFilterForm
from .views import REQUESTS_PER_PAGE, _base

CSV_MAX_ROWS = 50_000
SEARCH_PAGES = 10


def _filtered(request: AuthedHttpRequest, account: Any,
              motifs: dict[str, str]) -> tuple[CallFilterForm, Any]:
    form = CallFilterForm(request.GET or None, motifs=motifs)
    filters = form.filters() if form.is_bound and form.is_valid() else None
    return form, desk_selectors.client_calls(account, filters)


@client_required
def calls(request: AuthedHttpRequest) -> HttpResponse:
    account, context = _base(request)
    motifs = desk_selectors.motif_labels(account)
    form, qs = _filtered(request, account, motifs)
    # Counted up to 1,000 calls: years of calls are not counted for each page shown. A search
    # up to its first SEARCH_PAGES pages: a common word matches thousands of calls, and
    # counting them read each one (beyond, the client narrows the search).
    paginator: CappedPaginator[Any] = CappedPaginator(qs, REQUESTS_PER_PAGE)
    if form.is_bound and form.is_valid() and form.cleaned_data.get("q"):
        paginator.cap_rows = SEARCH_PAGES * REQUESTS_PER_PAGE
    page = paginator.get_page(request.GET.get("page"))
    by_call: dict[int, list[Forward]] = defaultdict(list)
    for f in Forward.objects.filter(call_id__in=[c.pk for c in page.object_list]).order_by(
            "level", "created_at", "id"):
        by_call[f.call_id].append(f)  # type: ignore[index]
    rows = [{"call": c, "motif": motifs.get(c.motif, c.motif), "forwards": by_call[c.pk]}
            for c in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "portal/calls.html", {
        **context, "page": page, "rows": rows, "form": form, "query": query.urlencode(),
        "digest_on": digest.digest_is_on(request.user, account),
    }, status=422 if form.is_bound and not form.is_valid() else 200)


@require_POST
@client_required
def digest_toggle(request: AuthedHttpRequest) -> HttpResponse:
    """« Recevoir chaque matin le récapitulatif de la veille » for the account shown."""
    account, _context = _base(request)
    on = digest.digest_set(user=request.user, account=account,
                           on=request.POST.get("on") == "1")
    messages.success(request, _("Vous recevrez chaque matin le récapitulatif de la veille par "
                                "e-mail (%(email)s).") % {"email": request.user.email} if on
                     else _("Vous ne recevrez plus le récapitulatif quotidien."))
    return redirect("portal:calls")


@client_required
def calls_csv(request: AuthedHttpRequest) -> StreamingHttpResponse:
    account, _context = _base(request)
    motifs = desk_selectors.motif_labels(account)
    _form, qs = _filtered(request, account, motifs)
    qs = qs.annotate(first_read=Min("forwards__read_at"), forwards_n=Count("forwards"))

    class Echo:
        def write(self, value: str) -> str:
            return value

    def rows() -> Iterator[str]:
        writer = csv.writer(Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow([
            _("Date"), _("Appelant"), _("Numéro"), _("Motif"), _("Urgence"), _("Message"),
            _("Télésecrétaire"), _("Transmissions"), _("Lu le"), _("Traité le")])
        for c in qs[:CSV_MAX_ROWS].iterator(chunk_size=2000):
            yield writer.writerow([
                localtime(c.offered_at).strftime("%d/%m/%Y %H:%M"), c.caller_name,
                c.from_number, motifs.get(c.motif, c.motif), c.get_urgency_display(),
                c.message, (c.agent.full_name or c.agent.email) if c.agent else "",
                c.forwards_n,
                localtime(c.first_read).strftime("%d/%m/%Y %H:%M") if c.first_read else "",
                localtime(c.handled_at).strftime("%d/%m/%Y %H:%M") if c.handled_at else ""])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appels-et-messages.csv"'
    return response


@client_required
def call_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, context = _base(request)
    call = desk_selectors.client_call(account, pk)
    # The client reading the message is the proof of reading its forwards.
    forwarding.forwards_mark_read_by_client(user=request.user, call=call)
    motif = desk_selectors.consigne_motif(call.consigne_version, call.motif)
    return render(request, "portal/call_detail.html", {
        **context, "call": call, "motif": (motif or {}).get("label") or call.motif,
        "forwards": desk_selectors.call_forwards(call),
        "triage_answers": desk_selectors.call_triage_answers(call),
        "guidance": desk_selectors.call_guidance(call),
    })


@require_POST
@client_required
def call_handled(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    account, _context = _base(request)
    call = desk_selectors.client_call(account, pk)
    handled = request.POST.get("handled", "1") != "0"
    record.call_mark_handled(user=request.user, call=call, handled=handled)
    messages.success(request, _("Message marqué comme traité.") if handled
                     else _("Message remis à traiter."))
    if request.POST.get("from") == "list":
        return redirect("portal:calls")
    return redirect("portal:call_detail", pk=call.pk)
