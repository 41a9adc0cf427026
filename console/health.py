"""Health probes: liveness of the web process, and readiness of everything behind it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from comms.models import EngineHeartbeat
from comms.services import ENGINE

# The sweep runs every second; three missed sweeps and the engine counts as stalled.
HEARTBEAT_STALE_AFTER = timedelta(seconds=10)


def _database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as error:
        return False, f"unreachable: {error.__class__.__name__}"


def _redis() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "not used (embedded run)"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        return True, "ok"
    except Exception as error:
        return False, f"unreachable: {error.__class__.__name__}"


def _timers() -> tuple[bool, str, float | None]:
    try:
        beat = EngineHeartbeat.objects.filter(name=ENGINE).values_list("beat_at", flat=True).first()
    except Exception as error:
        return False, f"unknown: {error.__class__.__name__}", None
    if beat is None:
        return False, "no sweep has run yet", None
    age = (timezone.now() - beat).total_seconds()
    if age > HEARTBEAT_STALE_AFTER.total_seconds():
        return False, f"stalled: last sweep {age:.0f} s ago", age
    return True, "ok", age


@never_cache
@require_safe
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def health_ready(request: HttpRequest) -> JsonResponse:
    """200 when the database, Redis and the timer engine all answer; 503 otherwise."""
    db_ok, db = _database()
    redis_ok, redis_state = _redis()
    timers_ok, timers, age = _timers() if db_ok else (False, "database unreachable", None)
    ready = db_ok and redis_ok and timers_ok
    return JsonResponse(
        {
            "status": "ready" if ready else "not ready",
            "database": db,
            "redis": redis_state,
            "timers": timers,
            "timer_heartbeat_age_seconds": None if age is None else round(age, 1),
        },
        status=200 if ready else 503,
    )
