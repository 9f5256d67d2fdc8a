"""The quarterly form and the self-assessment share one workflow (``tasks.models.WorkflowDocument``,
``tasks.services._transition``, ``tasks.views.WorkflowActionView``)."""

from tasks.admin import SelfAssessmentAdmin, SubmissionAdmin
from tasks.models import SelfAssessment, Submission, WorkflowDocument


def test_both_forms_are_workflow_documents():
    assert issubclass(Submission, WorkflowDocument)
    assert issubclass(SelfAssessment, WorkflowDocument)


def test_every_field_stays_read_only_in_the_admin():
    # The admins list their fields (the model's own first); a field added later must be listed too.
    for admin_class, model in ((SubmissionAdmin, Submission), (SelfAssessmentAdmin, SelfAssessment)):
        assert sorted(admin_class.readonly_fields) == sorted(f.name for f in model._meta.fields)
