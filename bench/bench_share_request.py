"""Benchmark: the share request's server time for an owner with 1,000 friends vs one with 10 (issue 8).

    python -m bench.bench_share_request [--requests 100] [--friends 10,1000] [--database NAME] [--redis-db 12]

Why: sharing notifies every friend, but that fan-out is a worker's job; the request itself must do no
per-friend work, so its time must not depend on how many friends the owner has. Target: the median
request time with 1,000 friends is at most 1.2 times the median with 10 friends.

What is timed: `POST /api/v1/shares/` (multipart: a 640x480 PNG and a caption, token auth) through the
in-process Django test client, i.e. the whole server side of the request: URL routing, middleware,
authentication, parsing with the streaming upload handler, content detection (libmagic) and image
verification (Pillow), the file written through the storage API, the share row and its outbox event in
one transaction, and the after-commit publish of `share.created` with its task record. The broker is
Dramatiq's StubBroker (test settings): this measures the request, not RabbitMQ, and the stub's queue is
emptied after each request. The two owners' requests are interleaved (10, 1000, 10, 1000, ...) after a
warm-up, so machine noise falls on both alike. The SQL queries of one request are counted for each owner.

Isolation: its own PostgreSQL database (created, migrated, dropped at the end), its own Redis DB number
(flushed before and after), its own temporary MEDIA_ROOT (removed at the end).
Exit status 0 when the target passes.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time

from bench.support.services import (
    add_service_options,
    close_django_connections,
    drop_database,
    flush_redis,
    recreate_database,
    setup_django_here,
)
from bench.support.stats import percentile

TARGET_RATIO = 1.2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per owner (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per owner first (default 10)")
    parser.add_argument("--friends", default="10,1000", help="friend counts of the two owners (default 10,1000)")
    add_service_options(parser, database="socialsite_bench_shares", redis_db=12)
    return parser.parse_args(argv)


def make_owner(name: str, friends: int):
    """An owner with `friends` friends, both rows of every friendship written in bulk (setup, not timed)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.tokens import token_create
    from friends.models import Friendship

    user_model = get_user_model()
    owner = user_model.objects.create_user(name, password="bench-pass-123")
    people = user_model.objects.bulk_create([user_model(username=f"{name}-f{i}") for i in range(friends)])
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=owner, friend=p, is_friend_since=since) for p in people]
        + [Friendship(user=p, friend=owner, is_friend_since=since) for p in people],
        batch_size=2000,
    )
    return owner, token_create(user=owner)[1]


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((640, 480), 40).convert("RGB").save(out, "PNG")
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = [int(x) for x in args.friends.split(",")]
    media_root = tempfile.mkdtemp(prefix="bench_shares_media_")
    print(f"database {args.database}, Redis DB {args.redis_db}, media {media_root}", flush=True)
    recreate_database(args.database)
    flush_redis(args.redis_db)
    os.environ.pop("SOCIALSITE_TEST_BROKER", None)  # StubBroker: nothing leaves the process
    try:
        setup_django_here(
            settings="socialsite.test_settings",
            database=args.database,
            redis_db=args.redis_db,
            DJANGO_MEDIA_ROOT=media_root,
            DJANGO_LOG_LEVEL="WARNING",
        )
        from django.test.utils import setup_test_environment

        setup_test_environment()  # allows the test client's host name
        return run(args, counts)
    finally:
        close_django_connections()
        flush_redis(args.redis_db)
        drop_database(args.database)
        shutil.rmtree(media_root, ignore_errors=True)


def run(args: argparse.Namespace, counts: list[int]) -> int:
    import dramatiq
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from socialsite.redis import get_redis

    get_redis().flushdb()
    broker = dramatiq.get_broker()
    data = png_bytes()
    owners = {}
    for n in counts:
        started = time.perf_counter()
        owners[n] = make_owner(f"owner{n}", n)
        print(f"owner with {n} friends ready ({time.perf_counter() - started:.1f} s)", flush=True)

    def share(n: int) -> float:
        _, token = owners[n]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        payload = {"file": SimpleUploadedFile("photo.png", data, content_type="image/png"), "caption": "bench"}
        started = time.perf_counter()
        response = client.post("/api/v1/shares/", payload)
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise SystemExit(f"share request failed: {response.status_code} {response.content[:300]!r}")
        broker.flush_all()  # the messages for workers; not part of the request
        return elapsed

    queries = {}
    for n in counts:
        with CaptureQueriesContext(connection) as captured:
            share(n)
        queries[n] = len(captured)
    for _ in range(args.warmup):
        for n in counts:
            share(n)
    times: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(args.requests):
        for n in counts:
            times[n].append(share(n))

    print(f"\nPOST /api/v1/shares/ ({len(data) / 1024:.0f} KiB PNG), {args.requests} timed requests per owner:")
    print(f"{'friends':>8} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'queries':>8}")
    medians = {}
    for n in counts:
        ordered = sorted(times[n])
        medians[n] = statistics.median(ordered)
        p90 = percentile(ordered, 90)
        print(f"{n:>8} {medians[n] * 1000:>10.2f} {p90 * 1000:>8.2f} {ordered[0] * 1000:>8.2f} {queries[n]:>8}")
    low, high = min(counts), max(counts)
    ratio = medians[high] / medians[low]
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"\nratio median({high} friends) / median({low} friends) = {ratio:.3f}  (target <= {TARGET_RATIO}) {verdict}")
    if queries[high] != queries[low]:
        print(f"note: queries differ ({queries[low]} vs {queries[high]}): per-friend work in the request?")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
