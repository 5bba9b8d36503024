"""Settings for the edgeorch control plane, all driven by environment variables.

A bad value stops start-up with a message naming the variable (see ``edgeorch.env``).
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

from .env import ImproperValue, envbool, envfloat, envint, envlist, envstr, load_demo_env

BASE_DIR = Path(__file__).resolve().parent.parent
# After `make demo`, a command typed in a new shell gets the demo's settings (under explicit ones; never where
# SECRET_KEY or SECRET_KEY_FILE is set): see load_demo_env.
load_demo_env(BASE_DIR)
RUN_DIR = Path(envstr("EDGEORCH_RUN_DIR") or BASE_DIR / "var")

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG and not envbool("EDGEORCH_ALLOW_INSECURE_KEY", False):
        raise ImproperValue("SECRET_KEY is not set (set it, or DEBUG=true for development)")
    # A key made up for this process only: nothing it signs outlives it or is understood by another process
    # (the demo and the tests set a key; production must, or compose generates one: docs/deployment.md).
    SECRET_KEY = secrets.token_urlsafe(50)
# The public URL agents, install scripts and browsers use (defaults to the request's own host). Where it is
# set, its host is allowed and its origin trusted for CSRF (ALLOWED_HOSTS / CSRF_TRUSTED_ORIGINS add to
# them), and an https:// URL turns TLS on (EDGEORCH_TLS below).
PUBLIC_URL = envstr("EDGEORCH_PUBLIC_URL", "") or ""
_public = urlsplit(PUBLIC_URL)
if PUBLIC_URL and (_public.scheme not in ("http", "https") or not _public.hostname):
    raise ImproperValue(f"EDGEORCH_PUBLIC_URL={PUBLIC_URL!r} is not an http:// or https:// URL with a host")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
if PUBLIC_URL:
    _host = _public.hostname or ""
    ALLOWED_HOSTS.append(f"[{_host}]" if ":" in _host else _host)
    CSRF_TRUSTED_ORIGINS.append(f"{_public.scheme}://{_public.netloc}")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "csp",
    "edgeorch.api",
    "edgeorch.devices",
    "edgeorch.gateway",
    "edgeorch.telemetry",
    "edgeorch.catalog",
    "edgeorch.plans",
    "edgeorch.jobs",
    "edgeorch.alerts",
    "edgeorch.serving",
    "edgeorch.dashboard",
    "edgeorch.scenarios",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "edgeorch.static.StaticFiles",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "edgeorch.urls"
ASGI_APPLICATION = "edgeorch.asgi.application"
WSGI_APPLICATION = None

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
                "edgeorch.alerts.context.open_alerts",
            ],
        },
    },
]

# SQLite unless DATABASE_URL says otherwise (the demo); tests and production use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL") or f"sqlite:///{RUN_DIR / 'edgeorch.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
# The database password may come apart from the URL, e.g. from a file (DATABASE_PASSWORD_FILE): compose
# generates one on first start (docker-compose.yml, the secrets service).
if _db_password := envstr("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = _db_password
if DATABASES["default"]["ENGINE"].endswith("postgresql") and envbool("DATABASE_POOL", True):
    # A connection per request or task costs milliseconds (a server process is forked for each); Daphne
    # serves requests and consumers from short-lived threads, where persistent connections would leak, so
    # every process keeps a small pool instead (CONN_MAX_AGE must then be 0).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a pooled connection is checked before it is used
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": envint("DATABASE_POOL_MAX", 16, minimum=1),
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The demo runs Daphne, Celery and agents against one file: wait for locks instead of failing, and let
    # readers go on while one process writes (WAL). The test database is a file too, so that the server and
    # worker processes of the demo tier's end-to-end tests share it (an in-memory one is per process).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / "test-edgeorch.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL", "redis://127.0.0.1:6379/0") or ""
CHANNEL_LAYERS = {
    "default": {
        # channels-redis's layer with send in one Redis round trip (a Lua script) instead of four.
        "BACKEND": "edgeorch.channel_layer.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 times out socket reads after 5 s by default, exactly channels-redis's blocking-pop
            # timeout, which made consumers crash at random with "Timeout reading". Allow the pop to finish.
            # redis-py 8 also caps a pool at 100 connections: hundreds of agents connecting at once need more.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 2000}],
            "prefix": envstr("EDGEORCH_CHANNEL_PREFIX", "edgeorch") or "edgeorch",
            "capacity": 1000,
            "expiry": 30,
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every worker (demo, compose, tests, benchmarks) runs its tasks on threads of its own process
# (``--concurrency`` of them): the tasks wait on PostgreSQL and Redis, and prefork's hand-over of each task
# from the main process to a child over a pipe cost a one-shot job 0.6-1 ms (docs/benchmarks.md, Jobs).
CELERY_WORKER_POOL = "threads"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = envstr("EDGEORCH_CELERY_QUEUE", "edgeorch") or "edgeorch"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:fleet"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = Path(envstr("EDGEORCH_STATIC_ROOT") or RUN_DIR / "staticfiles")
# Static files are served by WhiteNoise (its middleware, in Daphne's process). Where `collectstatic` has run
# into STATIC_ROOT (the image does at build: Dockerfile), they go out under content-hashed names, compressed
# (gzip, Brotli) and cached for years; elsewhere (the demo, tests, a checkout) by name from the app folders,
# with no build step. EDGEORCH_STATIC_MANIFEST=true is how collectstatic is told to hash and compress.
STATIC_MANIFEST = envbool("EDGEORCH_STATIC_MANIFEST", (STATIC_ROOT / "staticfiles.json").is_file())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "edgeorch.static.CompressedHashedStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(envstr("EDGEORCH_MEDIA_ROOT") or RUN_DIR / "media")
MEDIA_URL = "media/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "edgeorch.api.keys.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["edgeorch.api.permissions.IsOperatorOrReadOnly"],
    # JSON bodies everywhere; a view that takes a file upload adds multipart itself (one content type a body).
    "DEFAULT_PARSER_CLASSES": ["edgeorch.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "edgeorch.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "edgeorch.api.errors.handle",
    "DEFAULT_PAGINATION_CLASS": "edgeorch.api.pagination.StrictLimitOffsetPagination",
    # OPTIONS answers 405 like any method an operation does not have: DRF's metadata describes serializers
    # the schema already describes, and failed with a 500 on the views that pick one per action.
    "DEFAULT_METADATA_CLASS": None,
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "edgeorch API",
    "DESCRIPTION": "Collaborative DNN inference across edge devices.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Read and write shapes differ (read-only ids, write-only ttl_hours): separate components, the request's
    # named ...Request, so request serializers are not named ...Request themselves.
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatus": "edgeorch.devices.choices.DeviceStatus",
        "DeviceRole": "edgeorch.devices.choices.DeviceRole",
        "RunState": "edgeorch.jobs.choices.RunState",
        "InputKind": "edgeorch.jobs.choices.InputKind",
        "FailoverPolicy": "edgeorch.jobs.choices.Failover",
        "Priority": "edgeorch.jobs.choices.Priority",
        "MeasurementKind": [("profile", "Profile"), ("probe", "Probe")],
        "MeasurementState": "edgeorch.jobs.choices.MeasurementState",
        "ModelSource": "edgeorch.catalog.choices.ModelSource",
        "ModelTask": "edgeorch.catalog.choices.ModelTask",
        "CutKind": "edgeorch.catalog.choices.CutKind",
        "AlertState": "edgeorch.alerts.choices.AlertState",
        "AlertRuleKind": "edgeorch.alerts.choices.RuleKind",
        "ComputeUnit": ["cpu", "gpu", "npu"],
        "Objective": ["latency", "energy", "energy_under_deadline"],  # edgeorch.planning.OBJECTIVES
        "VariantKind": ["int8", "int8-dynamic"],  # edgeorch.catalog.quantize.KINDS
        "GraphNodeKind": ["input", "op", "output"],  # edgeorch.catalog.graphview
        "TopologyHopKind": ["input", "activation", "result"],  # edgeorch.jobs.topology
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "edgeorch.api.schema.error_shape_hook",
        "edgeorch.api.schema.backend_limits_hook",
    ],
}

# --- Secrets and TLS (docs/deployment.md, "Secrets at rest" and "TLS") -------------------------------------
# People's API keys: django-rest-knox keeps a SHA-512 digest and the first characters, never the key
# (edgeorch.api.keys); they do not expire, they are revoked.
# Keys start "eak_" (edgeorch API key), so a leaked one is told apart from other secrets (enrollment: eet_).
REST_KNOX = {"TOKEN_TTL": None, "TOKEN_PREFIX": "eak_", "AUTO_REFRESH": False}
# EDGEORCH_TLS=true: the control plane is reached over HTTPS only, through a reverse proxy that terminates TLS
# and says so in EDGEORCH_TLS_PROXY_HEADER (empty: Daphne serves TLS itself). Plain HTTP is redirected,
# browsers are told to come back over HTTPS only (HSTS) and cookies travel over HTTPS only; `manage.py check
# --deploy` then has nothing to warn of.
TLS = envbool("EDGEORCH_TLS", _public.scheme == "https")
if TLS:
    # EDGEORCH_SSL_REDIRECT=false where the proxy redirects plain HTTP itself and Daphne is reachable on a
    # private network only, by processes that talk to it without TLS (compose's agent): check --deploy's
    # warning that Django does not redirect (security.W008) is then silenced, on purpose.
    SECURE_SSL_REDIRECT = envbool("EDGEORCH_SSL_REDIRECT", True)
    if not SECURE_SSL_REDIRECT:
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    # Load balancers' and the kubelet's health probes reach the process itself over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("EDGEORCH_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("EDGEORCH_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("EDGEORCH_HSTS_PRELOAD", True)
    _proxy_header = envstr("EDGEORCH_TLS_PROXY_HEADER", "X-Forwarded-Proto")
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
# The Content-Security-Policy of every page (django-csp): scripts only from this server, or inline with the
# request's nonce; nothing from anywhere else. Styles may be inline: Plotly and Swagger UI set style
# attributes from script, which a style nonce cannot cover.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"upgrade-insecure-requests": True} if TLS else {}),
    }
}

# --- Agents, telemetry, liveness -------------------------------------------------------------------
# How often agents sample and send telemetry (told to each agent in `welcome`).
TELEMETRY_INTERVAL_S = envfloat("EDGEORCH_TELEMETRY_INTERVAL", 1.0, minimum=0.05)
# A device that has sent nothing for this long is marked offline by the beat task.
LIVENESS_TIMEOUT_S = envfloat("EDGEORCH_LIVENESS_TIMEOUT", 15.0, minimum=0.5)
# A session that failed over away from a device goes back to it once it has been connected this long
# without a break (hysteresis: a device that keeps dropping out is not taken back each time).
FAILBACK_HOLD_S = envfloat("EDGEORCH_FAILBACK_HOLD", 5.0, minimum=0.0)
# Detection of a frozen device (docs/failover.md): a failover stream's frame unanswered after
# max(FACTOR x the plan's predicted latency, MIN) makes its source send ``stalled``; the control plane
# pings the route's devices and takes one silent for PING_WAIT seconds as lost.
FAILOVER_STALL_FACTOR = envfloat("EDGEORCH_FAILOVER_STALL_FACTOR", 4.0, minimum=1.0)
FAILOVER_STALL_MIN_S = envfloat("EDGEORCH_FAILOVER_STALL_MIN", 0.25, minimum=0.01)
FAILOVER_PING_WAIT_S = envfloat("EDGEORCH_FAILOVER_PING_WAIT", 0.5, minimum=0.05)
LIVENESS_CHECK_INTERVAL_S = envfloat("EDGEORCH_LIVENESS_CHECK_INTERVAL", 5.0, minimum=0.5)
# Raw telemetry older than this is rolled up into one-minute averages and deleted.
TELEMETRY_RAW_RETENTION_H = envfloat("EDGEORCH_TELEMETRY_RAW_RETENTION_HOURS", 48.0, minimum=0.01)
TELEMETRY_ROLLUP_RETENTION_D = envfloat("EDGEORCH_TELEMETRY_ROLLUP_RETENTION_DAYS", 30.0, minimum=0.01)
TELEMETRY_ROLLUP_INTERVAL_S = envfloat("EDGEORCH_TELEMETRY_ROLLUP_INTERVAL", 300.0, minimum=1)
# Largest control-channel text message accepted from an agent.
AGENT_MAX_MESSAGE_BYTES = envint("EDGEORCH_AGENT_MAX_MESSAGE_BYTES", 1024 * 1024, minimum=1024)
# Throttles (429 with Retry-After; docs/deployment.md): requests per second/minute/hour/day, per client
# address (enrollment) or per user (enrollment tokens, model uploads); empty: no throttle.
THROTTLE_RATES = {
    "enroll": envstr("EDGEORCH_THROTTLE_ENROLL", "120/min") or None,
    "enrollment_token": envstr("EDGEORCH_THROTTLE_ENROLLMENT_TOKEN", "60/min") or None,
    "upload": envstr("EDGEORCH_THROTTLE_UPLOAD", "30/min") or None,
}
# Failed logins: after this many in the window, from one address or for one username, login answers 429.
LOGIN_FAILURES = envint("EDGEORCH_LOGIN_FAILURES", 10, minimum=1)
LOGIN_FAILURE_WINDOW_S = envfloat("EDGEORCH_LOGIN_FAILURE_WINDOW", 900.0, minimum=1)
# At most this many messages and bytes may wait to be handled on one agent socket; a device sending more
# than the server keeps up with is closed with 4029 (edgeorch.gateway.inbox).
WS_INBOX_MESSAGES = envint("EDGEORCH_WS_INBOX_MESSAGES", 20_000, minimum=16)
WS_INBOX_BYTES = envint("EDGEORCH_WS_INBOX_MB", 96, minimum=2) * 1024 * 1024
# Alerts (docs/alerts.md): the workers evaluate the rules this often; a webhook gets this long to answer.
ALERT_EVALUATION_INTERVAL_S = envfloat("EDGEORCH_ALERT_INTERVAL", 10.0, minimum=0.5)
ALERT_WEBHOOK_TIMEOUT_S = envfloat("EDGEORCH_ALERT_WEBHOOK_TIMEOUT", 5.0, minimum=0.1)
# Alert emails go through Django's SMTP backend to this server (EMAIL_BACKEND may name another backend).
EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "edgeorch@localhost")
# Agents measure RTT and bandwidth to their peers this often (the planner reads the latest); 0 turns it off.
LINK_PROBE_INTERVAL_S = envfloat("EDGEORCH_LINK_PROBE_INTERVAL", 300.0, minimum=0)
# The coordinator (jobs.services.coordinator) looks at the fleet's queues this often (0: only when a session
# starts or ends) and moves a session off an edge whose stage queues hold this many frames (or whose least
# slack is negative).
COORDINATOR = envbool("EDGEORCH_COORDINATOR", True)  # false: it never moves a session (tests that pin routes)
COORDINATOR_INTERVAL_S = envfloat("EDGEORCH_COORDINATOR_INTERVAL", 5.0, minimum=0)
COORDINATOR_SATURATED_QUEUED = envint("EDGEORCH_COORDINATOR_SATURATED_QUEUED", 8, minimum=1)
# Dispatch reuses a plan for the same model and fleet this long (a device changing state, a new profile or
# link sample makes it plan again at once); telemetry-driven inputs (throttle) are at most this stale. 0: off.
PLAN_CACHE_S = envfloat("EDGEORCH_PLAN_CACHE_S", 1.0, minimum=0)
# Jobs: a job (or a session, beyond its stream's own length) not finished after this long fails as timed out.
JOB_TIMEOUT_S = envfloat("EDGEORCH_JOB_TIMEOUT", 30.0, minimum=0.1)
# Whether each change of a job's or session's state waits for the disk (PostgreSQL synchronous_commit).
JOB_SYNCHRONOUS_COMMIT = envbool("EDGEORCH_JOB_SYNCHRONOUS_COMMIT", False)
# A profile or link probe the agent has not answered after this long fails (the overdue sweep).
MEASUREMENT_TIMEOUT_S = envfloat("EDGEORCH_MEASUREMENT_TIMEOUT", 600.0, minimum=1)
# Largest binary frame (a result tensor or a relayed activation) accepted after the message announcing it.
# A job input up to this size goes to the first agent inside its run message instead of by download.
JOB_INLINE_INPUT_MAX_BYTES = envint("EDGEORCH_JOB_INLINE_INPUT_KB", 1024, minimum=0) * 1024
JOB_MAX_BINARY_BYTES = envint("EDGEORCH_JOB_MAX_BINARY_MB", 32, minimum=1) * 1024 * 1024
# Threads per onnxruntime session that deploys ask agents for (0: the agent's own default).
# The strategy a serving session is planned with when the agent's serve_request names none.
SERVING_STRATEGY = envstr("EDGEORCH_SERVING_STRATEGY") or "multi-device"
# The failover policy of the serving sessions an agent asks for (docs/failover.md): cold, warm or none.
SERVING_FAILOVER = envstr("EDGEORCH_SERVING_FAILOVER") or "cold"
if SERVING_FAILOVER not in ("none", "cold", "warm"):
    raise ImproperValue(f"EDGEORCH_SERVING_FAILOVER must be none, cold or warm, not {SERVING_FAILOVER!r}")
JOB_AGENT_THREADS = envint("EDGEORCH_JOB_AGENT_THREADS", 0, minimum=0)
# Uploaded models larger than this are refused.
MODEL_UPLOAD_MAX_BYTES = envint("EDGEORCH_MODEL_UPLOAD_MAX_MB", 200, minimum=1) * 1024 * 1024
# An upload's test run happens in a child process with this much address space (plus four times the
# file's size) and this long (edgeorch.catalog.sandbox); a model that needs more is refused.
MODEL_TEST_MEMORY_BYTES = envint("EDGEORCH_MODEL_TEST_MEMORY_MB", 1024, minimum=256) * 1024 * 1024
MODEL_TEST_TIMEOUT_S = envfloat("EDGEORCH_MODEL_TEST_TIMEOUT", 60.0, minimum=1)
# Every other request body (a job's .npy input, an inference request, JSON) is refused beyond this, while
# it is read, before authentication (edgeorch.bodylimit; docs/deployment.md).
MAX_BODY_BYTES = envint("EDGEORCH_MAX_BODY_MB", 16, minimum=1) * 1024 * 1024
# A body must arrive within this many seconds plus its length at BODY_MIN_RATE, else 408.
BODY_TIMEOUT_S = envfloat("EDGEORCH_BODY_TIMEOUT", 30.0, minimum=0.1)
BODY_MIN_RATE = envint("EDGEORCH_BODY_MIN_RATE_KB", 256, minimum=1) * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}
