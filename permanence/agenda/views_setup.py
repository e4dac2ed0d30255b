"""STUB — being written."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def setup_home(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def account_setup(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def resource_detail(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def exception_add(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def exception_remove(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def ics_revoke(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404
