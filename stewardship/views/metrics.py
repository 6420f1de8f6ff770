"""Being written."""

from django.http import Http404


def metrics(request, *args, **kwargs):
    raise Http404
