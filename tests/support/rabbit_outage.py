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


REFUSE_POLICY = "socialsite-test-refuse"


def vhost_of(url: str) -> str:
    """The virtual host of an AMQP URL ("/" when it names none)."""
    import urllib.parse

    path = urllib.parse.urlsplit(url.split(";")[0]).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


@contextlib.contextmanager
def queue_refusing_publishes(queue_name: str) -> Iterator[None]:
    """While inside, RabbitMQ nacks every message published to `queue_name` in the tests' virtual host (a
    policy: at most 0 messages, `reject-publish`), as a full queue does; the policy goes on leaving.
    Needs `rabbitmqctl`; nothing outside that virtual host is touched."""
    import subprocess

    from tests.support.waiting import wait_for

    vhost = vhost_of(settings.RABBITMQ_URL)
    definition = '{"max-length": 0, "overflow": "reject-publish"}'
    policy = ["--apply-to", "queues", "--priority", "100", REFUSE_POLICY, f"^{queue_name}$", definition]
    subprocess.run(
        ["rabbitmqctl", "-q", "set_policy", "-p", vhost, *policy],
        check=True,
        capture_output=True,
        timeout=60,
    )

    def applied() -> bool:
        listed = subprocess.run(
            ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "policy"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split("\n")
        return any(line.split() == [queue_name, REFUSE_POLICY] for line in listed)

    try:
        wait_for(applied, timeout=30, interval=0.2, what=f"the policy on {queue_name}")
        yield
    finally:
        subprocess.run(
            ["rabbitmqctl", "-q", "clear_policy", "-p", vhost, REFUSE_POLICY], capture_output=True, timeout=60
        )
        wait_for(lambda: not applied(), timeout=30, interval=0.2, what=f"the policy off {queue_name}")
