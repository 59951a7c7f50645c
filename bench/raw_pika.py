"""The broker's own ceiling: raw pika publish-with-confirm -> consume, no Django, no Dramatiq.

    python -m bench.raw_pika --count 2000          # against the local RabbitMQ's default vhost

Used by bench.bench_events as the yardstick for commit -> subscriber throughput: one publisher thread
with a publisher confirm per message (persistent messages, `mandatory`, as Dramatiq publishes), one
consumer in another process acking each message (prefetch 16, as a 8-thread Dramatiq worker), on a
durable queue of its own; events/s = messages / (first publish -> last message consumed).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time

import pika

QUEUE = "bench.raw_pika"


def _consume(url: str, count: int, ready, result) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=16)
    ready.set()
    received, last = 0, 0.0
    for method, _properties, body in channel.consume(QUEUE, inactivity_timeout=30):
        if method is None:
            break  # nothing for 30 s: report what arrived
        json.loads(body)  # a consumer decodes what it gets
        channel.basic_ack(method.delivery_tag)
        received, last = received + 1, time.time()
        if received == count:
            break
    channel.cancel()
    connection.close()
    result.put((received, last))


def measure(url: str, count: int) -> dict[str, float]:
    """Publish `count` messages with a confirm each, consumed by another process; events/s end to end."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(QUEUE, durable=True)
    channel.queue_purge(QUEUE)
    channel.confirm_delivery()
    ctx = multiprocessing.get_context("spawn")
    ready, result = ctx.Event(), ctx.Queue()
    consumer = ctx.Process(target=_consume, args=(url, count, ready, result), daemon=True)
    consumer.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("raw pika consumer did not start")
        body_template = {"queue_name": "default", "actor_name": "bench", "args": [], "kwargs": {}, "options": {}}
        started = time.time()
        for seq in range(count):
            body = json.dumps({**body_template, "args": ["raw", seq], "message_id": str(seq)}).encode()
            channel.basic_publish(
                "", QUEUE, body, pika.BasicProperties(delivery_mode=2), mandatory=True
            )  # returns once RabbitMQ confirmed it
        published = time.time()
        received, last = result.get(timeout=120)
        consumer.join(10)
    finally:
        if consumer.is_alive():
            consumer.terminate()
        channel.queue_delete(QUEUE)
        connection.close()
    if received != count:
        raise RuntimeError(f"raw pika: {received} of {count} messages consumed")
    return {"events_per_s": count / (last - started), "publish_per_s": count / (published - started)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    args = parser.parse_args()
    figures = measure(args.url, args.count)
    print(f"raw pika: {figures['events_per_s']:.0f} events/s end to end, {figures['publish_per_s']:.0f} published/s")


if __name__ == "__main__":
    main()
