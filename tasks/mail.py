"""E-mail out of the request: notices go through the Celery queue after the commit.

A mail server that is slow, down, or accepts and never answers must not hold up a user's save,
submission or approval. ``queue_mail`` hands the message to the job queue once the transaction
commits (a broker that is down loses only the e-mail: the bell already holds the message, and
the failure is logged); ``send_notification_mail`` sends it with ``EMAIL_TIMEOUT`` on every
socket operation and retries transient failures (no connection, timeout, disconnect, 4xx replies)
``EMAIL_MAX_RETRIES`` times with growing delays (1, 2, 4, … minutes). A permanent refusal (5xx,
every recipient refused) is logged and not retried.
"""

import logging
import smtplib

from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)


def is_transient(exc) -> bool:
    """Whether sending again later may succeed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    # SMTPServerDisconnected, SMTPConnectError (a 4xx/5xx greeting is handled above), timeouts,
    # refused or reset connections, unreachable hosts.
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError))


def retry_delay(retries: int) -> int:
    """Seconds before the next try: 60, 120, 240, … at most an hour."""
    return min(60 * 2**retries, 3600)


@shared_task(bind=True, name="tasks.send_notification_mail", acks_late=True)
def send_notification_mail(self, subject: str, message: str, recipients: list[str]):
    try:
        send_mail(subject, message, None, recipients, fail_silently=False)
    except Exception as exc:
        if not is_transient(exc):
            logger.error("notification e-mail refused, not retried: %s: %s", type(exc).__name__, exc)
            return {"sent": False}
        if current_app.conf.task_always_eager:
            # No worker (development): the request itself would wait for every try.
            logger.warning("notification e-mail not sent: %s: %s", type(exc).__name__, exc)
            return {"sent": False}
        logger.warning(
            "notification e-mail failed (try %s of %s), retrying: %s: %s",
            self.request.retries + 1,
            settings.EMAIL_MAX_RETRIES + 1,
            type(exc).__name__,
            exc,
        )
        raise self.retry(
            exc=exc, countdown=retry_delay(self.request.retries), max_retries=settings.EMAIL_MAX_RETRIES
        ) from exc
    return {"sent": True}


def _publish(subject, message, recipients):
    try:
        send_notification_mail.delay(subject, message, recipients)
    except Exception as exc:  # the broker is down: the bell holds the message, the e-mail is lost
        logger.warning("notification e-mail not queued, broker unavailable: %s", exc)


def queue_mail(subject: str, message: str, recipients: list[str]) -> None:
    """Send the e-mail from a worker once the current transaction commits."""
    if recipients:
        transaction.on_commit(lambda: _publish(subject, message, list(recipients)))
