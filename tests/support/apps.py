from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Probe actors for tests and benchmarks only (installed by socialsite.test_settings)."""

    name = "tests.support"
    label = "test_support"

    def ready(self) -> None:
        from . import tasks  # noqa: F401
