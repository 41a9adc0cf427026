"""Settings for the incident console, read from the environment.

With no configuration the console runs embedded: SQLite under ``var/``, the in-process
channel layer and Celery over the in-memory transport. ``DATABASE_URL`` and ``REDIS_URL``
switch it to PostgreSQL and Redis. With ``DEBUG`` off, missing production values stop the
process at start-up instead of running with unsafe defaults.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-key-for-local-demo-only")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters when DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list the host names the console is served on when DEBUG is off."
        )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Serving a room: `make run HOST=0.0.0.0` lets the laptops on the meeting room's network in.
# Their browsers name this machine by an address nobody knows in advance, so with DEBUG on
# and the console listening beyond loopback, any host name is accepted (set ALLOWED_HOSTS to
# narrow it). Production never does this: with DEBUG off ALLOWED_HOSTS must be listed.
SERVE_HOST = env.str("HOST", default="127.0.0.1")
ROOM = SERVE_HOST not in ("127.0.0.1", "localhost", "::1")
if DEBUG and ROOM and "ALLOWED_HOSTS" not in env:
    ALLOWED_HOSTS = ["*"]

# Demo mode: the sign-in page offers the demo people as buttons, without a password or code,
# so a room can play an exercise without reading codes aloud. `make run` turns it on; it
# refuses to run with DEBUG off.
DEMO_MODE = env.bool("DEMO_MODE", default=False)
if DEMO_MODE and not DEBUG:
    raise ImproperlyConfigured(
        "DEMO_MODE signs anyone in as any demo person without a password: it runs only with "
        "DEBUG on, for a demo or a tabletop exercise. Unset DEMO_MODE in production."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic",
    "django.contrib.staticfiles",
    "csp",
    "channels",
    "django_htmx",
    "template_partials",
    "django_ratelimit",
    # The incident core, the communications app, and above both the pages and live pushes.
    "incidents",
    "comms",
    "exercises",
    "console",
    # Before allauth, so that the console's own sign-in templates win.
    "signin",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "allauth.mfa",
]

MIDDLEWARE = [
    "incidents.middleware.PublicPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "incidents.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "incidents.middleware.DistrictTimezoneMiddleware",
    "incidents.middleware.SignedInMiddleware",
]

# The web process: pages on a fixed pool of threads (incident_console.serving), websockets on
# the event loop. "asgi" serves pages through Django's ASGI handler instead, as the console
# did before; the capacity benchmark measures the two side by side.
HTTP_SERVING = env.str("HTTP_SERVING", default="threads")
if HTTP_SERVING == "asgi":
    # Async-only: in the sync handler the pages run on, it would cost each request an event
    # loop of its own. There, static files are answered before Django (serving.StaticFiles).
    MIDDLEWARE.insert(4, "servestatic.middleware.ServeStaticMiddleware")

ROOT_URLCONF = "incident_console.urls"

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
                "console.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "incident_console.wsgi.application"
ASGI_APPLICATION = "incident_console.asgi.application"

# --- Database --------------------------------------------------------------------------
EMBEDDED = not (env.str("DATABASE_URL", default="") and env.str("REDIS_URL", default=""))

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'console.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded run has a web thread, a worker thread and a beat thread writing to one
    # file: WAL lets readers proceed during a write, IMMEDIATE takes the write lock at BEGIN
    # so two writers queue on the busy timeout instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    # Pages run on threads that live as long as the web process (incident_console.serving),
    # so each keeps its connection. Under Django's ASGI handler each request may run on a new
    # thread and persistent connections pile up: 0 there.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int(
        "CONN_MAX_AGE", default=0 if HTTP_SERVING == "asgi" else 600
    )
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Each web process holds at most WEB_THREADS + 2 database connections: its page threads, the
# websockets' sign-in lookups, and Django's own sync-to-async thread.
WEB_THREADS = env.int("WEB_THREADS", default=4)
# Requests a process takes beyond its threads before it answers 503 with Retry-After: at
# about 8 ms a page, 64 is half a second of work, enough to ride out a stall of the machine
# under the worst day's load (100 pages a second) without refusing anyone.
WEB_QUEUE = env.int("WEB_QUEUE", default=64)
# Public pages (the families' status page, feeds, JSON) a web process answers per second from
# its kept copy; a larger crowd waits its turn, so it never takes the processor from the
# response team. 0: unpaced.
PUBLIC_PAGES_PER_SECOND = env.int("PUBLIC_PAGES_PER_SECOND", default=1000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "incidents.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in: district identity providers, break-glass passwords with TOTP --------------
# Django's and allauth's, each loading the signed-in person with their district, roles and
# unread count in one query (console.people).
AUTHENTICATION_BACKENDS = [
    "console.people.PersonBackend",
    "console.people.PersonAllauthBackend",
]
# Only people on a district's roster sign in; nobody signs up (signin.adapters).
ACCOUNT_ADAPTER = "signin.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "signin.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {"login": "signin.forms.PasswordSignInForm"}
MFA_FORMS = {"authenticate": "signin.forms.CodeForm"}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_GET = False
# One throttle for every sign-in path (signin.throttle), with one message and Retry-After.
ACCOUNT_RATE_LIMITS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp"]
# One period either side absorbs a phone clock that is a few seconds off.
MFA_TOTP_TOLERANCE = 1
MFA_TOTP_ISSUER = "Incident console"

SIGN_IN_FAILURES_PER_ACCOUNT = env.int("SIGN_IN_FAILURES_PER_ACCOUNT", default=5)
SIGN_IN_FAILURES_PER_ADDRESS = env.int("SIGN_IN_FAILURES_PER_ADDRESS", default=20)
SIGN_IN_WINDOW_SECONDS = env.int("SIGN_IN_WINDOW_SECONDS", default=15 * 60)
SIGN_IN_SLOWDOWN_AFTER = env.int("SIGN_IN_SLOWDOWN_AFTER", default=10)
SIGN_IN_MAX_DELAY_SECONDS = env.int("SIGN_IN_MAX_DELAY_SECONDS", default=60)
# How many reverse proxies in front of the console append to X-Forwarded-For. 0: the
# header is ignored, since anyone can send it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Time: stored in UTC, shown in each district's zone ---------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# The public status pages' own words in the languages districts write to families in
# (locale/<language>/LC_MESSAGES/django.po; compiled by `make install`).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

# --- Static files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
SERVESTATIC_USE_FINDERS = DEBUG
SERVESTATIC_AUTOREFRESH = DEBUG

# --- Redis: Celery broker and channel layer (no state lives there) ----------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: a push to a group is published once, each web process subscribed
            # to the group receives one copy and hands it to its own sockets, and membership
            # lives in the process that holds the socket, so a stopped process leaves nothing
            # behind and a flushed Redis loses no member. The list-based RedisChannelLayer
            # copies the message into Redis once per socket: at 1,000 sockets the last one had
            # its push 554 ms after the approval (p50) against 397 ms here (docs/benchmarks.md).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 gives each connection a 5 s read timeout by default; its pool
                # refuses, rather than waits, past 100 connections, which the senders of a
                # burst of pushes and reconnections can exceed.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache holds sign-in failure counts, used one-time codes and which push went out last:
# state, so it lives in the database beside what it describes (a table the migrations create)
# and never in Redis. Sign-in works and codes stay used with Redis down or flushed, and a
# database reset or restore takes the cache with it.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "console_cache",
        "KEY_PREFIX": "console",
    },
    # The incident page's panels as page requests rendered them (console.page.PanelCache):
    # derived from the database, kept under the incident's sequence and for seconds, in each
    # web process's own memory.
    "panels": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "incident-panels",
        "TIMEOUT": 60,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}

# Sign-up counts for the public subscription page (django-ratelimit), which needs a cache
# with atomic increments shared by every web process: Redis. The embedded way to run has one
# process, so its own memory is shared enough. Losing the counts to a Redis flush only
# resets the limits.
CACHES["throttle"] = (
    {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "throttle",
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
)
RATELIMIT_USE_CACHE = "throttle"
SILENCED_SYSTEM_CHECKS = [
    # Django's own Redis cache increments atomically; the check knows only django-redis's.
    "django_ratelimit.W001",
    *([] if REDIS_URL else ["django_ratelimit.E003"]),
]

CELERY_BROKER_URL = REDIS_URL or "memory://"
if REDIS_URL:
    # Redis, with the worker surviving the loss of Redis while it holds a task.
    CELERY_BROKER_TRANSPORT = "incident_console.redis_broker:Transport"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker waits out a Redis outage of any length and resumes by itself (Celery's default
# gives up after 100 attempts, which with prompt reconnects is under two minutes), trying
# again at most this many seconds apart.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Threads of Celery beat's process that fire deadlines (comms.timers). On SQLite one: writes
# there are one at a time anyway.
TIMER_LOOPS = env.int("TIMER_LOOPS", default=1 if EMBEDDED else 2)
BROKER_RECONNECT_SECONDS = env.float("BROKER_RECONNECT_SECONDS", default=1.0)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Beat sets Django up after it starts (for the timer loop); were stderr redirected into
# Celery's logger by then, Django's log handler would write into that logger and be lost.
CELERY_WORKER_REDIRECT_STDOUTS = False

# A short visibility timeout: delivery tasks take seconds, so a task held by a killed
# worker comes back within minutes, not the default hour. Timers never ride on it.
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": 300} if REDIS_URL else {"polling_interval": 0.2}
)
CELERY_TASK_REJECT_ON_WORKER_LOST = True

# Deliveries to the families who subscribed on the public status page go through their own
# queue and worker, so that a publication to thousands never delays the team's own messages.
FAMILIES_QUEUE = "families"
CELERY_TASK_ROUTES = {
    "comms.tasks.deliver_to_subscribers": {"queue": FAMILIES_QUEUE},
}

# --- Text messages --------------------------------------------------------------------
SMS_PROVIDER = env.str("SMS_PROVIDER", default="comms.delivery.RecordingSmsProvider")
SMS_RECORD_FILE = env.str("SMS_RECORD_FILE", default="")
# Twilio's Messages API, when SMS_PROVIDER is comms.sms.TwilioSmsProvider.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# The sender: a phone number in E.164, or a messaging service's id (MG...).
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
# Machine translation for a first draft of a translation (comms.machine): none by default.
TRANSLATION_PROVIDER = env.str("TRANSLATION_PROVIDER", default="comms.machine.NoTranslation")
# Phone numbers typed without a country code are read as numbers of this region.
PHONE_REGION = env.str("PHONE_REGION", default="US")

# The address families reach the console at, for the links in what it sends them
# (confirmation, the update's page, unsubscribe) and the text provider's status callbacks.
PUBLIC_URL = env.str("PUBLIC_URL", default="http://localhost:8000").rstrip("/")
# How many sign-ups one client address, and one email address or phone number, may make in
# an hour before the page refuses (the client) or quietly sends nothing more (the address).
SUBSCRIBE_RATE_CLIENT = env.str("SUBSCRIBE_RATE_CLIENT", default="20/h")
SUBSCRIBE_RATE_ADDRESS = env.str("SUBSCRIBE_RATE_ADDRESS", default="3/h")
# A send claimed longer ago than this is taken to have died with its worker and is retried.
# Keep it well above the slowest provider call; the timer fault tests shorten it.
NOTIFICATION_STALE_CLAIM_SECONDS = env.int("NOTIFICATION_STALE_CLAIM_SECONDS", default=120)
# A message still waiting this long after it was queued lost its hand-off to the broker (a
# crash between commit and enqueue) and is queued again; the claim keeps it from going twice.
OUTBOX_MISSED_HANDOFF_SECONDS = env.int("OUTBOX_MISSED_HANDOFF_SECONDS", default=30)
# How often beat looks for such messages (and for stale claims); the fault tests shorten it.
REQUEUE_EVERY_SECONDS = env.float("REQUEUE_EVERY_SECONDS", default=15.0)

# --- Email --------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend" and not DEBUG:
    # Without a mail server, whole messages are written out only while developing.
    EMAIL_CONFIG["EMAIL_BACKEND"] = "incident_console.logs.MailLog"
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="incident-console@localhost")

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# A session ends after this long without a request (12 hours by default: a long incident
# day, then sign in again). While the person is active, its end moves forward, at most once
# every SESSION_REFRESH_SECONDS so that page loads do not all write the session row.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=12 * 60 * 60)
SESSION_REFRESH_SECONDS = min(300, SESSION_COOKIE_AGE // 10)
# The browser features the console never uses are turned off for its pages.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Input limits ------------------------------------------------------------------------
# The longest form is a 10,000-character draft; a megabyte of form data is far more than any
# page sends. The biggest form, the phase checklist, has 40 rows of four fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400
# The console accepts no files: a multipart body carrying one is refused with a 400 before
# any view reads it, and nothing is ever written to a temporary upload file.
DATA_UPLOAD_MAX_NUMBER_FILES = 0
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]

# --- Content-Security-Policy -------------------------------------------------------------
# Scripts and styles come only from the console's own static files: no inline script, no
# style attribute, no eval. ContentSecurityPolicyMiddleware adds the websocket origin of the
# request's own host to connect-src, since browsers differ on whether 'self' covers ws(s)://.
# Sign-in through Google or Microsoft Entra posts a form that redirects to the provider, so
# form-action names both.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        "form-action": [
            "'self'",
            "https://accounts.google.com",
            "https://login.microsoftonline.com",
        ],
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds every subdomain of the district's domain to HTTPS for good, and
        # districts often still run plain-HTTP devices on subdomains: it is the district's
        # choice to make, so its absence is not reported as a deployment problem.
        SILENCED_SYSTEM_CHECKS += ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes come from inside the deployment over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals": {"()": "incident_console.logs.RefusalsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["refusals"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # One line per task every two seconds says nothing; failures still log as errors.
        "celery.app.trace": {"level": "WARNING"},
        "celery.worker.strategy": {"level": "WARNING"},
        "celery.beat": {"level": "WARNING"},
    },
}
