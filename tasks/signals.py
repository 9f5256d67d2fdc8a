"""Signals that let higher apps act on a submission without tasks importing them.

- ``submission_created(submission)``: targets adds the figure lines the unit reports.
- (A submit's checks are not a signal: ``tasks.services.register_submit_check``.)
- ``submission_approved(submission)``: sent after commit; reports queues a roll-up.
- ``submission_unapproved(submission)``: sent after commit when an approved form is reopened.
"""

from django.dispatch import Signal

submission_created = Signal()
submission_approved = Signal()
submission_unapproved = Signal()
