"""The site's URLs plus two views that crash, to see what a crash answers (tests/socialsite/test_api_errors.py)."""

from django.urls import path

from socialsite.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/crash/", crash), path("crash/", crash), *urlpatterns]
