"""The Celery application.

Tasks live in each app's ``tasks.py`` and take primary keys. Without a broker
(``CELERY_BROKER_URL`` / ``REDIS_URL`` unset) settings make Celery run jobs in process.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are in CELERY_TIMEZONE (the portal's TIME_ZONE, Asia/Shanghai). Run one beat only.
app.conf.beat_schedule = {
    # Reminders to units a week and a day before their deadline and the day after; the late list.
    "deadline-reminders": {
        "task": "tasks.send_deadline_reminders",
        # Hourly in the working day: a run missed while the broker was down is made up the
        # same day (the job sends each reminder once however often it runs).
        "schedule": crontab(hour="8-20", minute=0),
    },
    # Roll-up and report runs: those whose worker died (their heartbeat stopped) are taken back,
    # those the broker never delivered are carried out (reports.jobs).
    "sweep-runs": {"task": "reports.sweep_runs", "schedule": crontab(minute="*/2")},
    # The full roll-up every night: the dashboard is right even if an approval's run was lost.
    "nightly-rollup": {"task": "reports.nightly_rollup", "schedule": crontab(hour=2, minute=30)},
    # Directory accounts checked against the LDAP directory (nothing when LDAP_URL is unset).
    "sync-directory": {"task": "units.sync_directory", "schedule": crontab(hour=3, minute=10)},
}
