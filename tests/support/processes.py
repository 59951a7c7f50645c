"""Child processes of tests and benchmarks: a `rundramatiq` worker or gunicorn, started and stopped alike.

Each runs in its own session (process group), so stopping it also stops what it forked (Dramatiq's
worker processes); its output goes to a log file, kept for assertions and failure reports; it counts
as started only once it says it is ready. Django-free: the benchmarks import it with their own settings.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
WORKER_READY = "is ready for action"  # what each Dramatiq worker process logs once it consumes


class ManagedProcess:
    """One command in its own process group, its output (stdout and stderr) in `log_path`."""

    def __init__(self, name: str, cmd: Sequence[str], *, env: Mapping[str, str], log_path: Path | None = None) -> None:
        self.name = name
        self._own_log = log_path is None
        if log_path is None:
            handle, path = tempfile.mkstemp(prefix=f"{name}_", suffix=".log")
            os.close(handle)
            log_path = Path(path)
        self.log_path = log_path
        self._log = log_path.open("w")
        self._final_output: str | None = None
        self.proc = subprocess.Popen(
            list(cmd), cwd=ROOT, env=dict(env), stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def output(self) -> str:
        """Everything the process printed so far (all of it, once stopped)."""
        if self._final_output is not None:
            return self._final_output
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, ready: Callable[[], bool], *, timeout: float = 60) -> None:
        """Wait (bounded) for `ready()`; if the process exits or the time runs out, stop it and raise
        RuntimeError with the end of its output."""
        with contextlib.suppress(AssertionError):  # timed out: said below, with the output
            wait_for(lambda: ready() or self.proc.poll() is not None, timeout=timeout, interval=0.05)
        if self.proc.poll() is not None or not ready():
            tail = self.output[-3000:]
            self.stop()
            raise RuntimeError(f"{self.name} did not start within {timeout:g} s:\n{tail}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no chance to finish, ack or requeue anything."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._close()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM the whole process group (a worker finishes its current messages), SIGKILL after `timeout`."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._close()

    def _close(self) -> None:
        if self._log.closed:
            return
        self._log.close()
        self._final_output = self.log_path.read_text(errors="replace")
        if self._own_log:
            self.log_path.unlink(missing_ok=True)


def start_rundramatiq(
    *,
    env: Mapping[str, str],
    queues: Sequence[str],
    processes: int = 1,
    threads: int = 2,
    log_path: Path | None = None,
    timeout: float = 60,
    wait: bool = True,
) -> ManagedProcess:
    """`manage.py rundramatiq` on `queues`, returned once every one of its worker processes is ready
    (with `wait=False` at once: call `rundramatiq_wait_ready` before relying on it, and do something
    else meanwhile)."""
    cmd = [sys.executable, "manage.py", "rundramatiq", "--processes", str(processes), "--threads", str(threads)]
    cmd += ["--queues", *queues, "--worker-shutdown-timeout", "5000"]
    worker = ManagedProcess("worker", cmd, env=env, log_path=log_path)
    if wait:
        rundramatiq_wait_ready(worker, processes=processes, timeout=timeout)
    return worker


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def start_gunicorn(
    *, env: Mapping[str, str], port: int | None = None, log_path: Path | None = None, timeout: float = 60
) -> tuple[ManagedProcess, int]:
    """`gunicorn -c gunicorn.conf.py socialsite.wsgi` exactly as the Procfile starts it, bound to
    127.0.0.1:`port` (a free one by default; workers and threads from `env`, as in production); returned
    with its port once it accepts connections."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "socialsite.wsgi"]
    server = ManagedProcess("gunicorn", cmd, env={**env, "SOCIALSITE_BIND": f"127.0.0.1:{port}"}, log_path=log_path)
    server.wait_until_ready(lambda: _accepts(port), timeout=timeout)
    return server, port


def rundramatiq_wait_ready(worker: ManagedProcess, *, processes: int = 1, timeout: float = 60) -> None:
    """Wait (bounded) until each of the worker's `processes` says it consumes; RuntimeError if it dies first."""
    worker.wait_until_ready(lambda: worker.output.count(WORKER_READY) >= processes, timeout=timeout)
