"""Intersection settings: environment variables only, safe defaults for `make run`.

Every variable is listed in docs/operations.md.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-in-production"  # noqa: S105
PRODUCTION = env_bool("PRODUCTION")
DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40):
    raise ImproperlyConfigured(
        "PRODUCTION=1 needs a SECRET_KEY environment variable of at least 40 random characters."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "intersection.core.third_party_labels.BackgroundTasksConfig",
    "axes",
    "ninja",
    "intersection.core",
    "intersection.accounts",
    "intersection.network",
    "intersection.mediawatch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses a too large body before anything reads it, in the reader's language.
    "intersection.core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Answers to a signed-in user (session or API token) are never cached.
    "intersection.core.middleware.PrivateCacheMiddleware",
    "intersection.core.middleware.UserLanguageMiddleware",
    # After the language is known, so that its 400 page is in the reader's language.
    "intersection.core.middleware.RejectNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "intersection.urls"
WSGI_APPLICATION = "intersection.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "intersection" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "intersection.network.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'intersection.sqlite3'}")
if "DATABASE_URL" not in os.environ:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# A persistent connection the server closed meanwhile (failover, restart, a pooler) is found
# by a ping before its first use in a request, and replaced, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler write at the same time: WAL journal and a busy timeout.
    DATABASES["default"]["CONN_MAX_AGE"] = 600  # persistent: the PRAGMAs run once per thread
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tasks ----------------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Workers (`manage.py worker`) write a heartbeat this often; a worker silent for
# TASK_WORKER_LOST_SECONDS is lost and its running tasks are recovered (core.workers).
TASK_WORKER_HEARTBEAT_SECONDS = float(os.environ.get("TASK_WORKER_HEARTBEAT_SECONDS", "10"))
TASK_WORKER_LOST_SECONDS = float(os.environ.get("TASK_WORKER_LOST_SECONDS", "120"))
# Tasks that may run again after a worker died under them: polling stores each item once,
# reminders are claimed one by one before they are sent, pruning deletes what is old.
# A password-reset mail is not repeated: its recipient asks again.
TASKS_SAFE_TO_REPEAT = [
    "intersection.mediawatch.tasks.poll_due_sources",
    "intersection.mediawatch.tasks.poll_sources",
    "intersection.network.tasks.send_agreement_reminders",
    "intersection.network.tasks.send_mandate_reminders",
    "intersection.core.tasks.retention_prune",
]
# The operations page and /health/: ready tasks waiting longer than this make the product
# "degraded" (the workers do not keep up).
TASK_QUEUE_LATE_SECONDS = float(os.environ.get("TASK_QUEUE_LATE_SECONDS", "300"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "intersection",
    }
}

# --- Accounts and sessions ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "intersection.network.policy.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
# Argon2id with OWASP's first configuration (t=2, m=19 MiB, p=1):
# docs/decisions/0011-password-hasher.md. The others only verify older hashes; Django
# re-hashes those with Argon2id at the user's next sign-in.
PASSWORD_HASHERS = [
    "intersection.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Login throttling (django-axes): lock an (account, address) pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "intersection.core.http.client_address"

# Reverse proxies: with PROXY_COUNT > 0, a request whose connecting address is one of
# TRUSTED_PROXIES is from the PROXY_COUNT-th address from the right of X-Forwarded-For
# (intersection.core.http.client_address). Anyone else's X-Forwarded-For is ignored.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as error:
        message = f"TRUSTED_PROXIES: {_proxy!r} is not an address or a network."
        raise ImproperlyConfigured(message) from error

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "intersection" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Brussels")
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "intersection" / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Requests announcing a larger body are refused (413) before it is read: the largest upload
# (a signed agreement, 20 MB: network/validators.py) plus 1 MB for the rest of the form.
REQUEST_BODY_MAX_BYTES = 21 * 1024 * 1024

# --- Email ---------------------------------------------------------------------------------
# In production, or with EMAIL_HOST set, mail goes out over SMTP (default: a local MTA on
# localhost:25). Otherwise (make run) messages are written as files under var/sent-emails/.
if PRODUCTION or os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS"),
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "sent-emails")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Intersection <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Platform -------------------------------------------------------------------------------
# Agreements and mandates: how many days before the end users are warned.
AGREEMENT_EXPIRY_WARNING_DAYS = int(os.environ.get("AGREEMENT_EXPIRY_WARNING_DAYS", "60"))
# The public directory's results are cached this many seconds (0: off). Edits show up after it.
DIRECTORY_CACHE_SECONDS = int(os.environ.get("DIRECTORY_CACHE_SECONDS", "30"))
MANDATE_REMINDER_DAYS = int(os.environ.get("MANDATE_REMINDER_DAYS", "60"))
# Privacy by design: the audit log (including refused accesses) is kept this many days.
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "400"))
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "intersection-demo")  # noqa: S105

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- Media watch ------------------------------------------------------------------------------
MEDIAWATCH_USER_AGENT = os.environ.get(
    "MEDIAWATCH_USER_AGENT",
    f"Intersection-MediaWatch/1.0 (community-policing news watch; +{SITE_URL}/accessibility/)",
)
# Addresses the fetcher may reach although they are not public: none in production; the
# offline demo and the tests serve their feeds from 127.0.0.1.
MEDIAWATCH_ALLOWED_ADDRESSES = env_list(
    "MEDIAWATCH_ALLOWED_ADDRESSES", "" if PRODUCTION else "127.0.0.1"
)
# Ports the fetcher may connect to on public addresses (web ports); an address listed above
# may be reached on any port.
MEDIAWATCH_ALLOWED_PORTS = [
    int(port) for port in env_list("MEDIAWATCH_ALLOWED_PORTS", "80,443,8080,8443")
]
MEDIAWATCH_MAX_FAILURES = int(os.environ.get("MEDIAWATCH_MAX_FAILURES", "10"))
# Politeness: at least this many seconds between two requests to one host.
MEDIAWATCH_HOST_SPACING_SECONDS = float(os.environ.get("MEDIAWATCH_HOST_SPACING_SECONDS", "2"))
# Hosts fetched without spacing: none in production; the offline demo's and the tests' own
# address otherwise, so they stay fast.
MEDIAWATCH_UNSPACED_HOSTS = env_list(
    "MEDIAWATCH_UNSPACED_HOSTS", "" if PRODUCTION else ",".join(MEDIAWATCH_ALLOWED_ADDRESSES)
)
# On PostgreSQL, what a site's robots.txt said is shared by every worker for this long.
MEDIAWATCH_ROBOTS_CACHE_SECONDS = float(
    os.environ.get("MEDIAWATCH_ROBOTS_CACHE_SECONDS", str(24 * 3600))
)

# Periodic jobs run by `manage.py scheduler`: (name, task, every N seconds).
SCHEDULE = [
    ("agreement-reminders", "intersection.network.tasks.send_agreement_reminders", 24 * 3600),
    ("mandate-reminders", "intersection.network.tasks.send_mandate_reminders", 24 * 3600),
    ("retention", "intersection.core.tasks.retention_prune", 24 * 3600),
    ("mediawatch-poll", "intersection.mediawatch.tasks.poll_due_sources", 60),
]
