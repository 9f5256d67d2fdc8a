"""The reports app listens to the tasks app: an approval (or a reopening) queues a roll-up."""

from django.dispatch import receiver

from reports.choices import RunTrigger
from reports.services import request_rollup
from tasks import signals


@receiver(signals.submission_approved)
@receiver(signals.submission_unapproved)
def queue_rollup_after_review(sender, submission, **kwargs):
    """Sent after commit: the figures are saved whatever happens to the queue."""
    request_rollup(submission.period.plan, from_period=submission.period, trigger=RunTrigger.APPROVAL)
