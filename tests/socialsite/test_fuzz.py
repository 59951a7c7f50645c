"""API fuzzing, bounded (issue 11, acceptance 3): Schemathesis against the project's own OpenAPI schema on
a live server, logged in as a normal user, with every check: no failure, no 5xx.

The same run as `python -m bench.bench_fuzz` (which fuzzes far longer, under gunicorn), with few examples
per operation and a fixed seed, so it fits the test suite and fails the same way twice. Rate limits are
off for it, as for the benchmark (one user sending hundreds of requests would mostly get 429s; the limits
have their own tests).
"""

from __future__ import annotations

import logging

import pytest

from bench.bench_fuzz import failures_by_check, run_schemathesis, seed_data, summary


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_failure_and_no_server_error(live_server, settings, tmp_path, caplog):
    settings.RATE_LIMITS_ENABLED = False
    seed_data()
    report = run_schemathesis(live_server.url, tmp_path, max_examples=2, seed=1, workers=2, timeout=240)
    print("\n".join(summary(report)))  # the figures, with -s
    details = "\n".join(summary(report)) + "\n" + (tmp_path / "schemathesis.txt").read_text()[-6000:]
    assert report["operations"]["tested"] == report["operations"]["total"] >= 30, details
    assert report["test_cases"]["generated"] > 300, details
    assert failures_by_check(report) == {}, details
    assert report["errors"] == [], details
    # Every 5xx, also on URLs outside the schema the fuzzer probes, is logged by django.request (whose
    # 4xx warnings show that the live server's records do reach caplog).
    assert any(r.name == "django.request" and r.levelno == logging.WARNING for r in caplog.records)
    server_errors = [
        r.getMessage() for r in caplog.records if r.name == "django.request" and r.levelno >= logging.ERROR
    ]
    assert server_errors == [], server_errors
