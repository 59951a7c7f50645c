"""Settings read from the environment (django-environ), so production differs only by variables."""

from datetime import timedelta
from pathlib import Path

import environ
import jinja2

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DJANGO_DEBUG=(bool, False),
    DJANGO_ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DJANGO_DEBUG")
# A development key is only acceptable while DEBUG is on; production must set DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="" if not DEBUG else "dev-insecure-key-only-for-debug")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=true for local development).")
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # API tokens: several per user, stored hashed, optional expiry, revocable by their owner
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_dramatiq",
    "csp",
    "socialsite",
    "accounts",
    "friends",
    "notifications",
    # After socialsite: its `crontab` command extends dramatiq-crontab's and must win the name
    # (Django takes a management command from the first app in this list that has it).
    "dramatiq_crontab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the application server (compressed, hashed names, far-future caching).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "socialsite.middleware.RateLimitMiddleware",
    "socialsite.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "socialsite.urls"
WSGI_APPLICATION = "socialsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
            ],
        },
    },
    {
        # Jinja2 for parts of pages (`socialsite.fragments`: the long lists' rows, the header, the profile's
        # content, the shared partials): ~4x cheaper than the Django engine. Pages stay Django templates;
        # a fragment gets only the context its caller gives it (no request, no context processors).
        "NAME": "fragments",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "fragments"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "socialsite.fragments.environment",
            "undefined": jinja2.StrictUndefined,  # a misspelt key fails loudly, in the tests
        },
    },
]

# Default: a SQLite file in WAL mode so the site runs with nothing configured.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
elif env.bool("DJANGO_DB_POOL", default=True):
    # A psycopg connection pool per process: a request borrows a connection and gives it back when it
    # ends, so a process never holds more than `max_size` connections, however many threads serve it
    # (persistent per-thread connections piled up under threaded servers). Django requires
    # CONN_MAX_AGE=0 with a pool; with CONN_HEALTH_CHECKS the pool replaces a connection the server
    # dropped before lending it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DJANGO_DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DJANGO_DB_POOL_MAX_SIZE", default=8),
        "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=10.0),  # seconds to wait for a free one
        "max_idle": env.float("DJANGO_DB_POOL_MAX_IDLE", default=60.0),  # idle connections above min close
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Server-side parameters: psycopg then prepares a statement a connection has run five times, and
    # PostgreSQL stops planning it anew. The pages' queries are few and fixed (`socialsite.prepared`),
    # and planning them cost as much as running them (~0.5-1 ms each on the profile page).
    # (Django turns psycopg's preparing off by default for transaction-pooling proxies such as PgBouncer;
    # behind one, set DJANGO_DB_PREPARE_THRESHOLD=0 to turn it off again.)
    _options.setdefault("server_side_binding", env.bool("DJANGO_DB_SERVER_SIDE_BINDING", default=True))
    _prepare_threshold = env.int("DJANGO_DB_PREPARE_THRESHOLD", default=5)
    _options.setdefault("prepare_threshold", _prepare_threshold or None)
    # Planner costs for data in memory or on SSD: with the default random_page_cost (4, spinning disks)
    # a list of 50 friends hash-joined the whole user table instead of fetching 50 users by key.
    _options["options"] = " ".join(
        [_options.get("options", ""), f"-c random_page_cost={env.float('DJANGO_DB_RANDOM_PAGE_COST', default=1.1)}"]
    ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every password check is rate-limited per account and per client address (socialsite/backends.py).
AUTHENTICATION_BACKENDS = ["socialsite.backends.RateLimitedModelBackend"]
# Argon2 first: new and changed passwords get it; older hashes still verify and are upgraded at log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Uploaded files. No URL serves MEDIA_ROOT: shares are read only through views that check access, so the
# directory must stay outside anything a web server publishes (it is not under STATIC_ROOT).
MEDIA_URL = "media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Every file goes through Django's storage API, so several web hosts can share an object store by
# configuration alone, e.g. DJANGO_FILE_STORAGE=storages.backends.s3.S3Storage and
# DJANGO_FILE_STORAGE_OPTIONS='{"bucket_name": "...", "default_acl": "private"}' (with that package installed).
STORAGES = {
    "default": {
        "BACKEND": env("DJANGO_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("DJANGO_FILE_STORAGE_OPTIONS", default={}),
    },
    # `collectstatic` writes hashed, gzip-compressed copies; WhiteNoise serves them with far-future caching.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Redis: derived graph copy, computed results, Django cache -----------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every Redis client of the site (socialsite.redis, the Django cache below) gives up after these many seconds:
# a Redis that is down or hung costs a request at most that long per call (connect: a dead host; socket: a
# hung server). The largest single call the workers make (a rebuild's chunk of 500 writes) takes milliseconds.
REDIS_SOCKET_CONNECT_TIMEOUT = env.float("REDIS_SOCKET_CONNECT_TIMEOUT", default=0.5)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
# The graph subscribers' retries (friends/subscribers.py): long enough to ride out a Redis outage of minutes.
GRAPH_EVENT_RETRIES = env.int("GRAPH_EVENT_RETRIES", default=40)
GRAPH_EVENT_MAX_BACKOFF = env.int("GRAPH_EVENT_MAX_BACKOFF_MS", default=30_000)  # milliseconds
# The Django cache holds the rate-limit counters and sessions. Short socket timeouts: a hung Redis must not
# hang every request (rate limits fail open, see socialsite/ratelimits.py; sessions fall back to the
# database, see socialsite/sessions.py).
CACHES = {
    "default": {
        "BACKEND": "socialsite.cache.RedisCache",  # Django's, one client per pool
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "django",  # apart from the graph's own keys (friends:, sugg:, …)
        "OPTIONS": {"socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT, "socket_timeout": 1},
    }
}

# --- Rate limits (socialsite/ratelimits.py) ---------------------------------------------------------
# "N/P": N requests per period P (s, m, h, d, optionally with a multiplier: "10/15m"); empty = no limit.
# Each is `RATE_LIMIT_<SCOPE>` in the environment, e.g. RATE_LIMIT_LOGIN_ACCOUNT=5/15m.
_RATE_DEFAULTS = {
    "anon": "60/m",  # every anonymous API request, per client address
    "user": "600/m",  # every authenticated API request, per user
    "login_account": "10/15m",  # wrong passwords (API token, page and admin log-in), per account name
    "login_ip": "50/15m",  # wrong passwords, per client address (a right one is given back)
    "sign_up": "10/h",  # new accounts (API and page), per client address
    "friend_requests": "60/h",  # friend requests sent (API and page), per user
    "mutual_friends": "200/h",  # mutual-friend look-ups (API, and profile pages of others), per user
    "shares": "30/h",  # shares created, per user
}
RATE_LIMITS = {scope: env.str(f"RATE_LIMIT_{scope.upper()}", default=rate) for scope, rate in _RATE_DEFAULTS.items()}
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
# Proxies in front of the site that append the client's address to X-Forwarded-For. 0 (default): the
# client is the socket's peer (REMOTE_ADDR) and X-Forwarded-For is ignored, as any client can send it.
NUM_PROXIES = env.int("DJANGO_NUM_PROXIES", default=0)
RATELIMIT_USE_CACHE = "default"

# Sessions read from Redis (no database query per request), written through to the database, and read
# from the database when Redis is unreachable; see socialsite/sessions.py.
SESSION_ENGINE = "socialsite.sessions"
SESSION_CACHE_MAX_AGE = env.int("SESSION_CACHE_MAX_AGE", default=300)  # seconds a cached copy is trusted

# --- RabbitMQ + Dramatiq --------------------------------------------------------------------------
RABBITMQ_URL = env("RABBITMQ_URL", default="amqp://guest:guest@127.0.0.1:5672/%2F")
# Every connection to RabbitMQ gives up quickly, so a broker that refuses, hangs or blocks publishers (a
# resource alarm, `connection.blocked`) never holds a web thread: committed events then wait in the outbox
# and cold reads answer "computing" (issue 10). Seconds; pika's URL parameters, added to every URL in
# RABBITMQ_URL that does not set them itself. pika's defaults: 10 s, 15 s, no limit at all.
RABBITMQ_TIMEOUTS = {
    "socket_timeout": env.float("RABBITMQ_SOCKET_TIMEOUT", default=1.0),  # TCP connect
    "stack_timeout": env.float("RABBITMQ_STACK_TIMEOUT", default=3.0),  # TCP connect + AMQP handshake, in all
    # How long a connection may stay blocked by a resource alarm before pika closes it.
    "blocked_connection_timeout": env.float("RABBITMQ_BLOCKED_CONNECTION_TIMEOUT", default=5.0),
    "connection_attempts": 1,  # a caller that wants another attempt makes it itself
}
# A direct enqueue (socialsite.broker.RabbitmqBroker) starts no new attempt after this many seconds.
RABBITMQ_ENQUEUE_DEADLINE = env.float("RABBITMQ_ENQUEUE_DEADLINE", default=2.0)
# A thread's publishing connection idle this long is closed and opened afresh at its next use, before
# RabbitMQ closes it for missed heartbeats (socialsite.broker.RabbitmqBroker.channel). Seconds; keep it
# under the heartbeat RabbitMQ proposes (60 s by default).
RABBITMQ_IDLE_CLOSE = env.float("RABBITMQ_IDLE_CLOSE", default=30.0)


def _with_timeouts(url: str) -> str:
    parts = []
    for one in url.split(";"):
        base, _, query = one.partition("?")
        given = {pair.split("=", 1)[0] for pair in query.split("&") if pair}
        added = [f"{name}={value:g}" for name, value in RABBITMQ_TIMEOUTS.items() if name not in given]
        parts.append(f"{base}?{'&'.join(filter(None, [query, *added]))}")
    return ";".join(parts)


DRAMATIQ_BROKER = {
    # Dramatiq's RabbitmqBroker, whose direct enqueue is bounded in time (see socialsite.broker).
    "BROKER": "socialsite.broker.RabbitmqBroker",
    "OPTIONS": {
        "url": _with_timeouts(RABBITMQ_URL),
        # Publisher confirms: an enqueue returns only once RabbitMQ has the message (and, with the
        # mandatory flag dramatiq sets, raises if no queue took it).
        "confirm_delivery": True,
    },
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "socialsite.broker.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.CurrentMessage",
        # Before Retries: `after_*` hooks run in reverse, so it sees whether Retries gave up.
        "socialsite.taskstatus.TaskStatusMiddleware",
        "socialsite.broker.Retries",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
        "socialsite.broker.OutboxRelay",
    ],
}
DRAMATIQ_RESULT_BACKEND = {
    "BACKEND": "dramatiq.results.backends.redis.RedisBackend",
    # The same short timeouts as every other Redis client (redis-py reads them from the URL's query).
    "BACKEND_OPTIONS": {
        "url": REDIS_URL
        + ("&" if "?" in REDIS_URL else "?")
        + f"socket_connect_timeout={REDIS_SOCKET_CONNECT_TIMEOUT}&socket_timeout={REDIS_SOCKET_TIMEOUT}"
    },
    "MIDDLEWARE_OPTIONS": {"result_ttl": 24 * 3600 * 1000},
}
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
OUTBOX_RELAY_INTERVAL = env.float("OUTBOX_RELAY_INTERVAL", default=2.0)
OUTBOX_RELAY_GRACE = env.float("OUTBOX_RELAY_GRACE", default=3.0)  # seconds left to the after-commit publish

# --- Regular jobs (cron syntax): one place for every schedule -------------------------------------
# Job name = the Dramatiq actor's name; value = a cron expression (minute hour day month weekday, weekday
# 0/7 = Sunday; a sixth, leading field adds seconds; "off" disables the job). Each one can be overridden
# by the environment: SCHEDULE_<JOB NAME IN CAPITALS>, e.g. SCHEDULE_UPDATE_SITE_COUNTERS="*/5 * * * *".
# An invalid expression stops start-up (system check socialsite.E003, and `manage.py crontab`).


def _schedule(job: str, default: str) -> str:
    return env.str(f"SCHEDULE_{job.upper()}", default=default)


SOCIALSITE_SCHEDULES = {
    job: _schedule(job, default)
    for job, default in {
        # A safety net: every worker also relays pending outbox events every OUTBOX_RELAY_INTERVAL seconds.
        "relay_outbox": "* * * * *",
        "update_site_counters": "*/10 * * * *",
        "refresh_all_suggestions": "40 4 * * *",
        "check_graph_consistency": "25 * * * *",
        "prune_task_records": "17 3 * * *",
        "prune_read_notifications": "47 3 * * *",
    }.items()
}
# How late (seconds) a run may still fire after a stall of the scheduler; runs missed by more are dropped,
# and several missed runs of one job are coalesced into one, so a scheduler that comes back fires no burst.
SCHEDULER_MISFIRE_GRACE = env.int("SCHEDULER_MISFIRE_GRACE", default=30)
DRAMATIQ_CRONTAB = {
    "REDIS_URL": REDIS_URL,
    # One scheduler fires; another one started beside it waits for the lock (a standby, blocking forever)
    # and takes over at most LOCK_TIMEOUT seconds after the first one died.
    "LOCK_TIMEOUT": env.int("SCHEDULER_LOCK_TIMEOUT", default=10),
    "LOCK_REFRESH_INTERVAL": env.int("SCHEDULER_LOCK_REFRESH", default=5),
    "LOCK_BLOCKING_TIMEOUT": None,
}
# Site counters: one row per run of update_site_counters, kept this many days (the stats page's history).
SITE_COUNTERS_HISTORY_DAYS = env.int("SITE_COUNTERS_HISTORY_DAYS", default=90)

# /healthz: the public answer is the cached verdict; details need staff or this bearer token (empty: off).
HEALTHZ_TOKEN = env("HEALTHZ_TOKEN", default="")
HEALTHZ_CACHE_SECONDS = env.float("HEALTHZ_CACHE_SECONDS", default=5.0)

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON with a size limit and a depth error that is a 400, not a 500 (socialsite/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "socialsite.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "socialsite.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "socialsite.api.exception_handler",
    # JSON only: API answers (errors included) are JSON whatever the client accepts; the interactive
    # docs are /api/docs/ (DRF's browsable API would also need inline scripts, which the CSP refuses).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Counted atomically in Redis; rates are RATE_LIMITS above (socialsite/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "socialsite.throttles.AnonThrottle",
        "socialsite.throttles.UserThrottle",
        "socialsite.throttles.ScopedThrottle",
    ],
    "NUM_PROXIES": NUM_PROXIES,
}
# API tokens (django-rest-knox): `Authorization: Token <token>`; several per user, stored as SHA-512
# digests. API_TOKEN_TTL_HOURS > 0 makes new tokens expire that many hours after they are issued.
_TOKEN_TTL_HOURS = env.float("API_TOKEN_TTL_HOURS", default=0)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(hours=_TOKEN_TTL_HOURS) if _TOKEN_TTL_HOURS > 0 else None,
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Socialsite API",
    "DESCRIPTION": "Friends, mutual friends, suggestions, shares and notifications.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request and response shapes as separate components, so a request says what it requires (a
    # non-blank name has minLength 1) and never lists read-only fields.
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body is described as the serializer says (`PATCH me/` requires the setting it changes),
    # not as a copy with every field optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Every operation also documents the errors it can answer (socialsite/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "socialsite.schema.postprocess_error_responses",
    ],
}

# --- Security: secure by default whenever DEBUG is off --------------------------------------------
# Trust a forwarded-HTTPS header only when a TLS-terminating proxy is declared, e.g.
# DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https; otherwise any client could claim HTTPS.
if _proxy_ssl_header := env.list("DJANGO_SECURE_PROXY_SSL_HEADER", default=[]):
    SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No inline script or style anywhere (templates load static/js and static/css); frames refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features this site never uses, refused for it and anything it could embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# --- Notifications --------------------------------------------------------------------------------
# Read notifications older than this are deleted by the `prune_read_notifications` job; unread ones stay.
NOTIFICATIONS_RETENTION_DAYS = env.int("NOTIFICATIONS_RETENTION_DAYS", default=30)

# --- Plain HTTP on loopback: the demo (scripts/run.sh) -------------------------------------------------
# Production settings with DEBUG off, except that the site answers plain HTTP: no HTTPS redirect, no
# HSTS, cookies without the Secure flag (a browser would not send them back over http://). Refused unless
# every allowed host is a loopback name, so it cannot open a public site to cookie theft.
if env.bool("SOCIALSITE_LOOPBACK_HTTP", default=False):
    _loopback = {"localhost", "127.0.0.1", "[::1]", "::1"}
    if not set(ALLOWED_HOSTS) <= _loopback:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"SOCIALSITE_LOOPBACK_HTTP serves plain HTTP and is for loopback only; DJANGO_ALLOWED_HOSTS is "
            f"{ALLOWED_HOSTS!r}. Unset it and serve HTTPS behind a proxy instead."
        )
    SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
    SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD = 0, False, False

# --- Uploads ---------------------------------------------------------------------------------------
SHARE_MAX_UPLOAD_BYTES = env.int("SHARE_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Images above this many pixels are refused (decompression bombs: a small file, a huge bitmap).
SHARE_MAX_IMAGE_PIXELS = env.int("SHARE_MAX_IMAGE_PIXELS", default=40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The first handler counts file bytes while they stream in and stops the request at the share limit;
# it also refuses path-like or NUL-bearing file names that Django would otherwise silently strip.
FILE_UPLOAD_HANDLERS = [
    "friends.shares.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "pika": {"level": "WARNING"},
        "apscheduler": {"level": "WARNING"},
        # Results are kept in TaskRecord for every task; only actors that opt in (store_results=True) also
        # keep them in the Redis result backend, so "value discarded" is expected, not news.
        "dramatiq.results.middleware.Results": {"level": "ERROR"},
    },
}
