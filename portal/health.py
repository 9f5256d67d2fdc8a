"""/healthz: is the portal up, can it reach its database and its broker? For load balancers and monitors.

No log-in, no session, no cache: JSON with a status per part.

- database: ``SELECT 1``. Down: 503, the portal cannot work.
- broker (Celery's, only when ``CELERY_BROKER_URL`` is set): a connection with a one-second
  timeout. Down: still 200 with ``"status": "degraded"``: forms are saved, submitted and
  approved without it, and the queued work (roll-ups, reminders, reports) waits in the database
  until the broker is back.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

log = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 1


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.error("healthz: database unreachable: %s", exc)
        return "unreachable"
    return "ok"


def broker_status() -> str:
    url = settings.CELERY_BROKER_URL
    if not url:
        return "not configured"
    from kombu import Connection

    broker = Connection(
        url,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options={
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        },
    )
    try:
        broker.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=2 * BROKER_TIMEOUT_SECONDS
        )
    except Exception as exc:  # kombu raises its own, redis's or socket errors, by transport
        log.warning("healthz: broker unreachable: %s", exc)
        return "unreachable"
    finally:
        broker.release()
    return "ok"


@never_cache
@require_GET
def healthz(request):
    database = database_status()
    broker = broker_status()
    if database != "ok":
        state, code = "error", 503
    elif broker == "unreachable":
        state, code = "degraded", 200
    else:
        state, code = "ok", 200
    return JsonResponse({"status": state, "database": database, "broker": broker}, status=code)
