"""Time limits, retry windows and connection timeouts against RabbitMQ's own limits (issue 10)."""

from __future__ import annotations

import random

import dramatiq
import pika
from django.conf import settings
from dramatiq.common import compute_backoff

from notifications import tasks as notification_tasks
from socialsite.broker import MAX_BACKOFF_MS, RABBITMQ_CONSUMER_TIMEOUT_MS, TimeLimit, retry_window

HALF_CONSUMER_TIMEOUT = RABBITMQ_CONSUMER_TIMEOUT_MS // 2


def test_every_actor_runs_and_waits_for_a_retry_well_under_the_consumer_timeout():
    default_limit = TimeLimit().time_limit
    too_long = {
        actor.actor_name: (actor.options.get("time_limit", default_limit), actor.options.get("max_backoff"))
        for actor in dramatiq.get_broker().actors.values()
        if actor.options.get("time_limit", default_limit) > HALF_CONSUMER_TIMEOUT
        or actor.options.get("max_backoff", MAX_BACKOFF_MS) > HALF_CONSUMER_TIMEOUT
    }
    assert not too_long
    assert dramatiq.get_broker().actors  # the check above saw the actors


def test_notifications_ride_out_half_an_hour_of_failures_before_dead_lettering():
    subscribers = [
        actor
        for actor in dramatiq.get_broker().actors.values()
        if actor.queue_name == "notifications" and getattr(actor, "subscribes_to", ())
    ]
    assert {a.actor_name for a in subscribers} >= {"notify_request_receiver", "notify_friends_of_share"}
    for actor in subscribers:
        shortest, _ = retry_window(actor.options["max_retries"])
        assert shortest >= 30 * 60, (actor.actor_name, shortest)
    assert notification_tasks.RETRIES == 19


def test_retry_window_bounds_every_backoff_dramatiq_draws():
    rng = random.Random(10)
    for retries in (1, 5, 8, 9, 19):
        shortest, longest = retry_window(retries)
        for _ in range(200):
            random.seed(rng.random())  # compute_backoff draws its jitter from the module's random
            waited = sum(compute_backoff(n, factor=1_000, max_backoff=MAX_BACKOFF_MS)[1] for n in range(retries))
            assert shortest <= waited / 1000 <= longest, (retries, waited)
    assert retry_window(8) == (255.0, 510.0)


def test_every_rabbitmq_connection_has_short_timeouts():
    url = settings.RABBITMQ_DRAMATIQ_BROKER["OPTIONS"]["url"]
    params = pika.URLParameters(url)
    assert params.socket_timeout <= 2
    assert params.stack_timeout <= 5
    assert params.blocked_connection_timeout is not None and params.blocked_connection_timeout <= 10
    assert params.connection_attempts == 1
    assert settings.RABBITMQ_DRAMATIQ_BROKER["BROKER"] == "socialsite.broker.RabbitmqBroker"


def test_timeouts_set_in_the_url_itself_are_kept():
    from socialsite.settings import _with_timeouts

    url = _with_timeouts("amqp://h1/v?stack_timeout=7;amqp://h2/v")
    first, second = (pika.URLParameters(u) for u in url.split(";"))
    assert first.stack_timeout == 7 and second.stack_timeout == settings.RABBITMQ_TIMEOUTS["stack_timeout"]
    assert first.blocked_connection_timeout == second.blocked_connection_timeout == 5


def test_a_retry_that_cannot_be_enqueued_dead_letters_the_message_instead_of_losing_it(stub_broker, monkeypatch):
    from dramatiq.broker import MessageProxy
    from dramatiq.errors import ConnectionFailed

    from socialsite.broker import Retries

    @dramatiq.actor(broker=stub_broker, queue_name="default", max_retries=3)
    def fails() -> None:
        raise RuntimeError("boom")

    message = MessageProxy(fails.message())  # what a worker's middleware gets

    def refuse(*args, **kwargs):
        raise ConnectionFailed("RabbitMQ did not take the message in time")

    monkeypatch.setattr(stub_broker, "enqueue", refuse)
    Retries().after_process_message(stub_broker, message, exception=RuntimeError("boom"))
    assert message.failed
    assert message.options["retries"] == 1
