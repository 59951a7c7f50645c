"""The site's URLs plus `/bench/bare/`: one Redis key of 50 items, rendered in a 50-row template."""

import json

from django.shortcuts import render
from django.urls import include, path

from socialsite.redis import get_redis

BARE_KEY = "bench:bare:items"


def bare(request):
    """The baseline: one Redis GET of a JSON list, one template with a row per item, nothing else."""
    return render(request, "bench/bare.html", {"items": json.loads(get_redis().get(BARE_KEY) or "[]")})


urlpatterns = [path("bench/bare/", bare), path("", include("socialsite.urls"))]
