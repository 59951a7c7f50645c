"""A thread's publishing connection left idle is closed and opened afresh before RabbitMQ closes it for
missed heartbeats (`socialsite.broker.RabbitmqBroker.channel`), so the next publish after a quiet spell
logs nothing and needs no retry.

Against the real RabbitMQ, with a 1-second heartbeat so that RabbitMQ gives up on a silent connection
within seconds (60 s by default). The control case (no idle close) shows what the site did before: the
publish after the quiet spell hits a reset socket, and pika logs ERROR tracebacks.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.conf import settings

from tests.support.brokers import ensure_own_vhost
from tests.support.rabbit_outage import broker_at

HEARTBEAT = 1  # seconds; RabbitMQ closes a connection that stays silent for about two of them
QUIET = 5 * HEARTBEAT
QUEUE = "idle-test"


def _broker(idle_close: float | None):
    url = settings.RABBITMQ_URL
    broker = broker_at(url + ("&" if "?" in url else "?") + f"heartbeat={HEARTBEAT}")
    broker.idle_close = idle_close
    broker.declare_queue(QUEUE, ensure=True)
    broker.channel.queue_purge(QUEUE)
    return broker


def _publish_after_a_quiet_spell(broker, caplog) -> list[str]:
    """Publish, stay silent past RabbitMQ's patience, publish again; the pika ERROR lines logged."""
    import dramatiq

    message = dramatiq.Message(queue_name=QUEUE, actor_name="noop", args=(), kwargs={}, options={})
    broker.enqueue(message)
    time.sleep(QUIET)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="pika"):
        broker.enqueue(message.copy())
    assert broker.channel.queue_declare(QUEUE, durable=True, passive=True).method.message_count == 2
    return [r.getMessage() for r in caplog.records if r.name.startswith("pika") and r.levelno >= logging.ERROR]


@pytest.fixture
def brokers():
    ensure_own_vhost(settings.RABBITMQ_URL)
    made = []

    def make(idle_close):
        made.append(_broker(idle_close))
        return made[-1]

    yield make
    for broker in made:
        broker.channel.queue_delete(QUEUE)
        broker.close()


def test_an_idle_publishing_connection_is_replaced_quietly_before_rabbitmq_drops_it(brokers, caplog):
    broker = brokers(idle_close=HEARTBEAT / 2)
    first = broker.connection
    assert _publish_after_a_quiet_spell(broker, caplog) == []
    assert broker.connection is not first and first.is_closed


def test_without_the_idle_close_rabbitmq_drops_it_and_the_next_publish_logs_errors(brokers, caplog):
    broker = brokers(idle_close=None)
    errors = _publish_after_a_quiet_spell(broker, caplog)
    assert errors and any("Connection reset" in e or "Stream connection lost" in e for e in errors)
