"""The reports app listens to the tasks app: an approval (or a reopening) queues a roll-up."""

import logging

from django.dispatch import receiver

from reports.choices import RunTrigger
from reports.rollup.services import request_rollup
from tasks import signals


@receiver(signals.submission_approved)
@receiver(signals.submission_unapproved)
def queue_rollup_after_review(sender, submission, **kwargs):
    """Sent after commit: the review is saved whatever happens here, so a failure is logged (the
    nightly roll-up catches up), never shown to the office as an error."""
    try:
        request_rollup(submission.period.plan, from_period=submission.period, trigger=RunTrigger.APPROVAL)
    except Exception:
        logging.getLogger(__name__).exception("could not queue the roll-up after reviewing %s", submission.pk)
