from django.urls import path

from reports.office import views as office_views

app_name = "reports_office"

urlpatterns = [
    path("office/settings/", office_views.SettingsView.as_view(), name="settings"),
    path(
        "office/waypoints/<int:pk>/delete/", office_views.WaypointDeleteView.as_view(), name="waypoint_delete"
    ),
    path("office/rollups/", office_views.RollupRunsView.as_view(), name="rollup_runs"),
]
