"""Facturation › Exports comptables: the sales journal and the payments journal (CSV, XLSX)
and the FEC of a period, for those who see billing (permissions.can_view_billing).

The period is a month (the current one by default) or a range of at most a year; a bad
period is a form error on the page (400), never a 500. Files are streamed: the CSV and the
FEC row by row as the journals' queries are read in chunks, the XLSX from a temporary file."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.core.access import AuthedHttpRequest

from . import export_formats, fec, journals
from .views import billing_required

FORMATS = ("csv", "xlsx")


class PeriodForm(forms.Form):
    """`mois=2027-03`, or `du` and `au` (YYYY-MM-DD); nothing: the current month."""

    mois = forms.CharField(label=gettext_lazy("Mois"), required=False, max_length=7)
    du = forms.DateField(label=gettext_lazy("Du"), required=False, input_formats=["%Y-%m-%d"])
    au = forms.DateField(label=gettext_lazy("Au"), required=False, input_formats=["%Y-%m-%d"])

    def clean_mois(self) -> date | None:
        text = (self.cleaned_data.get("mois") or "").strip()
        if not text:
            return None
        try:
            year, month = (int(part) for part in text.split("-"))
            return date(year, month, 1)
        except ValueError:
            raise forms.ValidationError(_("Un mois comme 2027-03.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("du"), data.get("au")
        if self.errors:
            return data
        if start or end:
            if not (start and end):
                raise forms.ValidationError(_("Indiquez les deux dates, ou un mois."))
            if start > end:
                raise forms.ValidationError(_("La date de début est après la date de fin."))
            if end >= start + relativedelta(years=1):
                raise forms.ValidationError(_("Une période d'un an au plus."))
        else:
            start = data.get("mois") or timezone.localdate().replace(day=1)
            end = start + relativedelta(months=1) - timedelta(days=1)
        data["period"] = journals.Period(start, end)
        return data


def _period(request: AuthedHttpRequest) -> tuple[PeriodForm, journals.Period | None]:
    form = PeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["period"]
    return form, None


def _page(request: AuthedHttpRequest, form: PeriodForm,
          period: journals.Period | None) -> HttpResponse:
    summary = journals.sales_summary(period) if period is not None else []
    return render(request, "billing/exports.html", {
        "form": form, "period": period, "summary": summary,
        "query": request.GET.urlencode(),
        "fec_name": fec.filename(period, fec.seller_siren()) if period else ""},
        status=200 if period else 400)


@billing_required
def exports(request: AuthedHttpRequest) -> HttpResponse:
    form, period = _period(request)
    return _page(request, form, period)


def _name(table: export_formats.Table, period: journals.Period, fmt: str) -> str:
    return f"{table.name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{fmt}"


def _journal(request: AuthedHttpRequest, fmt: str, table: export_formats.Table,
             rows: Any) -> HttpResponseBase:
    if fmt not in FORMATS:
        raise Http404
    form, period = _period(request)
    if period is None:
        return _page(request, form, period)
    name = _name(table, period, fmt)
    response: StreamingHttpResponse | FileResponse
    if fmt == "csv":
        response = StreamingHttpResponse(export_formats.csv_chunks(table, rows(period)),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            export_formats.xlsx_file(table, rows(period), title=str(table.name)),
            as_attachment=True, filename=name, content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Cache-Control"] = "private, no-store"
    return response


@billing_required
def sales_journal(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    return _journal(request, fmt, export_formats.SALES, journals.sales_rows)


@billing_required
def payments_journal(request: AuthedHttpRequest, fmt: str) -> HttpResponseBase:
    return _journal(request, fmt, export_formats.PAYMENTS, journals.payment_rows)


@billing_required
def fec_file(request: AuthedHttpRequest) -> HttpResponseBase:
    form, period = _period(request)
    if period is None:
        return _page(request, form, period)
    response = StreamingHttpResponse(fec.chunks(period),
                                     content_type=f"text/plain; charset={fec.ENCODING}")
    response["Content-Disposition"] = (
        f'attachment; filename="{fec.filename(period, fec.seller_siren())}"')
    response["Cache-Control"] = "private, no-store"
    return response
