"""STUB — to be written: the read-only ICS feed of a resource."""

from django.http import Http404, HttpRequest, HttpResponse


def ics_feed(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404
