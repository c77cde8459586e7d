"""Every setting, read from the environment in this one place.

Defaults give the embedded run (SQLite file, django-q2's ORM broker, console
delivery). Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and the Discord
variables; docs/configuration.md documents each one, `.env.example` is the example file.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Fill unset variables from a `.env` file, so `make run` picks it up."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_dotenv(Path(os.environ.get("ENV_FILE") or BASE_DIR / ".env"))


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        # One line, no traceback: a known key would let anyone forge sessions.
        sys.exit(
            "SECRET_KEY is not set: set it to a long random string in the environment or .env "
            "(`make run` writes one), or set DEBUG=true for a throwaway local key."
        )
    # DEBUG only: a random key per process; sessions end when the process does.
    SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # Our apps come first: scraping's qcluster replaces django-q2's (see its docstring).
    "lib",
    "users",
    "listings",
    "filters",
    "scraping",
    "alerts",
    "bot",
    "ops",
    "allauth",
    "allauth.account",
    # "Sign in with Discord" (users/discord_signin/ points allauth's provider at DISCORD_API_BASE).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.discord",
    "rest_framework",
    # The REST API's OpenAPI schema and docs; the sidecar serves Swagger UI without a CDN.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    # The Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp",
    # Names the running django-q2 task on a worker's log lines (lib/logs.py).
    "lib.logs.LogsConfig",
]

MIDDLEWARE = [
    # First: a request id on every log line and response, and one log line per request.
    "config.request_id.RequestIdMiddleware",
    # Content-Security-Policy (django-csp's, plus Discord in form-action) and X-Frame-Options
    # outside everything that may answer on its own (static files, a refused Host's 400),
    # so that every response carries them.
    "config.csp.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # With DATABASE_REPLICA_URL: which requests read the replica; before the sessions, so
    # their writes count as the request's (config/replica.py). Without, it steps aside.
    "config.replica.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# Database: a SQLite file for the embedded run, PostgreSQL (psycopg 3) in production.
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the busy timeout
    # makes concurrent writers wait instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": envfloat("SQLITE_TIMEOUT_SECONDS", 20.0),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so tests can run commands as separate processes on it; named after
    # the database file, so test runs on different DATABASE_URLs never share one.
    DATABASES["default"]["TEST"] = {"NAME": f"{DATABASES['default']['NAME']}-test"}
# A read replica (optional, a PostgreSQL standby of DATABASE_URL's): read-only requests of
# the pages, the API and the staff dashboard read it; the rest reads and writes the primary
# (lib/db_router.py). A client that wrote reads the primary for REPLICA_STICKY_SECONDS.
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL")
REPLICA_STICKY_SECONDS = envfloat("REPLICA_STICKY_SECONDS", 10.0)
if REPLICA_STICKY_SECONDS < 0:
    raise ImproperlyConfigured(
        f"REPLICA_STICKY_SECONDS must be 0 or more, not {REPLICA_STICKY_SECONDS:g}"
    )
DATABASE_ROUTERS: list[str] = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    if {DATABASES[alias]["ENGINE"] for alias in ("default", "replica")} != {
        "django.db.backends.postgresql"
    }:
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL needs PostgreSQL, for it and for DATABASE_URL (a standby "
            "of that primary); a SQLite file has no replica: unset DATABASE_REPLICA_URL"
        )
    # A replica that does not answer is skipped for the primary, after at most this wait.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    # A standby is read-only: a test run reads the primary's test database through it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["lib.db_router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SITE_ID = 1
LOGIN_REDIRECT_URL = "/"
# The pages send visitors who are not signed in to "Sign in with Discord".
LOGIN_URL = "/accounts/discord/login/"
# Password sign-up is closed (users/adapters.py): accounts come from Discord, staff use /admin/.
ACCOUNT_ADAPTER = "users.adapters.AccountAdapter"
# Mail (allauth's password resets): printed on the console unless a backend is set.
EMAIL_BACKEND = envstr("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The pages' stylesheet and the filter preview's script (static/ at the project root).
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# django-q2: the ORM broker by default; Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "market-alerts",
    "workers": envint("Q_WORKERS", 2),
    "timeout": 300,
    "retry": 360,
    "catch_up": False,
    "orm": "default",
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = REDIS_URL

# Discord delivery. Without a bot token alerts are printed by the console transport.
DISCORD_BOT_TOKEN = envstr("DISCORD_BOT_TOKEN")
DISCORD_APPLICATION_ID = envstr("DISCORD_APPLICATION_ID")
DISCORD_API_BASE = envstr("DISCORD_API_BASE", "https://discord.com/api/v10").rstrip("/")
# Where the web dashboard lives, for links the bot sends.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Discord allows 50 requests/s per token; pacing a little under it absorbs network jitter.
DISCORD_REQUESTS_PER_SECOND = envfloat("DISCORD_REQUESTS_PER_SECOND", 47.0)
# Senders run for the token with REDIS_URL: while Redis is down each paces itself at its share.
DISCORD_SENDER_PROCESSES = envint("DISCORD_SENDER_PROCESSES", 2)
DISCORD_DM_OPENS_PER_SECOND = envfloat("DISCORD_DM_OPENS_PER_SECOND", 2.0)
DISCORD_DM_OPEN_BACKOFF_SECONDS = envfloat("DISCORD_DM_OPEN_BACKOFF_SECONDS", 60.0)
DISCORD_MAX_IN_FLIGHT = envint("DISCORD_MAX_IN_FLIGHT", 10)
DISCORD_REQUEST_TIMEOUT = envfloat("DISCORD_REQUEST_TIMEOUT", 15.0)
# Refused requests (401/403/429) a sender allows itself per 10 minutes; Discord bans at 10,000.
DISCORD_INVALID_REQUESTS_LIMIT = envint("DISCORD_INVALID_REQUESTS_LIMIT", 1000)
# The bot's gateway shards (runbot). 0: discord.py asks Discord how many and runs them all.
# Else the total over every runbot process, each running DISCORD_SHARD_IDS ("0,1"; every
# shard when empty); runbot checks both (bot.client.sharding).
DISCORD_SHARD_COUNT = envint("DISCORD_SHARD_COUNT", 0)
DISCORD_SHARD_IDS = envstr("DISCORD_SHARD_IDS")

# "Sign in with Discord", the only sign-in for users (staff also have /admin/'s own login).
# The OAuth2 app is these settings, not a SocialApp row; its URLs follow DISCORD_API_BASE.
DISCORD_CLIENT_ID = envstr("DISCORD_CLIENT_ID") or DISCORD_APPLICATION_ID
DISCORD_CLIENT_SECRET = envstr("DISCORD_CLIENT_SECRET")
SOCIALACCOUNT_PROVIDERS = {
    "discord": {
        "APPS": [{"client_id": DISCORD_CLIENT_ID, "secret": DISCORD_CLIENT_SECRET}],
        "SCOPE": ["identify"],
        "provider_class": "users.discord_signin.provider.DiscordProvider",
    }
}
SOCIALACCOUNT_ADAPTER = "users.adapters.SocialAccountAdapter"
SOCIALACCOUNT_ONLY = True  # no password login or signup pages for users
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_REQUIRED = False
SOCIALACCOUNT_AUTO_SIGNUP = True
# Starting a sign-in is limited per IP, counted in the default cache (Redis, when set, is
# shared by every web process); each start allows one token exchange.
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip"}

# The admin lives under ADMIN_URL (an unguessable prefix keeps bots off its login). Its
# password login allows ADMIN_LOGIN_ATTEMPTS failed sign-ins per client address in
# ADMIN_LOGIN_WINDOW_SECONDS, and slows a username's failures past it (ops/admin_login.py),
# counted in the default
# cache, so only with REDIS_URL set do all web processes share the count.
ADMIN_URL = envstr("ADMIN_URL", "admin/")
if not (
    ADMIN_URL.endswith("/")
    and not ADMIN_URL.startswith("/")
    and "//" not in ADMIN_URL
    and all(char.isascii() and (char.isalnum() or char in "-._~/") for char in ADMIN_URL)
):
    raise ImproperlyConfigured(
        "ADMIN_URL must be a path of letters, digits, '-', '.', '_' or '~' that ends with '/' "
        f"and does not start with one, like staff-7f3a9c/, not {ADMIN_URL!r}"
    )
ADMIN_LOGIN_ATTEMPTS = envint("ADMIN_LOGIN_ATTEMPTS", 5)
ADMIN_LOGIN_WINDOW_SECONDS = envint("ADMIN_LOGIN_WINDOW_SECONDS", 900)
if ADMIN_LOGIN_ATTEMPTS < 1 or ADMIN_LOGIN_WINDOW_SECONDS < 1:
    raise ImproperlyConfigured(
        "ADMIN_LOGIN_ATTEMPTS and ADMIN_LOGIN_WINDOW_SECONDS must be at least 1, not "
        f"{ADMIN_LOGIN_ATTEMPTS} and {ADMIN_LOGIN_WINDOW_SECONDS}"
    )
# The client's address, for these limits and allauth's: REMOTE_ADDR, or behind N proxies of
# ours (TRUSTED_PROXY_COUNT=1 for one nginx) the Nth address from the right of
# X-Forwarded-For. Left at 0 behind a proxy, every client shares the proxy's address.
ALLAUTH_TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

# Security. The https-only protections follow SITE_URL's scheme: an `https://`
# site gets the SSL redirect, secure cookies and HSTS; an `http://` one (local runs, tests)
# keeps working over plain http even with DEBUG false.
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.netloc:
    raise ImproperlyConfigured(
        f"SITE_URL must be an http:// or https:// address like https://alerts.example.com, "
        f"not {SITE_URL!r}"
    )
SITE_IS_HTTPS = _site.scheme == "https"
SECURE_SSL_REDIRECT = SITE_IS_HTTPS
# Health probes (the container's, a load balancer's) and Prometheus ask over plain http
# on the inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^health$", r"^metrics$"]
SESSION_COOKIE_SECURE = SITE_IS_HTTPS
CSRF_COOKIE_SECURE = SITE_IS_HTTPS
SESSION_COOKIE_HTTPONLY = True
HSTS_SECONDS = envint("HSTS_SECONDS", 31536000 if SITE_IS_HTTPS else 0)
# Browsers ignore HSTS over http, and a local http site must stay reachable.
SECURE_HSTS_SECONDS = HSTS_SECONDS if SITE_IS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SITE_IS_HTTPS and envbool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = SITE_IS_HTTPS and envbool("HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    # Preload lists are hard to leave (months), so joining one is the operator's choice
    # (HSTS_PRELOAD=true), not a default; only that one --deploy warning is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" trusts that header's value
# (set it only when the proxy always sets or strips the header).
_proxy_header = envlist("SECURE_PROXY_SSL_HEADER", "")
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER must be a header and its value, like "
        f"HTTP_X_FORWARDED_PROTO,https, not {envstr('SECURE_PROXY_SSL_HEADER')!r}"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
# The site's own origin, so form posts through a proxy pass the CSRF Origin check.
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}", *envlist("CSRF_TRUSTED_ORIGINS", "")]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# django-csp 4: no inline script or style on our pages (the preview script is a static
# file); /api/v1/docs/ widens style-src for Swagger UI (config/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Listing images come from the marketplaces' CDNs, over https.
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        # config/csp.py adds DISCORD_API_BASE's origin: sign-in posts here, then redirects there.
        "form-action": ["'self'"],
    }
}

# The REST API under /api/v1/ (config/api_urls.py): JSON only, the browser's session (with
# CSRF) or a personal token (`Authorization: Bearer …`), service errors as
# {"field": ["message"]} (config/api.py), per-user throttling at API_THROTTLE_RATE.
API_THROTTLE_RATE = envstr("API_THROTTLE_RATE", "120/min")  # requests per user; keep >= 60/min
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a request without credentials gets 401 with `WWW-Authenticate: Bearer`.
        "users.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "DEFAULT_THROTTLE_CLASSES": ["lib.throttle.PerUserThrottle"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Anonymous requests are throttled by address: X-Forwarded-For is believed only as far
    # as TRUSTED_PROXY_COUNT proxies of ours (0: the socket's address, whatever it says).
    "NUM_PROXIES": ALLAUTH_TRUSTED_PROXY_COUNT,
    # drf-spectacular's schema with our error answers (400, 401, 403, 404, 415, 429) documented.
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.ApiAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Market alerts API",
    "DESCRIPTION": "Your filters, alerts and account. Authenticate with a personal token from "
    "POST /api/v1/tokens/ sent as `Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# The outbox sender.
ALERTS_BATCH_SIZE = envint("ALERTS_BATCH_SIZE", 100)
# A claim's lease, renewed by the live sender every ALERTS_HEARTBEAT_SECONDS: a dead
# sender's alerts are taken over within about one lease.
ALERTS_LEASE_SECONDS = envint("ALERTS_LEASE_SECONDS", 30)
ALERTS_HEARTBEAT_SECONDS = envfloat("ALERTS_HEARTBEAT_SECONDS", 10.0)
# Past this age an unanswered post is looked for in its channel before it is posted again
# (Discord recognises a nonce for "a few minutes").
ALERTS_NONCE_WINDOW_SECONDS = envfloat("ALERTS_NONCE_WINDOW_SECONDS", 120.0)
ALERTS_MAX_ATTEMPTS = envint("ALERTS_MAX_ATTEMPTS", 8)
ALERTS_IDLE_SECONDS = envfloat("ALERTS_IDLE_SECONDS", 1.0)
ALERTS_DAILY_DIGEST_HOUR = envint("ALERTS_DAILY_DIGEST_HOUR", 9)  # in TIME_ZONE (UTC)

# Marketplace scanning (scraping/). Sources to scan besides the demo, comma-separated:
# mercari, yahoo_auctions, paypay_fleamarket, rakuma.
SCRAPING_SOURCES = envlist("SCRAPING_SOURCES", "")
# With "jsonfeed" among the sources: URLs or files of listing JSON Lines to read each cycle.
JSONFEED_URLS = envlist("JSONFEED_URLS", "")
SCRAPING_INTERVAL_SECONDS = envint("SCRAPING_INTERVAL_SECONDS", 60)
# Per-source intervals overriding it, e.g. "yahoo_auctions=120,rakuma=90".
SCRAPING_INTERVALS = {
    code: int(seconds)
    for code, seconds in (item.split("=", 1) for item in envlist("SCRAPING_INTERVALS", ""))
}
SCRAPING_REQUESTS_PER_MINUTE = envint("SCRAPING_REQUESTS_PER_MINUTE", 30)  # per source
SCRAPING_CONCURRENCY = envint("SCRAPING_CONCURRENCY", 2)  # requests in flight per source
SCRAPING_TIMEOUT_SECONDS = envfloat("SCRAPING_TIMEOUT_SECONDS", 15.0)
SCRAPING_RETRIES = envint("SCRAPING_RETRIES", 3)
SCRAPING_PROXY = envstr("SCRAPING_PROXY")  # e.g. http://user:pass@proxy:3128 (Yahoo from the EEA)
# A market that would need more searches than this reads its newest-first feed instead,
# SCRAPING_FEED_POLLS times a cycle, paging back to the listings already seen (0: never).
# Each market's poller (in qcluster) spreads a cycle's reads evenly over its interval:
# 10 polls a 60 s cycle read a feed market every 6 s, 10 requests a minute per market.
SCRAPING_FEED_THRESHOLD = envint("SCRAPING_FEED_THRESHOLD", 20)
SCRAPING_FEED_POLLS = envint("SCRAPING_FEED_POLLS", 10)
SCRAPING_FEED_MAX_PAGES = envint("SCRAPING_FEED_MAX_PAGES", 5)
SCRAPING_BREAKER_FAILURES = envint("SCRAPING_BREAKER_FAILURES", 3)  # failed scans in a row
SCRAPING_BREAKER_PAUSE_SECONDS = envint("SCRAPING_BREAKER_PAUSE_SECONDS", 600)
# One poller per market across all hosts: its lease, renewed every third of it; a standby
# qcluster takes a dead holder's market over within about one lease.
SCRAPING_LEASE_SECONDS = envint("SCRAPING_LEASE_SECONDS", 30)
# Retention, run daily: scan records, listings no alert refers to, delivered alerts.
RETENTION_SCANS_DAYS = envint("RETENTION_SCANS_DAYS", 30)
RETENTION_LISTINGS_DAYS = envint("RETENTION_LISTINGS_DAYS", 30)
RETENTION_ALERTS_DAYS = envint("RETENTION_ALERTS_DAYS", 180)
# Where each marketplace is reached; tests point these at a local server ("code=url,…").
MARKETPLACE_BASE_URLS = {
    "mercari": "https://api.mercari.jp",
    "yahoo_auctions": "https://auctions.yahoo.co.jp",
    "paypay_fleamarket": "https://paypayfleamarket.yahoo.co.jp",
    "rakuma": "https://fril.jp",
    **dict(item.split("=", 1) for item in envlist("MARKETPLACE_BASE_URLS", "")),
}

# Metrics (lib/metrics.py): each process counts into a file here and /metrics sums the host's.
# Keep it on local disk, one per host, emptied when the host boots (e.g. under /run).
METRICS_DIR = envstr("METRICS_DIR", str(BASE_DIR / ".metrics"))
# Here, before any app imports prometheus_client (django-q2 does): the client picks its
# multiprocess mode from this variable when it is first imported.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", METRICS_DIR)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# /metrics wants `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers loopback only.
METRICS_TOKEN = envstr("METRICS_TOKEN")
# /health answers 503 once the oldest due alert has waited longer than this (seconds).
HEALTH_MAX_OUTBOX_AGE = envint("HEALTH_MAX_OUTBOX_AGE", 600)

# Filters and matching.
FILTER_QUOTA_DEFAULT = envint("FILTER_QUOTA_DEFAULT", 25)

# Logs (lib/logs.py): one JSON object a line on stderr ("json"), or "plain" text for a
# terminal; both redact secrets (tokens, keys, passwords in URLs) on the root handler.
LOG_FORMAT = envstr("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "lib.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "filters": {
        # A 4xx logs one line, the request's own; Django would add its own and a traceback.
        "client_errors_on_one_line": {"()": "config.logfilters.ClientErrorsOnOneLine"},
        # request_id, command and task on each line (lib/logs.py).
        "log_context": {"()": "lib.logs.AddLogContext"},
        "redact_secrets": {"()": "lib.logs.RedactSecrets"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            # Redaction last: it formats the traceback the filters before it may drop.
            "filters": ["client_errors_on_one_line", "log_context", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": "WARNING"},
        # runserver's line per request repeats web.request's (config/request_id.py).
        "django.server": {"level": "ERROR"},
        "django_q": {"level": "WARNING"},
        # django-q2's own logger: a line per process started and stopped; the qcluster
        # command says when the cluster runs and stops, and failures are warnings.
        "django-q": {"level": "WARNING"},
    },
}
# Django's error reports (the DEBUG 500 page included) hide URL-ish settings and redact
# secrets as log lines do (config/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.SafeErrorReportFilter"
DEFAULT_EXCEPTION_REPORTER = "config.error_reports.SafeErrorReporter"

# Sentry (optional): errors of every process are reported when SENTRY_DSN is set, without
# personal data and with secrets redacted (lib.logs.init_sentry); unset, nothing is sent.
SENTRY_DSN = envstr("SENTRY_DSN")
SENTRY_ENVIRONMENT = envstr("SENTRY_ENVIRONMENT")
SENTRY_TRACES_SAMPLE_RATE = envfloat("SENTRY_TRACES_SAMPLE_RATE", 0.0)
if SENTRY_DSN:
    from lib.logs import init_sentry

    init_sentry(SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_TRACES_SAMPLE_RATE)
