"""STUB — to be written: « Synchroniser maintenant » on a resource."""

from django.http import Http404, HttpRequest, HttpResponse


def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404
