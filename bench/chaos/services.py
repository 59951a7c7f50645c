"""The chaos benchmark's own servers and the site's processes, each started here and ended by its own PID.

- `PrivateRabbit`: a RabbitMQ node of its own (node name, AMQP and distribution ports, Mnesia and log
  directories, config, plugins file, Erlang cookie all in the run's temporary directory), so stopping it
  disturbs nobody sharing the machine. It runs the packaged scripts in /usr/lib/rabbitmq/bin directly:
  the /usr/sbin wrappers switch to the `rabbitmq` user and that user's home (the shared node's cookie).
  It registers with the machine's epmd like any node; it neither starts nor stops epmd.
- `PrivateRedis`: `redis-server` on a free port, no persistence, so a restart starts empty.
- `Site`: web (gunicorn), the Procfile's workers and scheduler, started from the Procfile's own command
  lines, under a small supervisor that restarts whatever exits (as honcho's successor, systemd or a
  container runtime would) and counts the exits it did not cause.
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import ROOT, ManagedProcess, rundramatiq_wait_ready, start_gunicorn

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
RESTART_DELAY_S = 1.0  # a supervisor's pause before restarting a process that exited (systemd RestartSec)


def outage_safe_port() -> int:
    """A free port on 127.0.0.1 below the kernel's ephemeral range: while a server of ours is down, its port
    must not be handed out as the source port of someone's outgoing connection (`free_port()` picks from
    that range), or it cannot listen there again."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12_000), low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def _answers_amqp(port: int) -> bool:
    import pika

    params = pika.URLParameters(
        f"amqp://guest:guest@127.0.0.1:{port}/%2F?connection_attempts=1&socket_timeout=1&blocked_connection_timeout=2"
    )
    try:
        pika.BlockingConnection(params).close()
        return True
    except Exception:  # noqa: BLE001 - pika raises many kinds while a node boots; all mean "not yet"
        return False


def _registered_with_epmd(short_name: str) -> bool:
    listed = subprocess.run(["epmd", "-names"], capture_output=True, text=True, check=False, timeout=10).stdout
    return any(line.split()[1:2] == [short_name] for line in listed.splitlines() if line.startswith("name "))


class PrivateRabbit:
    """A RabbitMQ node of the run's own in `root`; `stop()` and `start()` again keep its queues (durable)."""

    def __init__(self, root: Path, *, node: str, vhost: str) -> None:
        self.root, self.node, self.vhost = root, node, vhost
        self.port, self.dist_port = outage_safe_port(), outage_safe_port()
        root.mkdir(parents=True, exist_ok=True)
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (root / "enabled_plugins").write_text("[].\n")
        (root / "rabbitmq-env.conf").write_text("")
        self.env = {
            **os.environ,
            "HOME": str(root),  # the node's and rabbitmqctl's Erlang cookie: $HOME/.erlang.cookie
            "RABBITMQ_NODENAME": node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(root / "rabbitmq-env.conf"),  # not /etc's, which names the shared node
            "RABBITMQ_PID_FILE": str(root / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_CRASH_DUMP": str(root / "erl_crash.dump"),  # a node that fails to boot writes it in its cwd
        }
        self.process: ManagedProcess | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{self.vhost}"

    def start(self, *, timeout: float = 120) -> None:
        """Start the node and return once it answers AMQP (RuntimeError with its output otherwise)."""
        if self.starts == 0 and _registered_with_epmd(self.node.split("@")[0]):
            raise RuntimeError(f"a node named {self.node} is already running (a run that did not end?): stop it first")
        self.starts += 1
        self.process = ManagedProcess(
            "rabbitmq", [str(RABBITMQ_BIN / "rabbitmq-server")], env=self.env,
            log_path=self.root / f"rabbitmq-server-{self.starts}.log",
        )  # fmt: skip
        self.process.wait_until_ready(lambda: _answers_amqp(self.port), timeout=timeout)
        if self.starts == 1:
            self.ctl("add_vhost", self.vhost)
            self.ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    def ctl(self, *args: str) -> str:
        """`rabbitmqctl -n <node> -q <args>`; its output."""
        cmd = [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, "-q", *args]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=True, timeout=120)
        return done.stdout

    def stop(self, *, timeout: float = 60) -> None:
        """`rabbitmqctl stop` (a clean shutdown: clients see their connections closed, then a closed port),
        waited for; the process group is ended by its PID if it is still there after `timeout`."""
        if self.process is None:
            return
        if self.process.proc.poll() is None:
            subprocess.run(
                [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, "stop"],
                env=self.env, capture_output=True, check=False, timeout=timeout,
            )  # fmt: skip
            with contextlib.suppress(subprocess.TimeoutExpired):  # then ended by its PID below
                self.process.proc.wait(timeout)
        self.process.stop()

    def queue_depths(self) -> dict[str, int]:
        """Messages ready or unacknowledged per queue of the vhost (`{name: count}`)."""
        out = self.ctl("list_queues", "-p", self.vhost, "name", "messages", "--no-table-headers")
        depths = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                depths[parts[0]] = int(parts[1])
        return depths


class PrivateRedis:
    """`redis-server` on a free port of 127.0.0.1 without persistence: `kill()` then `start()` = restarted empty."""

    def __init__(self, root: Path, *, db: int) -> None:
        self.root, self.db = root, db
        self.port = outage_safe_port()
        self.process: ManagedProcess | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{self.db}"

    def _pings(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, *, timeout: float = 30) -> None:
        self.starts += 1
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        cmd += ["--dir", str(self.root), "--daemonize", "no"]
        self.process = ManagedProcess("redis", cmd, env=os.environ, log_path=self.root / f"redis-{self.starts}.log")
        self.process.wait_until_ready(self._pings, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL (its own process group): no save, no goodbye to clients."""
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def procfile(path: Path = ROOT / "Procfile") -> dict[str, list[str]]:
    """The Procfile's processes as `{name: argv}`, `python` being this interpreter."""
    out = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if not sep or name.strip().startswith("#"):
            continue
        argv = shlex.split(command)
        out[name.strip()] = [sys.executable if a == "python" else a for a in argv]
    return out


@dataclass
class Slot:
    """One supervised process: how to start it, and what happened to it."""

    name: str
    start: Callable[[], ManagedProcess]
    wait_ready: Callable[[ManagedProcess], None]
    process: ManagedProcess | None = None
    starts: int = 0
    kill_expected: bool = False
    unexpected_exits: list[str] = field(default_factory=list)  # the end of the output of each
    ready: threading.Event = field(default_factory=threading.Event)


class Site:
    """The Procfile's processes on `env`, web on 127.0.0.1:`port`, supervised: whatever exits is restarted
    after `RESTART_DELAY_S`; `kill(name)` sends SIGKILL and lets the supervisor restart it."""

    def __init__(
        self, env: Mapping[str, str], *, root: Path, port: int | None = None, web_env: Mapping[str, str] | None = None
    ) -> None:
        self.env, self.web_env, self.root = dict(env), dict(web_env or env), root
        root.mkdir(parents=True, exist_ok=True)
        self.port = port or outage_safe_port()  # the same port after a restart
        self.slots: dict[str, Slot] = {}
        for name, argv in procfile().items():
            if name == "web":
                self.slots[name] = Slot(name, self._web_starter(), lambda p: None)
            else:
                self.slots[name] = Slot(name, self._starter(name, argv), self._ready_check(argv))
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def _log(self, name: str) -> Path:
        slot = self.slots.get(name)
        return self.root / f"{name}-{(slot.starts if slot else 0) + 1}.log"

    def _web_starter(self) -> Callable[[], ManagedProcess]:
        def start() -> ManagedProcess:
            server, _ = start_gunicorn(env=self.web_env, port=self.port, log_path=self._log("web"))
            return server

        return start

    def _starter(self, name: str, argv: list[str]) -> Callable[[], ManagedProcess]:
        return lambda: ManagedProcess(name, argv, env=self.env, log_path=self._log(name))

    @staticmethod
    def _ready_check(argv: list[str]) -> Callable[[ManagedProcess], None]:
        if "rundramatiq" not in argv:
            return lambda p: None
        processes = int(argv[argv.index("--processes") + 1]) if "--processes" in argv else 1
        return lambda p: rundramatiq_wait_ready(p, processes=processes, timeout=120)

    def start(self) -> None:
        """Start everything (workers first, in parallel), return once each says it is ready."""
        order = sorted(self.slots.values(), key=lambda slot: slot.name == "web")  # web last: it waits itself
        for slot in order:
            slot.process = slot.start()
            slot.starts += 1
        for slot in order:
            slot.wait_ready(slot.process)
            slot.ready.set()
        self._thread.start()

    def kill(self, name: str) -> float:
        """SIGKILL the process group of `name` (the supervisor restarts it); returns time.monotonic() of the kill."""
        slot = self.slots[name]
        slot.ready.clear()
        slot.kill_expected = True
        slot.process.kill()
        return time.monotonic()

    def wait_ready(self, name: str, *, timeout: float = 180) -> float:
        """Wait (bounded) until `name` was restarted and is ready; returns time.monotonic() then."""
        if not self.slots[name].ready.wait(timeout):
            raise RuntimeError(f"{name} was not restarted within {timeout:g} s")
        return time.monotonic()

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            for slot in self.slots.values():
                if slot.process is None or slot.process.proc.poll() is None:
                    continue
                if not slot.kill_expected:
                    slot.unexpected_exits.append(slot.process.output[-2000:])
                slot.kill_expected = False
                if self._stopping.wait(RESTART_DELAY_S):
                    return
                slot.process.stop()  # closes its log
                slot.process = slot.start()
                slot.starts += 1
                try:
                    slot.wait_ready(slot.process)
                except RuntimeError as exc:  # it died again at once: try again on the next round
                    slot.unexpected_exits.append(str(exc)[-2000:])
                    continue
                slot.ready.set()

    def stop(self) -> None:
        """Stop supervising, then stop every process (SIGTERM to its group, SIGKILL after a bound)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(200)
        for slot in reversed(list(self.slots.values())):
            if slot.process is not None:
                slot.process.stop()

    def logs(self, name_prefix: str = "") -> str:
        """The text of every log file of the processes whose name starts with `name_prefix`."""
        return "".join(
            p.read_text(errors="replace") for p in sorted(self.root.glob(f"{name_prefix}*.log")) if p.is_file()
        )
