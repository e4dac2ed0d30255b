"""STUB — to be written: the public booking page and the contact's manage link."""

from django.http import Http404, HttpRequest, HttpResponse


def booking_page(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404


def booking_slots(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404


def manage(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404
