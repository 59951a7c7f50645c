"""gunicorn.conf.py as gunicorn reads it: the settings that come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _read(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config()
    namespace: dict = {"__file__": str(CONF)}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)  # as gunicorn's `-c` loads it
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_no_shared_control_socket_unless_a_path_is_given(monkeypatch, tmp_path):
    monkeypatch.delenv("WEB_CONTROL_SOCKET", raising=False)
    assert _read(monkeypatch).control_socket_disable is True
    own = str(tmp_path / "web.ctl")
    config = _read(monkeypatch, WEB_CONTROL_SOCKET=own)
    assert (config.control_socket_disable, config.control_socket) == (False, own)


def test_workers_and_threads_come_from_the_environment(monkeypatch):
    config = _read(monkeypatch, WEB_CONCURRENCY="3", WEB_THREADS="5")
    assert (config.workers, config.threads, config.worker_class_str) == (3, 5, "gthread")
