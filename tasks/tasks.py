"""Background jobs of the reporting cycle: deadline reminders to units and the late list to the office.

Beat runs ``send_deadline_reminders`` every morning (``portal/celery.py``). Each reminder is claimed
by inserting its ``ReminderLog`` row before anything is sent, so a second run on the same day, or
two workers at once, send nothing twice.
"""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from portal.text import enumeration
from tasks.choices import NotificationKind, ReminderKind, SubmissionStatus
from tasks.models import DeadlineExtension, Period, ReminderLog, Submission
from tasks.rules import deadline_for
from tasks.services import notify, office_users, unit_users
from units.models import Unit

logger = logging.getLogger(__name__)

# Days from today to a unit's own deadline on which it is reminded; -1 is the day after it.
REMINDER_ON_DAY = {
    7: ReminderKind.WEEK_BEFORE,
    1: ReminderKind.DAY_BEFORE,
    -1: ReminderKind.DAY_AFTER,
}
# A unit has reported once its form reached the office; a draft or a returned form has not.
REPORTED_STATUSES = (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED)


@shared_task(name="tasks.send_deadline_reminders")
def send_deadline_reminders(today=None):
    """Remind units that have not reported, and send the office the late list, for every open period.

    ``today`` is an ISO date (tests pass one); by default the local date. Returns how many unit
    reminders and late lists went out.
    """
    if isinstance(today, str):
        today = datetime.date.fromisoformat(today)
    today = today or timezone.localdate()
    summary = {"reminders": 0, "late_lists": 0}
    # A worker has no request, hence no active language: write the messages in the portal's own.
    with translation.override(settings.LANGUAGE_CODE):
        units = list(Unit.objects.active().only("pk", "short_name"))
        for period in Period.objects.open():
            reminders, late_lists = _remind_period(period, units, today)
            summary["reminders"] += reminders
            summary["late_lists"] += late_lists
    logger.info("deadline reminders for %s: %s", today, summary)
    return summary


@transaction.atomic
def _remind_period(period, units, today):
    """One period's reminders, in one transaction: e-mails leave only once the claims are committed.

    A fixed number of queries for the period, plus a few for each reminder actually sent.
    """
    extensions = {e.unit_id: e for e in DeadlineExtension.objects.filter(period=period)}
    reported = set(
        Submission.objects.filter(period=period, status__in=REPORTED_STATUSES).values_list(
            "unit_id", flat=True
        )
    )
    # Reminders already claimed, so that a re-run costs no query per unit.
    claimed = set(ReminderLog.objects.filter(period=period).values_list("unit_id", "kind"))
    missing = [unit for unit in units if unit.pk not in reported]

    reminders = 0
    for unit in missing:
        deadline = deadline_for(period, extensions.get(unit.pk))
        kind = REMINDER_ON_DAY.get((deadline - today).days)
        if kind is None or (unit.pk, kind) in claimed or not _claim(period, unit, kind):
            continue
        notify(
            unit_users(unit.pk),
            NotificationKind.REMINDER,
            lambda kind=kind, deadline=deadline: _unit_message(period, kind, deadline),
        )
        reminders += 1

    late_lists = 0
    if (
        today == period.deadline + datetime.timedelta(days=1)
        and (None, ReminderKind.DAY_AFTER) not in claimed
    ):
        # A unit whose extension has not run out yet is not late.
        late = [unit for unit in missing if deadline_for(period, extensions.get(unit.pk)) < today]
        if late and _claim(period, None, ReminderKind.DAY_AFTER):
            notify(office_users(), NotificationKind.LATE_LIST, lambda: _late_list_message(period, late))
            late_lists = 1
    return reminders, late_lists


def _claim(period, unit, kind):
    """Record that a reminder goes out; False when another run has already recorded it.

    The unique constraint ``reminder_once`` settles a race between two workers: the second insert
    waits for the first transaction, fails, and ``get_or_create`` returns the first one's row (both
    claim units in the same order, so they cannot deadlock). Only PostgreSQL 15+ has that constraint
    (``nulls_distinct``); on SQLite, for development, a re-run is still safe but a race is not.
    """
    _log, created = ReminderLog.objects.get_or_create(period=period, unit=unit, kind=kind)
    return created


def _unit_message(period, kind, deadline):
    values = {"period": period.label, "deadline": formats.date_format(deadline)}
    if kind == ReminderKind.DAY_AFTER:
        return (
            _("【报送提醒】%(period)s进展报送已于%(deadline)s截止，贵单位尚未提交，已列入逾期名单。") % values
        )
    return _("【报送提醒】%(period)s进展报送将于%(deadline)s截止，贵单位尚未提交。") % values


def _late_list_message(period, units):
    return _("【逾期未报】%(period)s：%(count)s个单位逾期未报：%(units)s。") % {
        "period": period.label,
        "count": len(units),
        "units": enumeration(unit.short_name for unit in units),
    }


# The notification e-mail job lives beside the rest of the mail code.
from tasks.mail import send_notification_mail  # noqa: E402, F401
