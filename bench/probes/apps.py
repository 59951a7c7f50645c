from django.apps import AppConfig


class ProbesConfig(AppConfig):
    """Probe actors for the benchmarks only; installed by `bench.settings`, so a worker started with those
    settings discovers them (`rundramatiq` imports each installed app's `tasks` module)."""

    name = "bench.probes"
    label = "bench_probes"

    def ready(self) -> None:
        from . import tasks  # noqa: F401
