from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Probe actors for tests only (installed by socialsite.test_settings); the benchmarks' are in bench.probes."""

    name = "tests.support"
    label = "test_support"

    def ready(self) -> None:
        from . import tasks  # noqa: F401
