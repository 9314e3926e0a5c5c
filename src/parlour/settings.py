"""Parlour's one settings file. Everything that differs between machines comes from the
environment (``PARLOUR_*``); the defaults run on one machine with SQLite."""

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from parlour.rooms import ice as _ice

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PARLOUR_DATA_DIR", Path.cwd() / "data")).resolve()

DEBUG = os.environ.get("PARLOUR_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("PARLOUR_SECRET_KEY", "")
ALLOWED_HOSTS = [h for h in os.environ.get("PARLOUR_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("PARLOUR_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "parlour.core",
    "parlour.accounts",
    "parlour.catalog",
    "parlour.availability",
    "parlour.credits",
    "parlour.meetings",
    "parlour.notifications",
    "parlour.conversations",
    "parlour.webhooks",
    "parlour.calendars",
    "parlour.rooms",
    "parlour.web",
    "huey.contrib.djhuey",
    "channels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "parlour.web.middleware.PersonalSettingsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parlour.urls"
ASGI_APPLICATION = "parlour.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parlour.web.navigation.navigation",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """``postgres://user:pass@host:port/name`` or ``sqlite:///path`` to a Django DATABASES entry."""
    parts = urlparse(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": str(parts.port or ""),
            # Served over ASGI, where a request's connection is not reused safely across
            # threads: one connection per request (Django's advice); pool with PgBouncer.
            "CONN_MAX_AGE": 0,
        }
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    raise ValueError(f"PARLOUR_DATABASE_URL: unsupported scheme {parts.scheme!r}")


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # One writer at a time, taken at BEGIN: a transaction that reads then writes can
            # never be overtaken by another writer between its read and its write.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


DATABASES = {
    "default": database_from_url(os.environ["PARLOUR_DATABASE_URL"])
    if os.environ.get("PARLOUR_DATABASE_URL")
    else sqlite_database(DATA_DIR / "parlour.sqlite3")
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("de", "Deutsch"), ("cs", "Čeština"), ("sk", "Slovenčina")]
TIME_ZONE = "UTC"
USE_I18N = True
# D4: the domain's refusals and labels (statuses, reasons, outcomes) in one catalogue; the
# pages', the room's and the mails' own words are in their apps' locale/ folders.
LOCALE_PATHS = [BASE_DIR / "locale"]
# English times on the 24-hour clock like every other language and the mails (formats/en).
FORMAT_MODULE_PATH = ["parlour.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"

EMAIL_BACKEND = os.environ.get("PARLOUR_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("PARLOUR_FROM_EMAIL", "Parlour <parlour@localhost>")

# --- Background work and mail -----------------------------------------------------------
# ``parlour worker`` (started by ``parlour run``) runs the tasks of ``parlour.tasks``. Their
# queue is a SQLite file in the data folder, for one machine; with PARLOUR_REDIS_URL
# (redis://host:6379/0) it is Redis, and workers on many machines share it.
REDIS_URL = os.environ.get("PARLOUR_REDIS_URL", "")
HUEY = {
    "huey_class": "huey.RedisHuey" if REDIS_URL else "huey.SqliteHuey",
    "name": "parlour",
    "immediate": False,
    "results": False,
    "utc": True,
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "tasks.sqlite3")},
    # Threads: the work waits on the database and the mail server. A stop (Ctrl-C, SIGTERM)
    # lets running tasks finish for up to a minute.
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True, "max_delay": 2.0, "shutdown_timeout": 60},
}

# --- Realtime: the built-in room's signaling (Django Channels) ----------------------------
# One web process relays in memory; several (behind a load balancer, on one machine or many)
# share PARLOUR_REDIS_URL, so that the two sides of a call may reach different processes.
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}

# The cache holds short-lived counters, such as failed guest-key attempts (B5): in the
# process by default; in Redis when several web processes must share them.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Video rooms (V1–V5; docs/rooms.md) ---------------------------------------------------
# ICE servers the built-in room's browsers use to find a way to each other: a JSON list of
# addresses ("stun:stun.example.org:3478") or RTCIceServer objects. None by default: two
# browsers on one network need none; across the internet set a STUN server, and for people
# behind strict firewalls a TURN server (coturn), whose time-limited passwords Parlour makes
# from PARLOUR_TURN_SECRET (coturn's static-auth-secret).
PARLOUR_ICE_SERVERS = _ice.parse_ice_servers(os.environ.get("PARLOUR_ICE_SERVERS", ""))
PARLOUR_TURN_URLS, PARLOUR_TURN_SECRET, PARLOUR_TURN_TTL = _ice.parse_turn(
    os.environ.get("PARLOUR_TURN_URLS", ""),
    os.environ.get("PARLOUR_TURN_SECRET", ""),
    os.environ.get("PARLOUR_TURN_TTL"),
)
# B5: failed guest-key attempts allowed per address and quarter of an hour.
PARLOUR_GUEST_KEY_ATTEMPTS = int(os.environ.get("PARLOUR_GUEST_KEY_ATTEMPTS", "10"))
# X2: messages a guest may write per hour (from all of their links), and a signed-in person.
PARLOUR_GUEST_MESSAGES_PER_HOUR = int(os.environ.get("PARLOUR_GUEST_MESSAGES_PER_HOUR", "30"))
PARLOUR_MESSAGES_PER_HOUR = int(os.environ.get("PARLOUR_MESSAGES_PER_HOUR", "120"))
# How many proxies of one's own (load balancer, TLS terminator) stand before Parlour, each
# adding to X-Forwarded-For: the address people come from is read there, not from the socket.
PARLOUR_PROXY_COUNT = int(os.environ.get("PARLOUR_PROXY_COUNT", "0"))
# I3, K4: webhooks and external calendars may call addresses inside a private network (or
# this machine) only with this set: for an installation on premises (core.destinations).
PARLOUR_ALLOW_PRIVATE_DESTINATIONS = os.environ.get("PARLOUR_ALLOW_PRIVATE_DESTINATIONS", "0") == "1"
# Webhooks go straight to the checked addresses, never through the environment's HTTPS_PROXY;
# an installation that must use an egress proxy names it here (it must then refuse private
# addresses itself): http://[user:password@]host:port
PARLOUR_OUTGOING_PROXY = os.environ.get("PARLOUR_OUTGOING_PROXY", "")

# Where people open Parlour: links in mails and notifications start with it.
PARLOUR_BASE_URL = os.environ.get("PARLOUR_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Mail: set PARLOUR_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the server.
EMAIL_HOST = os.environ.get("PARLOUR_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("PARLOUR_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("PARLOUR_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PARLOUR_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("PARLOUR_EMAIL_STARTTLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("PARLOUR_EMAIL_SSL", "0") == "1"
# A mail server that stops answering must not hold a worker (and its claim) for long.
EMAIL_TIMEOUT = int(os.environ.get("PARLOUR_EMAIL_TIMEOUT", "30"))

SESSION_COOKIE_HTTPONLY = True
LOGIN_URL = "/signin/"
LOGIN_REDIRECT_URL = "/meetings/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PARLOUR_LOG_LEVEL", "INFO")},
}


def _secret_key() -> str:
    """A key from the environment, or one made once and kept in the data folder."""
    if SECRET_KEY:
        return SECRET_KEY
    key_file = DATA_DIR / "secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        from django.core.management.utils import get_random_secret_key

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = get_random_secret_key()
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key


SECRET_KEY = _secret_key()
