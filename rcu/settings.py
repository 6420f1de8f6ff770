"""RCU settings, driven by environment variables only.

Zero configuration gives the embedded defaults (SQLite file, eager Celery, DEBUG on).
`DATABASE_URL`, `CELERY_BROKER_URL`, `SECRET_KEY`, `ALLOWED_HOSTS` and `DEBUG=False`
switch to a real deployment; with DEBUG off the secure settings are the defaults.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from rcu.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "django-insecure-rcu-local-development-only-never-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "guardian",
    "django_htmx",
    "template_partials",
    "csp",
    # Account security (before rcu: the roles grant their permissions after migrate).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rcu",
    "stewardship",
    "gdpr",
    "quality",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "rcu.middleware.RefuseNulInQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Account security: idle and absolute session limits, then two-factor verification.
    "rcu.security.sessions.SessionLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "rcu.security.otp.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # django-axes turns a locked-out sign-in into its lockout page: last, as it asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rcu.urls"
WSGI_APPLICATION = "rcu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rcu.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'rcu.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while an import writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20}
    )
    DATABASES["default"]["TEST"] = {"NAME": ""}  # in-memory for tests
elif env_bool("RCU_PG_SERVER_SIDE_BINDING", True):
    # Parameters bound by the server, and a query run five times on one connection is
    # prepared: the real-time path's queries skip parsing and planning (about 10 % of
    # an ingest on the 1M base).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in of a locked-out username + address before a password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
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
GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: anonymous people see nothing

# --- I18n -----------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Security: secure by default as soon as DEBUG is off ------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # RCU's own tokens (hashed, expiring, revocable, optionally bound to a source).
        "rcu.apis.authentication.ApiTokenAuthentication",
        # Sessions count only once two-factor verification is done where it is required.
        "rcu.apis.authentication.VerifiedSessionAuthentication",
    ],
    # Per user (or per address when anonymous); the ingest endpoints have their own rate.
    # Rates are read at request time from RCU_API_THROTTLE_RATES (below).
    "DEFAULT_THROTTLE_CLASSES": [
        "rcu.apis.throttling.AnonThrottle",
        "rcu.apis.throttling.UserThrottle",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Every 4xx answers {"detail", "code", "errors"}, and the schema documents it.
    "EXCEPTION_HANDLER": "rcu.apis.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "rcu.apis.schema.ApiAutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RCU API",
    "DESCRIPTION": "Référentiel Client Unique: sources, records, golden customers.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator: back-offices often run without internet.
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
    # Several "status" fields with their own choices: each set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "ImportAuditStatusEnum": "rcu.models.audits.ImportAudit.Status",
        "SubjectRequestKindEnum": "gdpr.models.requests.RequestKind",
        "SubjectRequestStateEnum": "gdpr.models.requests.RequestState",
        "SubjectRequestChannelEnum": "gdpr.models.requests.RequestChannel",
        "RequestLetterKindEnum": "gdpr.models.requests.LetterKind",
        "RequestAttachmentKindEnum": "gdpr.models.requests.AttachmentKind",
        "QuarantinedRecordStatusEnum": "gdpr.models.quarantine.QuarantineStatus",
    },
}

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
# Without a broker, tasks run in-process: the zero-setup default.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    # Nothing is ever sent; naming the in-memory transport keeps Celery from guessing one.
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker process that grew past this (KiB) after a task is replaced: a matching
# partition's working set is not kept idle while another worker clusters.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 600_000)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_DEFAULT_QUEUE = "rcu"
# Periodic work: `celery -A rcu beat` beside the workers sends these; without beat (the
# embedded defaults, `make demo`), `manage.py run_periodic --every 60` runs them
# (docs/configuration.md, "Periodic work"). Each GDPR run is recorded (PeriodicRun).
CELERY_BEAT_SCHEDULE = {
    "quality-snapshot-daily": {
        "task": "quality.tasks.quality_snapshot_task",
        "schedule": crontab(
            hour=env_int("RCU_QUALITY_SNAPSHOT_HOUR", 2), minute=30
        ),
    },
    # Old change events delivered to every subscriber are compacted away.
    "change-events-compact-daily": {
        "task": "rcu.tasks.change_events_compact_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # GDPR retention (gdpr.retention): the access log (RCU_ACCESS_LOG_RETENTION_DAYS),
    # access packs' files (RCU_GDPR_PACK_DAYS), proofs of identity
    # (RCU_GDPR_IDENTITY_PROOF_DAYS), the re-import quarantine's hashes.
    "gdpr-retention-purge-daily": {
        "task": "gdpr.tasks.retention_purge_task",
        "schedule": crontab(hour=3, minute=45),
    },
    # Subject requests due within RCU_GDPR_REMINDER_WORKING_DAYS, or overdue: noticed on
    # the DPO dashboard and e-mailed to the DPO users, once each.
    "gdpr-deadline-reminders-daily": {
        "task": "gdpr.tasks.deadline_reminders_task",
        "schedule": crontab(hour=env_int("RCU_GDPR_REMINDER_HOUR", 7), minute=0),
    },
    # Deliveries waiting for a retry are sent even when nothing new changes.
    "subscriptions-kick": {
        "task": "rcu.tasks.subscriptions_kick",
        "schedule": 60.0,
    },
}

# --- E-mail (quality rule breaches are mailed to the admins) -----------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "rcu@localhost")

# --- RCU ------------------------------------------------------------------
RCU_IMPORT_BATCH_SIZE = env_int("RCU_IMPORT_BATCH_SIZE", 1000)
RCU_IMPORT_MAX_STORED_ERRORS = env_int("RCU_IMPORT_MAX_STORED_ERRORS", 10_000)
# From this many rows, PostgreSQL set-based writes (imports, matching, candidates) use COPY.
RCU_COPY_MIN_ROWS = env_int("RCU_COPY_MIN_ROWS", 50)
# On PostgreSQL, commit each import batch in the background while the next is mapped.
RCU_IMPORT_PIPELINE = env_bool("RCU_IMPORT_PIPELINE", True)
# After an import that created this many records, refresh PostgreSQL's planner statistics.
RCU_ANALYZE_AFTER_ROWS = env_int("RCU_ANALYZE_AFTER_ROWS", 10_000)
# Files of at least this many lines are mapped in a helper process, on another core.
RCU_IMPORT_MAPPER_PROCESS_MIN_LINES = env_int("RCU_IMPORT_MAPPER_PROCESS_MIN_LINES", 20_000)
# Audits of files up to this size run while the person waits; bigger ones in a task.
RCU_AUDIT_INLINE_MAX_BYTES = env_int("RCU_AUDIT_INLINE_MAX_BYTES", 2 * 1024 * 1024)
# Batch runs score a partition's pairs as arrays (rcu/engine/columnar.py); off, pair by
# pair as real-time matching does (same results, several times slower: a reference).
RCU_COLUMNAR_SCORING = env_bool("RCU_COLUMNAR_SCORING", True)
# A successful import queues a matching run of the records it created or changed.
RCU_MATCH_AFTER_IMPORT = env_bool("RCU_MATCH_AFTER_IMPORT", True)
# A full snapshot import deletes (at source) the records it does not hold, unless that
# is more than this percentage of the source's records: an empty or cut file deletes
# nothing (the import command's --force-snapshot overrides).
RCU_SNAPSHOT_MAX_DELETED_PERCENT = env_int("RCU_SNAPSHOT_MAX_DELETED_PERCENT", 50)
# How long opening a merge candidate holds it for the steward (minutes).
RCU_CANDIDATE_LEASE_MINUTES = env_int("RCU_CANDIDATE_LEASE_MINUTES", 15)

# --- Account security -----------------------------------------------------
# Lockout (django-axes): this many failed sign-ins of one username from one address lock
# that pair for the cool-off; an admin unlocks earlier from "Locked sign-ins".
AXES_FAILURE_LIMIT = env_int("RCU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("RCU_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "rcu.security.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "rcu.security.addresses.client_ip"
AXES_VERBOSE = False
# Behind reverse proxies: how many of them append to X-Forwarded-For. 0 = REMOTE_ADDR.
RCU_TRUSTED_PROXY_COUNT = env_int("RCU_TRUSTED_PROXY_COUNT", 0)

# Two-factor sign-in (TOTP, django-otp): required for these roles (and superusers),
# optional for everybody else.
RCU_OTP_REQUIRED_ROLES = env_list("RCU_OTP_REQUIRED_ROLES", ["admin", "dpo"])
OTP_TOTP_ISSUER = env_str("RCU_OTP_ISSUER", "RCU")

# Sessions: signed out after this long without a request, and this long after sign-in
# whatever happens (the session cookie's age is the absolute lifetime too).
RCU_SESSION_IDLE_MINUTES = env_int("RCU_SESSION_IDLE_MINUTES", 30)
RCU_SESSION_MAX_HOURS = env_int("RCU_SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = RCU_SESSION_MAX_HOURS * 3600

# API throttling (DRF rates: N/second, minute, hour or day).
RCU_API_THROTTLE_RATES = {
    "anon": env_str("RCU_API_RATE_ANON", "60/min"),
    "user": env_str("RCU_API_RATE_USER", "600/min"),
    "ingest": env_str("RCU_API_RATE_INGEST", "3000/min"),
}

# Throttling counts live in the cache: per process by default; set RCU_CACHE_URL
# (redis://…) when several processes serve the API so that they share the counts.
if env_str("RCU_CACHE_URL", ""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("RCU_CACHE_URL", ""),
        }
    }

# API tokens: lifetime when none is given, and the longest one allowed (days).
RCU_API_TOKEN_DEFAULT_DAYS = env_int("RCU_API_TOKEN_DEFAULT_DAYS", 90)
RCU_API_TOKEN_MAX_DAYS = env_int("RCU_API_TOKEN_MAX_DAYS", 365)

# Propagation to subscribed systems (docs/propagation.md). Plain http and private or
# loopback targets are refused (server-side request forgery) unless allowed: by
# default only while developing.
RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = env_bool("RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS", DEBUG)
RCU_WEBHOOK_TIMEOUT_SECONDS = env_int("RCU_WEBHOOK_TIMEOUT_SECONDS", 10)
# Requests a delivery task has in flight to one subscriber (different customers only).
RCU_WEBHOOK_CONCURRENCY = env_int("RCU_WEBHOOK_CONCURRENCY", 8)
# A delivery failing this many times in a row pauses its subscription (an admin resumes it).
RCU_WEBHOOK_MAX_ATTEMPTS = env_int("RCU_WEBHOOK_MAX_ATTEMPTS", 15)
# Retries back off exponentially from one second, with jitter, up to this many seconds.
RCU_WEBHOOK_RETRY_CAP_SECONDS = env_int("RCU_WEBHOOK_RETRY_CAP_SECONDS", 1800)
# Change events older than this, delivered to every subscriber, are deleted (days).
RCU_EVENT_RETENTION_DAYS = env_int("RCU_EVENT_RETENTION_DAYS", 90)
# GDPR access packs: downloadable this many days, then their file is deleted; scopes
# with more records than this are built by a Celery task (202) instead of inline.
RCU_GDPR_PACK_DAYS = env_int("RCU_GDPR_PACK_DAYS", 30)
RCU_GDPR_PACK_INLINE_MAX_RECORDS = env_int("RCU_GDPR_PACK_INLINE_MAX_RECORDS", 500)

# Erasure (docs/erasure.md): the key of the keyed hashes kept of an erased person's
# public ids. Held outside the database; by default derived from SECRET_KEY (changing
# SECRET_KEY then forgets which ids were erased: they answer 404 instead of 410).
RCU_ERASURE_HASH_KEY = env_str("RCU_ERASURE_HASH_KEY", "") or hashlib.sha256(
    b"rcu-erasure-hash-key:" + SECRET_KEY.encode()
).hexdigest()
# The re-import quarantine (docs/erasure.md): keyed hashes of an erased person's
# identifiers are kept this many days (3 years by default), then purged.
RCU_QUARANTINE_HASH_RETENTION_DAYS = env_int("RCU_QUARANTINE_HASH_RETENTION_DAYS", 1095)
# GDPR access log entries older than this are purged nightly (days; the CNIL
# recommends keeping such traces 6 to 12 months).
RCU_ACCESS_LOG_RETENTION_DAYS = env_int("RCU_ACCESS_LOG_RETENTION_DAYS", 365)


def _not_working_days(value: str) -> bool:
    raise ImproperlyConfigured(f"RCU_GDPR_REMINDER_WORKING_DAYS: {value!r} is not a number of days")


# Proofs of identity joined to a subject request: kept only as long as needed to verify
# the identity (CNIL), so their files are deleted when the request closes and, by the
# nightly purge, this many days after the identity was verified (0: the next run).
RCU_GDPR_IDENTITY_PROOF_DAYS = env_int("RCU_GDPR_IDENTITY_PROOF_DAYS", 0)
# Deadline reminders to the DPO: open requests this many working days or fewer before
# their deadline (each threshold once per request and deadline), and overdue ones.
RCU_GDPR_REMINDER_WORKING_DAYS = [int(n) for n in env_list("RCU_GDPR_REMINDER_WORKING_DAYS", ["5", "1"])
                                  if n.isdigit() or _not_working_days(n)]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
