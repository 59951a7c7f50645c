"""The fault schedule: at set times during the load, RabbitMQ stopped, a worker killed -9, Redis restarted
empty. Each fault is over once the service answers again (RabbitMQ takes AMQP connections, the worker's
processes consume, Redis answers PING); its window, for counting answers, runs from the fault to that moment
plus a tail in which clients and workers reconnect and catch up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .services import PrivateRabbit, PrivateRedis, Site


@dataclass
class Fault:
    """One fault as it happened, in seconds since the load began."""

    name: str
    label: str
    start: float = float("nan")
    end: float = float("nan")  # the service answered again
    detail: str = ""


@dataclass
class Schedule:
    warmup: float  # load before the first fault
    gap: float  # load between one fault's end and the next fault
    rabbit_down: float
    redis_down: float
    kill: list[str]  # Procfile names of the workers to kill -9 (at once)
    tail: float  # seconds after a fault's end still counted in its window
    faults: list[Fault] = field(default_factory=list)
    error: str = ""

    def window_of(self, t: float) -> str:
        """The label of the fault window `t` falls in, or "no fault"."""
        for fault in self.faults:
            end = fault.end if fault.end == fault.end else float("inf")  # still going (or failed): open
            if fault.start <= t < end + self.tail:
                return fault.label
        return "no fault"


def run_schedule(
    schedule: Schedule,
    *,
    now: Callable[[], float],
    stop: threading.Event,
    rabbit: PrivateRabbit,
    redis: PrivateRedis,
    site: Site,
) -> None:
    """Inject the faults in order (RabbitMQ, worker, Redis), each `gap` seconds after the previous one ended.
    Runs in its own thread; returns early when `stop` is set (without starting anything again: the run is
    being torn down). A fault that cannot be injected or repaired
    is recorded in `schedule.error` (the run then fails)."""

    def wait_until(t: float) -> bool:
        return not stop.wait(max(0.0, t - now()))

    try:
        if not wait_until(schedule.warmup):
            return
        fault = Fault("rabbitmq", f"RabbitMQ stopped {schedule.rabbit_down:g} s")
        schedule.faults.append(fault)
        fault.start = now()
        rabbit.stop()
        stopped = now()
        if not wait_until(fault.start + schedule.rabbit_down):
            return  # the run is being torn down: nothing to start again
        rabbit.start()
        fault.end = now()
        fault.detail = f"stop took {stopped - fault.start:.1f} s; started again at +{schedule.rabbit_down:g} s"

        if not wait_until(fault.end + schedule.gap):
            return
        fault = Fault("worker", f"worker killed -9 ({', '.join(schedule.kill)})")
        schedule.faults.append(fault)
        fault.start = now()
        for name in schedule.kill:
            site.kill(name)
        for name in schedule.kill:
            site.wait_ready(name)
        fault.end = now()
        fault.detail = "restarted by the supervisor, consuming again"

        if not wait_until(fault.end + schedule.gap):
            return
        fault = Fault("redis", "Redis restarted empty")
        schedule.faults.append(fault)
        fault.start = now()
        redis.kill()
        if stop.wait(schedule.redis_down):  # the outage itself
            return
        redis.start()
        fault.end = now()
        fault.detail = f"killed -9, down {schedule.redis_down:g} s, started without its data"
    except Exception as exc:  # noqa: BLE001 - reported in the table, the run fails
        schedule.error = f"{type(exc).__name__}: {exc}"
