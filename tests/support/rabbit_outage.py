"""RabbitMQ failing the way an operator meets it, for the integration tests of issue 10, on loopback only.

- *refusing*: nothing listens on the port (a stopped node): every connection attempt is refused at once;
- *silent*: a socket that accepts every connection and never sends a byte (a hung node, a load balancer in
  front of a dead one): connections wait for RabbitMQ's half of the AMQP handshake, which never comes.

`broker_at(url)` builds the settings' broker (same class, middleware, timeouts) pointed at such a URL, for
the test process to switch to with `tests.support.brokers.rebind_actors`. The shared RabbitMQ is never
touched: the outage exists only for the process that points at it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import dramatiq
from django.conf import settings

from socialsite.settings import _with_timeouts
from tests.support.brokers import build_broker
from tests.support.processes import free_port


@contextlib.contextmanager
def silent_rabbitmq() -> Iterator[str]:
    """An AMQP URL whose server accepts TCP connections and never answers; closed on exit."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(server.accept()[0])  # kept open, never read from nor written to

    thread = threading.Thread(target=accept, name="silent-rabbitmq", daemon=True)
    thread.start()
    try:
        yield f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/%2F"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


@contextlib.contextmanager
def refusing_rabbitmq() -> Iterator[str]:
    """An AMQP URL on a port nothing listens on."""
    yield f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"


def broker_at(url: str) -> dramatiq.Broker:
    """The settings' RabbitMQ broker (class, middleware, result backend, connection timeouts) at `url`."""
    broker_settings = settings.RABBITMQ_DRAMATIQ_BROKER
    options = {**broker_settings["OPTIONS"], "url": _with_timeouts(url)}
    return build_broker({**broker_settings, "OPTIONS": options})
