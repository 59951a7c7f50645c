"""RabbitMQ failing the way an operator meets it, for the integration tests of issue 10, on loopback only.

- *refusing*: nothing listens on the port (a stopped node): every connection attempt is refused at once;
- *silent*: a socket that accepts every connection and never sends a byte (a hung node, a load balancer in
  front of a dead one): connections wait for RabbitMQ's half of the AMQP handshake, which never comes;
- *blocked*: a server that speaks AMQP 0-9-1 as far as a publish, then answers it with `connection.blocked`
  and nothing else, as RabbitMQ does under a memory or disk alarm (which cannot be raised on the shared
  node without blocking everyone on it).

`broker_at(url)` builds the settings' broker (same class, middleware, timeouts) pointed at such a URL, for
the test process to switch to with `tests.support.brokers.rebind_actors`. The shared RabbitMQ is never
touched: the outage exists only for the process that points at it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

import dramatiq
from django.conf import settings

from socialsite.settings import _with_timeouts
from tests.support.brokers import build_broker
from tests.support.processes import free_port


@contextlib.contextmanager
def _fake_rabbitmq(name: str, on_connection: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """An AMQP URL on loopback whose server hands each accepted connection to `on_connection(conn, stop)`
    (in the accepting thread: a long handler starts its own); on exit, `stop` is set and all is closed."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                conn = server.accept()[0]
                held.append(conn)
                on_connection(conn, stop)

    thread = threading.Thread(target=accept, name=name, daemon=True)
    thread.start()
    try:
        yield f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}/%2F"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def silent_rabbitmq() -> contextlib.AbstractContextManager[str]:
    """An AMQP URL whose server accepts TCP connections and never answers (each is kept open, never read
    from nor written to); closed on exit."""
    return _fake_rabbitmq("silent-rabbitmq", lambda conn, stop: None)


def _serve_until_blocked(conn: socket.socket, stop: threading.Event) -> None:
    """One client of `blocking_rabbitmq`: the handshake, channels, confirms and queue declarations are
    answered; the first publish gets `connection.blocked`, and no confirm ever comes."""
    import pika.frame
    from pika import spec

    def send(channel: int, method) -> None:
        conn.sendall(pika.frame.Method(channel, method).marshal())

    replies = {
        spec.Connection.StartOk: lambda f: spec.Connection.Tune(channel_max=0, frame_max=131072, heartbeat=0),
        spec.Connection.Open: lambda f: spec.Connection.OpenOk(),
        spec.Channel.Open: lambda f: spec.Channel.OpenOk(),
        spec.Confirm.Select: lambda f: spec.Confirm.SelectOk(),
        spec.Queue.Declare: lambda f: spec.Queue.DeclareOk(queue=f.method.queue, message_count=0, consumer_count=0),
        spec.Connection.Close: lambda f: spec.Connection.CloseOk(),
        spec.Channel.Close: lambda f: spec.Channel.CloseOk(),
    }
    buffer, blocked = b"", False
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            data = conn.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return
        if not data:
            return
        buffer += data
        while True:
            consumed, frame = pika.frame.decode_frame(buffer)
            if not consumed:
                break
            buffer = buffer[consumed:]
            if isinstance(frame, pika.frame.ProtocolHeader):
                capabilities = {"publisher_confirms": True, "basic.nack": True, "connection.blocked": True}
                send(0, spec.Connection.Start(server_properties={"capabilities": capabilities}))
            elif isinstance(frame, pika.frame.Method) and type(frame.method) in replies:
                send(frame.channel_number, replies[type(frame.method)](frame))
            elif isinstance(frame, pika.frame.Method) and isinstance(frame.method, spec.Basic.Publish) and not blocked:
                send(0, spec.Connection.Blocked(reason="low on memory (a test's fake alarm)"))
                blocked = True


def blocking_rabbitmq() -> contextlib.AbstractContextManager[str]:
    """An AMQP URL whose server blocks every connection at its first publish (`connection.blocked`) and
    confirms nothing, as under a resource alarm; closed on exit."""

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        threading.Thread(target=_serve_until_blocked, args=(conn, stop), daemon=True).start()

    return _fake_rabbitmq("blocking-rabbitmq", serve)


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
