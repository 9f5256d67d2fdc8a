"""评估报告 pages: the list (with the office's request form), each run's status and its PDF."""

from django.urls import path

from reports.documents import editor as editor_views
from reports.documents import views as report_views

app_name = "reports_pdf"

urlpatterns = [
    path("reports/", report_views.ReportListView.as_view(), name="list"),
    path("reports/editor/<str:kind>/<str:cutoff>/", editor_views.ReportEditorView.as_view(), name="editor"),
    path("reports/<int:pk>/status.json", report_views.ReportStatusView.as_view(), name="status"),
    path("reports/<int:pk>/download/", report_views.ReportDownloadView.as_view(), name="download"),
    path("reports/<int:pk>/download.docx", report_views.ReportDocxView.as_view(), name="download_docx"),
]
