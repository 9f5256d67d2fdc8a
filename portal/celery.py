"""The Celery application.

Tasks live in each app's ``tasks.py`` and take primary keys. Without a broker
(``CELERY_BROKER_URL`` / ``REDIS_URL`` unset) settings make Celery run jobs in process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
