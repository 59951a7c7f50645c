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
    "dramatiq_crontab",
    "socialsite",
    "friends",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the application server (compressed, hashed names, far-future caching).
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # `collectstatic` writes hashed, gzip-compressed copies; WhiteNoise serves them with far-future caching.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))

# --- Redis: derived graph copy, computed results, Django cache -----------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Fail fast when Redis is unreachable: sessions then fall back to the database (socialsite.sessions).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 2},
    }
}
# Sessions read from Redis (no database query per request), written through to the database, and read
# from the database when Redis is unreachable; see socialsite/sessions.py.
SESSION_ENGINE = "socialsite.sessions"
SESSION_CACHE_MAX_AGE = env.int("SESSION_CACHE_MAX_AGE", default=300)  # seconds a cached copy is trusted

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
DRAMATIQ_CRONTAB = {"REDIS_URL": REDIS_URL}

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
