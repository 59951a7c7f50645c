"""Switching the test process between Dramatiq's StubBroker (unit tier) and the real RabbitMQ broker.

Actors bind to a broker when they are declared (`actor.broker`), so switching means declaring every
actor on the other broker and pointing it there; the middleware stack is the one settings give.
"""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
from django.conf import settings
from django.utils.module_loading import import_string
from django_dramatiq.apps import DjangoDramatiqConfig
from django_dramatiq.utils import load_middleware
from dramatiq.results import Results


def build_broker(broker_settings: dict) -> dramatiq.Broker:
    """A broker built from a `DRAMATIQ_BROKER`-shaped dict, with the settings' result backend."""
    middleware = [
        load_middleware(path, **DjangoDramatiqConfig.get_middleware_kwargs(path))
        for path in broker_settings.get("MIDDLEWARE", [])
    ]
    backend_settings = settings.DRAMATIQ_RESULT_BACKEND
    backend = import_string(backend_settings["BACKEND"])(**backend_settings.get("BACKEND_OPTIONS", {}))
    middleware.append(Results(backend=backend, **backend_settings.get("MIDDLEWARE_OPTIONS", {})))
    return import_string(broker_settings["BROKER"])(middleware=middleware, **broker_settings.get("OPTIONS", {}))


def rebind_actors(target: dramatiq.Broker) -> dramatiq.Broker:
    """Make `target` the global broker and move every actor of the current one onto it; returns the old."""
    previous = dramatiq.get_broker()
    if previous is target:
        return previous
    for actor in list(previous.actors.values()):
        if actor.actor_name not in target.actors:
            target.declare_actor(actor)
        actor.broker = target
    dramatiq.set_broker(target)
    return previous


def purge_queues(names: Iterable[str]) -> None:
    """Empty these queues of the current broker (declared first), with their delay and dead-letter queues,
    so nothing from an earlier test or benchmark run reaches the next one's worker."""
    broker = dramatiq.get_broker()
    for name in names:
        broker.declare_queue(name, ensure=True)
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            broker.channel.queue_purge(queue)


def ensure_own_vhost(url: str) -> None:
    """Create the RabbitMQ vhost of `url` if it is one a pytest-xdist worker made up for itself (see
    socialsite.test_settings); the test command's vhost is created by scripts/services.sh."""
    import os
    from urllib.parse import unquote, urlsplit

    if not os.environ.get("SOCIALSITE_TEST_SERVICES_OF"):
        return
    from bench.support.services import ensure_vhost

    ensure_vhost(unquote(urlsplit(url).path.removeprefix("/")))
