from django.urls import path

from tasks import views

app_name = "tasks"

urlpatterns = [
    path("inbox/", views.InboxView.as_view(), name="inbox"),
    path("review/", views.ReviewQueueView.as_view(), name="review_queue"),
    path("periods/", views.PeriodListView.as_view(), name="period_list"),
    path("periods/<int:pk>/", views.PeriodOverviewView.as_view(), name="period_overview"),
    path("periods/<int:pk>/state/", views.PeriodStateView.as_view(), name="period_state"),
    path("periods/<int:pk>/remind/", views.PeriodRemindView.as_view(), name="period_remind"),
    path("periods/<int:pk>/extensions/", views.ExtensionCreateView.as_view(), name="extension_create"),
    path(
        "submissions/<int:pk>/submit/",
        views.SubmissionActionView.as_view(action="submit"),
        name="submission_submit",
    ),
    path(
        "submissions/<int:pk>/approve/",
        views.SubmissionActionView.as_view(action="approve"),
        name="submission_approve",
    ),
    path(
        "submissions/<int:pk>/return/",
        views.SubmissionActionView.as_view(action="return"),
        name="submission_return",
    ),
    path(
        "submissions/<int:pk>/reopen/",
        views.SubmissionActionView.as_view(action="reopen"),
        name="submission_reopen",
    ),
    path("submissions/<int:pk>/evidence/", views.EvidenceUploadView.as_view(), name="evidence_upload"),
    path("evidence/<int:pk>/", views.EvidenceDownloadView.as_view(), name="evidence_download"),
    path("evidence/<int:pk>/delete/", views.EvidenceDeleteView.as_view(), name="evidence_delete"),
    path("evaluations/", views.RoundListView.as_view(), name="round_list"),
    path("evaluations/<int:pk>/", views.RoundDetailView.as_view(), name="round_detail"),
    path("evaluations/<int:pk>/state/", views.RoundStateView.as_view(), name="round_state"),
    path("evaluations/<int:pk>/mine/", views.SelfAssessmentMineView.as_view(), name="self_assessment_mine"),
    path(
        "self-assessments/<int:pk>/", views.SelfAssessmentDetailView.as_view(), name="self_assessment_detail"
    ),
    path(
        "self-assessments/<int:pk>/submit/",
        views.SelfAssessmentActionView.as_view(action="submit"),
        name="self_assessment_submit",
    ),
    path(
        "self-assessments/<int:pk>/approve/",
        views.SelfAssessmentActionView.as_view(action="approve"),
        name="self_assessment_approve",
    ),
    path(
        "self-assessments/<int:pk>/return/",
        views.SelfAssessmentActionView.as_view(action="return"),
        name="self_assessment_return",
    ),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/read/", views.NotificationReadView.as_view(), name="notification_read"),
]
