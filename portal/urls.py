"""The portal's URLs: pages, the admin, the REST API and its schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from portal.health import healthz
from portal.views import HelpView, favicon, landing
from reports.documents.api import ReportRunViewSet
from reports.office.api import BaselineViewSet
from reports.rollup.api import RollupRunViewSet, TargetProgressViewSet
from targets.submission.api import SubmissionViewSet
from tasks.api.reporting import PeriodViewSet
from tasks.api.self_assessments import SelfAssessmentViewSet
from tasks.api.views import InitiativeViewSet, MeasureViewSet, PlanViewSet
from units.api.views import RegionViewSet, UnitViewSet
from units.views import ObtainTokenView

router = DefaultRouter()
router.register("plans", PlanViewSet, basename="plan")
router.register("initiatives", InitiativeViewSet, basename="initiative")
router.register("measures", MeasureViewSet, basename="measure")
router.register("units", UnitViewSet, basename="unit")
router.register("regions", RegionViewSet, basename="region")
# Targets carry their progress (actual, expected, status, forecast) from the roll-ups.
router.register("targets", TargetProgressViewSet, basename="target")
router.register("periods", PeriodViewSet, basename="period")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("self-assessments", SelfAssessmentViewSet, basename="selfassessment")
router.register("reports", ReportRunViewSet, basename="report")
router.register("rollups", RollupRunViewSet, basename="rollup")
router.register("baselines", BaselineViewSet, basename="baseline")

admin.site.site_header = "青海省全民科学素质行动实施进展平台 · 管理"
admin.site.site_title = "科学素质平台管理"

urlpatterns = [
    path("", landing, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("units.urls")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("help/", HelpView.as_view(), name="help"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("targets.urls")),
    path("", include("tasks.urls")),
    path("", include("reports.office.urls")),
    path("", include("reports.dashboard.urls")),
    path("", include("reports.documents.urls")),
    path("admin/", admin.site.urls),
    # Throttled, and counted by the log-in lock-out.
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api_token"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves the page's script as a file (/api/docs/?script): no inline script,
    # so the Content-Security-Policy keeps script-src 'self'. Shadows the next line.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]

# No /media/ route, not even with DEBUG on: evidence files and PDF reports are served only by their
# views, which check who asks (tasks:evidence_download, reports_pdf:download and the API's).
