"""工作看板 and its drill-downs; every page takes ``?period=<id>`` (the as-of period)."""

from django.urls import path

from reports.dashboard import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("lead/", views.LedInitiativesView.as_view(), name="led_initiatives"),
    path("dashboard/initiatives/<str:code>/", views.InitiativeView.as_view(), name="initiative_detail"),
    path("dashboard/targets/<str:code>/", views.TargetView.as_view(), name="target_detail"),
    path("evaluation-rules/", views.EvaluationRulesView.as_view(), name="evaluation_rules"),
    path("dashboard/units/<slug:code>/", views.UnitView.as_view(), name="unit_detail"),
    path("dashboard/regions/<str:code>/", views.RegionView.as_view(), name="region_detail"),
]
