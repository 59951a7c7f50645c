"""Settings read from the environment (django-environ), so production differs only by variables."""

from pathlib import Path

import environ

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
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_dramatiq",
    "socialsite",
    "friends",
    "notifications",
    # After socialsite: its `crontab` command extends dramatiq-crontab's and must win the name
    # (Django takes a management command from the first app in this list that has it).
    "dramatiq_crontab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
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
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))

# --- Redis: derived graph copy, computed results, Django cache -----------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- RabbitMQ + Dramatiq --------------------------------------------------------------------------
RABBITMQ_URL = env("RABBITMQ_URL", default="amqp://guest:guest@127.0.0.1:5672/%2F")
DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
    "OPTIONS": {
        "url": RABBITMQ_URL,
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
    "BACKEND_OPTIONS": {"url": REDIS_URL},
    "MIDDLEWARE_OPTIONS": {"result_ttl": 24 * 3600 * 1000},
}
DRAMATIQ_AUTODISCOVER_MODULES = ["tasks"]
OUTBOX_RELAY_INTERVAL = env.float("OUTBOX_RELAY_INTERVAL", default=2.0)
OUTBOX_RELAY_GRACE = env.float("OUTBOX_RELAY_GRACE", default=3.0)  # seconds left to the after-commit publish

# --- Regular jobs (cron syntax): one place for every schedule -------------------------------------
# Job name = the Dramatiq actor's name; value = a cron expression (minute hour day month weekday, weekday
# 0/7 = Sunday; a sixth, leading field adds seconds; "off" disables the job). Each one can be overridden
# by the environment: SCHEDULE_<JOB NAME IN CAPITALS>, e.g. SCHEDULE_UPDATE_SITE_COUNTERS="*/5 * * * *".
# An invalid expression stops start-up (system check socialsite.E002, and `manage.py crontab`).


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
        # INTEGRATOR: add "prune_read_notifications": "47 3 * * *" here once notifications.tasks has it
        # (h8n's actor on the maintenance queue; its schedule then follows SCHEDULE_PRUNE_READ_NOTIFICATIONS).
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

# --- REST framework ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "socialsite.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Socialsite API",
    "DESCRIPTION": "Friends, mutual friends, suggestions, shares and notifications.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security: secure by default whenever DEBUG is off --------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Uploads ---------------------------------------------------------------------------------------
SHARE_MAX_UPLOAD_BYTES = env.int("SHARE_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

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
