"""gunicorn settings for Socialsite, all from the environment (loaded by `gunicorn -c gunicorn.conf.py`).

gthread workers: each process serves WEB_THREADS requests at once, so a request waiting on PostgreSQL or
Redis does not hold a whole process; processes (WEB_CONCURRENCY, gunicorn's own variable) use the cores.
Each process has its own database pool (DJANGO_DB_POOL_MAX_SIZE), so at most
WEB_CONCURRENCY x DJANGO_DB_POOL_MAX_SIZE database connections for the web tier.
"""

import gc
import os

bind = os.environ.get("SOCIALSITE_BIND", f"127.0.0.1:{os.environ.get('SOCIALSITE_PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Keep-alive connections stay open between requests (browsers, load balancers, the page benchmark).
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))  # a request running longer than this is a bug
graceful_timeout = 20
# Recycle a process now and then (jittered so they do not restart together): bounds any slow leak.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("WEB_ACCESS_LOG") or None  # "-" for stdout; off by default (it costs per request)
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (`gunicornc`) is by default one path per system user ($HOME/.gunicorn/gunicorn.ctl):
# two servers run by one user (the demo, a benchmark, the tests' servers) took it from each other, and the
# first to stop removed it. Off unless WEB_CONTROL_SOCKET names a path of this server's own.
control_socket = os.environ.get("WEB_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket  # gunicorn reads every module-level name that is a setting; None is not a path


def post_worker_init(worker):
    """Move everything the process holds once the app is loaded (modules, settings, URL resolvers, the
    ORM's models, numpy) out of reach of the cyclic garbage collector: every full collection walked these
    hundreds of thousands of objects again, a pause of tens of milliseconds that a request paid at random
    (the p99 of a list page served alone was 8x its p50). What requests allocate is still collected.
    Off with WEB_GC_FREEZE=false."""
    if os.environ.get("WEB_GC_FREEZE", "true").lower() != "false":
        gc.freeze()
