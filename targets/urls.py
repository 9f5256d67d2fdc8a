from django.urls import path

from targets import views
from targets.submission import excel_views
from targets.submission import views as submission_views

app_name = "targets"

urlpatterns = [
    path("plan/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plan/initiatives/<str:code>/", views.InitiativeDetailView.as_view(), name="initiative_detail"),
    path("targets/", views.TargetListView.as_view(), name="target_list"),
    path("targets/<str:code>/", views.TargetDetailView.as_view(), name="target_detail"),
    path("units/", views.UnitListView.as_view(), name="unit_list"),
    path("units/<slug:code>/", views.UnitDetailView.as_view(), name="unit_detail"),
    # the quarterly form
    path(
        "report/<slug:unit_code>/<int:period_pk>/",
        submission_views.SubmissionStartView.as_view(),
        name="submission_start",
    ),
    path("submissions/<int:pk>/", submission_views.SubmissionDetailView.as_view(), name="submission_detail"),
    path(
        "submissions/<int:pk>/history/",
        submission_views.SubmissionHistoryView.as_view(),
        name="submission_history",
    ),
]

urlpatterns += [
    # Excel: the quarterly form as a workbook, and the office's exports of approved figures
    path("submissions/<int:pk>/excel/", excel_views.SubmissionExcelView.as_view(), name="submission_excel"),
    path(
        "submissions/<int:pk>/excel/upload/",
        excel_views.SubmissionExcelUploadView.as_view(),
        name="submission_excel_upload",
    ),
    path("exports/figures.xlsx", excel_views.FiguresExportXlsxView.as_view(), name="figures_export_xlsx"),
    path("exports/figures.csv", excel_views.FiguresExportCsvView.as_view(), name="figures_export_csv"),
]
