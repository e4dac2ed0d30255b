"""STUB — being written."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def home(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def book(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def appointment(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def move(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def cancel(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def mark(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def slots_fragment(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def call_slots(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404


def call_book(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    raise Http404
