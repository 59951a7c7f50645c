"""The benchmarks' servers count every rate limit but never reach one (`UNREACHED_RATE_LIMITS`): a scope
added to the settings and not to the benchmarks would have them measure 429 answers instead of pages."""

from django.conf import settings

from bench.support.services import RATE_SCOPES, UNREACHED_RATE_LIMITS


def test_the_benchmarks_lift_every_rate_limit_the_settings_have():
    assert sorted(RATE_SCOPES) == sorted(settings.RATE_LIMITS)
    assert sorted(UNREACHED_RATE_LIMITS) == sorted(f"RATE_LIMIT_{scope.upper()}" for scope in settings.RATE_LIMITS)
